package channelindex

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// sharedPublishers returns two Publishers on one directory with one
// Locker, as two gateways on a shared storage.
func sharedPublishers(t *testing.T) (a, b *testPublisher) {
	root := t.TempDir()
	locker := &LocalLocker{}
	open := func() *testPublisher {
		dir, err := OpenDir(root)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dir.Close() })
		p, err := NewPublisher(dir, Options{Locker: locker, Now: func() time.Time { return indextest.Time }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return &testPublisher{Publisher: p, t: t, root: root}
	}
	return open(), open()
}

// TestSharedStorageAlternating has two Publishers on one directory add
// in turn: each sees the other's records.
func TestSharedStorageAlternating(t *testing.T) {
	a, b := sharedPublishers(t)
	var want []string
	for i := range 10 {
		c := indextest.Conda{Name: fmt.Sprintf("pkg%d", i), Version: "1.0", Build: "0", Subdir: "linux-64"}
		[]*testPublisher{a, b}[i%2].addConda(c)
		want = append(want, c.FileName())
	}
	slices.Sort(want)
	if got := a.repodata("acme/linux-64/repodata.json").files(); !slices.Equal(got, want) {
		t.Fatalf("index lists %v, want %v", got, want)
	}
}

// TestSharedStorageSameSizeAndTime has one Publisher rewrite the index
// to the same size and modification time the other cached (as on a file
// system with coarse timestamps): the other still sees the rewrite (by
// its new inode and change time) and neither loses a record nor lists a removed file.
func TestSharedStorageSameSizeAndTime(t *testing.T) {
	a, b := sharedPublishers(t)
	index := filepath.Join(a.root, "acme/linux-64/repodata.json")
	aa := indextest.Conda{Name: "aa", Version: "1.0", Build: "0", Subdir: "linux-64"}
	bb := indextest.Conda{Name: "bb", Version: "1.0", Build: "0", Subdir: "linux-64"}
	cc := indextest.Conda{Name: "cc", Version: "1.0", Build: "0", Subdir: "linux-64"}
	a.addConda(aa) // a caches the index listing aa
	cached, err := os.Stat(index)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.RemoveConda(context.Background(), "acme", CondaQuery{Subdir: "linux-64", File: aa.FileName()}); err != nil {
		t.Fatal(err)
	}
	b.addConda(bb)
	if err := os.Chtimes(index, cached.ModTime(), cached.ModTime()); err != nil {
		t.Fatal(err)
	}
	if now, err := os.Stat(index); err != nil || now.Size() != cached.Size() {
		t.Fatalf("setup: the rewritten index must keep the size %d: %v, %v", cached.Size(), now, err)
	}
	a.addConda(cc)
	want := []string{bb.FileName(), cc.FileName()}
	if got := a.repodata("acme/linux-64/repodata.json").files(); !slices.Equal(got, want) {
		t.Fatalf("index lists %v, want %v", got, want)
	}
}
