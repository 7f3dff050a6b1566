package channelindex

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func bytesSize(b []byte) int64 { return int64(len(b)) }

func TestViewETag(t *testing.T) {
	v1 := StorageValidator(10, time.Unix(5, 0), `"abc"`)
	v2 := StorageValidator(10, time.Unix(6, 0), `"abc"`)
	a := ViewETag(v1, "view-a")
	if a != ViewETag(v1, "view-a") {
		t.Error("same view, different ETags")
	}
	for _, other := range []string{ViewETag(v2, "view-a"), ViewETag(v1, "view-b"), ViewETag(v1+"view-a", ""), ViewETag("", v1+"view-a")} {
		if other == a {
			t.Errorf("different views share ETag %s", a)
		}
	}
	if len(a) < 4 || a[0] != '"' || a[len(a)-1] != '"' {
		t.Errorf("not a quoted ETag: %s", a)
	}
}

func TestViewCache(t *testing.T) {
	const entry = 100
	c := NewViewCache(3*(entry+viewCacheOverhead+3), bytesSize)
	key := func(p string) ViewKey { return ViewKey{Path: p, Validator: "v", View: "x"} }
	val := make([]byte, entry)
	computed := 0
	get := func(p string) {
		t.Helper()
		if _, err := c.Do(key(p), func() ([]byte, error) { computed++; return val, nil }); err != nil {
			t.Fatal(err)
		}
	}
	get("a")
	get("b")
	get("c")
	get("a") // a is now the most recent
	if computed != 3 {
		t.Fatalf("computed %d times", computed)
	}
	get("d") // evicts b
	if _, ok := c.Get(key("b")); ok {
		t.Error("b not evicted")
	}
	if _, ok := c.Get(key("a")); !ok {
		t.Error("a evicted")
	}
	if n, size := c.Len(); n != 3 || size > 3*(entry+viewCacheOverhead+3) {
		t.Errorf("%d entries, %d bytes", n, size)
	}

	// A new validator replaces the old version of the same path and view.
	newer := ViewKey{Path: "a", Validator: "w", View: "x"}
	if _, ok := c.Get(newer); ok {
		t.Error("hit with a different validator")
	}
	get("a")
	if _, err := c.Do(newer, func() ([]byte, error) { return []byte("new"), nil }); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(key("a")); ok {
		t.Error("old version kept")
	}

	// Errors are not cached; oversized values are returned, not kept.
	if _, err := c.Do(key("e"), func() ([]byte, error) { return nil, errors.New("boom") }); err == nil {
		t.Error("error lost")
	}
	big := make([]byte, 10000)
	if v, err := c.Do(key("big"), func() ([]byte, error) { return big, nil }); err != nil || len(v) != len(big) {
		t.Error("oversized value not returned")
	}
	if _, ok := c.Get(key("big")); ok {
		t.Error("oversized value cached")
	}
}

func TestViewCacheComputesOnce(t *testing.T) {
	c := NewViewCache(1<<20, bytesSize)
	var calls atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.Do(ViewKey{Path: "p"}, func() ([]byte, error) {
				calls.Add(1)
				<-release
				return []byte("out"), nil
			})
			if err != nil || string(v) != "out" {
				t.Errorf("got %q, %v", v, err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("computed %d times", n)
	}
}

func TestClassifyCondaPath(t *testing.T) {
	digest := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for p, want := range map[string]IndexKind{
		"linux-64/repodata.json":                       CondaRepodata,
		"noarch/current_repodata.json":                 CondaRepodata,
		"linux-64/repodata.json.zst":                   CondaRepodataZst,
		"linux-64/repodata.json.bz2":                   CondaRepodataBz2,
		"channeldata.json":                             CondaChanneldata,
		"noarch/repodata_shards.msgpack.zst":           CondaShardsIndex,
		"noarch/shards/" + digest + ".msgpack.zst":     CondaShard,
		"noarch/shards/" + digest[1:] + ".msgpack.zst": NotIndex,
		"noarch/other/" + digest + ".msgpack.zst":      NotIndex,
		"noarch/numpy-1.0-0.conda":                     NotIndex,
	} {
		if got := ClassifyCondaPath(p); got != want {
			t.Errorf("%s: %d, want %d", p, got, want)
		}
	}
	if !CondaRepodataBz2.NotFoundWhenFiltered() || CondaRepodataZst.NotFoundWhenFiltered() {
		t.Error("only .bz2 is answered 404 when filtered")
	}
}
