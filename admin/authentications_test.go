package admin_test

import (
	"strings"
	"testing"

	"github.com/channelgate/channelgate/admin"
)

// login posts what `anaconda login` posts and returns the new secret.
func (e *env) login(user, note string) string {
	e.t.Helper()
	r := e.do("POST", "/authentications", basic(user, password), map[string]any{
		"scopes": nil, "note": note, "note_url": "https://example.org", "hostname": "laptop",
		"user": nil, "max-age": nil, "strength": "strong", "fail-if-exists": false})
	if r.status != 200 {
		e.t.Fatalf("login %s: %d %s", user, r.status, r.body)
	}
	secret, _ := r.field(e.t, "token").(string)
	if !strings.HasPrefix(secret, "cgt-") {
		e.t.Fatalf("login answer without token: %s", r.body)
	}
	return secret
}

func TestLoginAndTokenCreation(t *testing.T) {
	e := newEnv(t, admin.Config{})
	r := e.do("POST", "/authentications", basic("alice", password), map[string]any{
		"scopes": nil, "note": "anaconda login", "hostname": "laptop", "user": nil, "max-age": nil,
		"strength": "strong", "fail-if-exists": false})
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	var created map[string]any
	r.json(t, &created)
	for k, want := range map[string]any{"application": "anaconda login", "owner": "alice", "scopes": []string{"all"},
		"hostname": "laptop", "created_at": "2030-01-02T03:04:05Z", "expires": "2031-01-02T03:04:05Z", "last_used": nil} {
		if !jsonEqual(created[k], want) {
			t.Errorf("%s = %#v, want %#v", k, created[k], want)
		}
	}
	if w, _ := created["warning"].(string); !strings.Contains(w, "full access") {
		t.Errorf("no full-access warning: %q", w)
	}
	first := created["token"].(string)
	limited := e.token("alice", "limited", "api:write", "conda:download")

	e.run(t, []apiCase{
		{name: "fail-if-exists on a taken name", method: "POST", path: "/authentications", auth: basic("alice", password),
			body: map[string]any{"note": "anaconda login", "fail-if-exists": true}, status: 400,
			errContains: `a token named "anaconda login" already exists`},
		{name: "scopes as a list", method: "POST", path: "/authentications", auth: basic("alice", password),
			body:   map[string]any{"note": "ci", "scopes": []string{"conda:download", "pypi:download"}, "max-age": 3600, "fail-if-exists": true},
			status: 200, fields: map[string]any{"scopes": []string{"conda:download", "pypi:download"}, "expires": "2030-01-02T04:04:05Z", "warning": nil}},
		{name: "scopes as one string", method: "POST", path: "/authentications", auth: basic("alice", password),
			body: map[string]any{"note": "ci2", "scopes": "repos api:read"}, status: 200,
			fields: map[string]any{"scopes": []string{"repos", "api:read"}}},
		{name: "weak token", method: "POST", path: "/authentications", auth: basic("alice", password),
			body: map[string]any{"note": "weak", "strength": "weak"}, status: 200, fields: map[string]any{"strength": "weak"}},
		{name: "unknown scope", method: "POST", path: "/authentications", auth: basic("alice", password),
			body: map[string]any{"note": "x", "scopes": []string{"everything"}}, status: 400, errContains: `unknown scope "everything"`},
		{name: "max-age above the maximum", method: "POST", path: "/authentications", auth: basic("alice", password),
			body: map[string]any{"note": "x", "max-age": int64(1) << 62}, status: 400, errContains: "max-age may be at most 31536000 seconds"},
		{name: "negative max-age", method: "POST", path: "/authentications", auth: basic("alice", password),
			body: map[string]any{"note": "x", "max-age": -5}, status: 400, errContains: "max-age must be positive"},
		{name: "missing name", method: "POST", path: "/authentications", auth: basic("alice", password),
			body: map[string]any{}, status: 400, errContains: "token name must be 1 to 100 characters"},
		{name: "bad strength", method: "POST", path: "/authentications", auth: basic("alice", password),
			body: map[string]any{"note": "x", "strength": "huge"}, status: 400, errContains: "strength must be strong or weak"},
		{name: "token grants within its scopes", method: "POST", path: "/authentications", auth: "token " + limited,
			body: map[string]any{"note": "child", "scopes": []string{"conda:download"}}, status: 200},
		{name: "token cannot grant more than it holds", method: "POST", path: "/authentications", auth: "token " + limited,
			body: map[string]any{"note": "child2", "scopes": nil}, status: 403, errContains: "only grant scopes its creator holds"},
		{name: "org token by an owner", method: "POST", path: "/authentications", auth: basic("alice", password),
			body: map[string]any{"note": "org ci", "user": "acme", "scopes": []string{"conda:download"}}, status: 200,
			fields: map[string]any{"owner": "acme", "created_by": "alice"}},
		{name: "org token by a non-admin", method: "POST", path: "/authentications", auth: basic("bob", password),
			body: map[string]any{"note": "org ci", "user": "acme"}, status: 403, errContains: "only owners of acme"},
		{name: "token for another user", method: "POST", path: "/authentications", auth: basic("bob", password),
			body: map[string]any{"note": "x", "user": "alice"}, status: 403, errContains: "bob cannot create tokens for alice"},
		{name: "operator for a named account", method: "POST", path: "/authentications", auth: "token " + operatorSecret,
			body: map[string]any{"note": "provisioned", "user": "bob"}, status: 200, fields: map[string]any{"owner": "bob"}},
		{name: "operator must name the account", method: "POST", path: "/authentications", auth: "token " + operatorSecret,
			body: map[string]any{"note": "x"}, status: 400, errContains: `the operator must name the account ("user")`},
		{name: "anonymous", method: "POST", path: "/authentications", body: map[string]any{"note": "x"}, status: 401,
			errContains: "authentication required"},
	})

	// Logging in again with the same name replaces the token at once.
	second := e.login("alice", "anaconda login")
	e.run(t, []apiCase{
		{name: "replaced token is refused", method: "GET", path: "/user", auth: "token " + first, status: 401, errContains: "token revoked"},
		{name: "new token works", method: "GET", path: "/user", auth: "token " + second, status: 200},
	})
}

func TestTokenListingsAndRevocation(t *testing.T) {
	e := newEnv(t, admin.Config{})
	secret := e.login("alice", "my laptop")
	spaced := e.token("alice", "name with spaces", "conda:download")
	orgSecret := e.token("acme", "org ci", "conda:download")
	bob := e.token("bob", "bob")
	auth := "token " + secret

	r := e.do("GET", "/authentications", auth, nil)
	var list []map[string]any
	r.json(t, &list)
	if r.status != 200 || len(list) != 2 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	byName := map[string]map[string]any{}
	for _, tok := range list {
		byName[tok["application"].(string)] = tok
	}
	got := byName["my laptop"]
	for _, k := range []string{"id", "application", "remote_addr", "hostname", "expires", "scopes", "created_at", "last_used", "prefix"} {
		if _, ok := got[k]; !ok {
			t.Errorf("listing lacks %q: %v", k, got)
		}
	}
	if got["remote_addr"] != "127.0.0.1" || !strings.HasPrefix(got["prefix"].(string), "cgt-") {
		t.Errorf("listing entry %v", got)
	}
	orgList := e.do("GET", "/authentications?user=acme", basic("alice", password), nil)
	self := e.do("GET", "/authentication", auth, nil)
	for _, body := range [][]byte{r.body, orgList.body, self.body} {
		for _, s := range []string{secret, spaced, orgSecret} {
			if strings.Contains(string(body), s) || strings.Contains(string(body), s[4:20]) {
				t.Fatalf("a listing contains a secret: %s", body)
			}
		}
	}
	if orgList.status != 200 || !strings.Contains(string(orgList.body), `"application":"org ci"`) {
		t.Errorf("org listing: %d %s", orgList.status, orgList.body)
	}

	e.run(t, []apiCase{
		{name: "current token", method: "GET", path: "/authentication", auth: auth, status: 200,
			fields: map[string]any{"application": "my laptop", "owner": "alice", "scopes": []string{"all"}}},
		{name: "current token needs a token", method: "GET", path: "/authentication", auth: basic("alice", password), status: 401,
			errContains: "needs a token"},
		{name: "org listing for a non-admin", method: "GET", path: "/authentications?user=acme", auth: "token " + bob, status: 403,
			errContains: "bob may not administer acme"},
		{name: "revoke by a name with spaces", method: "DELETE", path: "/authentications/name/name%20with%20spaces", auth: auth, status: 201},
		{name: "revoked token refused at once", method: "GET", path: "/user", auth: "token " + spaced, status: 401, errContains: "token revoked"},
		{name: "revoke again", method: "DELETE", path: "/authentications/name/name%20with%20spaces", auth: auth, status: 404,
			errContains: `no token named "name with spaces" for alice`},
		{name: "org token revoked by a non-admin", method: "DELETE", path: "/authentications/org/acme/name/org%20ci",
			auth: "token " + bob, status: 403, errContains: "may not administer acme"},
		{name: "org token revoked by an owner", method: "DELETE", path: "/authentications/org/acme/name/org%20ci", auth: auth, status: 201},
		{name: "org token refused", method: "GET", path: "/user", auth: "token " + orgSecret, status: 401, errContains: "token revoked"},
		{name: "logout revokes the calling token", method: "DELETE", path: "/authentications", auth: auth, status: 201},
		{name: "logged-out token refused", method: "GET", path: "/user", auth: auth, status: 401, errContains: "token revoked"},
		{name: "logout with a password", method: "DELETE", path: "/authentications", auth: basic("alice", password), status: 401,
			errContains: "needs a token"},
	})
}
