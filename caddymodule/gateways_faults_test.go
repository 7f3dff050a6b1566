package caddymodule

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// gatewayLoad downloads through every gateway, with a live token and with
// one revoked before the fault, until stopped, and keeps every answer.
type gatewayLoad struct {
	stop func()
	wg   sync.WaitGroup
	mu   sync.Mutex
	// answers per gateway, in the order they were sent.
	answers [3][]loadAnswer
}

// loadAnswer is one download: when it was sent, with which token, and
// the status (0: no answer).
type loadAnswer struct {
	start   time.Time
	revoked bool
	status  int
}

// startLoad runs two clients per gateway, alternating live and revoked.
func (g *etcdGateways) startLoad(live, revoked string) *gatewayLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &gatewayLoad{stop: cancel}
	for w := range 6 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			i := w % 3
			for n := 0; ctx.Err() == nil; n++ {
				a := loadAnswer{start: time.Now(), revoked: n%2 == 1}
				secret := live
				if a.revoked {
					secret = revoked
				}
				a.status = g.download(i, secret, "alice")
				l.mu.Lock()
				l.answers[i] = append(l.answers[i], a)
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// finish stops the load and checks that the revoked token was never
// allowed and that every other answer was a 200 or a 503 (or no answer);
// it returns the longest run of time each gateway spent without a 200
// for the live token (a run that lasts to the end included).
func (l *gatewayLoad) finish(t *testing.T) [3]time.Duration {
	t.Helper()
	l.stop()
	l.wg.Wait()
	var gaps [3]time.Duration
	for i, answers := range l.answers {
		var lastOK time.Time
		for _, a := range answers {
			switch {
			case a.revoked && a.status == http.StatusOK:
				t.Errorf("gateway %d allowed a revoked token (request sent %s)", i+1, a.start.Format(time.StampMicro))
			case a.revoked && a.status != http.StatusUnauthorized && a.status != http.StatusServiceUnavailable && a.status != 0:
				t.Errorf("gateway %d: revoked token answered %d", i+1, a.status)
			case !a.revoked && a.status == http.StatusOK:
				if !lastOK.IsZero() {
					gaps[i] = max(gaps[i], a.start.Sub(lastOK))
				}
				lastOK = a.start
			case !a.revoked && a.status != http.StatusServiceUnavailable && a.status != 0:
				t.Errorf("gateway %d: live token answered %d", i+1, a.status)
			}
		}
		if len(answers) > 0 && !lastOK.IsZero() {
			gaps[i] = max(gaps[i], answers[len(answers)-1].start.Sub(lastOK))
		}
	}
	return gaps
}

// lastAllowed is, per gateway, how long after at the last live-token
// download that was allowed was sent (negative: none after at).
func (l *gatewayLoad) lastAllowed(at time.Time) [3]time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last [3]time.Duration
	for i, answers := range l.answers {
		last[i] = -1
		for _, a := range answers {
			if !a.revoked && a.status == http.StatusOK && a.start.After(at) {
				last[i] = a.start.Sub(at)
			}
		}
	}
	return last
}

// allowedAfter lists, per gateway, the live-token 200s for requests sent
// after at.
func (l *gatewayLoad) allowedAfter(at time.Time) [3]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n [3]int
	for i, answers := range l.answers {
		for _, a := range answers {
			if a.status == http.StatusOK && a.start.After(at) {
				n[i]++
			}
		}
	}
	return n
}

// faultSetup starts the gateways with alice's private package, a live
// token and a revoked one, both seen by every gateway.
func faultSetup(t *testing.T, c gatewaysConfig) (g *etcdGateways, live, revoked string) {
	t.Helper()
	g = startEtcdGateways(t, c)
	g.user(0, "alice")
	g.privatePackage(0, "alice")
	live = g.token(0, "alice", "live")
	revoked = g.token(0, "alice", "revoked")
	g.untilAll([]int{0, 1, 2}, live, "alice", allowed, time.Now())
	g.untilAll([]int{0, 1, 2}, revoked, "alice", allowed, time.Now()) // cached as valid
	g.must(g.op[1].RevokeToken(context.Background(), "alice", "revoked"))
	g.untilAll([]int{0, 1, 2}, revoked, "alice", refused, time.Now())
	return g, live, revoked
}

// TestGatewaysEtcdLeaderKilled kills the etcd leader under load: the
// revoked token is never allowed, the live one sees at most brief 503s,
// and the gateways recover by themselves; a revocation made after the
// election reaches every gateway.
func TestGatewaysEtcdLeaderKilled(t *testing.T) {
	g, live, revoked := faultSetup(t, gatewaysConfig{})
	load := g.startLoad(live, revoked)
	time.Sleep(500 * time.Millisecond)
	leader := g.etcd.Leader()
	g.etcd.Kill(leader)
	killed := time.Now()
	g.etcd.Leader() // a new one
	elected := time.Since(killed)
	time.Sleep(3 * gatewaysStaleAfter)
	if n := load.allowedAfter(killed.Add(2 * gatewaysStaleAfter)); n[0] == 0 || n[1] == 0 || n[2] == 0 {
		t.Errorf("live-token downloads allowed per gateway after the election: %v (want some on every gateway)", n)
	}
	gaps := load.finish(t)
	t.Logf("leader %d killed; new leader after %v; longest run without a live-token 200 per gateway: %v",
		leader, elected.Round(time.Millisecond), gaps)

	again := g.token(2, "alice", "after-election")
	g.untilAll([]int{0, 1, 2}, again, "alice", allowed, time.Now())
	g.must(g.op[2].RevokeToken(context.Background(), "alice", "after-election"))
	g.untilAll([]int{0, 1}, again, "alice", refused, time.Now())
}

// TestGatewaysEtcdQuorumLost stops two of the three members under load:
// cached decisions end within the staleness bound, then every answer is a
// 503; the token revoked before the loss is never allowed; with the
// members back, the gateways serve again by themselves.
func TestGatewaysEtcdQuorumLost(t *testing.T) {
	g, live, revoked := faultSetup(t, gatewaysConfig{})
	load := g.startLoad(live, revoked)
	time.Sleep(500 * time.Millisecond)
	g.etcd.Stop(1)
	g.etcd.Stop(2)
	lost := time.Now()
	time.Sleep(3 * gatewaysStaleAfter)
	// A request sent after the bound (plus one probe interval of slack
	// for the request in flight) must not be answered from the cache.
	if n := load.allowedAfter(lost.Add(gatewaysStaleAfter + gatewaysStaleAfter/5)); n != [3]int{} {
		t.Errorf("live-token downloads allowed per gateway after the staleness bound without quorum: %v", n)
	}
	t.Logf("quorum lost: the last cached allow per gateway was sent %v after the loss (bound %v)",
		load.lastAllowed(lost), gatewaysStaleAfter)
	g.etcd.Restart(1)
	g.etcd.Restart(2)
	back := time.Now()
	g.etcd.WaitHealthy()
	g.untilAll([]int{0, 1, 2}, live, "alice", allowed, back)
	recovered := time.Since(back)
	gaps := load.finish(t)
	t.Logf("quorum lost for %v; gateways served again %v after the members were restarted; longest run without a live-token 200: %v",
		back.Sub(lost).Round(time.Millisecond), recovered.Round(time.Millisecond), gaps)
}

// TestGatewaysEtcdCompaction compacts etcd's history with etcdctl while
// the gateways watch, under load, between revocations: every revocation
// still reaches every gateway.
func TestGatewaysEtcdCompaction(t *testing.T) {
	g, live, revoked := faultSetup(t, gatewaysConfig{})
	load := g.startLoad(live, revoked)
	for i := range 5 {
		secret := g.token(i%3, "alice", "c"+string(rune('0'+i)))
		g.untilAll([]int{0, 1, 2}, secret, "alice", allowed, time.Now())
		g.etcd.Compact()
		g.must(g.op[i%3].RevokeToken(context.Background(), "alice", "c"+string(rune('0'+i))))
		g.untilAll([]int{0, 1, 2}, secret, "alice", refused, time.Now())
	}
	load.finish(t)
}

// TestGatewaysEtcdCutOff cuts gateway 3, which knows only member 3, off
// from etcd by killing that member under load: gateway 3 fails closed
// after the staleness bound (503, the revoked token never allowed) while
// gateways 1 and 2 keep serving on the remaining quorum.
func TestGatewaysEtcdCutOff(t *testing.T) {
	g, live, revoked := faultSetup(t, gatewaysConfig{endpoints: func(i int, all []string) []string {
		if i == 2 {
			return all[2:]
		}
		return all[:2]
	}})
	load := g.startLoad(live, revoked)
	time.Sleep(500 * time.Millisecond)
	g.etcd.Kill(2)
	cut := time.Now()
	time.Sleep(3 * gatewaysStaleAfter)
	n := load.allowedAfter(cut.Add(gatewaysStaleAfter + gatewaysStaleAfter/5))
	if n[2] != 0 {
		t.Errorf("gateway 3, cut off, allowed %d downloads after the staleness bound", n[2])
	}
	t.Logf("gateway 3 cut off: its last cached allow was sent %v after the cut (bound %v)",
		load.lastAllowed(cut)[2], gatewaysStaleAfter)
	if n[0] == 0 || n[1] == 0 {
		t.Errorf("gateways 1 and 2 (with quorum) allowed %v downloads after the cut, want some each", n[:2])
	}
	gaps := load.finish(t)
	t.Logf("longest run without a live-token 200 per gateway: %v", gaps)
}
