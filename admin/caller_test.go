package admin_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/limiter"
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
			errContains: "token lacks scope conda, pypi:upload or api:read"},
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
			errContains: "wrong operator secret"},
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

// TestPasswordLimit proves the password limit through the API (finding
// 4): wrong passwords from one address stop that address's guesses at
// the account, even with the right password, while the owner logs in
// from another address; the address is stopped across accounts; the
// account's own, higher limit stops every address; windows end.
func TestPasswordLimit(t *testing.T) {
	from := func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	const perPair, perAccount, perAddress = 3, 8, 6
	var e *env
	logins := limiter.NewLogins(limiter.LoginsConfig{PerPair: perPair, PerAccount: perAccount,
		PerAddress: perAddress, Now: func() time.Time { return e.clock.Now() }})
	e = newEnv(t, admin.Config{ClientAddress: from, Logins: logins})
	try := func(user, pass, addr string) reply {
		t.Helper()
		return e.doFrom(addr, "GET", "/user", basic(user, pass))
	}
	for i := range perPair {
		if r := try("alice", "wrong-password", "10.0.0.1"); r.status != 401 {
			t.Fatalf("failure %d: %d %s", i+1, r.status, r.body)
		}
	}
	wantRetry := func(name string, r reply) {
		t.Helper()
		if r.status != 429 || r.header.Get("Retry-After") == "" {
			t.Fatalf("%s: %d Retry-After %q, want 429 with Retry-After; %s", name, r.status, r.header.Get("Retry-After"), r.body)
		}
		if msg, _ := r.field(t, "error").(string); !strings.Contains(msg, "too many failed logins") {
			t.Fatalf("%s: error %q", name, msg)
		}
	}
	// Even the right password waits at that address: the check comes
	// before the hash.
	wantRetry("right password from the failing address", try("alice", password, "10.0.0.1"))
	if r := try("alice", password, "10.0.0.2"); r.status != 200 {
		t.Fatalf("the owner from another address: %d %s", r.status, r.body)
	}
	// The failing address may try other accounts up to its own limit.
	for i := perPair; i < perAddress; i++ {
		if r := try(fmt.Sprint("nobody", i), "wrong-password", "10.0.0.1"); r.status != 401 {
			t.Fatalf("address failure %d: %d %s", i+1, r.status, r.body)
		}
	}
	wantRetry("same address, other account", try("bob", password, "10.0.0.1"))

	// Many addresses reach the account's own limit: then it waits
	// everywhere.
	for i := perPair; i < perAccount; i++ {
		if r := try("alice", "wrong-password", fmt.Sprint("10.1.0.", i)); r.status != 401 {
			t.Fatalf("account failure %d: %d %s", i+1, r.status, r.body)
		}
	}
	wantRetry("account limit", try("alice", password, "10.0.0.3"))

	e.clock.Advance(limiter.DefaultWindow)
	if r := try("alice", password, "10.0.0.1"); r.status != 200 {
		t.Fatalf("right password in a new window: %d %s", r.status, r.body)
	}
}
