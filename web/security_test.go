package web

import (
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/channelgate/channelgate/tokenstore"
)

// TestCSRF: a form without the right token, or sent from another site, is
// refused before it acts.
func TestCSRF(t *testing.T) {
	tests := []struct {
		name   string
		csrf   func(b *browser) string
		header map[string]string
	}{
		{"no token", func(*browser) string { return "" }, nil},
		{"another session's token", func(*browser) string { return "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, nil},
		{"an anonymous token on a member form", func(b *browser) string { return b.e.h.signForm(b.e.clock.Now()) }, nil},
		{"cross-site fetch", func(b *browser) string { return b.csrf }, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"other origin", func(b *browser) string { return b.csrf }, map[string]string{"Origin": "http://evil.example"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.addUser(t, "alice")
			b := e.browser(t)
			b.login("alice")
			b.get("/settings/access")
			v := form("name", "laptop", "scope", "all", "expires", "2030-06-01", csrfField, tc.csrf(b))
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/settings/access", strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, val := range tc.header {
				req.Header.Set(k, val)
			}
			b.do(req).want(t, http.StatusForbidden)
			if toks, _ := e.store.Tokens("alice"); len(toks) != 0 {
				t.Fatal("a refused form created a token")
			}
		})
	}
}

// TestAnonymousFormToken: the forms of pages without a session carry a
// signed, dated token; forged or stale ones are refused.
func TestAnonymousFormToken(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser(t, "alice")
	good := e.h.signForm(e.clock.Now())
	for name, tok := range map[string]string{
		"forged":     "AAAAAAAAAAAAAAAAAAAAAA." + strings.Repeat("A", 43),
		"stale":      e.h.signForm(e.clock.Now().Add(-DefaultFormMaxAge)),
		"future":     e.h.signForm(e.clock.Now().Add(time.Hour)),
		"tampered":   "B" + good[1:],
		"not a form": "x",
	} {
		t.Run(name, func(t *testing.T) {
			b := e.browser(t)
			b.post("/login", form("username", "alice", "password", testPassword, csrfField, tok)).want(t, http.StatusForbidden)
		})
	}
	b := e.browser(t)
	if p := b.post("/login", form("username", "alice", "password", testPassword, csrfField, good)); p.status != http.StatusSeeOther {
		t.Fatalf("a good token: %d", p.status)
	}
}

// TestHeaders: every answer, errors included, carries the security
// headers, and the policy allows no inline script or style.
func TestHeaders(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	for _, path := range []string{"/", "/login", "/signup", "/static/style.css", "/settings/nothing", "/dashboard", "/verify/x"} {
		p := b.get(path)
		h := p.header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "style-src 'self'") ||
			strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Frame-Options %q", path, h.Get("X-Frame-Options"))
		}
		if rp := h.Get("Referrer-Policy"); rp != "same-origin" && !(rp == "no-referrer" && strings.HasPrefix(path, "/verify/")) {
			t.Errorf("%s: Referrer-Policy %q", path, rp)
		}
	}
}

// TestNoInlineScriptOrStyle: the templates hold no inline script, style
// or event handler, and refer to nothing off the site, so the CSP holds
// and the browser contacts no third party.
func TestNoInlineScriptOrStyle(t *testing.T) {
	bad := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<script(?:[^>](?:[^s]|s[^r]|sr[^c]))*>|<style|\sstyle=|\son[a-z]+=|(?:src|href|action)="(?:https?:)?//`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(path)
		if m := bad.FindString(string(b)); m != "" {
			t.Errorf("%s has %q", path, m)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHostileNames: names and summaries an attacker chooses are escaped
// on every page that shows them.
func TestHostileNames(t *testing.T) {
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>"'`
	evilToken := strings.ReplaceAll(evil, "/", "") // token names have no '/'

	e := newEnv(t, nil)
	e.addUser(t, "alice")
	if _, err := e.store.PutPackage(e.actor(), "alice", tokenstore.Conda, "tool", true, evil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.CreateToken(e.actor(), tokenstore.TokenSpec{Owner: "alice", CreatedBy: "alice", Name: evilToken}); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.login("alice")
	pages := []page{b.get("/dashboard"), b.get("/settings/access"),
		b.post("/settings/access", form("name", evilToken, "scope", "all", "expires", "2030-06-01")),
		b.post("/settings/access/revoke", form("name", evil))}
	b2 := e.browser(t)
	b2.get("/signup")
	pages = append(pages, b2.post("/signup", form("username", evil, "email", evil)))
	for i, p := range pages {
		if strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<img src=x") {
			t.Errorf("page %d shows the name unescaped:\n%s", i, p.body)
		}
		if !strings.Contains(p.body, "&lt;script&gt;alert(1)") {
			t.Errorf("page %d does not show the escaped name", i)
		}
	}
}

// TestSecretsStayPut: passwords, tokens, session ids and link codes are
// never in a URL the pages send the browser to, nor in the log (store and
// mail failures included).
func TestSecretsStayPut(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser(t, "alice")
	b := e.browser(t)
	var locations []string
	b.get("/login")
	p := b.post("/login", form("username", "alice", "password", testPassword, "next", "/settings/access"))
	locations = append(locations, p.header.Get("Location"))
	b.get("/settings/access")
	p = b.post("/settings/access", form("name", "laptop", "scope", "all", "expires", "2030-06-01"))
	token := newTokenRE.FindStringSubmatch(p.body)[1]
	locations = append(locations, p.header.Get("Location"))
	b.get("/reset-password")
	b.post("/reset-password", form("email", "alice@example.org"))
	code := e.mail.Wait(t, 0, 10*time.Second).Data
	e.mail = nil
	// A mail failure and a store failure are logged, without secrets.
	e.h.cfg.Mail = &SMTP{Addr: "127.0.0.1:1", From: "x@example.org"}
	b.get("/reset-password")
	b.post("/reset-password", form("email", "alice@example.org")).want(t, http.StatusServiceUnavailable)
	session := b.cookie()
	e.store.Close()
	b.get("/dashboard").want(t, http.StatusServiceUnavailable, "unavailable")
	log := e.log.String()
	if !strings.Contains(log, "mail failure") || !strings.Contains(log, "store failure") {
		t.Fatalf("failures not logged:\n%s", log)
	}
	linkCode := code[strings.LastIndex(code, "/reset-password/")+len("/reset-password/"):]
	linkCode = strings.Fields(linkCode)[0]
	for _, secret := range []string{testPassword, token, session, linkCode} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds a secret:\n%s", log)
		}
		for _, l := range locations {
			if strings.Contains(l, secret) {
				t.Errorf("a redirect holds a secret: %s", l)
			}
		}
	}
}

// TestRoutesReserved: every page's first path segment is a reserved
// account name, so no page can shadow a channel.
func TestRoutesReserved(t *testing.T) {
	e := newEnv(t, nil)
	for _, rt := range e.h.routes() {
		if seg := rt.segment(); seg != "" && !tokenstore.IsReservedName(seg) {
			t.Errorf("route %s: %q is not a reserved account name", rt.pattern, seg)
		}
		if seg := rt.segment(); tokenstore.ValidateAccountName(seg) == nil {
			t.Errorf("route %s: an account may be named %q", rt.pattern, seg)
		}
	}
}

// TestOwns: the pages answer their own paths only.
func TestOwns(t *testing.T) {
	e := newEnv(t, nil)
	for path, want := range map[string]bool{"/": true, "/login": true, "/settings/access": true, "/static/style.css": true,
		"/settings/whatever": true, "/acme/noarch/repodata.json": false, "/t/x/acme/": false, "/loginx": false, "/api/user": false} {
		r, _ := http.NewRequest(http.MethodGet, path, nil)
		if got := e.h.Owns(r); got != want {
			t.Errorf("Owns(%s) = %v", path, got)
		}
	}
}

// TestNoRoute: unknown pages are 404 and wrong methods 405 with Allow.
func TestNoRoute(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	b.get("/settings/whatever").want(t, http.StatusNotFound, "There is no page here")
	b.get("/static/nothing.css").want(t, http.StatusNotFound)
	b.get("/static/")
	req, _ := http.NewRequest(http.MethodDelete, e.srv.URL+"/login", nil)
	p := b.do(req)
	p.want(t, http.StatusMethodNotAllowed)
	if p.header.Get("Allow") != "GET, POST" {
		t.Fatalf("Allow %q", p.header.Get("Allow"))
	}
	b.post("/logout", form()).want(t, http.StatusSeeOther)
	big := form("username", strings.Repeat("a", maxForm))
	b.post("/login", big).want(t, http.StatusForbidden)
}
