package web

import (
	"bytes"

	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/channelgate/channelgate/internal/mailtest"
	"github.com/channelgate/channelgate/tokenstore"
)

// testPassword is every fixture user's password.
const testPassword = "correct horse battery"

// clock is a settable clock shared by the store and the pages.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a store, the pages on a real HTTP server, an SMTP server and the
// log, for one test.
type env struct {
	store *tokenstore.Store
	h     *Handler
	srv   *httptest.Server
	mail  *mailtest.Server
	clock *clock
	log   *syncBuffer
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv serves the pages with sign-up open and mail going to a test SMTP
// server; edit changes the configuration first.
func newEnv(t *testing.T, edit func(*Config)) *env {
	t.Helper()
	c := &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	store, err := tokenstore.OpenFile(filepath.Join(t.TempDir(), "store.db"), tokenstore.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{store: store, clock: c, log: &syncBuffer{}, mail: mailtest.Start(t, mailtest.Options{})}
	e.srv = httptest.NewUnstartedServer(nil)
	cfg := Config{Signup: true, BaseURL: "http://" + e.srv.Listener.Addr().String(),
		Mail: &SMTP{Addr: e.mail.Addr, From: "channelgate@example.org"}, Now: c.Now,
		Logger: slog.New(slog.NewTextHandler(e.log, nil))}
	if edit != nil {
		edit(&cfg)
	}
	if e.h, err = New(store, cfg); err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = e.h
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

// addUser creates a verified user with testPassword.
func (e *env) addUser(t *testing.T, name string) {
	t.Helper()
	_, err := e.store.CreateUser(tokenstore.Actor{Name: "test"}, tokenstore.NewUser{Name: name, Email: name + "@example.org",
		Password: testPassword, PasswordConfirmation: testPassword, AcceptTerms: true})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) actor() tokenstore.Actor { return tokenstore.Actor{Name: "test"} }

// browser is an HTTP client with cookies that does not follow redirects,
// remembering the form token of the last page it read.
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if e.srv.TLS != nil {
		c.Transport = e.srv.Client().Transport
	}
	return &browser{t: t, e: e, c: c}
}

// page is one answer.
type page struct {
	status int
	header http.Header
	body   string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, header: resp.Header, body: string(body)}
	if m := csrfRE.FindStringSubmatch(p.body); m != nil {
		b.csrf = html.UnescapeString(m[1])
	}
	return p
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form with the last page's form token unless form has one.
func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	if !form.Has(csrfField) {
		form.Set(csrfField, b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// login logs user in with testPassword.
func (b *browser) login(user string) {
	b.t.Helper()
	b.get("/login")
	p := b.post("/login", url.Values{"username": {user}, "password": {testPassword}})
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("login: %d %s", p.status, p.body)
	}
}

// cookie returns the browser's session cookie value.
func (b *browser) cookie() string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == cookiePlain || c.Name == cookieTLS {
			return c.Value
		}
	}
	return ""
}

func (p page) want(t *testing.T, status int, texts ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", p.status, status, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, p.body)
		}
	}
}

// form is url.Values from pairs.
func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// solvePow finds a proof of work for a form token, as pow.js does.
func solvePow(token string, bits int) string {
	for i := 0; ; i++ {
		if s := strconv.Itoa(i); validPow(token, s, bits) {
			return s
		}
	}
}

// signupValues is a valid sign-up of name, with the proof of work for the
// browser's current form token.
func (b *browser) signupValues(name string) url.Values {
	return form("username", name, "email", name+"@example.org", "password", testPassword, "confirm", testPassword,
		"terms", "on", powField, solvePow(b.csrf, DefaultPowBits))
}
