package caddymodule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/channelgate/channelgate/channelindex"
	"github.com/channelgate/channelgate/tokenstore"
	"github.com/channelgate/channelgate/tokenstore/etcdstore"
)

func init() {
	caddy.RegisterModule(EtcdStore{})
}

// EtcdStore keeps the store in an etcd cluster that several gateways
// share: each watches the prefix, so a change made through one (a
// revocation) reaches the caches of all. See README "Running several
// gateways".
type EtcdStore struct {
	// Endpoints are the cluster's client URLs. Required.
	Endpoints []string `json:"endpoints,omitempty"`
	// Prefix is put in front of every key. Default "/channelgate/".
	Prefix string `json:"prefix,omitempty"`
	// TLSCert and TLSKey are a client certificate and its key (PEM
	// files); TLSCA the CA that signed the members' certificates.
	TLSCert string `json:"tls_cert,omitempty"`
	TLSKey  string `json:"tls_key,omitempty"`
	TLSCA   string `json:"tls_ca,omitempty"`
	// Username and Password authenticate to etcd. Placeholders are
	// replaced at start ({env.CHANNELGATE_ETCD_PASSWORD}), so the secret
	// stays out of the configuration.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// StaleAfter is how long the gateway trusts its caches without a
	// proof that its watch is current; after it, decisions are refused
	// with 503 until the watch is back. Default 5s.
	StaleAfter caddy.Duration `json:"stale_after,omitempty"`
	// DialTimeout bounds connecting at start. Default 5s.
	DialTimeout caddy.Duration `json:"dial_timeout,omitempty"`
	// RequestTimeout bounds every etcd call. Default 5s.
	RequestTimeout caddy.Duration `json:"request_timeout,omitempty"`
	// LockTTL is the lease of the index update locks: a gateway killed
	// while holding one releases it when the lease expires. Whole
	// seconds. Default 10s.
	LockTTL caddy.Duration `json:"lock_ttl,omitempty"`

	logger *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (EtcdStore) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "channelgate.stores.etcd",
		New: func() caddy.Module { return new(EtcdStore) },
	}
}

// Provision keeps Caddy's logger for the client and checks lock_ttl
// (etcd leases count whole seconds).
func (e *EtcdStore) Provision(ctx caddy.Context) error {
	e.logger = ctx.Logger()
	if ttl := time.Duration(e.LockTTL); ttl != 0 && (ttl < time.Second || ttl%time.Second != 0) {
		return fmt.Errorf("etcd store: lock_ttl must be whole seconds such as 10s, not %v", ttl)
	}
	return nil
}

// prefix is the configured prefix or its default.
func (e *EtcdStore) prefix() string {
	if e.Prefix == "" {
		return etcdstore.DefaultPrefix
	}
	return e.Prefix
}

// StoreKey is the sorted endpoints and the prefix.
func (e *EtcdStore) StoreKey() (string, error) {
	if len(e.Endpoints) == 0 {
		return "", fmt.Errorf("etcd store: no endpoints")
	}
	eps := slices.Sorted(slices.Values(e.Endpoints))
	return "etcd " + strings.Join(eps, ",") + " " + e.prefix(), nil
}

// OpenBackend connects to the cluster and starts the watch.
func (e *EtcdStore) OpenBackend() (tokenstore.Backend, error) {
	tlsConfig, err := etcdstore.LoadTLS(e.TLSCert, e.TLSKey, e.TLSCA)
	if err != nil {
		return nil, err
	}
	repl := caddy.NewReplacer()
	return etcdstore.Open(etcdstore.Config{
		Endpoints: e.Endpoints, Prefix: e.prefix(), TLS: tlsConfig,
		Username: repl.ReplaceKnown(e.Username, ""), Password: repl.ReplaceKnown(e.Password, ""),
		StaleAfter: time.Duration(e.StaleAfter), DialTimeout: time.Duration(e.DialTimeout),
		RequestTimeout: time.Duration(e.RequestTimeout), LockTTL: time.Duration(e.LockTTL), Logger: e.logger,
	})
}

// IndexLocker gives the gateways on the cluster one lease-bound lock per
// index (be is the *etcdstore.Backend OpenBackend returned).
func (e *EtcdStore) IndexLocker(be tokenstore.Backend) channelindex.Locker {
	return channelindex.ProcessLocal(be.(*etcdstore.Backend).Locker())
}

// UnmarshalCaddyfile reads
//
//	etcd [<endpoints> [<prefix>]] {
//	    endpoints       <url>...
//	    prefix          <prefix>
//	    tls_cert        <file>
//	    tls_key         <file>
//	    tls_ca          <file>
//	    username        <name>
//	    password        <secret>
//	    stale_after     <duration>
//	    dial_timeout    <duration>
//	    request_timeout <duration>
//	    lock_ttl        <duration>
//	}
//
// Endpoints may be given comma-separated in one argument. The backend
// name may be left out when the endpoints come first (`store
// http://10.0.0.1:2379,http://10.0.0.2:2379`), which lets one Caddyfile
// choose etcd or bbolt from an environment variable.
func (e *EtcdStore) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if isEndpointList(d.Val()) {
		e.Endpoints = append(e.Endpoints, splitEndpoints(d.Val())...)
	} else if d.NextArg() {
		e.Endpoints = append(e.Endpoints, splitEndpoints(d.Val())...)
	}
	if d.NextArg() {
		e.Prefix = d.Val()
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		if err := e.unmarshalOption(d); err != nil {
			return err
		}
	}
	return nil
}

// unmarshalOption reads one option of the block.
func (e *EtcdStore) unmarshalOption(d *caddyfile.Dispenser) error {
	opt := d.Val()
	if opt == "endpoints" {
		args := d.RemainingArgs()
		if len(args) == 0 {
			return d.ArgErr()
		}
		for _, a := range args {
			e.Endpoints = append(e.Endpoints, splitEndpoints(a)...)
		}
		return nil
	}
	var v string
	if !d.AllArgs(&v) {
		return d.ArgErr()
	}
	texts := map[string]*string{"prefix": &e.Prefix, "tls_cert": &e.TLSCert, "tls_key": &e.TLSKey,
		"tls_ca": &e.TLSCA, "username": &e.Username, "password": &e.Password}
	durations := map[string]*caddy.Duration{"stale_after": &e.StaleAfter, "dial_timeout": &e.DialTimeout,
		"request_timeout": &e.RequestTimeout, "lock_ttl": &e.LockTTL}
	if p, ok := texts[opt]; ok {
		*p = v
		return nil
	}
	p, ok := durations[opt]
	if !ok {
		return d.Errf("unknown etcd store option %q", opt)
	}
	dur, err := caddy.ParseDuration(v)
	if err != nil || dur <= 0 {
		return d.Errf("%s must be a positive duration such as 5s, not %q", opt, v)
	}
	*p = caddy.Duration(dur)
	return nil
}

// isEndpointList reports whether a store argument is etcd endpoints
// rather than a backend name.
func isEndpointList(s string) bool { return strings.Contains(s, "://") }

// splitEndpoints splits a comma-separated list of URLs.
func splitEndpoints(s string) []string {
	var out []string
	for _, ep := range strings.Split(s, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			out = append(out, ep)
		}
	}
	return out
}

// Interface guards
var (
	_ StoreBackend          = (*EtcdStore)(nil)
	_ IndexLocking          = (*EtcdStore)(nil)
	_ caddy.Provisioner     = (*EtcdStore)(nil)
	_ caddyfile.Unmarshaler = (*EtcdStore)(nil)
)
