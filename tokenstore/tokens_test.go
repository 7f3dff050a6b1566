package tokenstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestCreateTokenRules(t *testing.T) {
	w := newWorld(t)
	s := w.s
	addGroup(t, s, "acme", "admins", PermAdmin, []string{"carol"}, []string{"acme-private"})
	// parent is a token of dave's with caps that expires long after any
	// token created here.
	parent := func(caps Caps) *Credential {
		return &Credential{Owner: "dave", CreatedBy: "dave", Caps: caps, Expires: w.clock.Now().Add(10 * DefaultMaxTokenAge)}
	}
	for _, tc := range []struct {
		name   string
		spec   TokenSpec
		kind   error
		errSub string
	}{
		{"own token", TokenSpec{Owner: "dave", CreatedBy: "dave", Name: "laptop"}, nil, ""},
		{"same name other owner", TokenSpec{Owner: "carol", CreatedBy: "carol", Name: "laptop"}, nil, ""},
		{"duplicate name", TokenSpec{Owner: "dave", CreatedBy: "dave", Name: "laptop"}, ErrExists, `"laptop" already exists for dave`},
		{"operator for anyone", TokenSpec{Owner: "dave", Name: "op"}, nil, ""},
		{"site admin for user", TokenSpec{Owner: "dave", CreatedBy: "root", Name: "root-made"}, nil, ""},
		{"user for other user", TokenSpec{Owner: "dave", CreatedBy: "carol", Name: "x"}, ErrForbidden, "carol cannot create tokens for dave"},
		{"org owner", TokenSpec{Owner: "acme", CreatedBy: "alice", Name: "owner-made"}, nil, ""},
		{"org admin group over listed packages", TokenSpec{Owner: "acme", CreatedBy: "carol", Name: "admin-made"}, ErrForbidden, "only owners of acme"},
		{"org write group", TokenSpec{Owner: "acme", CreatedBy: "bob", Name: "x"}, ErrForbidden, "only owners of acme"},
		{"org outsider", TokenSpec{Owner: "acme", CreatedBy: "dave", Name: "x"}, ErrForbidden, "only owners of acme"},
		{"unknown owner", TokenSpec{Owner: "ghost", Name: "x"}, ErrNotFound, "ghost"},
		{"unknown creator", TokenSpec{Owner: "acme", CreatedBy: "ghost", Name: "x"}, ErrNotFound, "ghost"},
		{"empty name", TokenSpec{Owner: "dave", Name: ""}, ErrInvalid, "1 to 100"},
		{"long name", TokenSpec{Owner: "dave", Name: strings.Repeat("n", 101)}, ErrInvalid, "1 to 100"},
		{"slash in name", TokenSpec{Owner: "dave", Name: "a/b"}, ErrInvalid, "'/'"},
		{"control in name", TokenSpec{Owner: "dave", Name: "a\nb"}, ErrInvalid, "control"},
		{"bad UTF-8 name", TokenSpec{Owner: "dave", Name: "a\xffb"}, ErrInvalid, "1 to 100"},
		{"unicode name", TokenSpec{Owner: "dave", Name: "Dave’s laptop ✓"}, nil, ""},
		{"unknown scope", TokenSpec{Owner: "dave", Name: "x", Scopes: []string{"write"}}, ErrInvalid, "valid scopes are"},
		{"bad strength", TokenSpec{Owner: "dave", Name: "x", Strength: "max"}, ErrInvalid, "strong or weak"},
		{"weak", TokenSpec{Owner: "dave", Name: "weak", Strength: "weak"}, nil, ""},
		{"negative age", TokenSpec{Owner: "dave", Name: "x", MaxAge: -time.Second}, ErrInvalid, "positive"},
		{"age above max", TokenSpec{Owner: "dave", Name: "x", MaxAge: DefaultMaxTokenAge + time.Second}, ErrInvalid, "at most 31536000 seconds"},
		{"age at max", TokenSpec{Owner: "dave", Name: "year", MaxAge: DefaultMaxTokenAge}, nil, ""},
		{"parent allows narrower", TokenSpec{Owner: "dave", Name: "narrow", Scopes: []string{"conda:download"}, Parent: parent(capsConda)}, nil, ""},
		{"parent refuses wider", TokenSpec{Owner: "dave", Name: "x", Scopes: []string{"repos"}, Parent: parent(capsConda)}, ErrForbidden, "scopes its creator holds"},
		{"parent refuses default all", TokenSpec{Owner: "dave", Name: "x", Parent: parent(CapsAll &^ CapAPIModifyGroup)}, ErrForbidden, "scopes its creator holds"},
		{"hostname at limit", TokenSpec{Owner: "dave", Name: "host400", Hostname: strings.Repeat("h", MaxTextLen)}, nil, ""},
		{"hostname too long", TokenSpec{Owner: "dave", Name: "x", Hostname: strings.Repeat("h", MaxTextLen+1)}, ErrInvalid, "hostname may be at most 400 bytes"},
		{"note_url too long", TokenSpec{Owner: "dave", Name: "x", NoteURL: strings.Repeat("u", 1<<20)}, ErrInvalid, "note_url may be at most 400 bytes"},
		{"remote too long", TokenSpec{Owner: "dave", Name: "x", Remote: strings.Repeat("r", MaxTextLen+1)}, ErrInvalid, "remote address may be at most 400 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.TokenCount()
			secret, tok, err := s.CreateToken(testActor, tc.spec)
			wantErr(t, err, tc.kind, tc.errSub)
			if err != nil {
				if s.TokenCount() != before {
					t.Fatalf("refused token changed the count")
				}
				return
			}
			if s.TokenCount() != before+1 {
				t.Fatalf("TokenCount %d, want %d", s.TokenCount(), before+1)
			}
			got, err := s.LookupToken(secret)
			must(t, err)
			if got.Owner != tc.spec.Owner || got.Name != tc.spec.Name || got.Hash != tok.Hash || got.Caps != tok.Caps {
				t.Fatalf("LookupToken = %+v, created %+v", got, tok)
			}
			wantStrength, wantLen := Strong, MaxTokenLen
			if tc.spec.Strength == "weak" {
				wantStrength, wantLen = Weak, len(TokenPrefix)+weakBodyLen+checksumLen
			}
			if got.Strength != wantStrength || len(secret) != wantLen {
				t.Fatalf("strength %s, secret length %d", got.Strength, len(secret))
			}
		})
	}
}

func TestTokenExpiryDefaults(t *testing.T) {
	clock := newTestClock()
	s, _ := openStore(t, Options{Now: clock.Now, MaxTokenAge: 30 * 24 * time.Hour})
	addUser(t, s, "alice", false)
	for _, tc := range []struct {
		name   string
		maxAge time.Duration
		want   time.Duration
		errSub string
	}{
		{"default is the maximum", 0, 30 * 24 * time.Hour, ""},
		{"shorter", time.Hour, time.Hour, ""},
		{"above the configured maximum", 31 * 24 * time.Hour, 0, "at most 2592000 seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, tok, err := s.CreateToken(testActor, TokenSpec{Owner: "alice", Name: tc.name, MaxAge: tc.maxAge})
			if tc.errSub != "" {
				wantErr(t, err, ErrInvalid, tc.errSub)
				return
			}
			must(t, err)
			if !tok.Created.Equal(clock.Now()) || tok.Expires.Sub(tok.Created) != tc.want {
				t.Fatalf("created %v expires %v, want lifetime %v", tok.Created, tok.Expires, tc.want)
			}
		})
	}

	// With no options the lifetime is one year.
	s2, _ := openStore(t, Options{Now: clock.Now})
	addUser(t, s2, "alice", false)
	_, tok, err := s2.CreateToken(testActor, TokenSpec{Owner: "alice", Name: "n"})
	must(t, err)
	if tok.Expires.Sub(tok.Created) != 365*24*time.Hour {
		t.Fatalf("default lifetime %v", tok.Expires.Sub(tok.Created))
	}
	if tok.Scopes[0] != ScopeAll || tok.Caps != CapsAll {
		t.Fatalf("no scopes gave %v (%b), want all", tok.Scopes, tok.Caps)
	}
}

func TestReplaceToken(t *testing.T) {
	w := newWorld(t)
	s := w.s
	old := addToken(t, s, "dave", "ci", "conda:download")
	count := s.TokenCount()
	oldTok, err := s.LookupToken(old)
	must(t, err)

	secret, tok, err := s.CreateToken(testActor, TokenSpec{Owner: "dave", CreatedBy: "dave", Name: "ci", Scopes: []string{"repos"}, Replace: true})
	must(t, err)
	if s.TokenCount() != count {
		t.Fatalf("Replace changed the count: %d → %d", count, s.TokenCount())
	}
	req := Request{Channel: "alice", Kind: Conda, Package: "pub"}
	req.Secret = old
	if d := s.Authorize(req); d.Reason != ReasonRevoked {
		t.Fatalf("replaced token: %+v", d)
	}
	req.Secret = secret
	if d := s.Authorize(req); d.Outcome != Allow {
		t.Fatalf("replacement token: %+v", d)
	}
	list, err := s.Tokens("dave")
	must(t, err)
	var names []string
	for _, ti := range list {
		names = append(names, ti.Name)
		if ti.Hash == oldTok.Hash {
			t.Fatal("revoked token still listed")
		}
	}
	if strings.Join(names, ",") != "all,ci" || list[1].Hash != tok.Hash {
		t.Fatalf("Tokens(dave) = %v", names)
	}
}

func TestTokenListingAndRevocation(t *testing.T) {
	w := newWorld(t)
	s := w.s
	secrets := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		secrets[n] = addToken(t, s, "carol", n, "conda:download")
	}
	// A token of an account whose name extends carol's must not be listed
	// as carol's.
	addUser(t, s, "carol2", false)
	addToken(t, s, "carol2", "a")

	list, err := s.Tokens("carol")
	must(t, err)
	if len(list) != 4 {
		t.Fatalf("Tokens(carol) has %d tokens, want 4", len(list))
	}
	raw, err := json.Marshal(list)
	must(t, err)
	for _, ti := range list {
		if ti.Owner != "carol" {
			t.Fatalf("listed token of %s", ti.Owner)
		}
		if !strings.HasPrefix(ti.Prefix, TokenPrefix) || len([]rune(ti.Prefix)) != len(TokenPrefix)+5 {
			t.Fatalf("display prefix %q", ti.Prefix)
		}
	}
	for _, secret := range secrets {
		if strings.Contains(string(raw), secret) || strings.Contains(string(raw), secret[len(TokenPrefix)+4:]) {
			t.Fatalf("listing holds a secret: %s", raw)
		}
	}

	count := s.TokenCount()
	hb, err := ParseToken(secrets["b"])
	must(t, err)
	for _, tc := range []struct {
		name string
		op   func() error
		kind error
		sub  string
	}{
		{"by name", func() error { return s.RevokeToken(testActor, "carol", "a") }, nil, ""},
		{"by name again", func() error { return s.RevokeToken(testActor, "carol", "a") }, ErrNotFound, `no token named "a" for carol`},
		{"by name of other owner", func() error { return s.RevokeToken(testActor, "dave", "c") }, ErrNotFound, "dave"},
		{"by hash", func() error { return s.RevokeHash(testActor, hb) }, nil, ""},
		{"by hash again", func() error { return s.RevokeHash(testActor, hb) }, ErrNotFound, "already revoked"},
		{"unknown hash", func() error { return s.RevokeHash(testActor, Hash{1}) }, ErrNotFound, "no such token"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.op(), tc.kind, tc.sub) })
	}
	if s.TokenCount() != count-2 {
		t.Fatalf("TokenCount %d after two revocations, want %d", s.TokenCount(), count-2)
	}
	list, err = s.Tokens("carol")
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("after revocations Tokens(carol) = %d tokens, want 2", len(list))
	}
	// A revoked name is free again.
	addToken(t, s, "carol", "a")
	info, err := s.TokenInfoByHash(hb)
	must(t, err)
	if info.Revoked.IsZero() {
		t.Fatal("TokenInfoByHash of a revoked token: Revoked not set")
	}
	_, err = s.Tokens("ghost")
	wantErr(t, err, ErrNotFound, "ghost")

	// The count survives a reopen.
	count = s.TokenCount()
	must(t, s.Close())
	s2, err := OpenFile(w.path, Options{})
	must(t, err)
	defer s2.Close()
	if s2.TokenCount() != count {
		t.Fatalf("TokenCount after reopen %d, want %d", s2.TokenCount(), count)
	}
}

func TestLookupToken(t *testing.T) {
	w := newWorld(t)
	unknown, err := newSecret(Strong)
	must(t, err)
	for _, tc := range []struct {
		name, secret string
		wantOwner    string
		wantErr      error
	}{
		{"known", w.tokens["bob"], "bob", nil},
		{"unknown", unknown, "", nil},
		{"malformed", "cgt-nope", "", ErrMalformedToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := w.s.LookupToken(tc.secret)
			wantErr(t, err, tc.wantErr, "")
			if (tok == nil) != (tc.wantOwner == "") || tok != nil && tok.Owner != tc.wantOwner {
				t.Fatalf("LookupToken = %+v", tok)
			}
		})
	}
	// LookupToken reads the store; decisions go through the cache, known
	// and unknown hashes alike.
	if st := w.s.CacheStats(); st.Hits != 0 || st.Misses != 0 {
		t.Fatalf("cache stats %+v after LookupToken: want none", st)
	}
	for range 2 {
		_, err := w.s.AuthenticateToken(w.tokens["bob"])
		must(t, err)
		_, err = w.s.AuthenticateToken(unknown)
		wantErr(t, err, ErrAuth, "unknown token")
	}
	if st := w.s.CacheStats(); st.Hits != 2 || st.Misses != 2 {
		t.Fatalf("cache stats %+v: want 2 hits and 2 misses", st)
	}
}

func TestCreateTokens(t *testing.T) {
	w := newWorld(t)
	s := w.s
	spec := func(owner, name string) TokenSpec {
		return TokenSpec{Owner: owner, CreatedBy: owner, Name: name, Scopes: []string{"conda:download"}}
	}
	for _, tc := range []struct {
		name   string
		specs  []TokenSpec
		kind   error
		errSub string
	}{
		{"batch", []TokenSpec{spec("carol", "b1"), spec("carol", "b2"), spec("dave", "b1")}, nil, ""},
		{"empty", nil, nil, ""},
		{"invalid spec aborts before writing", []TokenSpec{spec("carol", "c1"), spec("carol", "")}, ErrInvalid, "token 1: token name"},
		{"refused spec rolls back", []TokenSpec{spec("carol", "c1"), {Owner: "alice", CreatedBy: "carol", Name: "x"}}, ErrForbidden, "token 1: carol cannot"},
		{"duplicate inside the batch", []TokenSpec{spec("carol", "c1"), spec("carol", "c1")}, ErrExists, "token 1:"},
		{"duplicate of a stored token", []TokenSpec{spec("carol", "b1")}, ErrExists, "token 0:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			count := s.TokenCount()
			events, err := s.Audit(0, 1<<20)
			must(t, err)
			secrets, err := s.CreateTokens(testActor, tc.specs)
			wantErr(t, err, tc.kind, tc.errSub)
			after, err2 := s.Audit(0, 1<<20)
			must(t, err2)
			if err != nil {
				if s.TokenCount() != count || len(after) != len(events) {
					t.Fatal("a refused batch changed the store")
				}
				return
			}
			// One audit event per batch, none for an empty one.
			wantEvents := len(events)
			if len(tc.specs) > 0 {
				wantEvents++
			}
			if len(secrets) != len(tc.specs) || s.TokenCount() != count+int64(len(tc.specs)) || len(after) != wantEvents {
				t.Fatalf("%d secrets, count %d→%d, audit %d→%d", len(secrets), count, s.TokenCount(), len(events), len(after))
			}
			if len(tc.specs) > 0 {
				ev := after[len(after)-1]
				want := fmt.Sprintf("%d tokens, scopes [\"conda:download\"]", len(tc.specs))
				if ev.Action != "token.create.batch" || ev.Detail != want || ev.Actor != testActor.Name {
					t.Fatalf("batch event %+v, want token.create.batch with detail %q", ev, want)
				}
				for _, sec := range secrets {
					if strings.Contains(ev.Target+ev.Detail, sec) {
						t.Fatalf("batch event %+v holds a secret", ev)
					}
				}
			}
			for i, secret := range secrets {
				tok, err := s.LookupToken(secret)
				must(t, err)
				if tok == nil || tok.Owner != tc.specs[i].Owner || tok.Name != tc.specs[i].Name {
					t.Fatalf("secret %d is %+v, want %s/%s", i, tok, tc.specs[i].Owner, tc.specs[i].Name)
				}
			}
		})
	}
	if list, err := s.Tokens("carol"); err != nil || len(list) != 3 {
		t.Fatalf("Tokens(carol) = %d tokens, %v; want all, b1, b2", len(list), err)
	}
}

// TestTokenCountStored checks the live-token count kept in the meta
// bucket: it follows every create and revoke, matches a recount of
// token_names, survives close and reopen, and a file without it is
// counted once at Open and the count stored.
func TestTokenCountStored(t *testing.T) {
	w := newWorld(t)
	s := w.s
	check := func(s *Store, want int64) {
		t.Helper()
		var stored int64
		var ok bool
		var recount int
		must(t, s.be.View(func(tx Tx) error {
			stored, ok = storedTokenCount(tx)
			recount = tx.Count(bucketTokenName)
			return nil
		}))
		if !ok || stored != want || int64(recount) != want || s.TokenCount() != want {
			t.Fatalf("stored %d (%v), recount %d, TokenCount %d; want %d", stored, ok, recount, s.TokenCount(), want)
		}
	}
	base := s.TokenCount()
	check(s, base)
	addToken(t, s, "dave", "a")
	secret := addToken(t, s, "dave", "b")
	_, err := s.CreateTokens(testActor, []TokenSpec{{Owner: "dave", Name: "c"}, {Owner: "dave", Name: "d"}, {Owner: "dave", Name: "e"}})
	must(t, err)
	check(s, base+5)
	// Replace revokes one and creates one; in a batch too.
	_, _, err = s.CreateToken(testActor, TokenSpec{Owner: "dave", Name: "a", Replace: true})
	must(t, err)
	_, err = s.CreateTokens(testActor, []TokenSpec{{Owner: "dave", Name: "c", Replace: true}, {Owner: "dave", Name: "f"}})
	must(t, err)
	check(s, base+6)
	// A refused batch changes nothing.
	if _, err := s.CreateTokens(testActor, []TokenSpec{{Owner: "dave", Name: "g"}, {Owner: "dave", Name: "d"}}); err == nil {
		t.Fatal("duplicate name accepted")
	}
	check(s, base+6)
	must(t, s.RevokeToken(testActor, "dave", "d"))
	h, err := ParseToken(secret)
	must(t, err)
	must(t, s.RevokeHash(testActor, h))
	if err := s.RevokeHash(testActor, h); err == nil {
		t.Fatal("revoked twice")
	}
	check(s, base+4)

	must(t, s.Close())
	s2, err := OpenFile(w.path, Options{})
	must(t, err)
	check(s2, base+4)

	// An older file without the stored count: counted once, then stored.
	must(t, s2.be.Update(func(tx Tx) error { return tx.Delete(bucketMeta, metaTokenCount) }))
	must(t, s2.Close())
	s3, err := OpenFile(w.path, Options{})
	must(t, err)
	t.Cleanup(func() { s3.Close() })
	check(s3, base+4)
}

func TestBatchSummary(t *testing.T) {
	tok := func(scopes ...Scope) *Token { return &Token{Scopes: scopes} }
	specs := []TokenSpec{{Owner: "b"}, {Owner: "a"}, {Owner: "b"}}
	toks := []*Token{tok(ScopeAll), tok("conda:download"), tok(ScopeAll)}
	target, detail := batchSummary(specs, toks, 1)
	if target != "a,b" || detail != `3 tokens (1 replacing one of the same name), scopes ["all"] ["conda:download"]` {
		t.Fatalf("target %q, detail %q", target, detail)
	}
	specs, toks = nil, nil
	for i := range 8 {
		specs = append(specs, TokenSpec{Owner: fmt.Sprintf("u%d", i)})
		toks = append(toks, tok(ScopeAll))
	}
	if target, _ := batchSummary(specs, toks, 0); target != "u0,u1,u2,u3,u4 +3 more" {
		t.Fatalf("target %q", target)
	}
}

// TestCreateTokensPacksNames checks that a batch packs the name index's
// pages (bbolt's FillPercent for bulk loads) instead of leaving them half
// empty, as bbolt's default does for keys inserted in order.
func TestCreateTokensPacksNames(t *testing.T) {
	w := newWorld(t)
	w.s.SetMaxTokensPerAccount(-1) // a bulk import
	specs := make([]TokenSpec, 5000)
	for b := range 2 {
		for i := range specs {
			specs[i] = TokenSpec{Owner: "dave", Name: fmt.Sprintf("t%d", b*len(specs)+i), Scopes: []string{"conda:download"}}
		}
		_, err := w.s.CreateTokens(testActor, specs)
		must(t, err)
	}
	db := w.s.be.(*boltBackend).db
	must(t, db.View(func(tx *bolt.Tx) error {
		st := tx.Bucket([]byte(bucketTokenName)).Stats()
		if fill := float64(st.LeafInuse) / float64(st.LeafAlloc); fill < 0.8 {
			t.Errorf("token_names leaf pages %.0f%% full, want 80%% or more", 100*fill)
		}
		return nil
	}))
}
