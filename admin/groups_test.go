package admin_test

import (
	"testing"

	"github.com/channelgate/channelgate/admin"
)

func TestGroups(t *testing.T) {
	e := newEnv(t, admin.Config{})
	alice := "token " + e.token("alice", "all")
	aliceNoGroups := "token " + e.token("alice", "write", "api:write")
	bob := "token " + e.token("bob", "all")
	e.run(t, []apiCase{
		{name: "create group", method: "POST", path: "/group/acme/devs", auth: alice, body: map[string]any{"perms": "write"}, status: 204},
		{name: "change permission", method: "POST", path: "/group/acme/devs", auth: alice, body: map[string]any{"perms": "read-write"}, status: 204},
		{name: "token without api:modify-group", method: "POST", path: "/group/acme/qa", auth: aliceNoGroups,
			body: map[string]any{"perms": "read"}, status: 403, errContains: "token lacks scope api:modify-group"},
		{name: "not an org admin", method: "POST", path: "/group/acme/qa", auth: bob, body: map[string]any{"perms": "read"},
			status: 403, errContains: "bob may not administer acme"},
		{name: "bad permission", method: "POST", path: "/group/acme/qa", auth: alice, body: map[string]any{"perms": "owner"},
			status: 400, errContains: `permission must be read, write (read-write) or admin, not "owner"`},
		{name: "bad group name", method: "POST", path: "/group/acme/Bad%20Name", auth: alice, body: map[string]any{"perms": "read"},
			status: 400, errContains: "group name"},
		{name: "owners stay admin", method: "POST", path: "/group/acme/owners", auth: alice, body: map[string]any{"perms": "read"},
			status: 403, errContains: "the owners group is always admin"},
		{name: "group of a user", method: "POST", path: "/group/alice/devs", auth: alice, body: map[string]any{"perms": "read"},
			status: 400, errContains: `"alice" is a user, not an organization`},
		{name: "no such org", method: "POST", path: "/group/nope/devs", auth: alice, body: map[string]any{"perms": "read"},
			status: 404, errContains: `no account named "nope"`},
		{name: "outsider cannot list", method: "GET", path: "/groups/acme", auth: bob, status: 403, errContains: "bob may not read acme"},
		{name: "add member", method: "PUT", path: "/group/acme/devs/members/bob", auth: alice, status: 204},
		{name: "add member twice", method: "PUT", path: "/group/acme/devs/members/bob", auth: alice, status: 204},
		{name: "organization as member", method: "PUT", path: "/group/acme/devs/members/acme", auth: alice, status: 400,
			errContains: "only users can be members"},
		{name: "unknown member", method: "PUT", path: "/group/acme/devs/members/nobody", auth: alice, status: 404},
		{name: "is member", method: "GET", path: "/group/acme/devs/members/bob", auth: alice, status: 204},
		{name: "is not member", method: "GET", path: "/group/acme/devs/members/root", auth: alice, status: 404,
			errContains: "root is not a member of acme/devs"},
		{name: "member may now read", method: "GET", path: "/group/acme/devs/members/bob", auth: bob, status: 204},
		{name: "members (anaconda groups members)", method: "GET", path: "/group/acme/devs/members", auth: bob, status: 200},
		{name: "members of a group of another org", method: "GET", path: "/group/acme/devs/members", auth: "", status: 401},
		{name: "show one group (anaconda groups show ORG/GROUP)", method: "GET", path: "/group/acme/devs", auth: bob, status: 200,
			fields: map[string]any{"name": "devs", "org": "acme", "permission": "write", "members": []string{"bob"}}},
		{name: "show a missing group", method: "GET", path: "/group/acme/nope", auth: alice, status: 404, errContains: "no group acme/nope"},
		{name: "the user's organizations (anaconda show USER)", method: "GET", path: "/users/bob/orgs", auth: bob, status: 200},
		{name: "organizations of no user", method: "GET", path: "/users/nobody/orgs", auth: bob, status: 404},
		{name: "member is still no admin", method: "PUT", path: "/group/acme/devs/members/root", auth: bob, status: 403},
		{name: "add package", method: "PUT", path: "/group/acme/devs/packages/numpy", auth: alice, status: 204},
		{name: "add bad package name", method: "PUT", path: "/group/acme/devs/packages/-x", auth: alice, status: 400,
			errContains: "package name"},
		{name: "owners cover everything", method: "PUT", path: "/group/acme/owners/packages/numpy", auth: alice, status: 403,
			errContains: "covers all packages"},
		{name: "no such group", method: "PUT", path: "/group/acme/nope/packages/numpy", auth: alice, status: 404,
			errContains: "no group acme/nope"},
		{name: "site admin acts on any org", method: "POST", path: "/group/acme/admins", auth: basic("root", password),
			body: map[string]any{"perms": "admin"}, status: 204},
		{name: "operator acts on any org", method: "PUT", path: "/group/acme/admins/members/root", auth: "token " + operatorSecret, status: 204},
	})

	r := e.do("GET", "/groups/acme", bob, nil)
	var groups []map[string]any
	r.json(t, &groups)
	want := map[string]map[string]any{
		"admins": {"permission": "admin", "perm": "admin", "members": []string{"root"}, "packages": []string{}},
		"devs":   {"permission": "write", "perm": "write", "members": []string{"bob"}, "packages": []string{"numpy"}},
		"owners": {"permission": "admin", "members": []string{"alice"}, "all_packages": true},
	}
	if r.status != 200 || len(groups) != len(want) {
		t.Fatalf("groups: %d %s", r.status, r.body)
	}
	for _, g := range groups {
		for k, v := range want[g["name"].(string)] {
			if !jsonEqual(g[k], v) {
				t.Errorf("group %s: %s = %v, want %v", g["name"], k, g[k], v)
			}
		}
	}
	r = e.do("GET", "/group/acme/devs/packages", alice, nil)
	if r.status != 200 || string(r.body) != `[{"name":"numpy","owner":"acme","full_name":"acme/numpy","summary":""}]`+"\n" {
		t.Errorf("group packages: %d %s", r.status, r.body)
	}

	e.run(t, []apiCase{
		{name: "remove package", method: "DELETE", path: "/group/acme/devs/packages/numpy", auth: alice, status: 204},
		{name: "remove package again", method: "DELETE", path: "/group/acme/devs/packages/numpy", auth: alice, status: 404,
			errContains: `package "numpy" is not in acme/devs`},
		{name: "remove member", method: "DELETE", path: "/group/acme/devs/members/bob", auth: alice, status: 204},
		{name: "removed member loses read", method: "GET", path: "/groups/acme", auth: bob, status: 403},
		{name: "last owner stays", method: "DELETE", path: "/group/acme/owners/members/alice", auth: alice, status: 403,
			errContains: "the last member of owners cannot be removed"},
		{name: "delete group", method: "DELETE", path: "/group/acme/devs", auth: alice, status: 204},
		{name: "delete group again", method: "DELETE", path: "/group/acme/devs", auth: alice, status: 404},
		{name: "owners cannot be deleted", method: "DELETE", path: "/group/acme/owners", auth: alice, status: 403,
			errContains: "the owners group cannot be removed"},
		{name: "anonymous", method: "GET", path: "/groups/acme", status: 401},
	})
}
