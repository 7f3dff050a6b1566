package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/channelgate/channelgate/tokenstore"
)

// TestLogin sends the log-in form right and wrong.
func TestLogin(t *testing.T) {
	tests := []struct {
		name, user, password, next string
		status                     int
		want                       string // page text, or the redirect for 303
	}{
		{"right", "alice", testPassword, "", http.StatusSeeOther, "/dashboard"},
		{"right, back to the page asked for", "alice", testPassword, "/settings/access", http.StatusSeeOther, "/settings/access"},
		{"next off the site", "alice", testPassword, "//evil.example/x", http.StatusSeeOther, "/dashboard"},
		{"next as a URL", "alice", testPassword, "https://evil.example/", http.StatusSeeOther, "/dashboard"},
		{"wrong password", "alice", "wrong password", "", http.StatusUnauthorized, "Wrong user name or password"},
		{"unknown user", "nobody", testPassword, "", http.StatusUnauthorized, "Wrong user name or password"},
		{"no user name", "", testPassword, "", http.StatusBadRequest, "Enter your user name"},
		{"no password", "alice", "", "", http.StatusBadRequest, "Enter your password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.addUser(t, "alice")
			b := e.browser(t)
			b.get("/login?next=" + tc.next)
			p := b.post("/login", form("username", tc.user, "password", tc.password, "next", tc.next))
			if tc.status == http.StatusSeeOther {
				if p.status != tc.status || p.header.Get("Location") != tc.want {
					t.Fatalf("%d to %q, want %d to %q", p.status, p.header.Get("Location"), tc.status, tc.want)
				}
				b.get("/dashboard").want(t, http.StatusOK, "Your channel: alice")
				return
			}
			p.want(t, tc.status, tc.want)
			if b.cookie() != "" {
				t.Fatal("a failed log-in set a session cookie")
			}
			if tc.user != "" && !strings.Contains(p.body, `value="`+tc.user+`"`) {
				t.Fatal("the form lost the user name")
			}
		})
	}
}

// TestLoginLimit: wrong passwords for one account from one address are
// refused with 429 after the shared limiter's limit, the right one too.
func TestLoginLimit(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser(t, "alice")
	b := e.browser(t)
	b.get("/login")
	for range 5 {
		b.post("/login", form("username", "alice", "password", "wrong password")).want(t, http.StatusUnauthorized)
	}
	p := b.post("/login", form("username", "alice", "password", testPassword))
	p.want(t, http.StatusTooManyRequests, "Too many attempts")
	if p.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

// TestMemberPages: pages for logged-in users send visitors to log in.
func TestMemberPages(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	for _, path := range []string{"/dashboard", "/settings/account", "/settings/access", "/confirm-password",
		"/avatar/" + strings.Repeat("a", 64)} {
		p := b.get(path)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login?next=") {
			t.Errorf("%s: %d to %q", path, p.status, p.header.Get("Location"))
		}
	}
	b.get("/login")
	p := b.post("/logout", form())
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
		t.Errorf("logout without a session: %d %q", p.status, p.header.Get("Location"))
	}
}

// TestSessionCookie checks the cookie's attributes over HTTP and TLS.
func TestSessionCookie(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "tls"}[tls]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			if tls {
				e.srv.Close()
				e.srv = httptest.NewTLSServer(e.h)
			}
			e.addUser(t, "alice")
			b := e.browser(t)
			b.get("/login")
			p := b.post("/login", form("username", "alice", "password", testPassword))
			set := p.header.Get("Set-Cookie")
			want := []string{"HttpOnly", "SameSite=Lax", "Path=/"}
			prefix := cookiePlain + "="
			if tls {
				want = append(want, "Secure")
				prefix = cookieTLS + "="
			}
			if !strings.HasPrefix(set, prefix) {
				t.Fatalf("cookie %q, want name %s", set, prefix)
			}
			for _, w := range want {
				if !strings.Contains(set, w) {
					t.Errorf("cookie %q lacks %s", set, w)
				}
			}
			if !tls && strings.Contains(set, "Secure") {
				t.Errorf("cookie %q is Secure over plain HTTP", set)
			}
			if strings.Contains(set, "Domain") {
				t.Errorf("cookie %q has a Domain", set)
			}
		})
	}
}

// TestSessionFixation: log-in gives a new session id and ends the one
// the browser had.
func TestSessionFixation(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser(t, "alice")
	b := e.browser(t)
	b.login("alice")
	old := b.cookie()
	b.login("alice")
	if b.cookie() == old || b.cookie() == "" {
		t.Fatal("log-in kept the session id")
	}
	if _, err := e.store.LookupSession(old); err == nil {
		t.Fatal("the session before log-in is still live")
	}
}

// TestSessionExpiry: idle and absolute expiry, and logout, end the session
// for a second page handler on the same store (another gateway).
func TestSessionExpiry(t *testing.T) {
	tests := []struct {
		name  string
		steps []time.Duration
		live  bool
	}{
		{"fresh", nil, true},
		{"idle", []time.Duration{DefaultSessionIdle}, false},
		{"kept alive", []time.Duration{DefaultSessionIdle - time.Hour, DefaultSessionIdle - time.Hour}, true},
		{"absolute", repeat(DefaultSessionIdle-time.Hour, int(DefaultSessionMax/(DefaultSessionIdle-time.Hour))+1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.addUser(t, "alice")
			b := e.browser(t)
			b.login("alice")
			for _, d := range tc.steps {
				e.clock.advance(d)
				b.get("/")
			}
			p := b.get("/dashboard")
			if (p.status == http.StatusOK) != tc.live {
				t.Fatalf("dashboard: %d, live %v", p.status, tc.live)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// TestLogoutEverywhere: after log-out, the session id is refused by
// another handler sharing the store, as on another gateway.
func TestLogoutEverywhere(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser(t, "alice")
	b := e.browser(t)
	b.login("alice")
	id := b.cookie()
	other, err := New(e.store, Config{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ask := func() int {
		req := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
		req.AddCookie(&http.Cookie{Name: cookiePlain, Value: id})
		rec := httptest.NewRecorder()
		other.ServeHTTP(rec, req)
		return rec.Code
	}
	if got := ask(); got != http.StatusOK {
		t.Fatalf("the other gateway: %d before log-out", got)
	}
	b.get("/dashboard")
	p := b.post("/logout", form())
	if p.status != http.StatusSeeOther || !strings.Contains(p.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d %q", p.status, p.header.Get("Set-Cookie"))
	}
	if got := ask(); got != http.StatusSeeOther {
		t.Fatalf("the other gateway: %d after log-out", got)
	}
}

// TestConfirmPassword: the settings ask for the password again once the
// last one is older than ConfirmAfter, and go on after it.
func TestConfirmPassword(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser(t, "alice")
	b := e.browser(t)
	b.login("alice")
	b.get("/settings/access").want(t, http.StatusOK, "Create access token")
	e.clock.advance(DefaultConfirmAfter)
	b.get("/dashboard").want(t, http.StatusOK) // not sensitive
	for _, path := range []string{"/settings/access", "/settings/account"} {
		p := b.get(path)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/confirm-password?next="+strings.ReplaceAll(path, "/", "%2F") {
			t.Fatalf("%s: %d to %q", path, p.status, p.header.Get("Location"))
		}
	}
	// A form sent with a stale confirmation is not acted on.
	b.get("/dashboard")
	if p := b.post("/settings/access", form("name", "x", "scope", "all", "expires", "2030-06-01")); p.status != http.StatusSeeOther {
		t.Fatalf("stale create: %d", p.status)
	}
	b.get("/confirm-password?next=/settings/access").want(t, http.StatusOK, "type your password again")
	b.post("/confirm-password", form("password", "wrong password", "next", "/settings/access")).want(t, http.StatusUnauthorized, "Wrong user name or password")
	b.post("/confirm-password", form("password", "", "next", "/settings/access")).want(t, http.StatusBadRequest, "Enter your password")
	p := b.post("/confirm-password", form("password", testPassword, "next", "/settings/access"))
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/settings/access" {
		t.Fatalf("confirm: %d to %q", p.status, p.header.Get("Location"))
	}
	b.get("/settings/access").want(t, http.StatusOK, "Create access token")
}

// TestDashboard shows the plan and usage, the channel's packages (public
// and private) and the organizations.
func TestDashboard(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser(t, "alice")
	if _, err := e.store.PutPackage(e.actor(), "alice", tokenstore.Conda, "pub", true, "a public one"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.PutPackage(e.actor(), "alice", tokenstore.PyPI, "priv", false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.CreateOrg(e.actor(), "acme", "alice"); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.login("alice")
	b.get("/dashboard").want(t, http.StatusOK, "Plan <strong>standard</strong>: public and private packages", "0 B used of 20 GiB",
		"<td>pub</td><td>conda</td><td>public</td><td>a public one</td>", "<td>priv</td><td>pypi</td><td>private</td>",
		`<a href="/orgs/acme">acme</a>`, "conda config --add channels "+e.h.cfg.BaseURL+"/t/TOKEN/alice")
}
