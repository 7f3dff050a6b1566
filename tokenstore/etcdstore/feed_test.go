package etcdstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/channelgate/channelgate/internal/etcdtest"
	"github.com/channelgate/channelgate/tokenstore"
	"github.com/channelgate/channelgate/tokenstore/etcdstore"
)

var actor = tokenstore.Actor{Name: "test", Remote: "192.0.2.9"}

// gateway is one Store on its own etcd client, as one gateway has.
type gateway struct {
	be *etcdstore.Backend
	s  *tokenstore.Store
}

func openGateway(t *testing.T, cfg etcdstore.Config) gateway {
	t.Helper()
	be, err := etcdstore.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := tokenstore.Open(be, tokenstore.Options{})
	if err != nil {
		be.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return gateway{be, s}
}

// userToken creates a user and a token of theirs through g.
func userToken(t *testing.T, g gateway, user string) string {
	t.Helper()
	const pw = "correct horse battery"
	if _, err := g.s.CreateUser(actor, tokenstore.NewUser{Name: user, Email: user + "@example.org",
		Password: pw, PasswordConfirmation: pw, AcceptTerms: true}); err != nil {
		t.Fatal(err)
	}
	secret, _, err := g.s.CreateToken(actor, tokenstore.TokenSpec{Owner: user, Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func outcome(g gateway, secret, channel string) tokenstore.Outcome {
	return g.s.Authorize(tokenstore.Request{Secret: secret, Channel: channel, Kind: tokenstore.Conda, Package: "p"}).Outcome
}

// TestQuorumLossFailsClosed: with two of three members stopped, a gateway
// keeps answering from its cache for at most the staleness bound, then
// refuses (Unavailable, 503) instead of trusting what it cached; with
// quorum back it answers again by itself.
func TestQuorumLossFailsClosed(t *testing.T) {
	c := etcdtest.Start(t, 3)
	const bound = time.Second
	g := openGateway(t, etcdstore.Config{Endpoints: c.Endpoints(), StaleAfter: bound})
	secret := userToken(t, g, "alice")
	if o := outcome(g, secret, "alice"); o != tokenstore.Allow {
		t.Fatalf("before the loss: %v", o)
	}
	lost := time.Now()
	c.Stop(1)
	c.Stop(2)
	for outcome(g, secret, "alice") == tokenstore.Allow {
		if time.Since(lost) > 3*bound {
			t.Fatalf("still allowed %s after quorum loss (bound %s)", time.Since(lost), bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
	refusedAfter := time.Since(lost)
	if o := outcome(g, secret, "alice"); o != tokenstore.Unavailable {
		t.Fatalf("after the bound: %v, want Unavailable", o)
	}
	if err := g.be.Fresh(); !errors.Is(err, tokenstore.ErrStale) {
		t.Fatalf("Fresh = %v, want ErrStale", err)
	}
	t.Logf("cached allow ended %s after quorum loss (bound %s)", refusedAfter.Round(time.Millisecond), bound)
	c.Restart(1)
	c.Restart(2)
	c.WaitHealthy()
	waitFor(t, "recovery after quorum came back", func() bool { return outcome(g, secret, "alice") == tokenstore.Allow })
}

// TestCompactedWatchReloads: a gateway cut off while a token is revoked
// and the history compacted comes back to a compacted watch; it drops its
// caches and refuses the token: nothing is missed.
func TestCompactedWatchReloads(t *testing.T) {
	c := etcdtest.Start(t, 3)
	// g1 talks to member 0 only, g2 to the others.
	g1 := openGateway(t, etcdstore.Config{Endpoints: c.Endpoints()[:1], StaleAfter: time.Minute})
	g2 := openGateway(t, etcdstore.Config{Endpoints: c.Endpoints()[1:]})
	secret := userToken(t, g2, "alice")
	// The new account reaches g1's access view through its watch.
	waitFor(t, "g1 to accept the token", func() bool { return outcome(g1, secret, "alice") == tokenstore.Allow })
	c.Kill(0)
	if err := g2.s.RevokeToken(actor, "alice", "t"); err != nil {
		t.Fatal(err)
	}
	for range 5 { // more revisions past the revocation
		if _, err := g2.s.PutPackage(actor, "alice", tokenstore.Conda, "p", true, ""); err != nil {
			t.Fatal(err)
		}
	}
	c.Compact()
	c.Restart(0)
	c.WaitHealthy()
	waitFor(t, "a reload after the member came back", func() bool { return g1.be.Stats().Reloads > 0 })
	if o := outcome(g1, secret, "alice"); o != tokenstore.Unauthenticated {
		t.Fatalf("revoked token after reload: %v, want Unauthenticated", o)
	}
}

// waitFor polls cond for up to 10 s, failing the test after that.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
