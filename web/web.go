// Package web is channelgate's server-rendered web interface: sign-up,
// email verification, log-in, the dashboard, account and token settings
// and organizations. It is an http.Handler beside the API (package admin)
// and calls the same tokenstore functions the API calls, never the API
// over HTTP.
//
// Pages are html/template files embedded in the binary, one layout and
// one template per page, with one stylesheet and two small scripts (the
// sign-up's proof of work and the copy button) served from this site:
// the browser contacts no third party, and the Content-Security-Policy
// forbids inline script and style. Every form works without JavaScript.
// Sessions live in the store (tokenstore.Session), so a log-out or an
// expiry holds on every gateway sharing it.
package web

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/channelgate/channelgate/limiter"
	"github.com/channelgate/channelgate/tokenstore"
)

// Config tunes the pages. Zero values take the documented defaults.
type Config struct {
	// Signup opens /signup to anyone. Default false: sign-up is closed
	// and accounts are created by administrators.
	Signup bool
	// BaseURL is the site's address as users reach it
	// ("https://packages.example.org"), used in mailed links and in the
	// conda and pip lines the pages show. Required when mail is set up:
	// a link is never built from the request's Host header, which a
	// client chooses. Default: the request's own scheme and host, for
	// display only.
	BaseURL string
	// Mail sends verification and password-reset mail. Nil: no mail;
	// accounts that sign up wait for an administrator to verify them and
	// passwords cannot be reset by mail.
	Mail Mailer
	// RobotCheckOff turns off the sign-up's not-a-robot check (proof of
	// work, or a honeypot field and MinFillTime without script). Default
	// false: on.
	RobotCheckOff bool
	// PowBits is how many leading zero bits the proof of work needs.
	// Default 16 (a second or two of a browser's time).
	PowBits int
	// MinFillTime is how long a sign-up form must have been open before
	// it is accepted without a proof of work. Default 3s.
	MinFillTime time.Duration
	// FormMaxAge is how long a form of a page without a session (log-in,
	// sign-up, password reset) stays valid. Default one hour.
	FormMaxAge time.Duration
	// Terms is the text of the terms and conditions sign-up asks users
	// to accept. Default DefaultTerms.
	Terms string
	// Gravatar lets the server fetch users' pictures from Gravatar (by
	// the SHA-256 of the address) and serve them from this site. Default
	// false: every user gets a generated identicon.
	Gravatar bool
	// GravatarURL is where pictures are fetched from, the hash appended.
	// Default "https://gravatar.com/avatar/".
	GravatarURL string
	// SessionIdle ends a session unused for this long. Default 12 hours.
	SessionIdle time.Duration
	// SessionMax ends a session this long after log-in. Default 7 days.
	SessionMax time.Duration
	// ConfirmAfter is how old the last password entry of a session may be
	// before the sensitive pages (settings) ask for it again. Default 15
	// minutes.
	ConfirmAfter time.Duration
	// VerifyLinkTTL is how long a mailed verification link works.
	// Default 48 hours.
	VerifyLinkTTL time.Duration
	// ResetLinkTTL is how long a mailed password-reset link works.
	// Default one hour.
	ResetLinkTTL time.Duration
	// Plans returns the plan policy the dashboard shows each user's plan
	// from (the API's, which may change on reload). Default: the
	// store's built-in policy, tokenstore.DefaultPlans.
	Plans func() tokenstore.Plans
	// Logins limits password guesses; share it with the API so that
	// both count against one budget. Default: a limiter of its own.
	Logins *limiter.Logins
	// ClientAddress is the client's address (no port) a request comes
	// from, for the limits and the audit log. Default: the connection's
	// address (Caddy passes its client IP, which honors trusted_proxies).
	ClientAddress func(*http.Request) string
	// Signups limits sign-ups and reset mails per client address. Default
	// 5 per 15 minutes.
	Signups *limiter.Limiter
	// Logger receives store and mail failures (answered 503). It is never
	// given a secret. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock of forms and the robot check. Default time.Now.
	Now func() time.Time
}

// Defaults for Config.
const (
	DefaultPowBits       = 16
	DefaultMinFillTime   = 3 * time.Second
	DefaultFormMaxAge    = time.Hour
	DefaultGravatarURL   = "https://gravatar.com/avatar/"
	DefaultSessionIdle   = 12 * time.Hour
	DefaultSessionMax    = 7 * 24 * time.Hour
	DefaultConfirmAfter  = 15 * time.Minute
	DefaultVerifyLinkTTL = 48 * time.Hour
	DefaultResetLinkTTL  = time.Hour
	DefaultTerms         = "Use this service lawfully. Do not upload what you have no right to share. " +
		"The operator may suspend accounts that abuse it. The service comes without warranty."
)

func (c *Config) setDefaults() {
	setDefault(&c.PowBits, DefaultPowBits)
	setDefault(&c.MinFillTime, DefaultMinFillTime)
	setDefault(&c.FormMaxAge, DefaultFormMaxAge)
	setDefault(&c.GravatarURL, DefaultGravatarURL)
	setDefault(&c.SessionIdle, DefaultSessionIdle)
	setDefault(&c.SessionMax, DefaultSessionMax)
	setDefault(&c.ConfirmAfter, DefaultConfirmAfter)
	setDefault(&c.VerifyLinkTTL, DefaultVerifyLinkTTL)
	setDefault(&c.ResetLinkTTL, DefaultResetLinkTTL)
	setDefault(&c.Terms, DefaultTerms)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logins == nil {
		c.Logins = limiter.NewLogins(limiter.LoginsConfig{Now: c.Now})
	}
	if c.Signups == nil {
		c.Signups = limiter.New(limiter.Config{Now: c.Now})
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Plans == nil {
		c.Plans = tokenstore.DefaultPlans
	}
	if c.ClientAddress == nil {
		c.ClientAddress = remoteHost
	}
}

// setDefault sets *v to def when it is the zero value.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Handler serves the pages.
type Handler struct {
	store   *tokenstore.Store
	cfg     Config
	mux     *http.ServeMux
	serve   http.Handler // mux behind the cross-origin check
	pages   map[string]*template.Template
	avatars *avatars
	formKey []byte
	// segments are the first path segments of the routes.
	segments map[string]bool
}

// New returns the pages for store.
func New(store *tokenstore.Store, cfg Config) (*Handler, error) {
	cfg.setDefaults()
	if cfg.Mail != nil && cfg.BaseURL == "" {
		return nil, errors.New("web: mail needs the site's base URL for its links")
	}
	key, err := store.FormKey()
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{store: store, cfg: cfg, mux: http.NewServeMux(), pages: pages, formKey: key,
		avatars: newAvatars(cfg.Gravatar, cfg.GravatarURL)}
	h.segments = map[string]bool{}
	for _, rt := range h.routes() {
		h.mux.Handle(rt.pattern, h.guard(rt))
		if seg := rt.segment(); seg != "" {
			h.segments[seg] = true
		}
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusForbidden, "This form was sent from another site and was refused.")
	}))
	h.serve = cop.Handler(h.mux)
	return h, nil
}

// Owns reports whether r is for the pages: the site's root or a path
// under one of the route table's first segments (all reserved account
// names). Anything else is for a channel, and the caller passes it on.
func (h *Handler) Owns(r *http.Request) bool {
	p := r.URL.Path
	if p == "/" {
		return true
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return h.segments[first]
}

// ServeHTTP answers a page request with the security headers every answer
// carries.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.noRoute(w, r)
		return
	}
	h.serve.ServeHTTP(w, r)
}

// noRoute answers a path no route takes (404), or a method its route does
// not take (405 with Allow).
func (h *Handler) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		alt := r.Clone(r.Context())
		alt.Method = m
		if _, pattern := h.mux.Handler(alt); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		h.fail(w, r, http.StatusNotFound, "There is no page here.")
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	h.fail(w, r, http.StatusMethodNotAllowed, "This page does not take "+r.Method+" requests.")
}

// contentSecurityPolicy allows this site's own scripts, styles and images
// only: no inline script or style, no framing, forms post here only.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
