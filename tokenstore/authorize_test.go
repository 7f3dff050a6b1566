package tokenstore

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAuthorizeMatrix walks the decision over the world fixture.
func TestAuthorizeMatrix(t *testing.T) {
	w := newWorld(t)
	s := w.s
	expired, _, err := s.CreateToken(testActor, TokenSpec{Owner: "alice", Name: "short", MaxAge: time.Hour})
	must(t, err)
	revoked := addToken(t, s, "alice", "gone")
	must(t, s.RevokeToken(testActor, "alice", "gone"))
	unknown, err := newSecret(Strong)
	must(t, err)
	// Make "short" expire; every other token lives a year.
	w.clock.Advance(2 * time.Hour)
	expiredAt := w.clock.Now().Add(-time.Hour).Format(time.RFC3339)

	secretOf := func(name string) string {
		switch name {
		case "":
			return ""
		case "expired":
			return expired
		case "revoked":
			return revoked
		case "unknown":
			return unknown
		case "malformed":
			return "cgt-not-a-token"
		}
		return w.tokens[name]
	}
	// Refused reads of private packages in channels whose unregistered
	// names are public: a hiding gateway answers them as missing.
	hidden := map[string]bool{"anon private package": true, "owner, api-only token": true, "pypi token on conda": true,
		"stranger on private": true, "collaborator elsewhere": true, "org token elsewhere": true}
	for _, tc := range []struct {
		name     string
		token    string // w.tokens key, or expired, revoked, unknown, malformed, "" (anonymous)
		channel  string
		kind     Kind
		pkg      string
		write    bool
		unregPub bool
		want     Outcome
		reason   Reason
		msg      string // substring of the message
	}{
		// Anonymous.
		{"anon public package", "", "alice", Conda, "pub", false, false, Allow, ReasonPublic, ""},
		{"anon unregistered in public channel", "", "alice", Conda, "whatever", false, false, Allow, ReasonPublic, ""},
		{"anon public channel index", "", "alice", Conda, "", false, false, Allow, ReasonPublic, ""},
		{"anon private package", "", "alice", Conda, "priv", false, false, Unauthenticated, ReasonNoToken, "authentication required"},
		{"anon write public package", "", "alice", Conda, "pub", true, false, Unauthenticated, ReasonNoToken, "authentication required"},
		{"anon private-by-default unregistered", "", "vault", Conda, "anything", false, false, Unauthenticated, ReasonNoToken, ""},
		{"anon private-by-default public package", "", "vault", Conda, "open", false, false, Allow, ReasonPublic, ""},
		{"anon private-by-default index with a public package", "", "vault", Conda, "", false, false, Allow, ReasonPublic, ""},
		{"anon private-by-default index, no public pypi", "", "vault", PyPI, "", false, false, Unauthenticated, ReasonNoToken, ""},
		{"anon unregistered channel, public policy", "", "nochannel", Conda, "x", false, true, Allow, ReasonPublic, ""},
		{"anon unregistered channel, private policy", "", "nochannel", Conda, "x", false, false, Unauthenticated, ReasonNoToken, ""},

		// Bad tokens are refused even where anonymous would pass.
		{"malformed on private", "malformed", "alice", Conda, "priv", false, false, Unauthenticated, ReasonMalformedToken, "malformed token"},
		{"malformed on public", "malformed", "alice", Conda, "pub", false, false, Unauthenticated, ReasonMalformedToken, "malformed token"},
		{"unknown on private", "unknown", "alice", Conda, "priv", false, false, Unauthenticated, ReasonUnknownToken, "unknown token"},
		{"unknown on public", "unknown", "alice", Conda, "pub", false, false, Unauthenticated, ReasonUnknownToken, "unknown token"},
		{"revoked on private", "revoked", "alice", Conda, "priv", false, false, Unauthenticated, ReasonRevoked, "token revoked"},
		{"revoked on public", "revoked", "alice", Conda, "pub", false, false, Unauthenticated, ReasonRevoked, "token revoked"},
		{"expired on private", "expired", "alice", Conda, "priv", false, false, Unauthenticated, ReasonExpired, "expired since " + expiredAt},
		{"expired on public", "expired", "alice", Conda, "pub", false, false, Unauthenticated, ReasonExpired, "expired since " + expiredAt},

		// Valid tokens.
		{"valid token on public package", "dave", "alice", Conda, "pub", false, false, Allow, ReasonPublic, ""},
		{"valid token without download scope on public", "alice-api", "alice", Conda, "pub", false, false, Allow, ReasonPublic, ""},
		{"owner reads private", "alice", "alice", Conda, "priv", false, false, Allow, ReasonGranted, ""},
		{"owner writes", "alice", "alice", Conda, "priv", true, false, Allow, ReasonGranted, ""},
		{"owner, api-only token", "alice-api", "alice", Conda, "priv", false, false, Forbidden, ReasonMissingScope, "token lacks scope conda:download"},
		{"owner, download-only token writes", "alice-conda-dl", "alice", Conda, "priv", true, false, Forbidden, ReasonMissingScope, "token lacks scope conda"},
		{"owner, download-only token reads", "alice-conda-dl", "alice", Conda, "priv", false, false, Allow, ReasonGranted, ""},
		{"pypi token on conda", "bob-pypi-dl", "acme", Conda, "acme-private", false, false, Forbidden, ReasonMissingScope, "conda:download"},
		{"pypi download token uploads", "bob-pypi-dl", "acme", PyPI, "acme-tools", true, false, Forbidden, ReasonMissingScope, "pypi:upload"},
		{"stranger on private", "dave", "alice", Conda, "priv", false, false, Forbidden, ReasonNoPermission, "dave may not read alice/priv"},
		{"stranger writes public", "dave", "alice", Conda, "pub", true, false, Forbidden, ReasonNoPermission, "dave may not write to alice/pub"},
		{"collaborator reads", "carol", "alice", Conda, "priv", false, false, Allow, ReasonGranted, ""},
		{"collaborator writes", "carol", "alice", Conda, "priv", true, false, Allow, ReasonGranted, ""},
		{"collaborator elsewhere", "carol", "acme", Conda, "acme-private", false, false, Forbidden, ReasonNoPermission, ""},
		{"org owner reads org package", "alice", "acme", Conda, "acme-private", false, false, Allow, ReasonGranted, ""},
		{"group member reads", "bob", "acme", Conda, "acme-private", false, false, Allow, ReasonGranted, ""},
		{"group member writes (write group)", "bob-repos", "acme", Conda, "acme-private", true, false, Allow, ReasonGranted, ""},
		{"group member, pypi name normalized", "bob", "acme", PyPI, "acme-tools", true, false, Allow, ReasonGranted, ""},
		{"group member outside group packages", "bob", "acme", Conda, "other-private", false, false, Allow, ReasonPublic, ""},
		{"read group member writes", "bob", "vault", Conda, "hidden", true, false, Forbidden, ReasonNoPermission, "bob may not write to vault/hidden"},
		{"read group member reads unregistered", "bob", "vault", Conda, "hidden", false, false, Allow, ReasonGranted, ""},
		{"read group member, other package", "bob", "vault", Conda, "closed", false, false, Forbidden, ReasonNoPermission, ""},
		{"group member reads private index", "bob", "vault", Conda, "", false, false, Allow, ReasonPublic, ""},
		{"org token reads its channel", "acme-org", "acme", Conda, "acme-private", false, false, Allow, ReasonGranted, ""},
		{"org token writes its channel", "acme-org", "acme", Conda, "acme-private", true, false, Allow, ReasonGranted, ""},
		{"org token elsewhere", "acme-org", "alice", Conda, "priv", false, false, Forbidden, ReasonNoPermission, ""},
		{"site admin reads", "root", "alice", Conda, "priv", false, false, Allow, ReasonGranted, ""},
		{"site admin writes", "root", "vault", PyPI, "x", true, false, Allow, ReasonGranted, ""},
		{"private-by-default, owner", "alice", "vault", Conda, "anything", false, false, Allow, ReasonGranted, ""},
		{"private-by-default, stranger", "dave", "vault", Conda, "anything", false, false, Forbidden, ReasonNoPermission, ""},
		{"unregistered channel private policy, user", "dave", "nochannel", Conda, "x", false, false, Forbidden, ReasonNoPermission, ""},
		{"unregistered channel private policy, site admin", "root", "nochannel", Conda, "x", false, false, Allow, ReasonGranted, ""},
		{"unregistered channel public policy, user writes", "dave", "nochannel", Conda, "x", true, true, Forbidden, ReasonNoPermission, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secret := secretOf(tc.token)
			d := s.Authorize(Request{Secret: secret, Channel: tc.channel, Kind: tc.kind, Package: tc.pkg,
				Write: tc.write, UnregisteredPublic: tc.unregPub})
			if d.Outcome != tc.want || d.Reason != tc.reason || !strings.Contains(d.Message, tc.msg) {
				t.Fatalf("Authorize = %v %s %q, want %v %s %q", d.Outcome, d.Reason, d.Message, tc.want, tc.reason, tc.msg)
			}
			if d.Hidden != hidden[tc.name] {
				t.Fatalf("Hidden = %v", d.Hidden)
			}
			if secret != "" && strings.Contains(d.Message, secret) {
				t.Fatalf("message holds the secret: %q", d.Message)
			}
			if d.Err != nil {
				t.Fatalf("Err = %v", d.Err)
			}
			if validToken := tc.want == Allow && tc.token != "" || tc.want == Forbidden; validToken != (d.Token != nil) {
				t.Fatalf("Decision.Token = %v", d.Token)
			}
		})
	}
}

// TestAuthorizeNoStaleWindow makes each change that narrows access and
// checks the very next decision.
func TestAuthorizeNoStaleWindow(t *testing.T) {
	w := newWorld(t)
	s := w.s
	for _, tc := range []struct {
		name   string
		req    Request
		change func() error
		reason Reason
	}{
		{"revoke by name", Request{Secret: w.tokens["bob-repos"], Channel: "acme", Kind: Conda, Package: "acme-public"},
			func() error { return s.RevokeToken(testActor, "bob", "repos") }, ReasonRevoked},
		{"collaborator removed", Request{Secret: w.tokens["carol"], Channel: "alice", Kind: Conda, Package: "priv"},
			func() error { return s.SetCollaborator(testActor, "alice", Conda, "priv", "carol", false) }, ReasonNoPermission},
		{"owner removed", Request{Secret: w.tokens["alice-conda-dl"], Channel: "acme", Kind: Conda, Package: "acme-private"},
			func() error {
				if err := s.SetMember(testActor, "acme", OwnersGroup, "dave", true); err != nil {
					return err
				}
				return s.SetMember(testActor, "acme", OwnersGroup, "alice", false)
			}, ReasonNoPermission},
		{"package removed from group", Request{Secret: w.tokens["bob-pypi-dl"], Channel: "acme", Kind: PyPI, Package: "acme-tools"},
			func() error { return s.SetGroupPackage(testActor, "acme", "devs", "Acme_Tools", false) }, ReasonNoPermission},
		{"group member removed", Request{Secret: w.tokens["bob"], Channel: "acme", Kind: Conda, Package: "acme-private"},
			func() error { return s.SetMember(testActor, "acme", "devs", "bob", false) }, ReasonNoPermission},
		{"group deleted", Request{Secret: w.tokens["bob"], Channel: "vault", Kind: Conda, Package: "hidden"},
			func() error { return s.DeleteGroup(testActor, "vault", "auditors") }, ReasonNoPermission},
		{"package made private", Request{Channel: "alice", Kind: Conda, Package: "pub"},
			func() error { _, err := s.PutPackage(testActor, "alice", Conda, "pub", false, ""); return err }, ReasonNoToken},
		{"channel made private by default", Request{Channel: "acme", Kind: Conda, Package: "unregistered"},
			func() error { return s.SetChannelDefault(testActor, "acme", true) }, ReasonNoToken},
		{"revoke by hash", Request{Secret: w.tokens["dave"], Channel: "acme", Kind: Conda, Package: "acme-public"},
			func() error {
				h, err := ParseToken(w.tokens["dave"])
				if err != nil {
					return err
				}
				return s.RevokeHash(testActor, h)
			}, ReasonRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := s.Authorize(tc.req); d.Outcome != Allow {
				t.Fatalf("before the change: %+v", d)
			}
			must(t, tc.change())
			if d := s.Authorize(tc.req); d.Reason != tc.reason {
				t.Fatalf("after the change: %v %s %q, want %s", d.Outcome, d.Reason, d.Message, tc.reason)
			}
		})
	}
}

// TestRevokeRace authorizes with one token from many goroutines while
// another goroutine revokes it: once RevokeToken has returned, no decision
// that starts afterwards may allow.
func TestRevokeRace(t *testing.T) {
	w := newWorld(t)
	s := w.s
	const workers = 8
	for round := range 20 {
		name := fmt.Sprintf("race%d", round)
		secret := addToken(t, s, "carol", name, "conda:download")
		req := Request{Secret: secret, Channel: "alice", Kind: Conda, Package: "priv"}
		var revoked atomic.Bool
		var started, done sync.WaitGroup
		var lateAllows atomic.Int64
		started.Add(workers)
		for range workers {
			done.Go(func() {
				first := true
				for {
					after := revoked.Load() // read before deciding
					d := s.Authorize(req)
					if first {
						started.Done()
						first = false
					}
					if after {
						if d.Outcome == Allow {
							lateAllows.Add(1)
						}
						return
					}
				}
			})
		}
		started.Wait()
		must(t, s.RevokeToken(testActor, "carol", name))
		revoked.Store(true)
		done.Wait()
		if n := lateAllows.Load(); n > 0 {
			t.Fatalf("round %d: %d decisions allowed after RevokeToken returned", round, n)
		}
	}
}
