package tokenstore

import (
	"errors"
	"testing"
)

// TestUnknownTokensKeepValidCached proves that a flood of well-formed
// unknown tokens (a guesser's) cannot push valid tokens out of the cache:
// unknown hashes live in their own LRU, a quarter of the cache's size, so
// the flood evicts only its own entries and the valid token's next
// lookup is a hit that never reaches the backend.
func TestUnknownTokensKeepValidCached(t *testing.T) {
	const size = 64
	s, _ := openStore(t, Options{CacheSize: size})
	addUser(t, s, "alice", false)
	valid := addToken(t, s, "alice", "ci")
	if _, err := s.AuthenticateToken(valid); err != nil {
		t.Fatal(err)
	}
	for range 10 * size {
		secret, err := newSecret(Strong)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateToken(secret); !errors.Is(err, ErrAuth) {
			t.Fatalf("unknown token: %v", err)
		}
	}
	if n := s.tokens.neg.Len(); n > negSize(size) {
		t.Fatalf("%d negative entries, bound %d", n, negSize(size))
	}
	before := s.CacheStats()
	if _, err := s.AuthenticateToken(valid); err != nil {
		t.Fatalf("valid token after the flood: %v", err)
	}
	if after := s.CacheStats(); after.Misses != before.Misses || after.Hits != before.Hits+1 {
		t.Fatalf("valid token after the flood was not a cache hit: %+v then %+v", before, after)
	}
}

// TestPasswordChecksBounded proves the hashing bound: with every slot
// taken, a login waits PasswordWait and then fails with ErrBusy (not
// ErrAuth: it is no guess), for unknown names too, and it succeeds once a
// slot is free.
func TestPasswordChecksBounded(t *testing.T) {
	s, _ := openStore(t, Options{MaxPasswordChecks: 1, PasswordWait: 1})
	addUser(t, s, "alice", false)
	taken, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.hashing.run(func() {
			close(taken)
			<-release
		})
	}()
	<-taken
	for _, name := range []string{"alice", "nobody"} {
		if _, err := s.Authenticate(name, testPassword); !errors.Is(err, ErrBusy) || errors.Is(err, ErrAuth) {
			t.Fatalf("%s with every slot taken: %v, want ErrBusy", name, err)
		}
	}
	close(release)
	must(t, <-done)
	if _, err := s.Authenticate("alice", testPassword); err != nil {
		t.Fatalf("with a free slot: %v", err)
	}
}
