package caddymodule

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRevocationUnderLoad proves that a revocation holds under load: 50
// clients download a 256 KB private package with one token through the
// real Caddy; once all are under way the token is revoked through the
// store. Every request that started after the revoke call returned is
// refused (401 revoked), by two independent markers: an atomic flag set
// after the call returned and read by each client before it sends
// (happens-before), and the monotonic clock (start time after the call's
// return time). Every request that was allowed got the whole package.
func TestRevocationUnderLoad(t *testing.T) {
	const (
		clients      = 50
		afterRevoke  = 5    // requests per client that must be refused
		maxPerClient = 1000 // a bound in case the revocation never lands
	)
	g := startGateway(t, "failure_limit off")
	alice := g.seed()["alice/all"]
	content := strings.Repeat("S", 256<<10)
	g.file("acme/noarch/secret-1.0-0.conda", content)
	url := g.base + "/t/" + alice + "/acme/noarch/secret-1.0-0.conda"
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}

	type result struct {
		start       time.Time
		flagSeen    bool // the revoked flag was set before the request was sent
		status      int
		wholeAnswer bool
		body        string
	}
	var (
		revoked    atomic.Bool
		revokedAt  time.Time // written before revoked is set
		started    sync.WaitGroup
		done       sync.WaitGroup
		results    [clients][]result
		startedOne [clients]bool
	)
	started.Add(clients)
	done.Add(clients)
	for c := range clients {
		go func() {
			defer done.Done()
			refused := 0
			for range maxPerClient {
				flag := revoked.Load()
				r := result{start: time.Now(), flagSeen: flag}
				resp, err := client.Get(url)
				if err != nil {
					t.Errorf("client %d: %v", c, err)
					break
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				r.status, r.wholeAnswer = resp.StatusCode, err == nil && string(b) == content
				if !r.wholeAnswer && len(b) < 200 {
					r.body = string(b)
				}
				results[c] = append(results[c], r)
				if !startedOne[c] {
					startedOne[c] = true
					started.Done()
				}
				if flag {
					if refused++; refused == afterRevoke {
						break
					}
				}
			}
		}()
	}
	started.Wait()
	if err := g.store.RevokeToken(testActor, "alice", "all"); err != nil {
		t.Fatal(err)
	}
	revokedAt = time.Now()
	revoked.Store(true)
	done.Wait()

	var allowedBefore, refusedAfter int
	for c := range clients {
		for i, r := range results[c] {
			after := r.flagSeen || r.start.After(revokedAt)
			switch {
			case r.status == 200 && !r.wholeAnswer:
				t.Errorf("client %d request %d: 200 with a partial or wrong body", c, i)
			case after && (r.status != 401 || !strings.Contains(r.body, "revoked")):
				t.Errorf("client %d request %d started after the revocation (flag %v): %d %q", c, i, r.flagSeen, r.status, r.body)
			case after:
				refusedAfter++
			case r.status == 200:
				allowedBefore++
			case r.status != 401:
				t.Errorf("client %d request %d: status %d", c, i, r.status)
			}
		}
	}
	if allowedBefore < clients || refusedAfter < clients*afterRevoke {
		t.Fatalf("allowed before %d (want ≥ %d), refused after %d (want ≥ %d)", allowedBefore, clients, refusedAfter, clients*afterRevoke)
	}
	t.Logf("%d downloads allowed before the revocation, %d refused after", allowedBefore, refusedAfter)
}
