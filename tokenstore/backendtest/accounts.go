package backendtest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/channelgate/channelgate/tokenstore"
)

// storeTokenCap: concurrent creations of one account's tokens, half
// through each store, never exceed the per-account cap (the count is read
// in the creating transaction, so the backend must serialize it).
func storeTokenCap(t *testing.T, be tokenstore.Backend, peer Peer) {
	s1, s2 := stores(t, be, peer)
	const limit, n = 3, 8
	s1.SetMaxTokensPerAccount(limit)
	s2.SetMaxTokensPerAccount(limit)
	addUser(t, s1, "erin")
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := []*tokenstore.Store{s1, s2}[i%2]
			_, _, errs[i] = s.CreateToken(actor, tokenstore.TokenSpec{Owner: "erin", Name: fmt.Sprintf("t%d", i)})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, tokenstore.ErrForbidden):
			t.Fatalf("CreateToken: %v, want success or ErrForbidden", err)
		}
	}
	toks, err := s2.Tokens("erin")
	must(t, err)
	if ok != limit || len(toks) != limit {
		t.Fatalf("%d creations succeeded, %d tokens live; want %d", ok, len(toks), limit)
	}
}

// storeRevokeCascade: revoking a token through one store revokes, on the
// other, the tokens made with it.
func storeRevokeCascade(t *testing.T, be tokenstore.Backend, peer Peer) {
	s1, s2 := stores(t, be, peer)
	addUser(t, s1, "frank")
	parentSecret, _, err := s1.CreateToken(actor, tokenstore.TokenSpec{Owner: "frank", CreatedBy: "frank", Name: "parent"})
	must(t, err)
	parent, err := s1.AuthenticateToken(parentSecret)
	must(t, err)
	child, _, err := s1.CreateToken(actor, tokenstore.TokenSpec{Owner: "frank", CreatedBy: "frank", Name: "child", Parent: parent})
	must(t, err)
	eventually(t, "child through store 2", func() bool { return read(s2, child, "frank", "own").Outcome == tokenstore.Allow })
	must(t, s2.RevokeToken(actor, "frank", "parent"))
	eventually(t, "child revoked with its parent through store 2, refused through store 1", func() bool {
		return read(s1, child, "frank", "own").Reason == tokenstore.ReasonRevoked
	})
}
