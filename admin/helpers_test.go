package admin_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

const (
	operatorSecret = "operator-secret-for-tests-0123456789"
	password       = "correct horse"
)

// clock is a settable time source shared by the store and the API.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a running API on a real bbolt store with fixture accounts:
// users alice, bob and root (site admin), organization acme (owner alice).
type env struct {
	t     testing.TB
	store *tokenstore.Store
	srv   *httptest.Server
	clock *clock
}

func newEnv(t testing.TB, cfg admin.Config) *env { return newEnvOn(t, cfg, nil) }

// newEnvOn is newEnv on a bbolt backend wrapped by wrap (nil: as it is).
func newEnvOn(t testing.TB, cfg admin.Config, wrap func(tokenstore.Backend) tokenstore.Backend) *env {
	t.Helper()
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	be, err := tokenstore.OpenBolt(filepath.Join(t.TempDir(), "db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		be = wrap(be)
	}
	st, err := tokenstore.Open(be, tokenstore.Options{Now: clk.Now})
	if err != nil {
		be.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if cfg.OperatorSecret == "" {
		cfg.OperatorSecret = operatorSecret
	}
	cfg.Now = clk.Now
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &env{t: t, store: st, clock: clk}
	e.srv = httptest.NewServer(admin.New(st, cfg))
	t.Cleanup(e.srv.Close)
	sys := e.fixture()
	for _, u := range []tokenstore.NewUser{
		{Name: "alice", Email: "alice@example.org"},
		{Name: "bob", Email: "bob@example.org"},
		{Name: "root", Email: "root@example.org", SiteAdmin: true},
	} {
		u.Password, u.PasswordConfirmation, u.AcceptTerms = password, password, true
		if _, err := st.CreateUser(sys, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateOrg(sys, "acme", "alice"); err != nil {
		t.Fatal(err)
	}
	return e
}

// token creates a token directly in the store and returns its secret.
func (e *env) token(owner, name string, scopes ...string) string {
	e.t.Helper()
	secret, _, err := e.store.CreateToken(e.fixture(),
		tokenstore.TokenSpec{Owner: owner, CreatedBy: owner, Name: name, Scopes: scopes})
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// reply is one answer of the API.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v (a map or a slice).
func (r reply) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
}

// field returns one top-level field of a JSON object body.
func (r reply) field(t testing.TB, name string) any {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	return m[name]
}

// basic is an auth value for HTTP Basic.
func basic(user, pass string) string { return "basic " + user + ":" + pass }

// do sends a request the way anaconda-client does: JSON content type on
// every call, its API version header, and auth as "token X", "Bearer X"
// or Basic (auth "basic user:pass"). body is JSON-encoded unless it is a
// string, which is sent as is.
func (e *env) do(method, path, auth string, body any) reply {
	e.t.Helper()
	return e.send(method, path, auth, body, nil)
}

// doFrom is do without a body, with an X-Test-Client header naming the
// client address (for a Config.ClientAddress that reads it).
func (e *env) doFrom(addr, method, path, auth string) reply {
	e.t.Helper()
	return e.send(method, path, auth, nil, http.Header{"X-Test-Client": {addr}})
}

// send is do with more request headers.
func (e *env) send(method, path, auth string, body any, hdr http.Header) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	maps.Copy(req.Header, hdr)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-binstar-api-version", "1.13.0")
	if up, ok := strings.CutPrefix(auth, "basic "); ok {
		user, pass, _ := strings.Cut(up, ":")
		req.SetBasicAuth(user, pass)
	} else if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}
}

// apiCase is one request and what must come back.
type apiCase struct {
	name         string
	method, path string
	auth         string
	body         any
	status       int
	// errContains, if set, must be in the "error" field of the body.
	errContains string
	// fields must equal the body's top-level fields (JSON-decoded).
	fields map[string]any
}

// run sends each case in order (later cases may depend on earlier ones)
// and checks its status, error message and fields. An error body must
// always be {"error": "..."} and must never echo the credentials sent.
func (e *env) run(t *testing.T, cases []apiCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.auth, c.body)
			if r.status != c.status {
				t.Fatalf("%s %s: status %d, want %d; body %s", c.method, c.path, r.status, c.status, r.body)
			}
			if r.status >= 400 {
				msg, _ := r.field(t, "error").(string)
				if msg == "" || !strings.Contains(msg, c.errContains) {
					t.Errorf("error %q, want it to contain %q", msg, c.errContains)
				}
				if secret := credential(c.auth); secret != "" && bytes.Contains(r.body, []byte(secret)) {
					t.Errorf("error body %s echoes the credential", r.body)
				}
			}
			for k, want := range c.fields {
				if got := r.field(t, k); !jsonEqual(got, want) {
					t.Errorf("field %s = %#v, want %#v", k, got, want)
				}
			}
		})
	}
}

// credential is the secret part of an auth value.
func credential(auth string) string {
	if up, ok := strings.CutPrefix(auth, "basic "); ok {
		_, pass, _ := strings.Cut(up, ":")
		return pass
	}
	_, v, _ := strings.Cut(auth, " ")
	return v
}

// jsonEqual compares a decoded JSON value with a Go literal by encoding
// both.
func jsonEqual(got, want any) bool {
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	return bytes.Equal(a, b)
}

// fixture is the actor of changes tests make directly in the store.
func (e *env) fixture() tokenstore.Actor { return tokenstore.Actor{Name: "test"} }
