// Package backendtest is the conformance suite every tokenstore.Backend
// passes: bbolt (tokenstore's tests) and etcd (etcdstore's tests) run the
// same checks, at the Tx level and through the Store's public API, so the
// domain written once behaves the same on both.
package backendtest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/channelgate/channelgate/tokenstore"
)

// Open returns a fresh, empty backend; the suite closes it.
type Open func(t *testing.T) tokenstore.Backend

// Peer opens another backend on the same state as be, as a second gateway
// would; the suite closes it. nil for a backend only one process opens
// (bbolt): the two-gateway checks then run on one store.
type Peer func(t *testing.T, be tokenstore.Backend) tokenstore.Backend

// Run runs the whole suite, each check on a fresh backend.
func Run(t *testing.T, open Open, peer Peer) {
	checks := []struct {
		name string
		fn   func(*testing.T, tokenstore.Backend, Peer)
	}{
		{"PutGetDelete", putGetDelete},
		{"Rollback", rollback},
		{"OwnWrites", ownWrites},
		{"ScanOrderAndStop", scanOrderAndStop},
		{"ScanPages", scanPages},
		{"Sequence", sequence},
		{"Feed", feed},
		{"SerializableCounter", serializableCounter},
		{"StoreTokenLifecycle", storeTokenLifecycle},
		{"StoreUniqueNames", storeUniqueNames},
		{"StoreTokenCap", storeTokenCap},
		{"StoreRevokeCascade", storeRevokeCascade},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			be := open(t)
			t.Cleanup(func() { be.Close() })
			c.fn(t, be, peer)
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// get reads one key in its own transaction.
func get(t *testing.T, be tokenstore.Backend, bucket, key string) []byte {
	t.Helper()
	var v []byte
	must(t, be.View(func(tx tokenstore.Tx) error {
		v = bytes.Clone(tx.Get(bucket, []byte(key)))
		return nil
	}))
	return v
}

// put writes key=value pairs in one transaction.
func put(t *testing.T, be tokenstore.Backend, bucket string, kv ...string) {
	t.Helper()
	must(t, be.Update(func(tx tokenstore.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Put(bucket, []byte(kv[i]), []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	}))
}

// keys lists a scan's keys and values as "k=v".
func keys(t *testing.T, be tokenstore.Backend, scan func(tx tokenstore.Tx, fn func(k, v []byte) error) error) []string {
	t.Helper()
	var out []string
	must(t, be.View(func(tx tokenstore.Tx) error {
		return scan(tx, func(k, v []byte) error {
			out = append(out, string(k)+"="+string(v))
			return nil
		})
	}))
	return out
}

func putGetDelete(t *testing.T, be tokenstore.Backend, _ Peer) {
	const b = "accounts"
	if v := get(t, be, b, "alice"); v != nil {
		t.Fatalf("absent key = %q, want nil", v)
	}
	put(t, be, b, "alice", "1", "empty", "")
	if v := get(t, be, b, "alice"); string(v) != "1" {
		t.Fatalf("alice = %q", v)
	}
	if v := get(t, be, b, "empty"); v == nil || len(v) != 0 {
		t.Fatalf("empty value = %#v, want non-nil empty", v)
	}
	if v := get(t, be, "groups", "alice"); v != nil {
		t.Fatalf("buckets are separate: groups/alice = %q", v)
	}
	must(t, be.Update(func(tx tokenstore.Tx) error { return tx.Delete(b, []byte("alice")) }))
	if v := get(t, be, b, "alice"); v != nil {
		t.Fatalf("deleted key = %q", v)
	}
}

func rollback(t *testing.T, be tokenstore.Backend, _ Peer) {
	boom := errors.New("boom")
	var changes atomic.Int32
	be.Watch(func(tokenstore.Change) { changes.Add(1) })
	err := be.Update(func(tx tokenstore.Tx) error {
		if err := tx.Put("accounts", []byte("bob"), []byte("x")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want fn's error", err)
	}
	if v := get(t, be, "accounts", "bob"); v != nil {
		t.Fatalf("rolled back write is visible: %q", v)
	}
	if n := changes.Load(); n != 0 {
		t.Fatalf("feed got %d changes of a rolled back transaction", n)
	}
}

// ownWrites: a transaction sees its own puts and deletes in Get, scans
// and Count, merged in key order with what was there.
func ownWrites(t *testing.T, be tokenstore.Backend, _ Peer) {
	const b = "packages"
	put(t, be, b, "a", "1", "c", "3", "e", "5")
	must(t, be.Update(func(tx tokenstore.Tx) error {
		must(t, tx.Put(b, []byte("b"), []byte("2")))
		must(t, tx.Put(b, []byte("c"), []byte("33")))
		must(t, tx.Delete(b, []byte("e")))
		must(t, tx.Put(b, []byte("f"), []byte("6")))
		if v := tx.Get(b, []byte("c")); string(v) != "33" {
			t.Errorf("own put: c = %q", v)
		}
		if v := tx.Get(b, []byte("e")); v != nil {
			t.Errorf("own delete: e = %q", v)
		}
		var got []string
		must(t, tx.ForEach(b, nil, func(k, v []byte) error {
			got = append(got, string(k)+"="+string(v))
			return nil
		}))
		if want := []string{"a=1", "b=2", "c=33", "f=6"}; !slices.Equal(got, want) {
			t.Errorf("ForEach in transaction = %v, want %v", got, want)
		}
		if n := tx.Count(b); n != 4 {
			t.Errorf("Count in transaction = %d, want 4", n)
		}
		return nil
	}))
	got := keys(t, be, func(tx tokenstore.Tx, fn func(k, v []byte) error) error { return tx.ForEach(b, nil, fn) })
	if want := []string{"a=1", "b=2", "c=33", "f=6"}; !slices.Equal(got, want) {
		t.Fatalf("after commit = %v, want %v", got, want)
	}
}

func scanOrderAndStop(t *testing.T, be tokenstore.Backend, _ Peer) {
	const b = "tokens"
	put(t, be, b, "x\x00b", "2", "x\x00a", "1", "xy", "3", "w", "0", "z", "4")
	tests := []struct {
		name string
		scan func(tx tokenstore.Tx, fn func(k, v []byte) error) error
		want []string
	}{
		{"prefix", func(tx tokenstore.Tx, fn func(k, v []byte) error) error {
			return tx.ForEach(b, []byte("x\x00"), fn)
		}, []string{"x\x00a=1", "x\x00b=2"}},
		{"all", func(tx tokenstore.Tx, fn func(k, v []byte) error) error {
			return tx.ForEach(b, nil, fn)
		}, []string{"w=0", "x\x00a=1", "x\x00b=2", "xy=3", "z=4"}},
		{"from", func(tx tokenstore.Tx, fn func(k, v []byte) error) error {
			return tx.ForEachFrom(b, []byte("x\x00b"), fn)
		}, []string{"x\x00b=2", "xy=3", "z=4"}},
		{"stop", func(tx tokenstore.Tx, fn func(k, v []byte) error) error {
			n := 0
			return tx.ForEach(b, nil, func(k, v []byte) error {
				if n++; n > 2 {
					return tokenstore.ErrStop
				}
				return fn(k, v)
			})
		}, []string{"w=0", "x\x00a=1"}},
	}
	for _, tt := range tests {
		if got := keys(t, be, tt.scan); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	boom := errors.New("boom")
	err := be.View(func(tx tokenstore.Tx) error {
		return tx.ForEach(b, nil, func(k, v []byte) error { return boom })
	})
	if !errors.Is(err, boom) {
		t.Fatalf("callback error = %v, want it returned", err)
	}
}

// scanPages: a scan longer than a backend's page returns every key once,
// in order, and Count agrees.
func scanPages(t *testing.T, be tokenstore.Backend, _ Peer) {
	const b, n = "audit", 1300
	must(t, be.Update(func(tx tokenstore.Tx) error {
		for i := range n {
			if err := tx.Put(b, fmt.Appendf(nil, "%06d", i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}))
	got := keys(t, be, func(tx tokenstore.Tx, fn func(k, v []byte) error) error { return tx.ForEach(b, nil, fn) })
	if len(got) != n || got[0] != "000000=v" || got[n-1] != fmt.Sprintf("%06d=v", n-1) || !slices.IsSorted(got) {
		t.Fatalf("scan of %d keys returned %d (first %q)", n, len(got), got[:min(1, len(got))])
	}
	must(t, be.View(func(tx tokenstore.Tx) error {
		if c := tx.Count(b); c != n {
			t.Errorf("Count = %d, want %d", c, n)
		}
		return nil
	}))
}

func sequence(t *testing.T, be tokenstore.Backend, _ Peer) {
	var got []uint64
	for range 3 {
		must(t, be.Update(func(tx tokenstore.Tx) error {
			n, err := tx.NextSequence("audit")
			got = append(got, n)
			return err
		}))
	}
	must(t, be.Update(func(tx tokenstore.Tx) error {
		n, err := tx.NextSequence("groups")
		got = append(got, n)
		return err
	}))
	if want := []uint64{1, 2, 3, 1}; !slices.Equal(got, want) {
		t.Fatalf("sequences = %v, want %v (per bucket, from 1)", got, want)
	}
}

// feed: Update returns after the feed has the transaction's changes (a
// shared backend may deliver its watch's copy of them again, later).
func feed(t *testing.T, be tokenstore.Backend, _ Peer) {
	var mu sync.Mutex
	got := map[string]bool{}
	be.Watch(func(c tokenstore.Change) {
		v := "<deleted>"
		if c.Value != nil {
			v = string(c.Value)
		}
		mu.Lock()
		got[c.Bucket+"/"+string(c.Key)+"="+v] = true
		mu.Unlock()
	})
	delivered := func(c string) bool {
		mu.Lock()
		defer mu.Unlock()
		return got[c]
	}
	put(t, be, "tokens", "k1", "v1")
	if !delivered("tokens/k1=v1") {
		t.Fatal("put not in the feed when Update returned")
	}
	must(t, be.Update(func(tx tokenstore.Tx) error { return tx.Delete("tokens", []byte("k1")) }))
	if !delivered("tokens/k1=<deleted>") {
		t.Fatal("delete not in the feed when Update returned")
	}
	must(t, be.Fresh())
}

// serializableCounter: concurrent read-modify-write transactions lose no
// update (bbolt: one writer; etcd: compare on the commit key and retry).
func serializableCounter(t *testing.T, be tokenstore.Backend, _ Peer) {
	const writers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				errs <- be.Update(func(tx tokenstore.Tx) error {
					n := len(tx.Get("meta", []byte("counter")))
					return tx.Put("meta", []byte("counter"), bytes.Repeat([]byte("x"), n+1))
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	if n := len(get(t, be, "meta", "counter")); n != writers*each {
		t.Fatalf("counter = %d after %d increments", n, writers*each)
	}
}
