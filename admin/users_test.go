package admin_test

import (
	"strings"
	"testing"

	"github.com/channelgate/channelgate/admin"
)

func newUser(login string) map[string]any {
	return map[string]any{"login": login, "email": login + "@example.org", "password": password,
		"password_confirmation": password, "accept_terms": true}
}

// with returns a copy of m with k set to v.
func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for kk, vv := range m {
		if kk != k {
			out[kk] = vv
		}
	}
	return out
}

func TestUsersAndOrgs(t *testing.T) {
	e := newEnv(t, admin.Config{AuditLimit: 3})
	op := "token " + operatorSecret
	alice := "token " + e.token("alice", "all")
	e.run(t, []apiCase{
		{name: "sign-up closed", method: "POST", path: "/users", body: newUser("carol"), status: 403, errContains: "sign-up is closed"},
		{name: "ordinary user cannot create users", method: "POST", path: "/users", auth: alice, body: newUser("carol"), status: 403},
		{name: "operator creates a user", method: "POST", path: "/users", auth: op, body: newUser("carol"), status: 201,
			fields: map[string]any{"login": "carol", "user_type": "user", "email": "carol@example.org"}},
		{name: "name taken", method: "POST", path: "/users", auth: op, body: newUser("carol"), status: 409, errContains: `the name "carol" is taken`},
		{name: "name taken by an org", method: "POST", path: "/users", auth: op, body: newUser("acme"), status: 409},
		{name: "short password", method: "POST", path: "/users", auth: op, body: with(with(newUser("dave"), "password", "short"), "password_confirmation", "short"),
			status: 400, errContains: "password must be at least 7 characters"},
		{name: "mismatched passwords", method: "POST", path: "/users", auth: op, body: with(newUser("dave"), "password_confirmation", "other password"),
			status: 400, errContains: "the two passwords do not match"},
		{name: "bad email", method: "POST", path: "/users", auth: op, body: with(newUser("dave"), "email", "dave"),
			status: 400, errContains: `email "dave" is not a valid address`},
		{name: "terms", method: "POST", path: "/users", auth: op, body: with(newUser("dave"), "accept_terms", false),
			status: 400, errContains: "the terms of service must be accepted"},
		{name: "bad login", method: "POST", path: "/users", auth: op, body: newUser("Dave"), status: 400,
			errContains: "must be lowercase letters, digits"},
		{name: "reserved login", method: "POST", path: "/users", auth: op, body: newUser("api"), status: 400, errContains: `"api" is reserved`},
		{name: "site admin user creates a user", method: "POST", path: "/users", auth: basic("root", password), body: newUser("erin"), status: 201},
		{name: "only the operator makes site admins", method: "POST", path: "/users", auth: basic("root", password),
			body: with(newUser("frank"), "site_admin", true), status: 403, errContains: "only the operator can create site administrators"},

		{name: "create org", method: "POST", path: "/orgs", auth: alice, body: map[string]any{"login": "widgets"}, status: 201,
			fields: map[string]any{"login": "widgets", "user_type": "org"}},
		{name: "creator owns it", method: "GET", path: "/group/widgets/owners/members/alice", auth: alice, status: 204},
		{name: "org name taken", method: "POST", path: "/orgs", auth: alice, body: map[string]any{"login": "bob"}, status: 409},
		{name: "bad org name", method: "POST", path: "/orgs", auth: alice, body: map[string]any{"login": ""}, status: 400,
			errContains: "account name must be 1 to 64 characters"},
		{name: "org for someone else", method: "POST", path: "/orgs", auth: alice, body: map[string]any{"login": "x1", "owner": "bob"},
			status: 403, errContains: "only site administrators"},
		{name: "operator needs an owner", method: "POST", path: "/orgs", auth: op, body: map[string]any{"login": "x2"}, status: 403,
			errContains: `the operator must give "owner"`},
		{name: "operator names the owner", method: "POST", path: "/orgs", auth: op, body: map[string]any{"login": "x3", "owner": "bob"}, status: 201},
		{name: "org cannot own an org", method: "POST", path: "/orgs", auth: op, body: map[string]any{"login": "x4", "owner": "acme"}, status: 400,
			errContains: "only users can create organizations"},
		{name: "org token cannot create orgs", method: "POST", path: "/orgs", auth: "token " + e.token("acme", "org"),
			body: map[string]any{"login": "x5"}, status: 403, errContains: "only a user can create an organization"},

		{name: "wrong old password", method: "POST", path: "/user/password", auth: alice,
			body:   map[string]any{"old_password": "nope-nope", "new_password": "new password", "new_password_confirmation": "new password"},
			status: 401, errContains: "the old password is wrong"},
		{name: "new passwords differ", method: "POST", path: "/user/password", auth: alice,
			body:   map[string]any{"old_password": password, "new_password": "new password", "new_password_confirmation": "other"},
			status: 400, errContains: "the two passwords do not match"},
		{name: "operator has no password", method: "POST", path: "/user/password", auth: op, body: map[string]any{}, status: 403},
		{name: "change password", method: "POST", path: "/user/password", auth: basic("bob", password),
			body:   map[string]any{"old_password": password, "new_password": "new password", "new_password_confirmation": "new password"},
			status: 204},
		{name: "old password refused", method: "GET", path: "/user", auth: basic("bob", password), status: 401},
		{name: "new password works", method: "GET", path: "/user", auth: basic("bob", "new password"), status: 200},

		{name: "verify: not for users", method: "POST", path: "/user/carol/verify", auth: alice, status: 403, errContains: "only site administrators can verify"},
		{name: "verify: unknown user", method: "POST", path: "/user/nobody/verify", auth: op, status: 404},
		{name: "verify: not an org", method: "POST", path: "/user/acme/verify", auth: op, status: 400, errContains: "is an organization"},
		{name: "verify", method: "POST", path: "/user/carol/verify", auth: basic("root", password), status: 204},

		{name: "audit for others", method: "GET", path: "/audit", auth: alice, status: 403, errContains: "only site administrators"},
		{name: "audit bad after", method: "GET", path: "/audit?after=x", auth: op, status: 400, errContains: "after must be a sequence number"},
		{name: "audit bad limit", method: "GET", path: "/audit?limit=0", auth: op, status: 400, errContains: "limit must be a positive number"},
	})

	r := e.do("GET", "/audit?after=0&limit=50", basic("root", password), nil)
	var events []map[string]any
	r.json(t, &events)
	if r.status != 200 || len(events) != 3 {
		t.Fatalf("audit capped at AuditLimit 3: %d %d events", r.status, len(events))
	}
	r = e.do("GET", "/audit?after=5&limit=1000", "token "+operatorSecret, nil)
	events = nil
	r.json(t, &events)
	var sawOperator bool
	for _, ev := range events {
		if ev["action"] == "account.create" && ev["target"] == "carol" {
			sawOperator = ev["actor"] == "operator" && ev["remote_addr"] == "127.0.0.1"
		}
	}
	if !sawOperator {
		t.Errorf("carol's creation not audited as the operator from 127.0.0.1: %s", r.body)
	}
	if strings.Contains(string(r.body), password) {
		t.Errorf("the audit log holds a password")
	}
}

func TestOpenSignup(t *testing.T) {
	e := newEnv(t, admin.Config{OpenSignup: true})
	e.run(t, []apiCase{
		{name: "anonymous sign-up", method: "POST", path: "/users", body: newUser("carol"), status: 201,
			fields: map[string]any{"login": "carol", "email": "carol@example.org"}},
		{name: "no self-made site admins", method: "POST", path: "/users", body: with(newUser("dave"), "site_admin", true), status: 403},
		{name: "the new user logs in", method: "GET", path: "/user", auth: basic("carol", password), status: 200},
	})
}
