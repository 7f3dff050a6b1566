package etcdstore_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/channelgate/channelgate/internal/etcdtest"
	"github.com/channelgate/channelgate/tokenstore"
)

// TestCopyBoltEtcdBolt copies a bbolt store into etcd and back into a new
// bbolt file: counts, sequences and sampled records match at each step,
// a token created before the copies still authenticates after them, the
// audit log goes on from where it was, and copying into a store that is
// not empty is refused.
func TestCopyBoltEtcdBolt(t *testing.T) {
	c := etcdtest.Start(t, 3)
	dir := t.TempDir()
	src, err := tokenstore.OpenBolt(filepath.Join(dir, "src.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s, err := tokenstore.Open(src, tokenstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := gateway{s: s}
	secret := userToken(t, g, "alice")
	specs := make([]tokenstore.TokenSpec, 300)
	for i := range specs {
		specs[i] = tokenstore.TokenSpec{Owner: "alice", Name: fmt.Sprintf("bulk-%d", i)}
	}
	if _, err := s.CreateTokens(actor, specs); err != nil {
		t.Fatal(err)
	}
	s.Close()

	src, err = tokenstore.OpenBolt(filepath.Join(dir, "src.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	mid := open(t, c, "/copy/")
	defer mid.Close()
	opts := tokenstore.CopyOptions{Batch: 50, Sample: 10}
	r, err := tokenstore.Copy(mid, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Destination["tokens"] != 301 || r.Sampled == 0 {
		t.Fatalf("bbolt → etcd: %+v", r)
	}
	if _, err := tokenstore.Copy(mid, src, opts); !errors.Is(err, tokenstore.ErrNotEmpty) {
		t.Fatalf("second copy into the same prefix: %v, want ErrNotEmpty", err)
	}
	back, err := tokenstore.OpenBolt(filepath.Join(dir, "back.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokenstore.Copy(back, mid, opts); err != nil {
		t.Fatalf("etcd → bbolt: %v", err)
	}
	if _, err := tokenstore.Verify(back, src, opts); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	s2, err := tokenstore.Open(back, tokenstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if o := outcome(gateway{s: s2}, secret, "alice"); o != tokenstore.Allow {
		t.Fatalf("token after the round trip: %v", o)
	}
	if n := s2.TokenCount(); n != 301 {
		t.Fatalf("TokenCount after the round trip = %d, want 301", n)
	}
	before, err := s2.Audit(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.RevokeToken(actor, "alice", "t"); err != nil {
		t.Fatal(err)
	}
	after, err := s2.Audit(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Fatalf("audit events %d → %d after one more change: the sequence did not carry over", len(before), len(after))
	}
}
