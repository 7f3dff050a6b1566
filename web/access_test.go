package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/channelgate/channelgate/tokenstore"
)

var newTokenRE = regexp.MustCompile(`<code id="new-token">([^<]*)</code>`)

// TestCreateToken sends the "Create access token" form right and wrong.
func TestCreateToken(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(url.Values)
		status int
		want   string
	}{
		{"valid", func(url.Values) {}, http.StatusOK, "Your new token"},
		{"weak", func(v url.Values) { v.Set("strength", "weak") }, http.StatusOK, "Your new token"},
		{"no name", func(v url.Values) { v.Set("name", "") }, http.StatusBadRequest, "token name must be 1 to 100 characters"},
		{"name with slash", func(v url.Values) { v.Set("name", "a/b") }, http.StatusBadRequest, "may not contain"},
		{"taken name", func(v url.Values) { v.Set("name", "existing") }, http.StatusBadRequest, "already a token with this name"},
		{"bad strength", func(v url.Values) { v.Set("strength", "medium") }, http.StatusBadRequest, "strength must be strong or weak"},
		{"no scope", func(v url.Values) { v.Del("scope") }, http.StatusBadRequest, "Choose at least one scope"},
		{"unknown scope", func(v url.Values) { v.Add("scope", "root") }, http.StatusBadRequest, "unknown scope"},
		{"bad date", func(v url.Values) { v.Set("expires", "next year") }, http.StatusBadRequest, "YYYY-MM-DD"},
		{"past date", func(v url.Values) { v.Set("expires", "2029-01-01") }, http.StatusBadRequest, "must be in the future"},
		{"today", func(v url.Values) { v.Set("expires", "2030-01-02") }, http.StatusBadRequest, "must be in the future"},
		{"over a year", func(v url.Values) { v.Set("expires", "2031-01-04") }, http.StatusBadRequest, "at most one year"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.addUser(t, "alice")
			if _, _, err := e.store.CreateToken(e.actor(), tokenstore.TokenSpec{Owner: "alice", CreatedBy: "alice", Name: "existing"}); err != nil {
				t.Fatal(err)
			}
			b := e.browser(t)
			b.login("alice")
			page := b.get("/settings/access")
			page.want(t, http.StatusOK, `value="2031-01-02"`) // one year by default
			v := form("name", "laptop", "strength", "strong", "scope", "conda:download", "scope", "pypi:download", "expires", "2030-12-31")
			tc.edit(v)
			p := b.post("/settings/access", v)
			p.want(t, tc.status, tc.want)
			toks, err := e.store.Tokens("alice")
			if err != nil {
				t.Fatal(err)
			}
			m := newTokenRE.FindStringSubmatch(p.body)
			if tc.status != http.StatusOK {
				if m != nil || len(toks) != 1 {
					t.Fatalf("a refused form created a token (%d tokens)", len(toks))
				}
				if v.Get("name") != "" && !strings.Contains(p.body, `value="`+v.Get("name")+`"`) {
					t.Fatal("the form lost the token name")
				}
				return
			}
			if m == nil {
				t.Fatal("no token on the page")
			}
			tok, err := e.store.AuthenticateToken(m[1])
			if err != nil || tok.Owner != "alice" || tok.Name != "laptop" || tok.Caps != tokenstore.CapCondaDownload|tokenstore.CapPyPIDownload {
				t.Fatalf("the new token: %+v, %v", tok, err)
			}
			info, _ := e.store.TokenInfoByHash(tok.Hash)
			if got := info.Expires.Format(dateLayout); got != "2030-12-31" {
				t.Fatalf("expires %s", got)
			}
			for _, want := range []string{"conda config --add channels " + e.h.cfg.BaseURL + "/t/" + m[1] + "/alice",
				"pip install --index-url " + e.h.cfg.BaseURL + "/t/" + m[1] + "/alice/simple/", "Copy", info.Prefix} {
				if !strings.Contains(p.body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			// Shown once: the next view lists it by prefix only.
			again := b.get("/settings/access")
			again.want(t, http.StatusOK, "laptop", info.Prefix, "stores only a hash")
			if strings.Contains(again.body, m[1]) {
				t.Fatal("the token is shown again")
			}
		})
	}
}

// TestTokenList marks expired tokens and revokes with the Revoke button.
func TestTokenList(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser(t, "alice")
	e.addUser(t, "bob")
	mk := func(owner, name string, age time.Duration) string {
		secret, _, err := e.store.CreateToken(e.actor(), tokenstore.TokenSpec{Owner: owner, CreatedBy: owner, Name: name,
			MaxAge: age})
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	short := mk("alice", "short-lived", time.Hour)
	mk("alice", "long-lived", 0)
	mk("bob", "bobs", 0)
	e.clock.advance(2 * time.Hour)
	b := e.browser(t)
	b.login("alice")
	p := b.get("/settings/access")
	p.want(t, http.StatusOK, "short-lived", "long-lived", "<strong>expired</strong>: revoke it and create a new one")
	if strings.Count(p.body, "<strong>expired</strong>") != 1 || strings.Contains(p.body, "bobs") {
		t.Fatalf("list:\n%s", p.body)
	}
	b.post("/settings/access/revoke", form("name", "short-lived")).want(t, http.StatusOK, "Token short-lived is revoked")
	if tok, _ := e.store.LookupToken(short); tok.Revoked.IsZero() {
		t.Fatal("not revoked")
	}
	b.post("/settings/access/revoke", form("name", "short-lived")).want(t, http.StatusNotFound, "There is no token named short-lived")
	b.post("/settings/access/revoke", form("name", "bobs")).want(t, http.StatusNotFound, "There is no token named bobs")
	if toks, _ := e.store.Tokens("bob"); len(toks) != 1 {
		t.Fatal("alice revoked bob's token")
	}
}

// TestUnverifiedCannotCreateTokens: the store refuses, whatever the page.
func TestUnverifiedCannotCreateTokens(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.store.SignUp(e.actor(), tokenstore.NewUser{Name: "erin", Email: "erin@example.org", Password: testPassword,
		PasswordConfirmation: testPassword, AcceptTerms: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.store.CreateToken(e.actor(), tokenstore.TokenSpec{Owner: "erin", CreatedBy: "erin", Name: "x"})
	if err == nil {
		t.Fatal("an unverified user got a token")
	}
}
