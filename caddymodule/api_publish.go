package caddymodule

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/dustin/go-humanize"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/channelindex"
	"github.com/channelgate/channelgate/tokenstore"
)

// PublishConfig is the publishing part of the API directive: the plans
// uploads are checked against. Uploads are published into storage_root
// (APIHandler.StorageRoot); without one, publishing is off (the upload
// endpoints answer 404).
type PublishConfig struct {
	// Plans defines or redefines plans by name, beside the built-in
	// free, academic and standard (see tokenstore.DefaultPlans).
	Plans map[string]tokenstore.Plan `json:"plans,omitempty"`
	// DefaultPlan is the plan of accounts no other rule names. Default
	// "standard".
	DefaultPlan string `json:"default_plan,omitempty"`
	// PlanDomains maps email address suffixes to plans; given, it
	// replaces the default {".edu": "academic"}.
	PlanDomains map[string]string `json:"plan_domains,omitempty"`
	// GrantTTL is how long an upload grant stays valid. Default 5m.
	GrantTTL caddy.Duration `json:"grant_ttl,omitempty"`
}

// plans builds the plan policy.
func (c *PublishConfig) plans() (tokenstore.Plans, error) {
	p := tokenstore.DefaultPlans()
	for name, pl := range c.Plans {
		pl.Name = name
		p.ByName[name] = pl
	}
	if c.DefaultPlan != "" {
		p.Default = c.DefaultPlan
	}
	if c.PlanDomains != nil {
		p.Domains = c.PlanDomains
	}
	return p, p.Validate()
}

// unmarshalPublishOption reads plan, default_plan, plan_domain and
// grant_ttl. It reports whether the current option was one of them.
//
//	plan         <name> {
//	    private_packages yes|no
//	    storage          <size>|unlimited
//	    max_file         <size>|unlimited
//	}
//	default_plan <name>
//	plan_domain  <suffix> <plan>
//	grant_ttl    <duration>
func (c *PublishConfig) unmarshalPublishOption(d *caddyfile.Dispenser) (bool, error) {
	switch d.Val() {
	case "default_plan":
		return true, oneArg(d, &c.DefaultPlan)
	case "plan_domain":
		var suffix, plan string
		if !d.AllArgs(&suffix, &plan) {
			return true, d.ArgErr()
		}
		if c.PlanDomains == nil {
			c.PlanDomains = map[string]string{}
		}
		c.PlanDomains[strings.ToLower(suffix)] = plan
	case "grant_ttl":
		var s string
		if err := oneArg(d, &s); err != nil {
			return true, err
		}
		ttl, err := time.ParseDuration(s)
		if err != nil || ttl <= 0 {
			return true, d.Errf("grant_ttl must be a positive duration such as 5m, not %q", s)
		}
		c.GrantTTL = caddy.Duration(ttl)
	case "plan":
		return true, c.unmarshalPlan(d)
	default:
		return false, nil
	}
	return true, nil
}

// unmarshalPlan reads one plan block; unset limits are unlimited and
// private packages are allowed unless it says no.
func (c *PublishConfig) unmarshalPlan(d *caddyfile.Dispenser) error {
	var name string
	if !d.NextArg() {
		return d.ArgErr()
	}
	name = d.Val()
	pl := tokenstore.Plan{Name: name, PrivatePackages: true}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		var v string
		if err := oneArg(d, &v); err != nil {
			return err
		}
		var err error
		switch opt {
		case "private_packages":
			pl.PrivatePackages, err = yesNo(v)
		case "storage":
			pl.StorageBytes, err = sizeOrUnlimited(v)
		case "max_file":
			pl.MaxFileBytes, err = sizeOrUnlimited(v)
		default:
			return d.Errf("unknown plan option %q", opt)
		}
		if err != nil {
			return d.Errf("plan %s: %s %v", name, opt, err)
		}
	}
	if c.Plans == nil {
		c.Plans = map[string]tokenstore.Plan{}
	}
	c.Plans[name] = pl
	return nil
}

func oneArg(d *caddyfile.Dispenser, v *string) error {
	if !d.AllArgs(v) {
		return d.ArgErr()
	}
	return nil
}

func yesNo(v string) (bool, error) {
	switch v {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("must be yes or no, not %q", v)
}

// sizeOrUnlimited parses "3GiB" or "unlimited" (0).
func sizeOrUnlimited(v string) (int64, error) {
	if v == "unlimited" {
		return 0, nil
	}
	n, err := humanize.ParseBytes(v)
	if err != nil || n == 0 || n > math.MaxInt64 {
		return 0, fmt.Errorf("must be a size such as 3GiB or unlimited, not %q", v)
	}
	return int64(n), nil
}

// newStorage opens the local directory uploads are published into,
// its index updates serialized by locker (nil: in this process).
func newStorage(dir string, locker channelindex.Locker) (admin.Storage, error) {
	st, err := admin.OpenStorage(dir, locker)
	if err != nil {
		return nil, fmt.Errorf("storage %s: %w", dir, err)
	}
	return st, nil
}
