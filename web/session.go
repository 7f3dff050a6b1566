package web

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/channelgate/channelgate/limiter"
	"github.com/channelgate/channelgate/tokenstore"
)

// Session cookie names. Over TLS the cookie takes the __Host- prefix,
// which browsers accept only with Secure, Path=/ and no Domain: no
// subdomain and no plain-HTTP page can set or overwrite it.
const (
	cookieTLS   = "__Host-channelgate"
	cookiePlain = "channelgate"
)

// request is one page request: who is asking and how to answer.
type request struct {
	h    *Handler
	w    http.ResponseWriter
	r    *http.Request
	sess *tokenstore.Session // nil: not logged in
	user *tokenstore.Account // the session's user
}

// maxForm is the largest form body read (64 KiB); larger ones are refused.
const maxForm = 64 << 10

// newRequest reads the session cookie and, for POST, the form. A cookie
// that names no live session is dropped: the visitor is anonymous. Only a
// store failure is an error.
func (h *Handler) newRequest(w http.ResponseWriter, r *http.Request) (*request, error) {
	q := &request{h: h, w: w, r: r}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		_ = r.ParseForm() // a bad body leaves the form empty: its token check fails
	}
	c, err := r.Cookie(cookieName(r))
	if err != nil {
		return q, nil
	}
	sess, err := h.store.LookupSession(c.Value)
	switch {
	case errors.Is(err, tokenstore.ErrAuth):
		h.clearCookie(w, r)
		return q, nil
	case err != nil:
		return nil, err
	}
	user, err := h.store.Account(sess.User)
	switch {
	case errors.Is(err, tokenstore.ErrNotFound):
		h.clearCookie(w, r)
		return q, nil
	case err != nil:
		return nil, err
	}
	q.sess, q.user = sess, user
	return q, nil
}

func cookieName(r *http.Request) string {
	if r.TLS != nil {
		return cookieTLS
	}
	return cookiePlain
}

// setCookie gives the browser a session: HttpOnly (no script reads it),
// SameSite=Lax (not sent with other sites' form posts), Secure and
// __Host- over TLS. It lives as long as the session may.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, sess *tokenstore.Session) {
	http.SetCookie(w, &http.Cookie{Name: cookieName(r), Value: sess.ID, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: int(h.cfg.SessionMax.Seconds())})
}

func (h *Handler) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName(r), Value: "", Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// startSession logs user in: any session the browser held ends, a new one
// with a new id starts (an id planted before log-in is worthless).
func (q *request) startSession(user string) error {
	if c, err := q.r.Cookie(cookieName(q.r)); err == nil {
		if err := q.h.store.DeleteSession(q.actor(), c.Value); err != nil {
			return err
		}
	}
	sess, err := q.h.store.CreateSession(q.actor(), user, tokenstore.SessionLimits{Idle: q.h.cfg.SessionIdle, Absolute: q.h.cfg.SessionMax})
	if err != nil {
		return err
	}
	q.h.setCookie(q.w, q.r, sess)
	return nil
}

// actor is the request's user (or "anonymous") and address, for the audit
// log, and whether the user is a site administrator (who alone may give
// out a name the storage serves or an account had).
func (q *request) actor() tokenstore.Actor {
	a := tokenstore.Actor{Name: "anonymous", Remote: q.remote()}
	if q.user != nil {
		a.Name, a.SiteAdmin = q.user.Name, q.user.SiteAdmin
	}
	return a
}

// remote is the client's address without the port (Config.ClientAddress).
func (q *request) remote() string { return q.h.cfg.ClientAddress(q.r) }

// remoteHost is the connection's address without the port.
func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// viewer is the session's user for the store's shared decisions.
func (q *request) viewer() tokenstore.Viewer { return tokenstore.Viewer{Name: q.user.Name} }

// address is the client's limiter key (IPv6 per /64).
func (q *request) address() string { return limiter.Address(q.remote()) }

// localPath returns next if it is a path on this site, else fallback:
// redirects after log-in never leave the site.
func localPath(next, fallback string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return fallback
	}
	return next
}
