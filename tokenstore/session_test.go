package tokenstore

import (
	"bytes"
	"testing"
	"time"
)

var testLimits = SessionLimits{Idle: time.Hour, Absolute: 8 * time.Hour}

// TestSessionLifetime proves that a session is found by its id only, ends
// when idle or too old, is refreshed by use, and is stored by hash.
func TestSessionLifetime(t *testing.T) {
	tests := []struct {
		name  string
		steps []time.Duration // clock advances, each followed by a lookup that must succeed
		last  time.Duration   // final advance
		ok    bool            // whether the final lookup succeeds
		msg   string
	}{
		{"fresh", nil, 0, true, ""},
		{"used within idle", nil, 59 * time.Minute, true, ""},
		{"idle", nil, time.Hour, false, "session expired"},
		{"kept alive by use", []time.Duration{50 * time.Minute, 50 * time.Minute, 50 * time.Minute}, 50 * time.Minute, true, ""},
		{"absolute end despite use", []time.Duration{50 * time.Minute, 50 * time.Minute, 50 * time.Minute,
			50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute}, 50 * time.Minute, false, "session expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			s, _ := openStore(t, Options{Now: clock.Now})
			addUser(t, s, "alice", false)
			sess, err := s.CreateSession(testActor, "alice", testLimits)
			must(t, err)
			for i, d := range tc.steps {
				clock.Advance(d)
				if _, err := s.LookupSession(sess.ID); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			clock.Advance(tc.last)
			got, err := s.LookupSession(sess.ID)
			if !tc.ok {
				wantErr(t, err, ErrAuth, tc.msg)
				// An expired session stays expired.
				_, err = s.LookupSession(sess.ID)
				wantErr(t, err, ErrAuth, "no such session")
				return
			}
			must(t, err)
			if got.User != "alice" || got.FormToken != sess.FormToken || got.ID != sess.ID {
				t.Fatalf("session = %+v", got)
			}
		})
	}
}

func TestSessionIDNotStored(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	sess, err := s.CreateSession(testActor, "alice", testLimits)
	must(t, err)
	must(t, s.be.View(func(tx Tx) error {
		return tx.ForEach(bucketSessions, nil, func(k, v []byte) error {
			if bytes.Contains(k, []byte(sess.ID)) || bytes.Contains(v, []byte(sess.ID)) {
				t.Fatal("the session id is stored in clear")
			}
			return nil
		})
	}))
	for _, id := range []string{"", "x", sess.ID + "x", sess.FormToken} {
		_, err := s.LookupSession(id)
		wantErr(t, err, ErrAuth, "")
	}
	_, err = s.CreateSession(testActor, "nobody", testLimits)
	wantErr(t, err, ErrNotFound, "")
}

// TestSessionEnd proves log-out and "end other sessions" (password change,
// reset) on one store, and that a second store on the same backend sees
// them (what a second gateway sharing the store does).
func TestSessionEnd(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	addUser(t, s, "bob", false)
	newSess := func(u string) string {
		sess, err := s.CreateSession(testActor, u, testLimits)
		must(t, err)
		return sess.ID
	}
	a1, a2, a3, b1 := newSess("alice"), newSess("alice"), newSess("alice"), newSess("bob")
	must(t, s.DeleteSession(testActor, a1))
	must(t, s.DeleteSession(testActor, a1)) // twice is fine
	must(t, s.EndOtherSessions(testActor, "alice", a2))
	live := map[string]bool{a1: false, a2: true, a3: false, b1: true}
	for id, want := range live {
		_, err := s.LookupSession(id)
		if (err == nil) != want {
			t.Errorf("session live = %v, want %v (%v)", err == nil, want, err)
		}
	}
}

func TestSessionConfirm(t *testing.T) {
	clock := newTestClock()
	s, _ := openStore(t, Options{Now: clock.Now})
	addUser(t, s, "alice", false)
	sess, err := s.CreateSession(testActor, "alice", testLimits)
	must(t, err)
	clock.Advance(30 * time.Minute)
	must(t, s.ConfirmSession(sess.ID))
	got, err := s.LookupSession(sess.ID)
	must(t, err)
	if !got.Confirmed.Equal(clock.Now()) || !got.Created.Equal(sess.Created) {
		t.Fatalf("confirmed %v created %v", got.Confirmed, got.Created)
	}
}

func TestFormKey(t *testing.T) {
	s, _ := openStore(t, Options{})
	k1, err := s.FormKey()
	must(t, err)
	k2, err := s.FormKey()
	must(t, err)
	if len(k1) != 32 || !bytes.Equal(k1, k2) {
		t.Fatalf("form keys %x %x", k1, k2)
	}
}

// TestSessionSweep: a log-in deletes the expired sessions of browsers that
// never came back, at most once an hour per process.
func TestSessionSweep(t *testing.T) {
	clock := newTestClock()
	s, _ := openStore(t, Options{Now: clock.Now})
	addUser(t, s, "alice", false)
	count := func() int {
		n := 0
		must(t, s.be.View(func(tx Tx) error { n = tx.Count(bucketSessions); return nil }))
		return n
	}
	lim := SessionLimits{Idle: 30 * time.Minute, Absolute: 8 * time.Hour}
	for range 3 {
		_, err := s.CreateSession(testActor, "alice", lim)
		must(t, err)
	}
	clock.Advance(lim.Idle)
	_, err := s.CreateSession(testActor, "alice", lim) // swept at the first log-in already: not again yet
	must(t, err)
	if got := count(); got != 4 {
		t.Fatalf("%d sessions before the next sweep", got)
	}
	clock.Advance(sessionSweepEvery)
	_, err = s.CreateSession(testActor, "alice", lim)
	must(t, err)
	if got := count(); got != 1 {
		t.Fatalf("%d sessions after the sweep, want the new one", got)
	}
}
