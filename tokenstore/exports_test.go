package tokenstore

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestPerm checks the exported permission over the world fixture; package
// names may come in any spelling.
func TestPerm(t *testing.T) {
	w := newWorld(t)
	addGroup(t, w.s, "acme", "admins", PermAdmin, []string{"carol"}, []string{"acme-public"})
	for _, tc := range []struct {
		principal, channel string
		kind               Kind
		pkg                string
		want               Perm
	}{
		{"", "acme", Conda, "acme-private", PermNone},
		{"acme", "acme", Conda, "", PermAdmin},
		{"alice", "acme", Conda, "anything", PermAdmin}, // owners: all packages
		{"root", "acme", PyPI, "acme-tools", PermAdmin}, // site admin
		{"bob", "acme", Conda, "acme-private", PermWrite},
		{"bob", "acme", Conda, "ACME-Private", PermWrite},
		{"bob", "acme", PyPI, "Acme.Tools", PermWrite},
		{"bob", "acme", Conda, "acme-public", PermNone},
		{"bob", "acme", Conda, "", PermRead},   // a member reads the index
		{"carol", "acme", Conda, "", PermRead}, // admin of listed packages only, not of the organization
		{"carol", "acme", Conda, "acme-public", PermAdmin},
		{"carol", "acme", Conda, "acme-private", PermNone},
		{"carol", "alice", Conda, "priv", PermWrite}, // collaborator
		{"carol", "alice", Conda, "pub", PermNone},
		{"dave", "acme", Conda, "", PermNone},
		{"bob", "vault", Conda, "hidden", PermRead}, // unregistered, granted by a group
	} {
		got, err := w.s.Perm(tc.principal, tc.channel, tc.kind, tc.pkg)
		must(t, err)
		if got != tc.want {
			t.Errorf("Perm(%q, %s, %s, %q) = %s, want %s", tc.principal, tc.channel, tc.kind, tc.pkg, got, tc.want)
		}
	}
}

// TestGroupViewCovers checks that the view's precomputed names answer as
// Group.Covers does.
func TestGroupViewCovers(t *testing.T) {
	groups := []*Group{
		{Packages: []string{"Acme_Tools", "numpy", "a.b-c"}},
		{AllPackages: true},
		{},
	}
	names := []string{"acme-tools", "acme_tools", "Acme_Tools", "numpy", "a-b-c", "a.b-c", "other", ""}
	for i, g := range groups {
		gv := newGroupView(g)
		for _, k := range allKinds {
			for _, n := range names {
				if got, want := gv.covers(k, n), g.Covers(k, n); got != want {
					t.Errorf("group %d covers(%s, %q) = %v, Covers says %v", i, k, n, got, want)
				}
			}
		}
	}
}

func TestAuthenticateToken(t *testing.T) {
	w := newWorld(t)
	s := w.s
	expiring, _, err := s.CreateToken(testActor, TokenSpec{Owner: "dave", Name: "short", MaxAge: time.Hour})
	must(t, err)
	revoked := addToken(t, s, "dave", "gone")
	must(t, s.RevokeToken(testActor, "dave", "gone"))
	unknown, err := newSecret(Strong)
	must(t, err)
	orphan := addToken(t, s, "carol", "orphan")
	corrupt := addToken(t, s, "carol", "corrupt")
	h, err := ParseToken(corrupt)
	must(t, err)
	must(t, s.be.Update(func(tx Tx) error {
		if err := tx.Put(bucketTokens, h[:], []byte("{")); err != nil {
			return err
		}
		return tx.Delete(bucketAccounts, []byte("carol"))
	}))
	s.aclGen.Add(1) // the account is gone behind the store's back
	w.clock.Advance(2 * time.Hour)
	expiredAt := w.clock.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

	for _, tc := range []struct {
		name, secret string
		owner        string // of the token returned
		kind         error
		msg          string // the whole message for ErrAuth
	}{
		{"live", w.tokens["bob"], "bob", nil, ""},
		{"malformed", "cgt-nope", "", ErrAuth, "malformed token"},
		{"unknown", unknown, "", ErrAuth, "unknown token"},
		{"revoked", revoked, "", ErrAuth, "token revoked"},
		{"expired", expiring, "", ErrAuth, "token expired since " + expiredAt + "; revoke it and create a new one"},
		{"owner gone", orphan, "", ErrAuth, "token owner no longer exists"},
		{"store failure", corrupt, "", ErrCorrupt, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := s.AuthenticateToken(tc.secret)
			wantErr(t, err, tc.kind, tc.msg)
			if tc.kind == ErrAuth && err.Error() != tc.msg {
				t.Fatalf("message %q, want %q", err, tc.msg)
			}
			if tc.kind == ErrCorrupt && errors.Is(err, ErrAuth) {
				t.Fatalf("store failure %v reported as ErrAuth", err)
			}
			if (tok == nil) != (tc.owner == "") || tok != nil && tok.Owner != tc.owner {
				t.Fatalf("token %+v, want owner %q", tok, tc.owner)
			}
			// Authorize gives the same one-line answer.
			d := s.Authorize(Request{Secret: tc.secret, Channel: "alice", Kind: Conda, Package: "pub"})
			if tc.kind == ErrAuth && (d.Outcome != Unauthenticated || d.Message != tc.msg) {
				t.Fatalf("Authorize = %+v, want Unauthenticated %q", d, tc.msg)
			}
		})
	}

	// Authentication records last-used, as the gateway does.
	s.FlushLastUsed()
	bob, err := s.LookupToken(w.tokens["bob"])
	must(t, err)
	info, err := s.TokenInfoByHash(bob.Hash)
	must(t, err)
	if !info.LastUsed.Equal(w.clock.Now()) {
		t.Fatalf("last used %v, want %v", info.LastUsed, w.clock.Now())
	}
}

// TestChangePasswordStoreFailure: a store that cannot read the account is
// a store failure, not a wrong old password.
func TestChangePasswordStoreFailure(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	must(t, s.be.Update(func(tx Tx) error { return tx.Put(bucketAccounts, []byte("alice"), []byte("{")) }))
	err := s.ChangePassword(testActor, "alice", testPassword, "new-password", "new-password")
	if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrAuth) {
		t.Fatalf("ChangePassword on a corrupt account = %v, want ErrCorrupt and not ErrAuth", err)
	}
}

// TestPutPackages checks that several kinds are written all or nothing.
func TestPutPackages(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	addPackage(t, s, "alice", PyPI, "broken", true)
	must(t, s.be.Update(func(tx Tx) error { return tx.Put(bucketPackages, packageKey("alice", PyPI, "broken"), []byte("{")) }))
	yes, no, summary := true, false, "new summary"

	// kindsOf lists the kinds a name has records of (a corrupt record
	// counts: it is there).
	kindsOf := func(t *testing.T, name string) []Kind {
		t.Helper()
		var out []Kind
		for _, k := range allKinds {
			switch _, err := s.Package("alice", k, name); {
			case err == nil, errors.Is(err, ErrCorrupt):
				out = append(out, k)
			case !isNotFound(err):
				t.Fatal(err)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		op    func() ([]*Package, error)
		kind  error
		check string // package whose registered kinds are compared with want
		want  []Kind
	}{
		{"both kinds", func() ([]*Package, error) {
			return s.PutPackages(testActor, "alice", []Kind{Conda, PyPI}, "My_Tool", false, "a tool")
		}, nil, "my_tool", []Kind{Conda, PyPI}},
		{"bad kind writes nothing", func() ([]*Package, error) {
			return s.PutPackages(testActor, "alice", []Kind{Conda, "npm"}, "other", true, "")
		}, ErrInvalid, "other", nil},
		{"failure on the second kind rolls back the first", func() ([]*Package, error) {
			return s.PutPackages(testActor, "alice", []Kind{Conda, PyPI}, "broken", true, "")
		}, ErrCorrupt, "broken", []Kind{PyPI}},
		{"no kinds", func() ([]*Package, error) {
			return s.PutPackages(testActor, "alice", nil, "x", true, "")
		}, ErrInvalid, "x", nil},
		{"update keeps unset fields", func() ([]*Package, error) {
			return s.UpdatePackages(testActor, "alice", []Kind{Conda, PyPI}, "my_tool", nil, &summary)
		}, nil, "my_tool", []Kind{Conda, PyPI}},
		{"update of a missing kind changes nothing", func() ([]*Package, error) {
			return s.UpdatePackages(testActor, "alice", []Kind{Conda, PyPI}, "solo", &yes, nil)
		}, ErrNotFound, "solo", nil},
		{"update both", func() ([]*Package, error) {
			return s.UpdatePackages(testActor, "alice", []Kind{PyPI, Conda}, "My_Tool", &yes, nil)
		}, nil, "my_tool", []Kind{Conda, PyPI}},
		{"update private", func() ([]*Package, error) {
			return s.UpdatePackages(testActor, "alice", []Kind{Conda}, "my_tool", &no, nil)
		}, nil, "my_tool", []Kind{Conda, PyPI}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.op()
			wantErr(t, err, tc.kind, "")
			if got := kindsOf(t, tc.check); !slices.Equal(got, tc.want) {
				t.Fatalf("registered kinds of %s: %v, want %v", tc.check, got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		kind    Kind
		name    string
		public  bool
		summary string
	}{
		{Conda, "my_tool", false, "new summary"},
		{PyPI, "my-tool", true, "new summary"},
	} {
		p, err := s.Package("alice", tc.kind, tc.name)
		must(t, err)
		if p.Name != tc.name || p.Public != tc.public || p.Summary != tc.summary {
			t.Errorf("%s package %+v, want %s public=%v summary %q", tc.kind, p, tc.name, tc.public, tc.summary)
		}
	}
}
