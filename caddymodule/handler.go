package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"hash/maphash"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/channelgate/channelgate/channelindex"
	"github.com/channelgate/channelgate/tokenstore"
)

// ServeHTTP is the request path: extract, parse, decide, rewrite, next.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	write, ok := methodAction(r.Method)
	if !ok {
		w.Header().Set("Allow", "GET, HEAD, PUT, POST, DELETE")
		return h.refuse(w, r, http.StatusMethodNotAllowed, reasonBadMethod, "method not allowed")
	}
	t, err := parseRequestPath(r.URL)
	if errors.Is(err, errNotChannel) {
		return h.refuse(w, r, http.StatusNotFound, reasonNotChannel, err.Error())
	}
	if err != nil {
		return h.refuse(w, r, http.StatusBadRequest, reasonBadRequest, err.Error())
	}
	secret, err := requestToken(r.Header, t.token)
	if err != nil {
		return h.refuse(w, r, http.StatusBadRequest, reasonBadRequest, err.Error())
	}
	if limited, err := h.throttle(w, r, secret); limited {
		return err
	}
	d := h.store.Authorize(tokenstore.Request{Secret: secret, Channel: t.channel, Kind: t.kind,
		Package: t.pkg, Write: write, UnregisteredPublic: h.unregisteredPublic})
	if d.Hidden && h.hidePrivate {
		return h.hide(w, r, next, &t, d)
	}
	switch d.Outcome {
	case tokenstore.Unauthenticated:
		h.noteFailure(r, d.Reason)
		return h.refuse(w, r, http.StatusUnauthorized, d.Reason, d.Message)
	case tokenstore.Forbidden:
		return h.refuse(w, r, http.StatusForbidden, d.Reason, d.Message)
	case tokenstore.Unavailable:
		h.logger.Error("access store unavailable; refusing request", zap.String("channel", t.channel), zap.Error(d.Err))
		return h.refuse(w, r, http.StatusServiceUnavailable, d.Reason, d.Message)
	}
	countDecision(d.Reason)
	h.rewrite(r, &t, d.Token)
	next = simpleForm(w, r, next, &t)
	if kind := indexKindOf(&t); kind != channelindex.NotIndex && !write {
		return h.serveIndex(w, r, next, &t, kind, d.Token)
	}
	return h.next(w, r, next, &t)
}

// next hands the rewritten request to the storage handler.
func (h *Handler) next(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, t *target) error {
	w, r = storageRequest(w, r, t)
	return h.fail(w, r, t, next.ServeHTTP(w, r))
}

// storageRequest prepares the request and writer the storage handler
// gets.
func storageRequest(w http.ResponseWriter, r *http.Request, t *target) (http.ResponseWriter, *http.Request) {
	// A conda package file is <subdir>/<name>-<version>-<build>.<ext>
	// with no trailing slash: the storage answers it as a file, never with
	// a canonical redirect, so the hot path skips the request copies that
	// hiding costs.
	if t.token != "" && !(t.kind == tokenstore.Conda && t.class == classPackage) {
		return hidePathToken(w, r, t.clientPath)
	}
	return w, r
}

// hide refuses a private package as missing, in answer and in time: the
// request, rewritten as if it had been allowed, asks the storage for a
// name beside the package's that no client can ask for and no storage
// holds (the same lookup, at the same cost, as for a package the channel
// lacks), discards that answer, and fails with the 404 the storage gives
// for a file it does not have, by the same path, so the answer is byte
// for byte a missing file's. Nothing is logged that a missing file would
// not log.
func (h *Handler) hide(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, t *target, d tokenstore.Decision) error {
	countDecision(d.Reason)
	h.rewrite(r, t, d.Token)
	storagePath := r.URL.Path
	r.URL.Path = absentName(storagePath)
	next = simpleForm(w, r, next, t) // a missing page's lookups and Vary
	sw, sr := storageRequest(discardResponse{}, r, t)
	err := next.ServeHTTP(sw, sr)
	r.URL.Path = storagePath
	// The storage's own 404 (file_server's) is what a missing file
	// returns: reuse it rather than pay for making another.
	var he caddyhttp.HandlerError
	if errors.As(err, &he) && he.StatusCode == http.StatusNotFound {
		he.Err = errHidden
		return h.fail(w, r, t, he)
	}
	return h.fail(w, r, t, caddyhttp.Error(http.StatusNotFound, errHidden))
}

// errHidden is the error a hidden package is refused with.
var errHidden = errors.New("no such package")

// absentSuffix makes a storage path's last segment a name no storage
// holds: parsePath refuses '#', so no client can ask for it either.
const absentSuffix = "#channelgate-absent"

// absentName is p with absentSuffix after its last segment (before a
// trailing slash).
func absentName(p string) string {
	if base, ok := strings.CutSuffix(p, "/"); ok {
		return base + absentSuffix + "/"
	}
	return p + absentSuffix
}

// discardResponse is where the storage's answer to a hidden package's
// lookup goes: nowhere. A header map is made only when asked for (a
// file_server that misses never asks).
type discardResponse struct{}

func (discardResponse) Header() http.Header         { return http.Header{} }
func (discardResponse) Write(b []byte) (int, error) { return len(b), nil }
func (discardResponse) WriteHeader(int)             {}

// fail returns an error of the storage (nil included) to Caddy, or
// answers it here when the request carried its token in the path. A
// hidden package goes the same way, so its refusal is byte for byte a
// missing file's.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, t *target, err error) error {
	if err != nil && t.token != "" {
		return h.answerError(w, r, err)
	}
	return err
}

// answerError answers an error of the next handler here when the request
// carried its token in the path: Caddy's error logger records the
// original URI, token included, so such errors must not reach it. It logs
// the rewritten, token-free path instead. Other errors go to Caddy's
// error handling (and handle_errors routes) as usual.
func (h *Handler) answerError(w http.ResponseWriter, r *http.Request, err error) error {
	status := http.StatusInternalServerError
	var he caddyhttp.HandlerError
	if errors.As(err, &he) && he.StatusCode != 0 {
		status = he.StatusCode
	}
	level := zapcore.DebugLevel
	if status >= 500 {
		level = zapcore.ErrorLevel
	}
	if c := h.logger.Check(level, "storage answered with an error"); c != nil {
		c.Write(zap.String("path", r.URL.Path), zap.Int("status", status), zap.Error(err))
	}
	return h.answer(w, r, status, http.StatusText(status))
}

// hidePathToken keeps a /t/<token> path segment from the handlers after
// this one, which answer and log from the original request too: they see
// it as if it had come without the segment (file_server builds canonical
// redirects and their debug lines from it), and an absolute-path Location
// they answer becomes a reference relative to the request URL, so the
// client follows it under its own /t/<token>/ and no answer or log line
// spells out the token. clientPath is the request path without the
// segment.
func hidePathToken(w http.ResponseWriter, r *http.Request, clientPath string) (http.ResponseWriter, *http.Request) {
	if orig, ok := r.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request); ok && orig.URL != nil {
		u := *orig.URL
		u.Path, u.RawPath = clientPath, ""
		orig.URL, orig.RequestURI = &u, u.RequestURI()
		r = r.WithContext(context.WithValue(r.Context(), caddyhttp.OriginalRequestCtxKey, orig))
	}
	return &relativeRedirects{ResponseWriterWrapper: caddyhttp.ResponseWriterWrapper{ResponseWriter: w},
		up: strings.Count(clientPath, "/") - 1}, r
}

// relativeRedirects turns an absolute-path Location into "../"×up plus
// the path, which resolves against /t/<token>/<clientPath> to
// /t/<token>/<Location>.
type relativeRedirects struct {
	caddyhttp.ResponseWriterWrapper
	up int
}

func (w *relativeRedirects) WriteHeader(status int) {
	if status >= 300 && status < 400 {
		h := w.Header()
		if loc := h.Get("Location"); strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") {
			h.Set("Location", strings.Repeat("../", w.up)+loc[1:])
		}
	}
	w.ResponseWriterWrapper.WriteHeader(status)
}

// methodAction maps a method to read (false) or write (true); other
// methods are not part of any package protocol.
func methodAction(m string) (write, ok bool) {
	switch m {
	case http.MethodGet, http.MethodHead:
		return false, true
	case http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodPatch:
		return true, true
	}
	return false, false
}

// parseRequestPath refuses percent-encoded separators and NUL, which
// would mean one thing to the decision and another to the storage, and
// any percent-encoding in the first two segments (the channel, or /t/ and
// its token, which never need one): /%74/<token>/ would be served as
// /t/<token>/ while access logs and their filters see another spelling.
// It parses the decoded path. net/url keeps RawPath only when the request
// spelled the path otherwise than its default encoding, which never
// writes '/' encoded and writes a backslash and NUL as %5C and %00 —
// bytes parsePath refuses itself — so only such a RawPath needs reading.
func parseRequestPath(u *url.URL) (target, error) {
	if u.RawPath != "" {
		l := strings.ToLower(u.EscapedPath())
		if strings.Contains(l, "%2f") || strings.Contains(l, "%5c") || strings.Contains(l, "%00") {
			return target{}, pathError("path contains an encoded slash, backslash or NUL")
		}
		if strings.IndexByte(firstSegments(l, 2), '%') >= 0 {
			return target{}, pathError("the channel, /t/ and the token must be written without percent-encoding")
		}
	}
	return parsePath(u.Path)
}

// firstSegments is the beginning of path p up to the end of its n-th
// segment.
func firstSegments(p string, n int) string {
	end := 0
	for range n {
		i := strings.IndexByte(p[min(end+1, len(p)):], '/')
		if i < 0 {
			return p
		}
		end += 1 + i
	}
	return p[:end]
}

// rewrite removes every trace of the token from the request, points it at
// the storage path and publishes who is asking.
func (h *Handler) rewrite(r *http.Request, t *target, tok *tokenstore.Credential) {
	stripCredentials(r.Header)
	r.URL.Path = h.layout.render(t)
	r.URL.RawPath = ""
	r.URL.RawQuery = "" // package stores are static: a query means nothing and may carry secrets
	r.RequestURI = r.URL.RequestURI()

	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if repl == nil {
		return
	}
	repl.Set("channelgate.channel", placeholderValues.box(t.channel))
	repl.Set("channelgate.label", placeholderValues.box(t.label))
	repl.Set("channelgate.package", placeholderValues.box(t.pkg))
	if tok != nil {
		repl.Set("http.auth.user.id", placeholderValues.box(tok.Owner))
		repl.Set("channelgate.token.name", placeholderValues.box(tok.Name))
	}
}

// placeholderValues keeps recent placeholder strings already converted
// to interface values: Replacer.Set takes an any, and converting a string
// to an any allocates, four times per request. Downloads repeat the same
// few channels, packages, owners and token names. The values stay plain
// strings, as matchers and logs expect.
var placeholderValues = &boxCache{seed: maphash.MakeSeed()}

// boxCache is a fixed-size, direct-mapped table of boxed strings: a
// lookup is a hash and a compare, a miss (or a collision) boxes anew and
// takes the slot. Memory is bounded by its size whatever clients send.
type boxCache struct {
	seed  maphash.Seed
	slots [1024]atomic.Pointer[boxedString]
}

type boxedString struct {
	s string
	v any
}

func (c *boxCache) box(s string) any {
	if s == "" {
		return s // the empty string boxes without allocating
	}
	slot := &c.slots[maphash.String(c.seed, s)%uint64(len(c.slots))]
	if b := slot.Load(); b != nil && b.s == s {
		return b.v
	}
	s = strings.Clone(s) // do not keep the request's path alive
	b := &boxedString{s: s, v: s}
	slot.Store(b)
	return b.v
}

// refuse answers a request the gateway will not pass on, counting why,
// with a Basic challenge on 401 so pip and browsers know to send
// credentials.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, reason tokenstore.Reason, msg string) error {
	countDecision(reason)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="channelgate"`)
	}
	return h.answer(w, r, status, msg)
}

// answer writes a status and a one-line reason: JSON for clients that
// ask for JSON, plain text otherwise. It never carries a secret.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	var body []byte
	if wantsJSON(r) {
		hdr.Set("Content-Type", "application/json")
		body, _ = json.Marshal(map[string]string{"error": msg})
	} else {
		hdr.Set("Content-Type", "text/plain; charset=utf-8")
		body = []byte(msg)
	}
	body = append(body, '\n')
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// wantsJSON reports whether the client asked for JSON (API clients); pip's
// "application/vnd.pypi.simple.v1+json" is not a request for an error
// object.
func wantsJSON(r *http.Request) bool {
	for _, a := range r.Header.Values("Accept") {
		if strings.Contains(a, "application/json") {
			return true
		}
	}
	return false
}
