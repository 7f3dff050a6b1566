package tokenstore

import (
	"sync"
	"testing"
)

func TestPlansFor(t *testing.T) {
	p := DefaultPlans()
	p.Domains["uni.example"] = "free"
	must(t, p.Validate())
	for _, tc := range []struct {
		acct Account
		want string
	}{
		{Account{Email: "a@example.com"}, "standard"},
		{Account{Email: "a@mit.edu"}, "academic"},
		{Account{Email: "a@cs.MIT.EDU"}, "academic"},
		{Account{Email: "a@notedu"}, "standard"},
		{Account{Email: "a@uni.example"}, "free"},
		{Account{Email: "a@cs.uni.example"}, "free"},
		{Account{Email: "a@mit.edu", Plan: "free"}, "free"},
		{Account{Email: "a@mit.edu", Plan: "gone"}, "academic"},
		{Account{Type: Org}, "standard"},
	} {
		if got := p.For(&tc.acct).Name; got != tc.want {
			t.Errorf("plan of %+v = %s, want %s", tc.acct, got, tc.want)
		}
	}
	bad := DefaultPlans()
	bad.Domains[".ac.uk"] = "missing"
	wantErr(t, bad.Validate(), ErrInvalid, "missing")
}

func TestCharge(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	plan := Plan{Name: "small", StorageBytes: 100, MaxFileBytes: 60}
	for _, tc := range []struct {
		name           string
		size, replaced int64
		private        bool
		kind           error
		substr         string
		usageAfter     int64
	}{
		{"fits", 50, 0, false, nil, "", 50},
		{"file too large", 61, 0, false, ErrTooLarge, "larger than plan small", 50},
		{"private not allowed", 10, 0, true, ErrForbidden, "private packages", 50},
		{"over storage", 51, 0, false, ErrForbidden, "storage quota exceeded", 50},
		{"replacing frees its size", 60, 20, false, nil, "", 90},
		{"exactly full", 10, 0, false, nil, "", 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, s.Charge("alice", plan, tc.size, tc.replaced, tc.private), tc.kind, tc.substr)
			if u, err := s.Usage("alice"); err != nil || u != tc.usageAfter {
				t.Fatalf("usage = %d, %v; want %d", u, err, tc.usageAfter)
			}
		})
	}
	must(t, s.Refund("alice", 30))
	must(t, s.Refund("alice", 1000))
	if u, _ := s.Usage("alice"); u != 0 {
		t.Fatalf("usage after refunds = %d, want 0 (never negative)", u)
	}
}

// TestChargeConcurrent proves that uploads racing for the last bytes of a
// plan never exceed it together.
func TestChargeConcurrent(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	plan := Plan{Name: "p", StorageBytes: 1000}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.Charge("alice", plan, 100, 0, false) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if u, _ := s.Usage("alice"); ok != 10 || u != 1000 {
		t.Fatalf("%d charges accepted, usage %d; want 10 and 1000", ok, u)
	}
}

func TestSetPlan(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	must(t, s.SetPlan(testActor, "alice", "academic"))
	a, err := s.Account("alice")
	must(t, err)
	if got := DefaultPlans().For(a).Name; got != "academic" {
		t.Fatalf("plan = %s, want academic", got)
	}
	wantErr(t, s.SetPlan(testActor, "nobody", "free"), ErrNotFound, "nobody")
}
