package admin_test

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

func TestCallers(t *testing.T) {
	e := newEnv(t, admin.Config{})
	all := e.token("alice", "all")
	apiOnly := e.token("alice", "api", "api")
	condaOnly := e.token("alice", "conda", "conda:download")
	readOnly := e.token("alice", "read", "api:read")
	orgTok := e.token("acme", "org", "api:read")
	revoked := e.token("alice", "revoked")
	if err := e.store.RevokeToken(e.fixture(), "alice", "revoked"); err != nil {
		t.Fatal(err)
	}
	expiring, _, err := e.store.CreateToken(e.fixture(), tokenstore.TokenSpec{Owner: "bob", CreatedBy: "bob", Name: "short", MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	unknown := foreignToken(t)

	e.run(t, []apiCase{
		{name: "anonymous whoami", method: "GET", path: "/user", status: 401, errContains: "authentication required"},
		{name: "password", method: "GET", path: "/user", auth: basic("alice", password), status: 200,
			fields: map[string]any{"login": "alice", "user_type": "user", "email": "alice@example.org", "created_at": "2030-01-02T03:04:05Z"}},
		{name: "wrong password", method: "GET", path: "/user", auth: basic("alice", "wrong-password"), status: 401,
			errContains: "invalid user name or password"},
		{name: "unknown user", method: "GET", path: "/user", auth: basic("nobody", "wrong-password"), status: 401,
			errContains: "invalid user name or password"},
		{name: "token scheme", method: "GET", path: "/user", auth: "token " + all, status: 200, fields: map[string]any{"login": "alice"}},
		{name: "Bearer scheme", method: "GET", path: "/user", auth: "Bearer " + all, status: 200, fields: map[string]any{"login": "alice"}},
		{name: "api scope covers reads", method: "GET", path: "/user", auth: "token " + apiOnly, status: 200},
		{name: "org token acts as the org", method: "GET", path: "/user", auth: "token " + orgTok, status: 200,
			fields: map[string]any{"login": "acme", "user_type": "org"}},
		{name: "operator", method: "GET", path: "/user", auth: "token " + operatorSecret, status: 200,
			fields: map[string]any{"login": "operator", "site_admin": true, "created_at": "2030-01-02T03:04:05Z"}},
		{name: "operator as Bearer", method: "GET", path: "/user", auth: "Bearer " + operatorSecret, status: 200},
		{name: "missing api scope", method: "GET", path: "/user", auth: "token " + condaOnly, status: 403,
			errContains: "token lacks scope api:read"},
		{name: "any token describes itself (anaconda auth --info)", method: "GET", path: "/authentication", auth: "token " + condaOnly,
			status: 200, fields: map[string]any{"owner": "alice", "scopes": []string{"conda:download"}}},
		{name: "describing itself needs a token", method: "GET", path: "/authentication", auth: basic("alice", password),
			status: 401},
		{name: "read token cannot write", method: "POST", path: "/orgs", auth: "token " + readOnly, body: map[string]any{"login": "x"},
			status: 403, errContains: "token lacks scope api:write"},
		{name: "revoked", method: "GET", path: "/user", auth: "token " + revoked, status: 401, errContains: "token revoked"},
		{name: "expired", method: "GET", path: "/user", auth: "token " + expiring, status: 401, errContains: "token expired since"},
		{name: "unknown token", method: "GET", path: "/user", auth: "token " + unknown, status: 401, errContains: "unknown token"},
		{name: "malformed token", method: "GET", path: "/user", auth: "token cgt-nonsense", status: 401, errContains: "malformed token"},
		{name: "non-channelgate Bearer falls back to password login", method: "POST", path: "/authentications",
			auth: "Bearer anaconda-cloud-api-key", body: map[string]any{"note": "x"}, status: 401,
			errContains: "Bearer token authentication is not enabled"},
		{name: "wrong operator secret", method: "GET", path: "/user", auth: "token " + operatorSecret + "x", status: 401,
			errContains: "malformed token"},
		{name: "public profile for anonymous, no email", method: "GET", path: "/user/alice", status: 200,
			fields: map[string]any{"login": "alice", "name": "alice", "user_type": "user", "email": nil}},
		{name: "profile for another user hides email", method: "GET", path: "/user/alice", auth: "token " + e.token("bob", "b"),
			status: 200, fields: map[string]any{"email": nil}},
		{name: "site admin sees email", method: "GET", path: "/user/alice", auth: basic("root", password), status: 200,
			fields: map[string]any{"email": "alice@example.org"}},
		{name: "org profile", method: "GET", path: "/user/acme", status: 200, fields: map[string]any{"user_type": "org"}},
		{name: "no such account", method: "GET", path: "/user/nobody", status: 404, errContains: `no account named "nobody"`},
	})
}

// foreignToken is a well-formed token from another store: unknown here.
func foreignToken(t *testing.T) string {
	st, err := tokenstore.OpenFile(filepath.Join(t.TempDir(), "other"), tokenstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	actor := tokenstore.Actor{Name: "test"}
	if _, err := st.CreateUser(actor, tokenstore.NewUser{Name: "u", Email: "u@example.org",
		Password: password, PasswordConfirmation: password, AcceptTerms: true}); err != nil {
		t.Fatal(err)
	}
	secret, _, err := st.CreateToken(actor, tokenstore.TokenSpec{Owner: "u", Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestPasswordSlowDown(t *testing.T) {
	e := newEnv(t, admin.Config{MaxPasswordFailures: 3, MaxBackoff: 4 * time.Second})
	bad := basic("alice", "wrong-password")
	for i := 0; i < 3; i++ {
		if r := e.do("GET", "/user", bad, nil); r.status != 401 {
			t.Fatalf("failure %d: %d", i+1, r.status)
		}
	}
	wantRetry := func(name, auth, retry string) {
		t.Helper()
		r := e.do("GET", "/user", auth, nil)
		if r.status != 429 || r.header.Get("Retry-After") != retry {
			t.Fatalf("%s: %d Retry-After %q, want 429 %q; %s", name, r.status, r.header.Get("Retry-After"), retry, r.body)
		}
		if msg, _ := r.field(t, "error").(string); msg == "" {
			t.Fatalf("%s: no error message", name)
		}
	}
	wantRetry("after 3 failures", bad, "1")
	// Even the right password waits: the check comes before the hash.
	wantRetry("right password while slowed down", basic("alice", password), "1")
	// The address is slowed down too, whatever account it tries.
	wantRetry("same address, other account", basic("bob", "wrong-password"), "1")

	// Each further failure doubles the wait, up to MaxBackoff.
	for i, want := range []string{"2", "4", "4"} {
		e.clock.Advance(10 * time.Second)
		if r := e.do("GET", "/user", bad, nil); r.status != 401 {
			t.Fatalf("failure %d after waiting: %d", i+4, r.status)
		}
		wantRetry("back-off "+strconv.Itoa(i), bad, want)
	}

	// A success resets the account; a fresh window forgets old failures.
	e.clock.Advance(10 * time.Second)
	if r := e.do("GET", "/user", basic("alice", password), nil); r.status != 200 {
		t.Fatalf("right password after waiting: %d %s", r.status, r.body)
	}
	e.clock.Advance(admin.DefaultFailureWindow + time.Second)
	if r := e.do("GET", "/user", bad, nil); r.status != 401 {
		t.Fatalf("first failure of a new window: %d", r.status)
	}
}
