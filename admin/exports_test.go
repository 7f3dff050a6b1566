package admin_test

import (
	"slices"
	"sync/atomic"
	"testing"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

// TestOrgPackageListing: members of an organization see in its listings
// only the packages they may read.
func TestOrgPackageListing(t *testing.T) {
	e := newEnv(t, admin.Config{})
	sys := e.fixture()
	if _, err := e.store.PutGroup(sys, "acme", "readers", tokenstore.PermRead); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		e.store.SetMember(sys, "acme", "readers", "bob", true),
		e.store.SetGroupPackage(sys, "acme", "readers", "Shared", true),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []struct {
		kind   tokenstore.Kind
		name   string
		public bool
	}{{tokenstore.Conda, "secret", false}, {tokenstore.Conda, "shared", false}, {tokenstore.PyPI, "shared", false},
		{tokenstore.Conda, "open", true}, {tokenstore.PyPI, "tools", false}} {
		if _, err := e.store.PutPackage(sys, "acme", p.kind, p.name, p.public, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.SetCollaborator(sys, "acme", tokenstore.PyPI, "tools", "root", true); err != nil {
		t.Fatal(err)
	}
	bob := "token " + e.token("bob", "all") // member of readers
	for _, tc := range []struct {
		name, auth string
		want       []string
	}{
		{"owner", "token " + e.token("alice", "all"), []string{"open", "secret", "shared", "tools"}},
		{"member with access to some", bob, []string{"open", "shared"}},
		{"site admin", basic("root", password), []string{"open", "secret", "shared", "tools"}},
		{"anonymous", "", []string{"open"}},
		{"organization token", "token " + e.token("acme", "all"), []string{"open", "secret", "shared", "tools"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", "/packages/acme", tc.auth, nil)
			if r.status != 200 {
				t.Fatalf("list: %d %s", r.status, r.body)
			}
			var pkgs []admin.PackageInfo
			r.json(t, &pkgs)
			var names []string
			for _, p := range pkgs {
				names = append(names, p.Name)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.want) {
				t.Fatalf("listing %v, want %v", names, tc.want)
			}
		})
	}
	e.run(t, []apiCase{
		{name: "member without access gets 404", method: "GET", path: "/package/acme/secret", auth: bob, status: 404,
			errContains: "no package acme/secret"},
		{name: "member with access", method: "GET", path: "/package/acme/shared", auth: bob, status: 200,
			fields: map[string]any{"package_types": []string{"conda", "pypi"}}},
	})
}

// corruptingBackend answers the n-th read of one account record, once
// armed, with bad JSON: a store failure in the middle of a request.
type corruptingBackend struct {
	tokenstore.Backend
	account   string
	countdown atomic.Int32 // reads of the account left before the bad one; 0: disarmed
}

func (b *corruptingBackend) View(fn func(tokenstore.Tx) error) error {
	return b.Backend.View(func(tx tokenstore.Tx) error { return fn(corruptingTx{tx, b}) })
}

func (b *corruptingBackend) Update(fn func(tokenstore.Tx) error) error {
	return b.Backend.Update(func(tx tokenstore.Tx) error { return fn(corruptingTx{tx, b}) })
}

type corruptingTx struct {
	tokenstore.Tx
	b *corruptingBackend
}

func (tx corruptingTx) Get(bucket string, key []byte) []byte {
	if bucket == "accounts" && string(key) == tx.b.account && tx.b.countdown.Load() > 0 && tx.b.countdown.Add(-1) == 0 {
		return []byte("{")
	}
	return tx.Tx.Get(bucket, key)
}

// TestChangePasswordStoreFailure: a store failure while checking the old
// password is a 503, not a wrong password (401), and changes nothing.
func TestChangePasswordStoreFailure(t *testing.T) {
	var be *corruptingBackend
	e := newEnvOn(t, admin.Config{}, func(inner tokenstore.Backend) tokenstore.Backend {
		be = &corruptingBackend{Backend: inner, account: "alice"}
		return be
	})
	alice := "token " + e.token("alice", "all")
	change := map[string]any{"old_password": password, "new_password": "new password", "new_password_confirmation": "new password"}
	// The first read of alice is the caller's own account; the second is
	// the old password's check.
	be.countdown.Store(2)
	e.run(t, []apiCase{
		{name: "store failure", method: "POST", path: "/user/password", auth: alice, body: change, status: 503,
			errContains: "store unavailable"},
		{name: "old password still works", method: "GET", path: "/user", auth: basic("alice", password), status: 200},
	})
}
