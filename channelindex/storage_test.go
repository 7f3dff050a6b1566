package channelindex

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDirStaysInside proves Dir refuses names that leave its folder,
// by path or through a symlink in storage.
func TestDirStaysInside(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, name := range []string{"../x", "/etc/x", "a/../../x", "a//b", "a\\b", "", ".", "escape/x"} {
		if err := d.WriteAtomic(name, strings.NewReader("x")); err == nil {
			t.Errorf("WriteAtomic(%q) succeeded", name)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("wrote outside the storage: %v", entries)
	}
}

// failingReader fails after some bytes, like an upload cut short.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), r.n)
	r.n -= n
	return n, nil
}

// TestDirWriteAtomic proves a failed write leaves the old file and no
// temporary file, and that listings never show one.
func TestDirWriteAtomic(t *testing.T) {
	d, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.WriteAtomic("ch/noarch/f", strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteAtomic("ch/noarch/f", &failingReader{n: 5}); err == nil {
		t.Fatal("a failed copy succeeded")
	}
	if b, _ := readAll(d, "ch/noarch/f"); string(b) != "old" {
		t.Fatalf("after a failed write: %q", b)
	}
	entries, err := d.List("ch/noarch")
	if err != nil || len(entries) != 1 {
		t.Fatalf("listing %v, %v", entries, err)
	}
	raw, _ := fs.ReadDir(d.root.FS(), "ch/noarch")
	if len(raw) != 1 {
		t.Fatalf("a temporary file was left: %v", raw)
	}
	if err := d.Remove("ch/noarch/f"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat("ch/noarch/f"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after Remove: %v", err)
	}
	if entries, err := d.List("absent"); err != nil || entries != nil {
		t.Fatalf("absent folder: %v, %v", entries, err)
	}
}

// TestLocalLocker proves one holder per key at a time, other keys free,
// and a waiter that gives up on its context.
func TestLocalLocker(t *testing.T) {
	var l LocalLocker
	ctx := context.Background()
	unlock, err := l.Lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if u, err := l.Lock(ctx, "b"); err != nil {
		t.Fatal(err)
	} else {
		u()
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(short, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second holder of a: %v", err)
	}
	got := make(chan struct{})
	go func() {
		u, err := l.Lock(ctx, "a")
		if err == nil {
			u()
		}
		close(got)
	}()
	unlock()
	unlock() // a second call does nothing
	<-got
	if len(l.locks) != 0 {
		t.Fatalf("locks left: %v", l.locks)
	}
}
