package limiter

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a fake clock for the tests.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// TestWaitFail proves the window on a fake clock: the wait starts at the
// Limit-th failure within the window, counts down to the window's end,
// ends with it, and a new window starts afresh; the key table is bounded.
func TestWaitFail(t *testing.T) {
	c := &clock{now: time.Unix(1000, 0)}
	l := New(Config{Limit: 3, Window: time.Minute, Size: 2, Now: c.Now})
	check := func(key string, want time.Duration) {
		t.Helper()
		if got := l.Wait(key); got != want {
			t.Fatalf("%s at %v: wait %v, want %v", key, c.now.Unix(), got, want)
		}
	}
	l.Fail("a")
	c.Advance(10 * time.Second)
	l.Fail("a")
	check("a", 0)
	l.Fail("a")
	check("a", 50*time.Second)
	c.Advance(49 * time.Second)
	check("a", time.Second)
	c.Advance(time.Second)
	check("a", 0) // the window ended
	l.Fail("a")
	check("a", 0) // a new window, one failure
	l.Fail("b")
	l.Fail("c") // the table holds two keys: a is forgotten
	if l.keys.Len() != 2 || l.keys.Contains("a") {
		t.Fatalf("key table: %v", l.keys.Keys())
	}
}

// TestReserveSettle proves reserve-then-settle: reservations count
// before their check, successes give theirs back, failures keep them, a
// key full of unsettled reservations waits briefly, and an attempt under
// several keys is reserved under all or none.
func TestReserveSettle(t *testing.T) {
	c := &clock{now: time.Unix(1000, 0)}
	a := New(Config{Limit: 2, Window: time.Minute, Now: c.Now})
	b := New(Config{Limit: 3, Window: time.Minute, Now: c.Now})
	keys := []Key{{a, "k"}, {b, "k"}}

	first, wait := Reserve(keys...)
	second, _ := Reserve(keys...)
	if first == nil || second == nil || wait != 0 {
		t.Fatalf("two reservations within the limit: %v %v %v", first, second, wait)
	}
	if _, wait := Reserve(keys...); wait != busyWait {
		t.Fatalf("third while two are unsettled: wait %v, want %v", wait, busyWait)
	}
	first.Done(true) // a success gives its slot back
	third, _ := Reserve(keys...)
	if third == nil {
		t.Fatal("no slot after a success")
	}
	second.Done(false)
	third.Done(false)
	if _, wait := Reserve(keys...); wait != time.Minute {
		t.Fatalf("after two failures: wait %v, want the window", wait)
	}
	// b holds exactly the two failures, and a refused attempt under a
	// new key adds it nowhere.
	if got := b.keys.Values()[0].failures; got != 2 {
		t.Fatalf("b counts %d, want 2", got)
	}
	if at, _ := Reserve(Key{a, "k"}, Key{b, "new"}); at != nil || b.keys.Contains("new") {
		t.Fatalf("refused attempt: %v, b keys %v", at, b.keys.Keys())
	}
	c.Advance(time.Minute)
	if at, _ := Reserve(keys...); at == nil {
		t.Fatal("no slot in a new window")
	}
}

// TestReserveConcurrent proves the point of reserving: of many attempts
// at once, at most Limit are ever let through to their check when all
// fail.
func TestReserveConcurrent(t *testing.T) {
	l := New(Config{Limit: 5})
	var checked atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			at, wait := Reserve(Key{l, "alice"})
			if wait > 0 {
				return
			}
			checked.Add(1)
			runtime.Gosched()
			at.Done(false)
		})
	}
	wg.Wait()
	if n := checked.Load(); n > 5 {
		t.Fatalf("%d attempts checked, limit 5", n)
	}
}

// TestLogins proves the three keys of the password limit: failures from
// one address stop that address's guesses at the account, not the owner
// at another address, until the account's own limit is reached; one
// address is stopped across accounts.
func TestLogins(t *testing.T) {
	c := &clock{now: time.Unix(1000, 0)}
	g := NewLogins(LoginsConfig{PerPair: 2, PerAccount: 4, PerAddress: 3, Now: c.Now})
	try := func(account, address string, success bool) time.Duration {
		at, wait := g.Reserve(account, address)
		if at != nil {
			at.Done(success)
		}
		return wait
	}
	for _, step := range []struct {
		account, address string
		success          bool
		refused          bool
	}{
		{"alice", "10.0.0.1", false, false},
		{"alice", "10.0.0.1", false, false},
		{"alice", "10.0.0.1", true, true},  // pair limit: even the right password waits
		{"alice", "10.0.0.2", true, false}, // the owner elsewhere gets in
		{"bob", "10.0.0.1", false, false},  // third failure of 10.0.0.1
		{"carol", "10.0.0.1", true, true},  // address limit
		{"alice", "10.0.0.3", false, false},
		{"alice", "10.0.0.4", false, false}, // fourth failure at alice
		{"alice", "10.0.0.5", true, true},   // account limit
	} {
		if got := try(step.account, step.address, step.success) > 0; got != step.refused {
			t.Fatalf("%s from %s: refused %v, want %v", step.account, step.address, got, step.refused)
		}
	}
}

// TestAddress proves the address keys: IPv4-mapped addresses unmapped,
// IPv6 per /64.
func TestAddress(t *testing.T) {
	for _, tc := range []struct{ ip, key string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"},
		{"not-an-address", "not-an-address"},
	} {
		if got := Address(tc.ip); got != tc.key {
			t.Errorf("Address(%s) = %q, want %q", tc.ip, got, tc.key)
		}
	}
}

// TestHold proves the hold's bounds: at most cap answers wait at once
// (the next is answered at once rather than queued), and a client that
// goes away ends its wait. (A hold that ignored either would hang this
// test on its hour-long delay.)
func TestHold(t *testing.T) {
	h := newHold(time.Hour, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.wait(ctx)
		close(done)
	}()
	for len(h.slots) == 0 {
		runtime.Gosched()
	}
	h.wait(context.Background()) // the one slot is taken: returns at once
	cancel()
	<-done
	if len(h.slots) != 0 {
		t.Fatalf("%d slots still taken", len(h.slots))
	}
	New(Config{}).Hold(context.Background()) // no delay: returns at once
}

// TestOff proves that a negative limit turns the limiter off.
func TestOff(t *testing.T) {
	l := New(Config{Limit: -1})
	for range 100 {
		l.Fail("k")
		if at, wait := Reserve(Key{l, "k"}); at == nil || wait != 0 {
			t.Fatalf("off limiter refused: %v", wait)
		}
	}
	if wait := l.Wait("k"); wait != 0 {
		t.Fatalf("off limiter: wait %v", wait)
	}
}

// BenchmarkWait is the gateway's cost per request carrying a token from
// an address that has failed before: a read-locked lookup.
func BenchmarkWait(b *testing.B) {
	l := New(Config{Limit: 20, Window: time.Minute})
	l.Fail("192.0.2.7")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if l.Wait("192.0.2.7") != 0 {
				b.Fatal("limited")
			}
		}
	})
}
