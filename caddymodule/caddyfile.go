package caddymodule

import (
	"math"
	"strconv"

	"github.com/dustin/go-humanize"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("channelgate", parseCaddyfile)
	// After encode, so that index filtering sees the storage's plain bytes
	// and compression (if any) applies to the filtered answer; before the
	// handlers that respond (file_server, reverse_proxy).
	httpcaddyfile.RegisterDirectiveOrder("channelgate", httpcaddyfile.After, "encode")
}

// parseCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	channelgate [<matcher>] {
//	    db                    <path>
//	    store                 bbolt [<path>] | etcd [<endpoints> [<prefix>]] [{...}]
//	    cache_size            <entries>
//	    storage_path          <template>
//	    unregistered_channels public|private
//	    private_packages      hide|refuse
//	    index_cache           <size>
//	    max_index_size        <size>
//	    failure_limit         <count> <window> | off
//	    failure_delay         <duration> | off
//	}
func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var cg Handler
	err := cg.UnmarshalCaddyfile(h.Dispenser)
	return &cg, err
}

// UnmarshalCaddyfile reads the directive's block.
func (cg *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		if ok, err := cg.unmarshalStoreOption(d); ok || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		switch d.Val() {
		case "failure_limit":
			if err := cg.unmarshalFailureLimit(d); err != nil {
				return err
			}
			continue
		case "failure_delay":
			if err := cg.unmarshalFailureDelay(d); err != nil {
				return err
			}
			continue
		}
		var target *string
		switch d.Val() {
		case "index_cache", "max_index_size":
			if err := cg.unmarshalSize(d); err != nil {
				return err
			}
			continue
		case "storage_path":
			target = &cg.StoragePath
		case "unregistered_channels":
			target = &cg.UnregisteredChannels
		case "private_packages":
			target = &cg.PrivatePackages
		default:
			return d.Errf("unknown channelgate option %q", d.Val())
		}
		if !d.AllArgs(target) {
			return d.ArgErr()
		}
	}
	return nil
}

// unmarshalSize reads index_cache and max_index_size ("256MiB", "2GB").
func (cg *Handler) unmarshalSize(d *caddyfile.Dispenser) error {
	opt := d.Val()
	var v string
	if !d.AllArgs(&v) {
		return d.ArgErr()
	}
	n, err := humanize.ParseBytes(v)
	if err != nil || n == 0 || n > math.MaxInt64 {
		return d.Errf("%s must be a size such as 256MiB, not %q", opt, v)
	}
	if opt == "index_cache" {
		cg.IndexCacheBytes = int64(n)
	} else {
		cg.MaxIndexBytes = int64(n)
	}
	return nil
}

// unmarshalStoreOption reads db, store and cache_size, which the API
// directive shares. It reports whether the current option was one of
// them.
func (c *StoreConfig) unmarshalStoreOption(d *caddyfile.Dispenser) (bool, error) {
	switch d.Val() {
	case "store":
		return true, c.unmarshalStore(d)
	case "db":
		if !d.AllArgs(&c.DB) {
			return true, d.ArgErr()
		}
	case "cache_size":
		var s string
		if !d.AllArgs(&s) {
			return true, d.ArgErr()
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return true, d.Errf("cache_size must be a positive number of entries, not %q", s)
		}
		c.CacheSize = n
	default:
		return false, nil
	}
	return true, nil
}

// unmarshalStore reads `store <backend> [<args>] [{ ... }]`, the backend
// being a channelgate.stores module (bbolt, etcd) that parses the rest;
// etcd endpoints in place of the name mean etcd.
func (c *StoreConfig) unmarshalStore(d *caddyfile.Dispenser) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	name := d.Val()
	if isEndpointList(name) {
		name = "etcd"
	}
	unm, err := caddyfile.UnmarshalModule(d, "channelgate.stores."+name)
	if err != nil {
		return err
	}
	c.Store = caddyconfig.JSONModuleObject(unm, "backend", name, nil)
	return nil
}
