// Package admin is channelgate's anaconda.org-compatible HTTP API:
// accounts, organizations, groups, packages and scoped tokens on top of a
// tokenstore.Store. It is a plain http.Handler that sees paths relative to
// its mount prefix (/user, /authentications, ...), so it runs the same
// behind Caddy, behind http.StripPrefix or alone in tests.
//
// Every answer is JSON; every error is {"error": "<one line>"}. Success
// codes follow what anaconda-client accepts: 200 for POST /authentications,
// 201 for deletions, 204 for group calls.
package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/channelgate/channelgate/limiter"
	"github.com/channelgate/channelgate/tokenstore"
)

// Config tunes the API. Zero values take the documented defaults.
type Config struct {
	// OperatorSecret, presented as "Authorization: token <secret>" or
	// "Bearer <secret>", acts as site administrator (audited as
	// "operator"). Empty disables it. The API keeps only its SHA-256.
	// The Caddy glue refuses secrets shorter than MinOperatorSecretLen.
	OperatorSecret string
	// OpenSignup lets anyone create a user with POST /users. Default
	// false: only the operator and site administrators create users.
	OpenSignup bool
	// AuditLimit is the default and largest number of events GET /audit
	// returns at once. Default 100.
	AuditLimit int
	// Logins limits password guesses per account and address, per
	// account and per address (see limiter.Logins for the defaults).
	// Share one with the web pages. Default: a Logins of its own with
	// the defaults and this Config's clock.
	Logins *limiter.Logins
	// SecretFailures limits wrong tokens and operator secrets per client
	// address: an address that sent too many gets 429 for every request
	// carrying one, right or wrong, until its window ends. Default 20 a
	// minute (the gateway's failure_limit), on this Config's clock.
	SecretFailures *limiter.Limiter
	// ClientAddress is the client's address (no port) a request comes
	// from, for the limits and the audit log. Behind Caddy it is Caddy's
	// client_ip, which honours trusted_proxies. Default: the request's
	// RemoteAddr.
	ClientAddress func(*http.Request) string
	// Logger receives store failures (answered with 503). It is never
	// given a secret. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock of the default limits. Default time.Now.
	// (Token expiry follows the store's clock.)
	Now func() time.Time
	// Storage is where uploads are published. Default nil: the
	// publishing endpoints answer 404.
	Storage Storage
	// Plans is the plan policy uploads are checked against. Default
	// tokenstore.DefaultPlans().
	Plans tokenstore.Plans
	// GrantTTL is how long an upload grant may wait before the file is
	// posted. Default 5 minutes.
	GrantTTL time.Duration
	// OnUpload, if set, is told the outcome and size of every upload.
	OnUpload func(UploadEvent)
}

// Defaults for Config.
const (
	DefaultAuditLimit = 100
	DefaultGrantTTL   = 5 * time.Minute
)

func (c *Config) setDefaults() {
	if c.AuditLimit <= 0 {
		c.AuditLimit = DefaultAuditLimit
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logins == nil {
		c.Logins = limiter.NewLogins(limiter.LoginsConfig{Now: c.Now})
	}
	if c.SecretFailures == nil {
		c.SecretFailures = limiter.New(limiter.Config{Limit: DefaultSecretFailures,
			Window: DefaultSecretFailureWindow, Now: c.Now})
	}
	if c.ClientAddress == nil {
		c.ClientAddress = remoteHost
	}
	if c.Plans.ByName == nil {
		c.Plans = tokenstore.DefaultPlans()
	}
	if c.GrantTTL <= 0 {
		c.GrantTTL = DefaultGrantTTL
	}
}

// maxBody is the largest request body read (1 MiB); larger ones get 413.
const maxBody = 1 << 20

// api holds the routes and what they share.
type api struct {
	store *tokenstore.Store
	cfg   Config
	mux   *http.ServeMux
	// operator is the operator secret's hash (cfg keeps no secret).
	operator operatorKey
	// started is the operator pseudo-account's created_at (clients
	// parse one from every account).
	started time.Time
}

// New returns the API handler for store.
func New(store *tokenstore.Store, cfg Config) http.Handler {
	cfg.setDefaults()
	a := &api{store: store, cfg: cfg, mux: http.NewServeMux(), started: cfg.Now(),
		operator: newOperatorKey(cfg.OperatorSecret)}
	a.cfg.OperatorSecret = ""
	a.routes()
	return a
}

// policy says who may call a route.
type policy struct {
	// need is what a token caller's scopes must grant; password and
	// operator callers hold every capability.
	need tokenstore.Caps
	// login refuses anonymous callers with 401.
	login bool
	// upload also admits a token that has an upload scope (conda,
	// pypi:upload) instead of need: anaconda upload runs on such tokens
	// and reads the account, package and release before it uploads.
	upload bool
}

var (
	// anyone skips authentication altogether, so a stale token stored
	// by a client cannot break its login sequence (HEAD /, scopes, ...).
	anyone = policy{}
	// browse admits anonymous callers; a token caller needs api:read.
	browse = policy{need: tokenstore.CapAPIRead}
	reader = policy{need: tokenstore.CapAPIRead, login: true}
	writer = policy{need: tokenstore.CapAPIWrite, login: true}
	// itself needs a caller but no scope: any valid token may describe
	// and revoke itself (anaconda auth --info, logout), whatever it is
	// scoped to.
	itself = policy{login: true}
	// grouper guards group changes (api:modify-group).
	grouper = policy{need: tokenstore.CapAPIModifyGroup, login: true}
	// upBrowse, upReader and upWriter are browse, reader and writer
	// for the calls of anaconda upload, which also admit upload tokens;
	// the endpoints check the upload scope of the kind they publish.
	upBrowse = policy{need: tokenstore.CapAPIRead, upload: true}
	upReader = policy{need: tokenstore.CapAPIRead, login: true, upload: true}
	upWriter = policy{need: tokenstore.CapAPIWrite, login: true, upload: true}
)

func (a *api) routes() {
	a.handle("GET /{$}", anyone, func(*http.Request, *caller) (int, any, error) { return http.StatusOK, nil, nil })
	a.handle("GET /authentication-type", anyone, func(*http.Request, *caller) (int, any, error) {
		return http.StatusOK, map[string]string{"authentication_type": "password"}, nil
	})
	a.handle("GET /scopes", anyone, func(*http.Request, *caller) (int, any, error) {
		return http.StatusOK, tokenstore.ScopeDescriptions(), nil
	})

	a.handle("POST /authentications", writer, a.createToken)
	a.handle("GET /authentications", reader, a.listTokens)
	a.handle("GET /authentication", itself, a.currentToken)
	a.handle("DELETE /authentications", itself, a.revokeCurrent)
	a.handle("DELETE /authentications/name/{name}", writer, a.revokeNamed)
	a.handle("DELETE /authentications/org/{org}/name/{name}", writer, a.revokeNamed)

	a.handle("GET /user", upReader, a.getSelf)
	a.handle("GET /user/{login}", upBrowse, a.getUser)
	a.handle("PATCH /user/{login}", writer, a.patchUser)
	a.handle("POST /user/password", writer, a.changePassword)
	a.handle("POST /users", browse, a.createUser)
	a.handle("POST /user/{login}/verify", writer, a.verifyUser)
	a.handle("GET /users/{login}/orgs", browse, a.userOrgs)
	a.handle("POST /orgs", writer, a.createOrg)
	a.handle("GET /audit", reader, a.audit)

	a.handle("GET /groups/{org}", reader, a.listGroups)
	a.handle("GET /group/{org}/{group}", reader, a.getGroup)
	a.handle("POST /group/{org}/{group}", grouper, a.putGroup)
	a.handle("DELETE /group/{org}/{group}", grouper, a.deleteGroup)
	a.handle("GET /group/{org}/{group}/members", reader, a.groupMembers)
	a.handle("GET /group/{org}/{group}/members/{user}", reader, a.isMember)
	a.handle("PUT /group/{org}/{group}/members/{user}", grouper, a.setMember)
	a.handle("DELETE /group/{org}/{group}/members/{user}", grouper, a.setMember)
	a.handle("GET /group/{org}/{group}/packages", reader, a.groupPackages)
	a.handle("PUT /group/{org}/{group}/packages/{pkg}", grouper, a.setGroupPackage)
	a.handle("DELETE /group/{org}/{group}/packages/{pkg}", grouper, a.setGroupPackage)

	a.handle("GET /package/{owner}/{name}", upBrowse, a.getPackage)
	a.handle("POST /package/{owner}/{name}", upWriter, a.createPackage)
	a.handle("PATCH /package/{owner}/{name}", writer, a.patchPackage)
	a.handle("DELETE /package/{owner}/{name}", upWriter, a.deletePackage)
	a.handle("GET /packages/{owner}", browse, a.listPackages)
	a.handle("GET /packages/{owner}/{name}/collaborators", browse, a.listCollaborators)
	a.handle("PUT /packages/{owner}/{name}/collaborators/{user}", writer, a.setCollaborator)
	a.handle("DELETE /packages/{owner}/{name}/collaborators/{user}", writer, a.setCollaborator)
	a.handle("GET /search", browse, a.search)

	// Publishing (anaconda upload, remove, label, move; twine).
	a.handle("GET /dist/{owner}/{name}/{ver}/{basename...}", upBrowse, a.getDist)
	a.handle("DELETE /dist/{owner}/{name}/{ver}/{basename...}", upWriter, a.deleteDist)
	a.handle("GET /release/{owner}/{name}/{ver}", upBrowse, a.getRelease)
	a.handle("POST /release/{owner}/{name}/{ver}", upWriter, a.putRelease)
	a.handle("PATCH /release/{owner}/{name}/{ver}", upWriter, a.putRelease)
	a.handle("DELETE /release/{owner}/{name}/{ver}", upWriter, a.deleteRelease)
	a.handle("POST /stage/{owner}/{name}/{ver}/{basename...}", upWriter, a.stage)
	a.handle("POST /commit/{owner}/{name}/{ver}/{basename...}", upWriter, a.commit)
	a.handle("GET /channels/{owner}", upReader, a.listLabels)
	a.handle("GET /channels/{owner}/{label}", upReader, a.showLabel)
	a.handle("POST /channels/{owner}/{label}", upWriter, a.addToLabel)
	a.handle("DELETE /channels/{owner}/{label}", upWriter, a.removeFromLabel)
	a.handle("POST /channels/{owner}/{label}/copy/{to}", upWriter, a.copyLabel)
	// These two authorize themselves (a grant; twine's credentials),
	// take bodies as large as a package and answer in their clients'
	// formats.
	a.mux.HandleFunc("POST /upload", a.receive)
	a.mux.HandleFunc("POST /pypi/upload", a.twineUpload)
}

// endpoint answers one call: a status and a body to encode as JSON (nil
// for none), or an error for writeError.
type endpoint func(r *http.Request, c *caller) (status int, body any, err error)

// handle registers fn behind the caller check of p.
func (a *api) handle(pattern string, p policy, fn endpoint) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c := &caller{remote: a.cfg.ClientAddress(r)}
		if p != anyone {
			var err error
			if c, err = a.identify(r, p); err != nil {
				a.writeError(w, err)
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		status, body, err := fn(r, c)
		if err != nil {
			a.writeError(w, err)
			return
		}
		writeJSON(w, status, body)
	})
}

// ServeHTTP routes a request. Paths no route matches and methods a path
// does not take are answered in JSON like every other error.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "" {
		// The mount prefix itself, with the prefix stripped (anaconda-client
		// sends HEAD <prefix> before login): serve it as "/" rather than
		// redirect.
		u := *r.URL
		u.Path, u.RawPath = "/", ""
		r = r.WithContext(r.Context()) // a shallow copy, to leave the caller's request alone
		r.URL = &u
	}
	if _, pattern := a.mux.Handler(r); pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	// The mux's own answer (404, 405 or a redirect to the clean path)
	// is captured and re-sent with a JSON body.
	rec := &capture{header: http.Header{}}
	a.mux.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		a.writeError(w, errorf(http.StatusNotFound, "no API endpoint %s", r.URL.Path))
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		a.writeError(w, errorf(http.StatusMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path))
	default:
		if loc := rec.header.Get("Location"); loc != "" {
			w.Header().Set("Location", loc)
		}
		w.WriteHeader(rec.status)
	}
}

// capture records the status and headers of the mux's built-in answers.
type capture struct {
	header http.Header
	status int
}

func (c *capture) Header() http.Header { return c.header }
func (c *capture) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
}
func (c *capture) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return len(b), nil
}

// httpError is an error with the status to answer it with.
type httpError struct {
	status int
	msg    string
	// retryAfter, in seconds, is sent as Retry-After when positive.
	retryAfter int
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// writeError answers err as {"error": msg}.
func (a *api) writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if errors.As(err, &he) && he.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(he.retryAfter))
	} else if errors.Is(err, tokenstore.ErrBusy) {
		w.Header().Set("Retry-After", "1")
	}
	status, msg := a.statusOf(err)
	writeJSON(w, status, map[string]string{"error": oneLine(msg)})
}

// statusOf maps an error to its status and message; a failure of the
// store or the storage is logged and answered 503 without detail.
func (a *api) statusOf(err error) (int, string) {
	if status, msg := classify(err); status != 0 {
		return status, msg
	}
	a.cfg.Logger.Error("channelgate admin: store failure", "error", err)
	return http.StatusServiceUnavailable, "store unavailable"
}

// classify maps the errors of a caller's mistake to their status and
// message: an httpError's own, a store error kind's; 0 for anything
// else.
func classify(err error) (int, string) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status, he.msg
	case errors.Is(err, tokenstore.ErrInvalid):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, tokenstore.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, tokenstore.ErrExists):
		return http.StatusConflict, err.Error()
	case errors.Is(err, tokenstore.ErrForbidden):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, tokenstore.ErrAuth):
		return http.StatusUnauthorized, err.Error()
	case errors.Is(err, tokenstore.ErrBusy):
		return http.StatusTooManyRequests, err.Error()
	case errors.Is(err, tokenstore.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, err.Error()
	}
	return 0, ""
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// writeJSON sends v as JSON with status; a nil v sends no body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if v == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads the JSON body into v. An empty body leaves v as it is
// (anaconda-client sends Content-Type: application/json with no body);
// unknown fields are ignored because the client sends fields this API
// does not use.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	var (
		tooBig  *http.MaxBytesError
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &tooBig):
		return errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", tooBig.Limit)
	case errors.As(err, &syntax):
		return errorf(http.StatusBadRequest, "malformed JSON body at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return errorf(http.StatusBadRequest, "malformed JSON body: field %q must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)
	}
	return errorf(http.StatusBadRequest, "malformed JSON body: %v", err)
}

// rfc3339 formats t, or returns nil for the zero time (JSON null).
func rfc3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}
