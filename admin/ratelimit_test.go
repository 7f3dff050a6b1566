package admin_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/limiter"
	"github.com/channelgate/channelgate/tokenstore"
)

// TestConcurrentGuessesChecked proves finding 3: 100 simultaneous wrong
// passwords at one account from one address reach the password check at
// most limiter.DefaultPerPair times, counted by the store's hook on every
// argon2id run. (Checking the limit before the hash and counting after
// it, as before, let nearly all of them through.)
func TestConcurrentGuessesChecked(t *testing.T) {
	var checks atomic.Int64
	st, err := tokenstore.OpenFile(filepath.Join(t.TempDir(), "db"), tokenstore.Options{
		MaxPasswordChecks:    2,
		PasswordWait:         time.Minute, // no 429 for load: every guess let through is checked
		ObservePasswordCheck: func(time.Duration) { checks.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateUser(tokenstore.Actor{Name: "test"}, tokenstore.NewUser{Name: "alice",
		Email: "alice@example.org", Password: password, PasswordConfirmation: password, AcceptTerms: true}); err != nil {
		t.Fatal(err)
	}
	checks.Store(0)
	srv := httptest.NewServer(admin.New(st, admin.Config{OperatorSecret: operatorSecret}))
	t.Cleanup(srv.Close)

	const guesses = 100
	statuses := make(chan int, guesses)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range guesses {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", srv.URL+"/user", nil)
			req.SetBasicAuth("alice", "wrong-password")
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	t.Logf("%d simultaneous guesses: %d password checks; answers %v", guesses, checks.Load(), count)
	if n := checks.Load(); n > limiter.DefaultPerPair {
		t.Fatalf("%d guesses reached the password check, limit %d", n, limiter.DefaultPerPair)
	}
	if count[401]+count[429] != guesses {
		t.Fatalf("answers %v, want only 401 and 429", count)
	}
}

// TestSecretGuessLimit proves finding 9 at the API: wrong operator
// secrets and unknown tokens count against the client's address; past
// the limit that address gets 429 with Retry-After for every token it
// sends, the right operator secret included, while other addresses are
// served; the wrong secret is named as such.
func TestSecretGuessLimit(t *testing.T) {
	from := func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	e := newEnv(t, admin.Config{ClientAddress: from})
	unknown := "token " + e.token("alice", "gone")
	if r := e.do("DELETE", "/authentications", unknown, nil); r.status != 201 {
		t.Fatalf("revoking: %d %s", r.status, r.body)
	}
	for i := range admin.DefaultSecretFailures {
		auth, want := "token not-the-operator-secret", "wrong operator secret"
		if i%2 == 1 {
			auth, want = unknown, "revoked"
		}
		r := e.doFrom("10.0.0.1", "GET", "/user", auth)
		if msg, _ := r.field(t, "error").(string); r.status != 401 || !strings.Contains(msg, want) {
			t.Fatalf("guess %d: %d %q, want 401 %q", i+1, r.status, msg, want)
		}
	}
	r := e.doFrom("10.0.0.1", "GET", "/user", "token "+operatorSecret)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("operator secret from the limited address: %d Retry-After %q, want 429", r.status, r.header.Get("Retry-After"))
	}
	if r := e.doFrom("10.0.0.2", "GET", "/user", "token "+operatorSecret); r.status != 200 {
		t.Fatalf("operator secret from another address: %d %s", r.status, r.body)
	}
	if r := e.doFrom("10.0.0.1", "GET", "/scopes", ""); r.status != 200 {
		t.Fatalf("anonymous call from the limited address: %d %s", r.status, r.body)
	}
	e.clock.Advance(admin.DefaultSecretFailureWindow)
	if r := e.doFrom("10.0.0.1", "GET", "/user", "token "+operatorSecret); r.status != 200 {
		t.Fatalf("operator secret after the window: %d %s", r.status, r.body)
	}
}
