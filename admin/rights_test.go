package admin_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

// must fails the test on a fixture error.
func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// TestOrgAdminOfListedPackagesAPI proves finding 5 of issue 9 closed
// through the API: bob, in an admin group that lists acme/tool only,
// administers acme/tool and nothing organization-wide.
func TestOrgAdminOfListedPackagesAPI(t *testing.T) {
	e := newEnv(t, admin.Config{})
	for _, name := range []string{"tool", "other"} {
		_, err := e.store.PutPackage(e.fixture(), "acme", tokenstore.Conda, name, false, "")
		e.must(err)
	}
	_, err := e.store.PutGroup(e.fixture(), "acme", "tooladmins", tokenstore.PermAdmin)
	e.must(err)
	e.must(e.store.SetMember(e.fixture(), "acme", "tooladmins", "bob", true))
	e.must(e.store.SetGroupPackage(e.fixture(), "acme", "tooladmins", "tool", true))
	bob := basic("bob", password)
	e.run(t, []apiCase{
		{name: "changes a listed package", method: "PATCH", path: "/package/acme/tool", auth: bob, body: map[string]any{"summary": "s"}, status: 200},
		{name: "adds a collaborator to it", method: "PUT", path: "/packages/acme/tool/collaborators/alice", auth: bob, status: 201},
		{name: "changes a package outside the list", method: "PATCH", path: "/package/acme/other", auth: bob, body: map[string]any{"public": true},
			status: 404, errContains: "no package acme/other"},
		{name: "adds a collaborator outside the list", method: "PUT", path: "/packages/acme/other/collaborators/bob", auth: bob, status: 404},
		{name: "registers a package outside the list", method: "POST", path: "/package/acme/new", auth: bob, status: 403,
			errContains: "bob may not administer acme/new"},
		{name: "mints an org token", method: "POST", path: "/authentications", auth: bob, body: map[string]any{"note": "ci", "user": "acme"},
			status: 403, errContains: "only owners of acme"},
		{name: "lists org tokens", method: "GET", path: "/authentications?user=acme", auth: bob, status: 403, errContains: "may not administer acme"},
		{name: "joins owners", method: "PUT", path: "/group/acme/owners/members/bob", auth: bob, status: 403, errContains: "may not administer acme"},
		{name: "creates a group", method: "POST", path: "/group/acme/mine", auth: bob, body: map[string]any{"perms": "admin"}, status: 403},
		{name: "widens its own group", method: "PUT", path: "/group/acme/tooladmins/packages/other", auth: bob, status: 403},
		{name: "changes the channel default", method: "PATCH", path: "/user/acme", auth: bob, body: map[string]any{"private_by_default": true}, status: 403},
		{name: "removes a listed package", method: "DELETE", path: "/package/acme/tool", auth: bob, status: 201},
	})
}

// TestOrgTokenBoundByCreatorAPI proves finding 6 of issue 9 closed
// through the API: the org token bob made as an owner does nothing bob
// may no longer do once he has left.
func TestOrgTokenBoundByCreatorAPI(t *testing.T) {
	e := newEnv(t, admin.Config{})
	_, err := e.store.PutPackage(e.fixture(), "acme", tokenstore.Conda, "secret", false, "")
	e.must(err)
	e.must(e.store.SetMember(e.fixture(), "acme", tokenstore.OwnersGroup, "bob", true))
	r := e.do("POST", "/authentications", basic("bob", password), map[string]any{"note": "bob-org", "user": "acme", "scopes": []string{"api"}})
	if r.status != http.StatusOK {
		t.Fatalf("bob's org token: %d %s", r.status, r.body)
	}
	org := "token " + r.field(t, "token").(string)
	e.run(t, []apiCase{
		{name: "reads a private package while bob is an owner", method: "GET", path: "/package/acme/secret", auth: org, status: 200},
		{name: "lists the org's tokens", method: "GET", path: "/authentications", auth: org, status: 200},
	})
	e.must(e.store.SetMember(e.fixture(), "acme", tokenstore.OwnersGroup, "bob", false))
	e.run(t, []apiCase{
		{name: "reads it after bob left", method: "GET", path: "/package/acme/secret", auth: org, status: 404},
		{name: "lists the org's tokens after bob left", method: "GET", path: "/authentications", auth: org, status: 403},
		{name: "revokes an org token", method: "DELETE", path: "/authentications/name/bob-org", auth: org, status: 403},
		{name: "mints another org token", method: "POST", path: "/authentications", auth: org, body: map[string]any{"note": "more"}, status: 403},
		{name: "creates a group", method: "POST", path: "/group/acme/mine", auth: org, body: map[string]any{"perms": "admin"}, status: 403},
		{name: "registers a package", method: "POST", path: "/package/acme/new", auth: org, status: 403},
		{name: "still revokes itself", method: "DELETE", path: "/authentications", auth: org, status: 201},
	})
}

// TestTokenFromTokenAPI proves finding 7 of issue 9 closed through the
// API: a 2-minute api token cannot mint a token that outlives it, by
// expiry or by revocation.
func TestTokenFromTokenAPI(t *testing.T) {
	e := newEnv(t, admin.Config{})
	create := func(auth string, body map[string]any) (string, any) {
		t.Helper()
		r := e.do("POST", "/authentications", auth, body)
		if r.status != http.StatusOK {
			t.Fatalf("token %s: %d %s", body["note"], r.status, r.body)
		}
		return "token " + r.field(t, "token").(string), r.field(t, "expires")
	}
	short := map[string]any{"scopes": []string{"api"}, "max-age": 120}
	short["note"] = "short"
	parent, parentExpires := create(basic("alice", password), short)
	var children []string
	for _, body := range []map[string]any{
		{"note": "year", "scopes": []string{"api"}, "max-age": 365 * 24 * 3600},
		{"note": "default", "scopes": []string{"api:read"}},
	} {
		r := e.do("POST", "/authentications", parent, body)
		if r.status != http.StatusOK || r.field(t, "expires") != parentExpires {
			t.Fatalf("token %s from a token expiring %v: %d, expires %v", body["note"], parentExpires, r.status, r.field(t, "expires"))
		}
		if w, _ := r.field(t, "warning").(string); !strings.Contains(w, "expires with the token that created it") {
			t.Errorf("warning %q does not say the expiry was cut", w)
		}
		children = append(children, "token "+r.field(t, "token").(string))
	}
	grandchild, _ := create(children[0], map[string]any{"note": "grandchild", "scopes": []string{"api:read"}})
	short["note"] = "short2"
	other, _ := create(basic("alice", password), short)
	otherChild, _ := create(other, map[string]any{"note": "other-child", "scopes": []string{"api:read"}})
	e.run(t, []apiCase{
		{name: "a scope the parent lacks", method: "POST", path: "/authentications", auth: parent,
			body: map[string]any{"note": "wider", "scopes": []string{"conda"}}, status: 403, errContains: "scopes its creator holds"},
		{name: "the parent revokes itself", method: "DELETE", path: "/authentications", auth: parent, status: 201},
		{name: "a child is revoked with it", method: "GET", path: "/user", auth: children[0], status: 401, errContains: "token revoked"},
		{name: "another child too", method: "GET", path: "/user", auth: children[1], status: 401, errContains: "token revoked"},
		{name: "and a grandchild", method: "GET", path: "/user", auth: grandchild, status: 401, errContains: "token revoked"},
		{name: "another parent's child lives", method: "GET", path: "/user", auth: otherChild, status: 200},
	})
	e.clock.Advance(121 * time.Second)
	e.run(t, []apiCase{{name: "a child after its parent's expiry", method: "GET", path: "/user", auth: otherChild,
		status: 401, errContains: "token expired"}})
}

// TestListingsHidePrivateNames proves the listing half of finding 8 of
// issue 9 closed: group listings show a member only the packages he may
// read.
func TestListingsHidePrivateNames(t *testing.T) {
	e := newEnv(t, admin.Config{})
	for _, p := range []struct {
		name   string
		public bool
	}{{"secret", false}, {"open", true}, {"granted", false}} {
		_, err := e.store.PutPackage(e.fixture(), "acme", tokenstore.Conda, p.name, p.public, "")
		e.must(err)
	}
	for _, g := range []struct {
		name    string
		members []string
		pkgs    []string
	}{{"devs", nil, []string{"secret", "open", "granted", "unregistered"}}, {"readers", []string{"bob"}, []string{"granted"}}} {
		_, err := e.store.PutGroup(e.fixture(), "acme", g.name, tokenstore.PermRead)
		e.must(err)
		for _, m := range g.members {
			e.must(e.store.SetMember(e.fixture(), "acme", g.name, m, true))
		}
		for _, p := range g.pkgs {
			e.must(e.store.SetGroupPackage(e.fixture(), "acme", g.name, p, true))
		}
	}
	bob, alice := basic("bob", password), basic("alice", password)
	for _, tc := range []struct {
		name, path, auth string
		hidden           bool // whether "secret" must be left out
	}{
		{"group packages, member", "/group/acme/devs/packages", bob, true},
		{"group, member", "/group/acme/devs", bob, true},
		{"groups, member", "/groups/acme", bob, true},
		{"owner's packages, member", "/packages/acme", bob, true},
		{"group packages, owner", "/group/acme/devs/packages", alice, false},
		{"groups, owner", "/groups/acme", alice, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path, tc.auth, nil)
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			body := string(r.body)
			if listed := strings.Contains(body, `"secret"`); listed == tc.hidden {
				t.Errorf("secret listed: %v, want %v: %s", listed, !tc.hidden, body)
			}
			for _, readable := range []string{`"open"`, `"granted"`} {
				if !strings.Contains(body, readable) {
					t.Errorf("%s missing: %s", readable, body)
				}
			}
		})
	}
}

// TestSizeLimitsAPI proves finding 11 of issue 9 closed through the API:
// oversized fields get 400 naming the field and its limit, and the
// 1001st token of an account is refused.
func TestSizeLimitsAPI(t *testing.T) {
	e := newEnv(t, admin.Config{})
	alice := basic("alice", password)
	long := strings.Repeat("x", 401)
	specs := make([]tokenstore.TokenSpec, 1000)
	for i := range specs {
		specs[i] = tokenstore.TokenSpec{Owner: "bob", CreatedBy: "bob", Name: fmt.Sprintf("t%d", i)}
	}
	_, err := e.store.CreateTokens(e.fixture(), specs)
	e.must(err)
	e.run(t, []apiCase{
		{name: "hostname", method: "POST", path: "/authentications", auth: alice, body: map[string]any{"note": "h", "hostname": long},
			status: 400, errContains: "hostname may be at most 400 bytes"},
		{name: "note_url", method: "POST", path: "/authentications", auth: alice, body: map[string]any{"note": "n", "note_url": long},
			status: 400, errContains: "note_url may be at most 400 bytes"},
		{name: "note", method: "POST", path: "/authentications", auth: alice, body: map[string]any{"note": long},
			status: 400, errContains: "token name must be 1 to 100 characters"},
		{name: "summary on create", method: "POST", path: "/package/alice/tool", auth: alice, body: map[string]any{"summary": long},
			status: 400, errContains: "summary may be at most 400 bytes"},
		{name: "summary on update", method: "PATCH", path: "/package/acme/none", auth: alice, body: map[string]any{"summary": long},
			status: 404},
		{name: "email", method: "POST", path: "/users", auth: "token " + operatorSecret, body: map[string]any{"login": "eve",
			"email": long + "@example.org", "password": password, "password_confirmation": password, "accept_terms": true},
			status: 400, errContains: "email may be at most 254 bytes"},
		{name: "the 1001st token", method: "POST", path: "/authentications", auth: basic("bob", password), body: map[string]any{"note": "one-more"},
			status: 403, errContains: "bob already holds 1000 tokens"},
	})
}
