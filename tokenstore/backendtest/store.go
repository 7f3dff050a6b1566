package backendtest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/channelgate/channelgate/tokenstore"
)

// actor makes the suite's changes.
var actor = tokenstore.Actor{Name: "conformance", Remote: "192.0.2.1"}

// password is every suite user's password.
const password = "correct horse battery"

// propagation bounds how long a change made through one store may take to
// reach another on the same shared state before the check fails (the
// figure itself is measured in BENCHMARKS.md, not asserted here).
const propagation = 5 * time.Second

// stores opens a Store on be and, through peer when the backend is shared,
// a second Store on the same state, as a second gateway would; without
// peer both are the same Store.
func stores(t *testing.T, be tokenstore.Backend, peer Peer) (*tokenstore.Store, *tokenstore.Store) {
	t.Helper()
	s1 := openStore(t, be)
	if peer == nil {
		return s1, s1
	}
	return s1, openStore(t, peer(t, be))
}

func openStore(t *testing.T, be tokenstore.Backend) *tokenstore.Store {
	t.Helper()
	s, err := tokenstore.Open(be, tokenstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func addUser(t *testing.T, s *tokenstore.Store, name string) {
	t.Helper()
	_, err := s.CreateUser(actor, tokenstore.NewUser{Name: name, Email: name + "@example.org",
		Password: password, PasswordConfirmation: password, AcceptTerms: true})
	must(t, err)
}

// read asks whether secret may read a conda package of channel.
func read(s *tokenstore.Store, secret, channel, pkg string) tokenstore.Decision {
	return s.Authorize(tokenstore.Request{Secret: secret, Channel: channel, Kind: tokenstore.Conda, Package: pkg})
}

// eventually waits until cond holds, failing after propagation.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(propagation)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen after %s", what, propagation)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// storeTokenLifecycle: a token created through one store is accepted by
// the other; revoked through the other, refused by the first; a
// collaborator removed through one store loses access through the other.
func storeTokenLifecycle(t *testing.T, be tokenstore.Backend, peer Peer) {
	s1, s2 := stores(t, be, peer)
	addUser(t, s1, "alice")
	addUser(t, s1, "bob")
	_, err := s1.PutPackage(actor, "alice", tokenstore.Conda, "secret", false, "")
	must(t, err)
	must(t, s1.SetCollaborator(actor, "alice", tokenstore.Conda, "secret", "bob", true))
	secret, _, err := s1.CreateToken(actor, tokenstore.TokenSpec{Owner: "bob", Name: "ci"})
	must(t, err)
	// The store that made the changes sees them at once, the other as
	// its feed delivers them.
	if d := read(s1, secret, "alice", "secret"); d.Outcome != tokenstore.Allow {
		t.Fatalf("store 1: collaborator's token refused: %+v", d)
	}
	eventually(t, "token and collaborator through store 2", func() bool {
		return read(s2, secret, "alice", "secret").Outcome == tokenstore.Allow
	})
	eventually(t, "live-token count on store 2", func() bool { return s2.TokenCount() == 1 })
	must(t, s2.SetCollaborator(actor, "alice", tokenstore.Conda, "secret", "bob", false))
	eventually(t, "collaborator removed through store 2, refused through store 1", func() bool {
		return read(s1, secret, "alice", "secret").Outcome != tokenstore.Allow
	})
	must(t, s2.RevokeToken(actor, "bob", "ci"))
	if d := read(s2, secret, "bob", "own"); d.Outcome != tokenstore.Unauthenticated {
		t.Fatalf("store 2 right after revoking: %+v", d)
	}
	eventually(t, "token revoked through store 2, refused through store 1", func() bool {
		return read(s1, secret, "bob", "own").Outcome == tokenstore.Unauthenticated
	})
	eventually(t, "live-token count on store 1", func() bool { return s1.TokenCount() == 0 })
}

// storeUniqueNames: concurrent creations of one account name and one
// token name, half through each store, leave exactly one account and one
// live token of that name.
func storeUniqueNames(t *testing.T, be tokenstore.Backend, peer Peer) {
	s1, s2 := stores(t, be, peer)
	const n = 6
	addUser(t, s1, "dave")
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := []*tokenstore.Store{s1, s2}[i%2]
			_, errs[i] = s.CreateOrg(actor, "acme", "dave")
		}()
	}
	wg.Wait()
	wantOne(t, "CreateOrg acme", errs)

	addUser(t, s1, "carol")
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := []*tokenstore.Store{s1, s2}[i%2]
			_, _, errs[i] = s.CreateToken(actor, tokenstore.TokenSpec{Owner: "carol", Name: "deploy"})
		}()
	}
	wg.Wait()
	wantOne(t, "CreateToken carol/deploy", errs)
	toks, err := s2.Tokens("carol")
	must(t, err)
	if len(toks) != 1 {
		t.Fatalf("carol has %d live tokens named deploy, want 1", len(toks))
	}
}

// wantOne checks that exactly one call succeeded and the others failed
// with ErrExists.
func wantOne(t *testing.T, what string, errs []error) {
	t.Helper()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, tokenstore.ErrExists):
			t.Fatalf("%s: %v, want success or ErrExists", what, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%s: %d of %d concurrent calls succeeded, want 1", what, ok, len(errs))
	}
}
