package limiter

import "net/netip"

// Address is the key of a client address: the address itself, IPv4
// unmapped, and IPv6 reduced to its /64, which one host usually holds
// whole (so it cannot rotate through its own addresses). Text that is
// not an address is its own key.
func Address(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}
