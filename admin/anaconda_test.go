package admin_test

import (
	"strings"
	"testing"

	"github.com/channelgate/channelgate/admin"
)

// TestAnacondaClientShapes pins what anaconda-client 1.14 reads from the
// answers of the commands that list and show things (found by running
// that client against this API): `groups members` prints each member's
// login and name, `groups packages` each package's full_name and summary,
// `show OWNER/PKG` reads releases and owner.login, `show OWNER` formats
// latest_version and conda_platforms and lists the user's organizations,
// `package --create` accepts only 200 and nests summary and types in
// public_attrs (also on `update`, a PATCH), and `logout` with a
// download-only token revokes it.
func TestAnacondaClientShapes(t *testing.T) {
	e := newEnv(t, admin.Config{})
	alice := "token " + e.token("alice", "all")
	bob := "token " + e.token("bob", "all")
	e.run(t, []apiCase{
		{name: "package --create", method: "POST", path: "/package/acme/tool", auth: alice, status: 200,
			body: map[string]any{"public": false, "publish": false, "public_attrs": map[string]any{"summary": "a tool", "package_types": []string{"conda"}}},
			fields: map[string]any{"summary": "a tool", "owner": map[string]any{"login": "acme"}, "releases": []any{},
				"latest_version": "", "conda_platforms": []any{}}},
		{name: "update sends public_attrs", method: "PATCH", path: "/package/acme/tool", auth: alice, status: 200,
			body: map[string]any{"public_attrs": map[string]any{"summary": "a better tool"}}, fields: map[string]any{"summary": "a better tool"}},
		{name: "a top-level summary wins", method: "PATCH", path: "/package/acme/tool", auth: alice, status: 200,
			body: map[string]any{"summary": "top", "public_attrs": map[string]any{"summary": "nested"}}, fields: map[string]any{"summary": "top"}},
		{name: "group", method: "POST", path: "/group/acme/devs", auth: alice, body: map[string]any{"perms": "read"}, status: 204},
		{name: "member", method: "PUT", path: "/group/acme/devs/members/bob", auth: alice, status: 204},
		{name: "package of the group", method: "PUT", path: "/group/acme/devs/packages/tool", auth: alice, status: 204},
	})
	for _, c := range []struct{ path, auth, want string }{
		{"/group/acme/devs/members", bob, `[{"login":"bob","name":"bob"}]`},
		{"/group/acme/devs/packages", bob, `[{"name":"tool","owner":"acme","full_name":"acme/tool","summary":"top"}]`},
		{"/users/bob/orgs", bob, `"login":"acme"`},
		{"/users/alice/orgs", alice, `"login":"acme"`},
		{"/users/alice/orgs", "", `[]`}, // anonymous callers see no memberships
	} {
		r := e.do("GET", c.path, c.auth, nil)
		if r.status != 200 || !strings.Contains(string(r.body), c.want) {
			t.Errorf("GET %s: %d %s, want %s", c.path, r.status, r.body, c.want)
		}
	}

	dl := "token " + e.token("bob", "ci", "conda:download")
	if r := e.do("DELETE", "/authentications", dl, nil); r.status != 201 {
		t.Fatalf("logout with a download-only token: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/authentication", dl, nil); r.status != 401 {
		t.Fatalf("the token still works after logout: %d %s", r.status, r.body)
	}
}
