package caddymodule

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/channelgate/channelgate/limiter"
	"github.com/channelgate/channelgate/tokenstore"
)

// Defaults of the bad-token limit, and how many client addresses it
// remembers (the least recently failing are forgotten first).
const (
	defaultFailureLimit  = 20
	defaultFailureWindow = time.Minute
	defaultFailureDelay  = time.Second
	failureAddresses     = 10000
)

// reasonRateLimited counts requests refused by the bad-token limit.
const reasonRateLimited tokenstore.Reason = "rate_limited"

// FailureLimitConfig slows down token guessing. A client address that
// caused FailureLimit authentication failures (401 for a malformed,
// unknown, revoked or expired token, or one whose owner is gone) within
// FailureWindow of its first one gets 429 with Retry-After for every
// request that carries a token, valid or not, until that window ends.
//
// Valid tokens from a limited address are refused too: letting them
// through would tell a guesser which guess was right, which is what the
// limit exists to stop. Requests without a token are not limited, so
// public downloads from a shared address (a NAT, a CI farm) keep working.
// The address is Caddy's client_ip, so trusted_proxies apply; IPv6
// addresses count per /64, which one host usually holds whole.
//
// Each 429 is held for FailureDelay before it is sent, so a client that
// keeps guessing gets one answer per connection per delay instead of as
// many as it can send: its requests stop taking CPU from other clients.
type FailureLimitConfig struct {
	// FailureLimit is the number of failures that starts the limit.
	// Default 20; negative disables the limit.
	FailureLimit int `json:"failure_limit,omitempty"`
	// FailureWindow is the window, from an address's first failure,
	// in which failures are counted and the limit lasts. Default 1m.
	FailureWindow caddy.Duration `json:"failure_window,omitempty"`
	// FailureDelay is how long a 429 answer is held (at most 1024 at
	// once; the client closing its connection ends the wait). Default
	// 1s; negative answers at once.
	FailureDelay caddy.Duration `json:"failure_delay,omitempty"`

	limiter *limiter.Limiter
}

// provisionFailureLimit builds the limiter (one that never limits when
// FailureLimit is negative).
func (c *FailureLimitConfig) provisionFailureLimit() error {
	limit, window := c.FailureLimit, time.Duration(c.FailureWindow)
	if limit == 0 {
		limit = defaultFailureLimit
	}
	if window < 0 {
		return fmt.Errorf("failure_window must be positive, not %s", window)
	}
	if window == 0 {
		window = defaultFailureWindow
	}
	delay := time.Duration(c.FailureDelay)
	if delay == 0 {
		delay = defaultFailureDelay
	}
	c.limiter = limiter.New(limiter.Config{Limit: limit, Window: window, Size: failureAddresses, Delay: delay})
	return nil
}

// unmarshalFailureDelay reads "failure_delay <duration>" or
// "failure_delay off".
func (c *FailureLimitConfig) unmarshalFailureDelay(d *caddyfile.Dispenser) error {
	var v string
	if !d.AllArgs(&v) {
		return d.ArgErr()
	}
	if v == "off" {
		c.FailureDelay = -1
		return nil
	}
	delay, err := caddy.ParseDuration(v)
	if err != nil || delay <= 0 {
		return d.Errf("failure_delay must be a positive duration or off, not %q", v)
	}
	c.FailureDelay = caddy.Duration(delay)
	return nil
}

// unmarshalFailureLimit reads "failure_limit <count> <window>" or
// "failure_limit off".
func (c *FailureLimitConfig) unmarshalFailureLimit(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) == 1 && args[0] == "off" {
		c.FailureLimit = -1
		return nil
	}
	if len(args) != 2 {
		return d.Err("failure_limit takes a count and a window (failure_limit 20 1m) or off")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n <= 0 {
		return d.Errf("failure_limit count must be a positive number, not %q", args[0])
	}
	w, err := caddy.ParseDuration(args[1])
	if err != nil || w <= 0 {
		return d.Errf("failure_limit window must be a positive duration, not %q", args[1])
	}
	c.FailureLimit, c.FailureWindow = n, caddy.Duration(w)
	return nil
}

// throttle answers 429 when a request carries a token and its address is
// limited; it reports whether it answered. Limited requests never reach
// the store.
func (h *Handler) throttle(w http.ResponseWriter, r *http.Request, secret string) (bool, error) {
	if secret == "" {
		return false, nil
	}
	wait := h.limiter.Wait(clientKey(r))
	if wait <= 0 {
		return false, nil
	}
	h.limiter.Hold(r.Context())
	secs := retryAfter(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return true, h.refuse(w, r, http.StatusTooManyRequests, reasonRateLimited,
		fmt.Sprintf("too many failed token attempts from this address; retry in %ds", secs))
}

// retryAfter is a wait in whole seconds, rounded up.
func retryAfter(wait time.Duration) int { return int(math.Ceil(wait.Seconds())) }

// noteFailure counts a refused token against the request's address.
// Requests without a token (reason no_token) do not count.
func (h *Handler) noteFailure(r *http.Request, reason tokenstore.Reason) {
	if reason == tokenstore.ReasonNoToken {
		return
	}
	h.limiter.Fail(clientKey(r))
}

// loginLimits holds one password limit per database file, shared by
// every handler on it (the API, the pages) and kept across
// configuration reloads, so that neither alternating between them nor
// a reload gives a guesser more tries.
var loginLimits sync.Map // store key → *limiter.Logins

// loginLimit is the password limit of the store with key (see
// acquireStore).
func loginLimit(key string) *limiter.Logins {
	if l, ok := loginLimits.Load(key); ok {
		return l.(*limiter.Logins)
	}
	l, _ := loginLimits.LoadOrStore(key, limiter.NewLogins(limiter.LoginsConfig{}))
	return l.(*limiter.Logins)
}

// clientKey is the address failures are counted by: Caddy's client IP
// (which honors trusted_proxies), IPv6 reduced to its /64.
func clientKey(r *http.Request) string {
	return limiter.Address(clientIP(r))
}

// clientIP is Caddy's client IP, which honors trusted_proxies, or the
// connection's address when Caddy set none.
func clientIP(r *http.Request) string {
	ip, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	if ip == "" {
		ip, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	return ip
}
