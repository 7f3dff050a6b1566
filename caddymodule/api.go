package caddymodule

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

func init() {
	caddy.RegisterModule(APIHandler{})
	httpcaddyfile.RegisterHandlerDirective("channelgate_api", parseAPICaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("channelgate_api", httpcaddyfile.Before, "respond")
}

// APIHandler serves the anaconda.org-compatible account and token API
// (package admin) on the same store as the channelgate handler. Mount it
// with its prefix stripped (uri strip_prefix /api, matching /api too, which
// anaconda-client probes with HEAD before login); anaconda-client then
// works with `anaconda config --set url https://HOST/api`. It answers every
// request itself.
type APIHandler struct {
	// DB, Store and CacheSize should name the same store as the
	// channelgate handler, so that both share one open store (both
	// default to the same file).
	StoreConfig

	// OperatorSecret acts as site administrator when presented as
	// "Authorization: token <secret>". Empty (the default) disables it.
	// Give it as a runtime placeholder, {env.CHANNELGATE_ADMIN_TOKEN},
	// which is replaced at provision time: the secret itself then never
	// appears in Caddy's configuration. At least 32 characters.
	OperatorSecret string `json:"operator_secret,omitempty"`
	// OperatorSecretFile, instead of OperatorSecret, is a file holding
	// the secret (surrounding white space is ignored), read at provision
	// time.
	OperatorSecretFile string `json:"operator_secret_file,omitempty"`
	// MaxPasswordChecks bounds how many password hashes (19 MiB and a
	// core each) run at once; excess logins wait up to a second, then
	// get 429. Default GOMAXPROCS, at least 2.
	MaxPasswordChecks int `json:"max_password_checks,omitempty"`
	// Wrong tokens and operator secrets per client address: the
	// gateway's failure_limit and failure_delay, with the same defaults.
	FailureLimitConfig

	// OpenSignup lets anyone create an account. Default false: only the
	// operator and site administrators create users.
	OpenSignup bool `json:"open_signup,omitempty"`

	// StorageRoot is the directory whose entries are the channels the
	// storage serves (file_server's root): an account named like one of
	// them needs a site administrator. Default empty: the storage cannot
	// be asked, so every new account needs a site administrator.
	StorageRoot string `json:"storage_root,omitempty"`

	// MaxTokens caps the live tokens of one account. Default 1000;
	// negative disables the cap.
	MaxTokens int `json:"max_tokens,omitempty"`

	// Seed is a JSON file of organizations and their packages (kinds,
	// visibility; no users, passwords or tokens) that a store holding no
	// account yet starts with, created as the operator would; a store
	// with accounts is left untouched, so restarts change nothing. A bad
	// file stops Caddy at start. Default empty: no seed.
	Seed string `json:"seed,omitempty"`

	PublishConfig

	storeKey string
	api      http.Handler
}

// CaddyModule returns the Caddy module information.
func (APIHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.channelgate_api",
		New: func() caddy.Module { return new(APIHandler) },
	}
}

// Provision takes a share of the store and builds the API.
func (a *APIHandler) Provision(ctx caddy.Context) error {
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	secret, err := a.resolveOperatorSecret(ctx.Logger())
	if err != nil {
		return err
	}
	if err := a.provisionFailureLimit(); err != nil {
		return err
	}
	seed, err := readSeed(a.Seed)
	if err != nil {
		return err
	}
	if err := a.provisionStore(ctx); err != nil {
		return err
	}
	store, key, err := acquireStore(a.StoreConfig)
	if err != nil {
		return err
	}
	a.storeKey = key
	store.SetMaxTokensPerAccount(a.MaxTokens)
	store.SetServedChannels(a.servedChannels(ctx))
	store.SetMaxPasswordChecks(a.MaxPasswordChecks)
	if err := applySeed(store, a.Seed, seed, ctx.Logger()); err != nil {
		return err
	}
	cfg := admin.Config{
		OperatorSecret: secret,
		OpenSignup:     a.OpenSignup,
		Logins:         loginLimit(key),
		SecretFailures: a.limiter,
		ClientAddress:  clientIP,
		Logger:         ctx.Slogger(), // store failures go to Caddy's log, not the process's stderr
		GrantTTL:       time.Duration(a.GrantTTL),
		OnUpload:       countUpload,
	}
	if cfg.Plans, err = a.plans(); err != nil {
		return err
	}
	storePlans.Store(key, cfg.Plans) // the pages on this store show them
	if a.StorageRoot != "" {
		if cfg.Storage, err = newStorage(a.StorageRoot, indexLocker(key)); err != nil {
			return err
		}
	}
	a.api = admin.New(store, cfg)
	return nil
}

// servedChannels is the storage's channel list the store checks new
// account names against: the directory StorageRoot, or, without one,
// every name (fail closed), which Caddy's log warns about.
func (a *APIHandler) servedChannels(ctx caddy.Context) tokenstore.ServedChannels {
	if a.StorageRoot != "" {
		return tokenstore.ChannelDir(a.StorageRoot)
	}
	ctx.Logger().Warn("channelgate_api has no storage_root: only site administrators can create accounts")
	return tokenstore.EveryChannel{}
}

// Cleanup releases the store.
func (a *APIHandler) Cleanup() error {
	if a.storeKey == "" {
		return nil
	}
	return releaseStore(a.storeKey)
}

// ServeHTTP answers an API call, telling the API the prefix it is
// mounted under (what uri strip_prefix took off) and, for twine uploads
// rewritten to /pypi/upload, the path the client posted to.
func (a *APIHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	if orig, ok := r.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request); ok && orig.URL != nil {
		if prefix, ok := strings.CutSuffix(orig.URL.Path, r.URL.Path); ok {
			r = admin.WithPrefix(r, prefix)
		} else if r.URL.Path == "/pypi/upload" {
			r = admin.WithUploadPath(r, orig.URL.Path)
		}
	}
	a.api.ServeHTTP(w, r)
	return nil
}

// parseAPICaddyfile sets up the API from Caddyfile tokens. Syntax:
//
//	channelgate_api [<matcher>] {
//	    db                   <path>
//	    cache_size           <entries>
//	    operator_secret      <secret>
//	    operator_secret_file <path>
//	    open_signup
//	    storage_root         <dir>
//	    max_tokens           <count>
//	    max_password_checks  <count>
//	    failure_limit        <count> <window> | off
//	    failure_delay        <duration> | off
//	    plan                 <name> { private_packages yes|no; storage <size>; max_file <size> }
//	    default_plan         <name>
//	    plan_domain          <suffix> <plan>
//	    grant_ttl            <duration>
//	    seed                 [<file>]
//	}
func parseAPICaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var a APIHandler
	err := a.UnmarshalCaddyfile(h.Dispenser)
	return &a, err
}

// UnmarshalCaddyfile reads the directive's block.
func (a *APIHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		if ok, err := a.unmarshalStoreOption(d); ok || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		if ok, err := a.unmarshalPublishOption(d); ok || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		switch d.Val() {
		case "operator_secret":
			// An empty value (an unset environment variable) disables
			// the operator.
			if err := optionalArg(d, &a.OperatorSecret); err != nil {
				return err
			}
		case "operator_secret_file":
			if !d.AllArgs(&a.OperatorSecretFile) {
				return d.ArgErr()
			}
		case "open_signup":
			if d.NextArg() {
				return d.ArgErr()
			}
			a.OpenSignup = true
		case "seed":
			// No value (an unset environment variable): no seed.
			if err := optionalArg(d, &a.Seed); err != nil {
				return err
			}
		case "storage_root":
			if !d.AllArgs(&a.StorageRoot) {
				return d.ArgErr()
			}
		case "max_tokens":
			var n string
			if !d.AllArgs(&n) {
				return d.ArgErr()
			}
			var err error
			if a.MaxTokens, err = strconv.Atoi(n); err != nil || a.MaxTokens == 0 {
				return d.Errf("max_tokens must be a count (negative: no cap), not %q", n)
			}
		case "max_password_checks":
			var v string
			if !d.AllArgs(&v) {
				return d.ArgErr()
			}
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return d.Errf("max_password_checks must be a positive number, not %q", v)
			}
			a.MaxPasswordChecks = n
		case "failure_limit":
			if err := a.unmarshalFailureLimit(d); err != nil {
				return err
			}
		case "failure_delay":
			if err := a.unmarshalFailureDelay(d); err != nil {
				return err
			}
		default:
			return d.Errf("unknown channelgate_api option %q", d.Val())
		}
	}
	return nil
}

// optionalArg reads an option's value that may be missing (an empty
// environment variable), leaving dst as it is then.
func optionalArg(d *caddyfile.Dispenser, dst *string) error {
	args := d.RemainingArgs()
	if len(args) > 1 {
		return d.ArgErr()
	}
	if len(args) == 1 {
		*dst = args[0]
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*APIHandler)(nil)
	_ caddy.CleanerUpper          = (*APIHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*APIHandler)(nil)
)
