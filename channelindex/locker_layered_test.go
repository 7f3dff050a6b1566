package channelindex

import (
	"context"
	"errors"
	"testing"
	"time"
)

// openLocker is a shared Locker that lets every caller in (as an etcd
// lock does for goroutines of one process) and counts its holders.
type openLocker struct{ held int }

func (o *openLocker) Lock(context.Context, string) (func(), error) {
	o.held++
	return func() { o.held-- }, nil
}

// TestProcessLocal: a second goroutine of the process waits for the key
// while the first holds it, another key is free, and the shared lock is
// held once.
func TestProcessLocal(t *testing.T) {
	shared := &openLocker{}
	l := ProcessLocal(shared)
	unlock, err := l.Lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = l.Lock(ctx, "k")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second holder of k: %v, want a deadline", err)
	}
	other, err := l.Lock(context.Background(), "other")
	if err != nil {
		t.Fatal(err)
	}
	other()
	unlock()
	if shared.held != 0 {
		t.Fatalf("shared lock held %d times after unlock", shared.held)
	}
	again, err := l.Lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	again()
}
