package tokenstore

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Run with:
//
//	go test -run '^$' -bench . -benchmem ./tokenstore/

func BenchmarkParseToken(b *testing.B) {
	secret, err := newSecret(Strong)
	must(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseToken(secret); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthorizeCacheHit decides on a private package with a valid
// token that is in the cache: the common case of a download.
func BenchmarkAuthorizeCacheHit(b *testing.B) {
	w := newWorld(b)
	req := Request{Secret: w.tokens["carol"], Channel: "alice", Kind: Conda, Package: "priv"}
	if d := w.s.Authorize(req); d.Reason != ReasonGranted {
		b.Fatalf("setup: %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		if d := w.s.Authorize(req); d.Outcome != Allow {
			b.Fatal(d.Message)
		}
	}
}

// BenchmarkAuthorizeCacheMiss decides with tokens drawn at random from a
// million stored ones, through a cache far smaller than the set, so nearly
// every decision reads the token from bbolt.
func BenchmarkAuthorizeCacheMiss(b *testing.B) {
	const (
		total  = 1_000_000
		batch  = 10_000
		owners = 100
	)
	clock := newTestClock()
	s, _ := openStore(b, Options{Now: clock.Now, CacheSize: 1000, LastUsedInterval: time.Hour})
	secrets, owner := buildTokens(b, s, total, batch, owners)
	rng := rand.New(rand.NewPCG(3, 4))
	missesBefore := s.CacheStats().Misses
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		i := rng.IntN(total)
		d := s.Authorize(Request{Secret: secrets[i], Channel: owner(i), Kind: Conda, Package: "p"})
		if d.Outcome != Allow {
			b.Fatal(d.Message)
		}
		n++
	}
	b.ReportMetric(float64(s.CacheStats().Misses-missesBefore)/float64(n), "misses/op")
}

// buildTokens stores total tokens spread over owners users, batch tokens
// per transaction, and returns their secrets and which user owns the i-th.
// bbolt's fsync per commit is switched off while building (NoSync): the
// benchmark measures lookups, not the loading of its fixture.
func buildTokens(b *testing.B, s *Store, total, batch, owners int) ([]string, func(int) string) {
	b.Helper()
	start := time.Now()
	owner := func(i int) string { return fmt.Sprintf("user%03d", i%owners) }
	for i := range owners {
		addUser(b, s, owner(i), false)
		must(b, s.SetChannelDefault(testActor, owner(i), true))
	}
	db := s.be.(*boltBackend).db
	db.NoSync = true
	defer func() { db.NoSync = false }()
	secrets := make([]string, 0, total)
	specs := make([]TokenSpec, batch)
	for len(secrets) < total {
		for j := range specs {
			i := len(secrets) + j
			specs[j] = TokenSpec{Owner: owner(i), CreatedBy: owner(i), Name: fmt.Sprintf("t%d", i), Scopes: []string{"conda:download"}}
		}
		got, err := s.CreateTokens(testActor, specs)
		must(b, err)
		secrets = append(secrets, got...)
	}
	must(b, db.Sync())
	b.Logf("stored %d tokens in %v", total, time.Since(start).Round(time.Millisecond))
	return secrets, owner
}

// BenchmarkVisibility computes a group member's view of an organization
// channel with 1000 registered packages, half of them private.
func BenchmarkVisibility(b *testing.B) {
	w := newWorld(b)
	s := w.s
	var groupPkgs []string
	must(b, s.write(testActor, func(tx *writeTx) error {
		for i := range 1000 {
			name := fmt.Sprintf("pkg-%04d", i)
			if i%50 == 1 {
				groupPkgs = append(groupPkgs, name)
			}
			p := &Package{Channel: "acme", Name: name, Kind: Conda, Public: i%2 == 0, Collaborators: []string{}}
			if err := tx.putPackage(p, "package.put", ""); err != nil {
				return err
			}
		}
		return nil
	}))
	addGroup(b, s, "acme", "readers", PermRead, []string{"dave"}, groupPkgs)
	viewer, err := s.AuthenticateToken(w.tokens["dave"])
	must(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Visibility(viewer, "acme", Conda, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen times Open on an existing store file, the start-up cost of
// a big store. It is skipped unless CHANNELGATE_BENCH_DB names the file,
// e.g. the one bench/load builds:
//
//	go run ./bench/load -prepare
//	CHANNELGATE_BENCH_DB=bench/.data/store-1000000.db go test -run '^$' -bench Open -benchtime 10x ./tokenstore/
func BenchmarkOpen(b *testing.B) {
	path := os.Getenv("CHANNELGATE_BENCH_DB")
	if path == "" {
		b.Skip("CHANNELGATE_BENCH_DB not set")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join("..", path) // go test runs in the package folder
	}
	for b.Loop() {
		s, err := OpenFile(path, Options{})
		must(b, err)
		b.ReportMetric(float64(s.TokenCount()), "tokens")
		must(b, s.Close())
	}
}
