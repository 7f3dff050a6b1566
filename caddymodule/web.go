package caddymodule

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/channelgate/channelgate/web"
)

func init() {
	caddy.RegisterModule(WebHandler{})
	httpcaddyfile.RegisterHandlerDirective("channelgate_web", parseWebCaddyfile)
	// Before the gateway: the pages take their own paths (all reserved
	// account names) and pass every other request on to it. Orders are
	// relative to standard directives only: "after encode" inserts right
	// after encode, and this file's init runs after caddyfile.go's, so the
	// order is encode, channelgate_web, channelgate (TestWebBrowser
	// depends on it).
	httpcaddyfile.RegisterDirectiveOrder("channelgate_web", httpcaddyfile.After, "encode")
}

// WebHandler serves the web pages (package web) on the same store as the
// gateway and the API. It answers the pages' paths (/, /signup, /login,
// /settings/..., all reserved account names) and passes every other
// request to the next handler, so it sits in front of channelgate on the
// channels' site.
type WebHandler struct {
	StoreConfig

	// Signup is "open" (anyone may sign up) or "closed" (the default:
	// administrators create accounts).
	Signup string `json:"signup,omitempty"`
	// BaseURL is the site's address as users reach it, for mailed links
	// and the conda and pip lines. Required with SMTP.
	BaseURL string `json:"base_url,omitempty"`
	// SMTP is the mail server's host:port. Empty (the default): no mail;
	// signed-up accounts wait for a site administrator to verify them.
	SMTP string `json:"smtp,omitempty"`
	// MailFrom is the sender of the mail. Required with SMTP.
	MailFrom string `json:"mail_from,omitempty"`
	// SMTPUser and SMTPPassword authenticate to the mail server when it
	// offers AUTH. Give the password as a runtime placeholder,
	// {env.CHANNELGATE_SMTP_PASSWORD}, replaced at provision time, so it
	// never appears in Caddy's configuration.
	SMTPUser     string `json:"smtp_user,omitempty"`
	SMTPPassword string `json:"smtp_password,omitempty"`
	// RobotCheck is "on" (the default) or "off": sign-up's not-a-robot
	// check (proof of work, or honeypot and minimum fill time).
	RobotCheck string `json:"robot_check,omitempty"`
	// Terms is a file holding the terms and conditions sign-up shows.
	// Default: a short text of channelgate's.
	Terms string `json:"terms,omitempty"`
	// Gravatar is "on" (fetch users' pictures from Gravatar, served from
	// this site) or "off" (the default: generated identicons).
	Gravatar string `json:"gravatar,omitempty"`

	dbPath string
	web    *web.Handler
}

// CaddyModule returns the Caddy module information.
func (WebHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.channelgate_web",
		New: func() caddy.Module { return new(WebHandler) },
	}
}

// Provision checks the options, takes a share of the store and builds
// the pages.
func (h *WebHandler) Provision(ctx caddy.Context) error {
	cfg, err := h.config()
	if err != nil {
		return err
	}
	cfg.Logger = ctx.Slogger()
	store, path, err := acquireStore(h.StoreConfig)
	if err != nil {
		return err
	}
	h.dbPath = path
	cfg.Logins = loginLimit(path) // shared with the API on this store
	cfg.Plans = plansOf(path)     // the API's plan policy
	cfg.ClientAddress = clientIP
	if h.web, err = web.New(store, cfg); err != nil {
		return fmt.Errorf("channelgate_web: %w", err)
	}
	return nil
}

// config turns the options into the pages' configuration.
func (h *WebHandler) config() (web.Config, error) {
	var cfg web.Config
	closed, err := choiceOf("signup", h.Signup, "closed", "open")
	if err != nil {
		return cfg, err
	}
	cfg.Signup = !closed
	robotOn, err := choiceOf("robot_check", h.RobotCheck, "on", "off")
	if err != nil {
		return cfg, err
	}
	cfg.RobotCheckOff = !robotOn
	gravatarOff, err := choiceOf("gravatar", h.Gravatar, "off", "on")
	if err != nil {
		return cfg, err
	}
	cfg.Gravatar = !gravatarOff
	cfg.BaseURL = h.BaseURL
	if h.SMTP != "" {
		if h.MailFrom == "" || h.BaseURL == "" {
			return cfg, errors.New("channelgate_web: smtp needs mail_from and base_url")
		}
		cfg.Mail = &web.SMTP{Addr: h.SMTP, From: h.MailFrom, User: h.SMTPUser,
			Password: caddy.NewReplacer().ReplaceKnown(h.SMTPPassword, "")}
	}
	if h.Terms != "" {
		b, err := os.ReadFile(h.Terms)
		if err != nil {
			return cfg, fmt.Errorf("channelgate_web: terms: %w", err)
		}
		cfg.Terms = string(b)
	}
	return cfg, nil
}

// choiceOf is choice with the option's name in the error.
func choiceOf(option, value, byDefault, other string) (bool, error) {
	ok, err := choice(option, value, byDefault, other)
	if err != nil {
		return false, fmt.Errorf("channelgate_web: %w", err)
	}
	return ok, nil
}

// Cleanup releases the store.
func (h *WebHandler) Cleanup() error {
	if h.dbPath == "" {
		return nil
	}
	return releaseStore(h.dbPath)
}

// ServeHTTP answers the pages' paths and passes the rest on.
func (h *WebHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if !h.web.Owns(r) {
		return next.ServeHTTP(w, r)
	}
	h.web.ServeHTTP(w, r)
	return nil
}

// parseWebCaddyfile sets up the pages from Caddyfile tokens. Syntax:
//
//	channelgate_web [<matcher>] {
//	    db            <path>
//	    cache_size    <entries>
//	    signup        open|closed
//	    base_url      <url>
//	    smtp          <host:port>
//	    mail_from     <address>
//	    smtp_user     <user>
//	    smtp_password <password>
//	    robot_check   on|off
//	    terms         <file>
//	    gravatar      on|off
//	}
//
// Options given an empty value (an unset environment variable) keep their
// defaults.
func parseWebCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var w WebHandler
	err := w.UnmarshalCaddyfile(h.Dispenser)
	return &w, err
}

// UnmarshalCaddyfile reads the directive's block.
func (h *WebHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		if ok, err := h.unmarshalStoreOption(d); ok || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		target, ok := map[string]*string{"signup": &h.Signup, "base_url": &h.BaseURL, "smtp": &h.SMTP,
			"mail_from": &h.MailFrom, "smtp_user": &h.SMTPUser, "smtp_password": &h.SMTPPassword,
			"robot_check": &h.RobotCheck, "terms": &h.Terms, "gravatar": &h.Gravatar}[d.Val()]
		if !ok {
			return d.Errf("unknown channelgate_web option %q", d.Val())
		}
		args := d.RemainingArgs()
		if len(args) > 1 {
			return d.ArgErr()
		}
		if len(args) == 1 {
			*target = args[0]
		}
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*WebHandler)(nil)
	_ caddy.CleanerUpper          = (*WebHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*WebHandler)(nil)
	_ caddyfile.Unmarshaler       = (*WebHandler)(nil)
)
