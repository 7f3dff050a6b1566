package tokenstore

import (
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"
)

func testGrant() Grant {
	return Grant{Owner: "alice", Package: "tool", Version: "1.0", Basename: "noarch/tool-1.0-0.conda",
		Kind: Conda, Size: 42, SHA256: strings.Repeat("ab", 32), Actor: "alice"}
}

func TestGrantRedeemOnce(t *testing.T) {
	clock := newTestClock()
	s, path := openStore(t, Options{Now: clock.Now})
	signed, err := s.IssueGrant(testGrant(), time.Minute)
	must(t, err)
	g, err := s.RedeemGrant(signed)
	must(t, err)
	want := testGrant()
	if g.Owner != want.Owner || g.Basename != want.Basename || g.Size != want.Size || g.SHA256 != want.SHA256 {
		t.Fatalf("redeemed %+v, want %+v", g, want)
	}
	_, err = s.RedeemGrant(signed)
	wantErr(t, err, ErrForbidden, "already used")

	// A second store on the same file (another gateway) verifies grants
	// the first issued: the key is in the store.
	signed, err = s.IssueGrant(testGrant(), time.Minute)
	must(t, err)
	must(t, s.Close())
	s2, err := OpenFile(path, Options{Now: clock.Now})
	must(t, err)
	defer s2.Close()
	_, err = s2.RedeemGrant(signed)
	must(t, err)
}

func TestGrantRefused(t *testing.T) {
	clock := newTestClock()
	s, _ := openStore(t, Options{Now: clock.Now})
	signed, err := s.IssueGrant(testGrant(), time.Minute)
	must(t, err)
	body, mac, _ := strings.Cut(signed, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(body)
	altered := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), `"s":42`, `"s":43`, 1)))
	other, err := s.IssueGrant(testGrant(), time.Minute)
	must(t, err)
	_, otherMac, _ := strings.Cut(other, ".")
	for _, tc := range []struct{ name, grant string }{
		{"empty", ""},
		{"no signature", body},
		{"altered size", altered + "." + mac},
		{"signature of another grant", body + "." + otherMac},
		{"not base64", "!!." + mac},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.RedeemGrant(tc.grant)
			wantErr(t, err, ErrForbidden, "upload grant")
		})
	}
	// The untouched grant still works once the forgeries failed.
	_, err = s.RedeemGrant(signed)
	must(t, err)

	late, err := s.IssueGrant(testGrant(), time.Minute)
	must(t, err)
	clock.Advance(2 * time.Minute)
	_, err = s.RedeemGrant(late)
	wantErr(t, err, ErrForbidden, "expired")
	// Issuing sweeps the expired record.
	_, err = s.IssueGrant(testGrant(), time.Minute)
	must(t, err)
	must(t, s.be.View(func(tx Tx) error {
		if n := tx.Count(bucketGrants); n != 1 {
			t.Errorf("grant records = %d, want 1: expired ones swept, the new one kept", n)
		}
		return nil
	}))
}

// TestGrantConcurrentRedeem proves single use under a race: of 16
// redemptions of one grant, exactly one succeeds.
func TestGrantConcurrentRedeem(t *testing.T) {
	s, _ := openStore(t, Options{})
	signed, err := s.IssueGrant(testGrant(), time.Minute)
	must(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.RedeemGrant(signed); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d redemptions succeeded, want 1", ok)
	}
}
