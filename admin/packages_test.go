package admin_test

import (
	"testing"

	"github.com/channelgate/channelgate/admin"
)

func TestPackages(t *testing.T) {
	e := newEnv(t, admin.Config{})
	alice := "token " + e.token("alice", "all")
	bob := "token " + e.token("bob", "all")
	e.run(t, []apiCase{
		{name: "create conda and pypi", method: "POST", path: "/package/alice/My_Tool", auth: alice,
			body: map[string]any{"public": false, "package_types": []string{"conda", "pypi"}, "summary": "a tool"}, status: 200,
			fields: map[string]any{"owner": map[string]any{"login": "alice"}, "public": false, "package_types": []string{"conda", "pypi"},
				"summary": "a tool", "collaborators": []string{}, "created_at": "2030-01-02T03:04:05Z"}},
		{name: "create again", method: "POST", path: "/package/alice/my_tool", auth: alice, body: map[string]any{}, status: 409,
			errContains: "conda package alice/my_tool already exists"},
		{name: "default type conda, public by channel default", method: "POST", path: "/package/alice/lib", auth: alice,
			status: 200, fields: map[string]any{"package_types": []string{"conda"}, "public": true}},
		{name: "bad type", method: "POST", path: "/package/alice/x", auth: alice, body: map[string]any{"package_types": []string{"npm"}},
			status: 400, errContains: `package type must be conda or pypi, not "npm"`},
		{name: "bad name", method: "POST", path: "/package/alice/-x", auth: alice, status: 400, errContains: "package name"},
		{name: "no such channel", method: "POST", path: "/package/nobody/x", auth: "token " + operatorSecret, status: 404,
			errContains: `no account named "nobody"`},
		{name: "other's channel", method: "POST", path: "/package/alice/x", auth: bob, status: 403, errContains: "bob may not administer alice/x"},
		{name: "owner sees private", method: "GET", path: "/package/alice/my_tool", auth: alice, status: 200,
			fields: map[string]any{"name": "my_tool", "full_name": "alice/my_tool", "public": false}},
		{name: "outsider does not", method: "GET", path: "/package/alice/my_tool", auth: bob, status: 404, errContains: "no package alice/my_tool"},
		{name: "anonymous does not", method: "GET", path: "/package/alice/my_tool", status: 404},
		{name: "unknown package", method: "GET", path: "/package/alice/nope", status: 404, errContains: "no package alice/nope"},
		{name: "add collaborator", method: "PUT", path: "/packages/alice/my_tool/collaborators/bob", auth: alice, status: 201},
		{name: "collaborator sees it", method: "GET", path: "/package/alice/my_tool", auth: bob, status: 200,
			fields: map[string]any{"collaborators": []string{"bob"}}},
		{name: "collaborator is no channel writer", method: "PATCH", path: "/package/alice/my_tool", auth: bob,
			body: map[string]any{"public": true}, status: 403},
		{name: "org as collaborator", method: "PUT", path: "/packages/alice/my_tool/collaborators/acme", auth: alice, status: 400,
			errContains: "collaborators are users"},
		{name: "make public", method: "PATCH", path: "/package/alice/my_tool", auth: alice, body: map[string]any{"public": true},
			status: 200, fields: map[string]any{"public": true, "summary": "a tool", "package_types": []string{"conda", "pypi"}}},
		{name: "anonymous sees public", method: "GET", path: "/package/alice/my_tool", status: 200},
		{name: "remove collaborator", method: "DELETE", path: "/packages/alice/my_tool/collaborators/bob", auth: alice, status: 201},
		{name: "remove collaborator again", method: "DELETE", path: "/packages/alice/my_tool/collaborators/bob", auth: alice, status: 404,
			errContains: "bob is not a collaborator on alice/my_tool"},
		{name: "patch unknown package", method: "PATCH", path: "/package/alice/nope", auth: alice, body: map[string]any{}, status: 404},
		{name: "delete", method: "DELETE", path: "/package/alice/lib", auth: alice, status: 201},
		{name: "deleted", method: "GET", path: "/package/alice/lib", auth: alice, status: 404},
		{name: "delete again", method: "DELETE", path: "/package/alice/lib", auth: alice, status: 404},
		{name: "org owner writes org packages", method: "POST", path: "/package/acme/secret", auth: alice,
			body: map[string]any{"public": false}, status: 200},
		{name: "channel default private", method: "PATCH", path: "/user/alice", auth: alice, body: map[string]any{"private_by_default": true},
			status: 200, fields: map[string]any{"login": "alice", "private_by_default": true}},
		{name: "channel default needs admin", method: "PATCH", path: "/user/alice", auth: bob, body: map[string]any{"private_by_default": false},
			status: 403, errContains: "bob may not administer alice"},
		{name: "channel default needs a value", method: "PATCH", path: "/user/alice", auth: alice, body: map[string]any{}, status: 400,
			errContains: "send private_by_default"},
		{name: "new package follows private default", method: "POST", path: "/package/alice/hidden", auth: alice, status: 200,
			fields: map[string]any{"public": false}},
	})

	list := func(auth string) []string {
		t.Helper()
		r := e.do("GET", "/packages/alice", auth, nil)
		var pkgs []map[string]any
		r.json(t, &pkgs)
		if r.status != 200 {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		var names []string
		for _, p := range pkgs {
			names = append(names, p["name"].(string))
		}
		return names
	}
	if got := list(alice); !jsonEqual(got, []string{"hidden", "my_tool"}) {
		t.Errorf("owner's listing %v", got)
	}
	if got := list(""); !jsonEqual(got, []string{"my_tool"}) {
		t.Errorf("anonymous listing %v", got)
	}
	r := e.do("GET", "/packages/alice/my_tool/collaborators", alice, nil)
	if r.status != 200 || string(r.body) != "[]\n" {
		t.Errorf("collaborators: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/group/acme/owners/packages", alice, nil)
	if r.status != 200 || string(r.body) != `[{"name":"secret","owner":"acme","full_name":"acme/secret","summary":""}]`+"\n" {
		t.Errorf("owners' packages: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/packages/nobody", "", nil); r.status != 404 {
		t.Errorf("listing of an unknown channel: %d", r.status)
	}
}
