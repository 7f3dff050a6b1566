package etcdstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/channelgate/channelgate/internal/etcdtest"
	"github.com/channelgate/channelgate/tokenstore/etcdstore"
)

// TestLockerAcrossGateways: a lock held through one backend keeps another
// waiting; held by a process that goes away without unlocking (its client
// closed, as a killed gateway's would be), it is released when its lease
// expires; an unlocked lock is free at once.
func TestLockerAcrossGateways(t *testing.T) {
	c := etcdtest.Start(t, 3)
	cfg := etcdstore.Config{Endpoints: c.Endpoints(), LockTTL: 2 * time.Second}
	a, err := etcdstore.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := open(t, c, etcdstore.DefaultPrefix)
	t.Cleanup(func() { b.Close() })
	const key = "conda/alice/noarch"

	unlock, err := b.Locker().Lock(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if _, err := a.Locker().Lock(context.Background(), key); err != nil {
		t.Fatalf("a lock unlocked by b: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err = b.Locker().Lock(ctx, key)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second holder while a holds the lock: %v, want a deadline", err)
	}
	if _, err := b.Locker().Lock(context.Background(), "conda/alice/linux-64"); err != nil {
		t.Fatalf("another key: %v", err)
	}
	a.Close() // a is gone without unlocking
	gone := time.Now()
	unlock, err = b.Locker().Lock(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	t.Logf("the lock of a closed holder was free after %v (lease 2s)", time.Since(gone).Round(time.Millisecond))
}
