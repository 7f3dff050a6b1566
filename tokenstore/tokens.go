package tokenstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// TokenSpec describes a token to create.
type TokenSpec struct {
	// Owner is the account the token acts for: the creator, or an
	// organization the creator administers.
	Owner string
	// Name is unique per owner; anaconda-client sends it as "note".
	Name string
	// CreatedBy is the account creating the token ("" for the operator):
	// the user, or the owner of the Parent token. It must be allowed to
	// create tokens for Owner (checkTokenOwner).
	CreatedBy string
	// Scopes as given by the client; none means full account access, as
	// on anaconda.org ("all").
	Scopes []string
	// Parent is the token the creator authenticated with (nil for a
	// password or the operator). The new token never gets a scope the
	// parent lacks, expires no later than the parent, is revoked with the
	// parent, and a token for the parent's own owner keeps the parent's
	// creator, whose rights bound both (Credential.Bound).
	Parent *Credential
	// Strength is "strong" (default) or "weak".
	Strength string
	// MaxAge is the lifetime; zero takes the store's maximum (one year by
	// default), more than the maximum is refused. Either is cut to the
	// Parent's expiry.
	MaxAge time.Duration
	// Replace revokes an existing token of the same name instead of
	// failing (anaconda-client's fail-if-exists: false).
	Replace bool

	// Hostname, NoteURL and Remote are kept for listings, each at most
	// MaxTextLen bytes.
	Hostname, NoteURL, Remote string
}

// ValidateTokenName accepts 1 to 100 printable characters without '/'.
func ValidateTokenName(name string) error {
	if name == "" || len(name) > 100 || !utf8.ValidString(name) {
		return invalidf("token name must be 1 to 100 characters")
	}
	for _, r := range name {
		if r == '/' || !unicode.IsPrint(r) {
			return invalidf("token name may not contain '/' or control characters")
		}
	}
	return nil
}

// CreateToken stores a new token and returns its secret, which is never
// available again.
func (s *Store) CreateToken(actor Actor, spec TokenSpec) (string, *Token, error) {
	secret, tok, err := s.newToken(spec, s.now().UTC())
	if err != nil {
		return "", nil, err
	}
	err = s.write(actor, func(w *writeTx) error {
		if _, err := w.insertToken(spec, tok); err != nil {
			return err
		}
		return w.audit("token.create", spec.Owner+"/"+spec.Name, joinScopes(tok.Scopes))
	})
	if err != nil {
		return "", nil, err
	}
	return secret, tok, nil
}

// CreateTokens creates many tokens in one backend transaction (imports,
// benchmarks), with the rules of CreateToken, and returns their secrets in
// the order of specs. It is all or nothing: the first refused spec aborts
// the batch and the error names its index. The batch is audited as one
// token.create.batch event (owners, count, scopes), not one per token.
func (s *Store) CreateTokens(actor Actor, specs []TokenSpec) ([]string, error) {
	if len(specs) == 0 {
		return []string{}, nil
	}
	now := s.now().UTC()
	secrets := make([]string, len(specs))
	toks := make([]*Token, len(specs))
	for i, spec := range specs {
		var err error
		if secrets[i], toks[i], err = s.newToken(spec, now); err != nil {
			return nil, fmt.Errorf("token %d: %w", i, err)
		}
	}
	err := s.write(actor, func(w *writeTx) error {
		// A batch's names (owner, then name) are mostly consecutive keys:
		// pack their pages. Token keys are hashes, inserted at random.
		if bl, ok := w.Tx.(bulkLoader); ok {
			bl.BulkLoad(bucketTokenName)
		}
		replaced := 0
		for i, spec := range specs {
			r, err := w.insertToken(spec, toks[i])
			if err != nil {
				return fmt.Errorf("token %d: %w", i, err)
			}
			if r {
				replaced++
			}
		}
		target, detail := batchSummary(specs, toks, replaced)
		return w.audit("token.create.batch", target, detail)
	})
	if err != nil {
		return nil, err
	}
	return secrets, nil
}

// newToken validates what a spec says on its own and draws the secret:
// everything token creation does before its transaction.
func (s *Store) newToken(spec TokenSpec, now time.Time) (string, *Token, error) {
	// Token records keep whole seconds compactly (tokenrec.go); the
	// expiry moves earlier, never later.
	now = now.Truncate(time.Second)
	if err := ValidateTokenName(spec.Name); err != nil {
		return "", nil, err
	}
	scopes := spec.Scopes
	if len(scopes) == 0 {
		scopes = []string{string(ScopeAll)}
	}
	sc, caps, err := ParseScopes(scopes)
	if err != nil {
		return "", nil, err
	}
	if spec.Parent != nil && !spec.Parent.Caps.Has(caps) {
		return "", nil, forbiddenf("a token can only grant scopes its creator holds")
	}
	for _, f := range [...]struct{ name, value string }{{"hostname", spec.Hostname}, {"note_url", spec.NoteURL}, {"remote address", spec.Remote}} {
		if err := checkLen(f.name, f.value, MaxTextLen); err != nil {
			return "", nil, err
		}
	}
	strength, err := ParseStrength(spec.Strength)
	if err != nil {
		return "", nil, err
	}
	age := spec.MaxAge
	switch {
	case age == 0:
		age = s.opts.MaxTokenAge
	case age < 0:
		return "", nil, invalidf("max-age must be positive")
	case age > s.opts.MaxTokenAge:
		return "", nil, invalidf("max-age may be at most %d seconds", int64(s.opts.MaxTokenAge/time.Second))
	}
	secret, err := newSecret(strength)
	if err != nil {
		return "", nil, err
	}
	h, err := ParseToken(secret)
	if err != nil {
		return "", nil, err
	}
	expires, createdBy := now.Add(age), spec.CreatedBy
	if p := spec.Parent; p != nil {
		if p.Expires.Before(expires) {
			expires = p.Expires
		}
		if p.Owner == spec.Owner {
			createdBy = p.CreatedBy
		}
	}
	return secret, &Token{Hash: h, Owner: spec.Owner, Name: spec.Name, CreatedBy: createdBy, Scopes: sc, Caps: caps,
		Strength: strength, Prefix: displayPrefix(secret), Created: now, Expires: expires,
		Hostname: spec.Hostname, NoteURL: spec.NoteURL, Remote: spec.Remote}, nil
}

// insertToken stores tok in w after the checks that need the store: who
// may create it and whether its name is free (or replaced: then it
// returns true). The caller audits.
func (w *writeTx) insertToken(spec TokenSpec, tok *Token) (replaced bool, err error) {
	if err := w.checkTokenOwner(spec); err != nil {
		return false, err
	}
	nameKey := key(spec.Owner, spec.Name)
	if old := w.Get(bucketTokenName, nameKey); old != nil {
		if !spec.Replace {
			return false, existsf("a token named %q already exists for %s", spec.Name, spec.Owner)
		}
		if err := w.revoke(hashOf(old), tok.Created); err != nil {
			return false, err
		}
		replaced = true
	}
	if err := w.countToken(spec.Owner); err != nil {
		return false, err
	}
	h := tok.Hash
	if err := putToken(w, tok); err != nil {
		return false, err
	}
	if p := spec.Parent; p != nil {
		if err := w.Put(bucketTokenChildren, append(p.Hash[:], h[:]...), []byte{}); err != nil {
			return false, err
		}
	}
	if err := w.Put(bucketTokenName, nameKey, h[:]); err != nil {
		return false, err
	}
	w.tokenDelta++
	w.afterCommit = append(w.afterCommit, func() {
		w.s.tokens.invalidate(h) // drop a negative entry, however unlikely
	})
	return replaced, nil
}

// countToken counts one more live token for owner in this transaction,
// refusing it if the owner already holds the store's maximum. An owner's
// tokens are counted from the name index once per transaction (at most
// the maximum of them are read), then kept in the transaction.
func (w *writeTx) countToken(owner string) error {
	limit := int(w.s.maxTokens.Load())
	if limit < 0 {
		return nil
	}
	n, ok := w.ownerTokens[owner]
	if !ok {
		var err error
		if n, err = countUpTo(w, bucketTokenName, key(owner, ""), limit); err != nil {
			return err
		}
	}
	if n >= limit {
		return forbiddenf("%s already holds %d tokens, the most an account may have: revoke some first", owner, limit)
	}
	if w.ownerTokens == nil {
		w.ownerTokens = map[string]int{}
	}
	w.ownerTokens[owner] = n + 1
	return nil
}

// batchSummaryMax is how many owners and scope sets a batch's audit event
// names before it says how many more there are.
const batchSummaryMax = 5

// batchSummary describes a batch of new tokens for its audit event: the
// target lists the owners, the detail the count, how many replaced a
// token of the same name and the distinct scope sets. Token names and
// secrets are not listed.
func batchSummary(specs []TokenSpec, toks []*Token, replaced int) (target, detail string) {
	var owners, scopeSets []string
	seenOwner, seenScopes := map[string]bool{}, map[string]bool{}
	for i, spec := range specs {
		if !seenOwner[spec.Owner] {
			seenOwner[spec.Owner] = true
			owners = append(owners, spec.Owner)
		}
		if sc := joinScopes(toks[i].Scopes); !seenScopes[sc] {
			seenScopes[sc] = true
			scopeSets = append(scopeSets, sc)
		}
	}
	slices.Sort(owners)
	slices.Sort(scopeSets)
	detail = fmt.Sprintf("%d tokens", len(specs))
	if replaced > 0 {
		detail += fmt.Sprintf(" (%d replacing one of the same name)", replaced)
	}
	detail += ", scopes " + summarize(scopeSets, " ")
	return summarize(owners, ","), detail
}

// summarize joins up to batchSummaryMax items and counts the rest.
func summarize(items []string, sep string) string {
	if len(items) <= batchSummaryMax {
		return strings.Join(items, sep)
	}
	return strings.Join(items[:batchSummaryMax], sep) + fmt.Sprintf(" +%d more", len(items)-batchSummaryMax)
}

// checkTokenOwner enforces who may create a token for whom: users for
// themselves, those who administer the whole organization (owners, admin
// groups over all packages) for their organization, site administrators
// and the operator for anyone. An admin group that lists some packages
// administers those packages, not the organization's tokens.
func (w *writeTx) checkTokenOwner(spec TokenSpec) error {
	owner, err := getAccount(w, spec.Owner)
	if err != nil {
		return err
	}
	if err := requireVerified(w, owner.Name); err != nil {
		return err
	}
	if spec.CreatedBy == "" || spec.CreatedBy == spec.Owner {
		return nil
	}
	creator, err := getAccount(w, spec.CreatedBy)
	if err != nil {
		return err
	}
	if creator.SiteAdmin {
		return nil
	}
	if owner.Type != Org {
		return forbiddenf("%s cannot create tokens for %s", spec.CreatedBy, spec.Owner)
	}
	groups, err := listGroups(w, spec.Owner)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if g.Perm == PermAdmin && g.AllPackages && slices.Contains(g.Members, spec.CreatedBy) {
			return nil
		}
	}
	return forbiddenf("only owners of %s can create its tokens", spec.Owner)
}

// RevokeToken revokes the owner's token called name. The next request
// with it is refused.
func (s *Store) RevokeToken(actor Actor, owner, name string) error {
	return s.write(actor, func(w *writeTx) error {
		v := w.Get(bucketTokenName, key(owner, name))
		if v == nil {
			return notFoundf("no token named %q for %s", name, owner)
		}
		if err := w.revoke(hashOf(v), s.now().UTC()); err != nil {
			return err
		}
		return w.audit("token.revoke", owner+"/"+name, "")
	})
}

// RevokeHash revokes the token with hash h (a client revoking the token it
// calls with).
func (s *Store) RevokeHash(actor Actor, h Hash) error {
	return s.write(actor, func(w *writeTx) error {
		t, err := getToken(w, h)
		if err != nil {
			return err
		}
		if !t.Revoked.IsZero() {
			return notFoundf("token already revoked")
		}
		if err := w.revoke(h, s.now().UTC()); err != nil {
			return err
		}
		return w.audit("token.revoke", t.Owner+"/"+t.Name, "")
	})
}

// revoke revokes the token h and every live token created with it, and
// with those, down the line: a token never outlives the one that created
// it. The caller audits h; each descendant is audited here.
func (w *writeTx) revoke(h Hash, now time.Time) error {
	if err := w.revokeOne(h, now); err != nil {
		return err
	}
	for queue := []Hash{h}; len(queue) > 0; queue = queue[1:] {
		children, err := w.takeChildren(queue[0])
		if err != nil {
			return err
		}
		for _, c := range children {
			t, err := getToken(w, c)
			if err != nil {
				return err
			}
			if !t.Revoked.IsZero() {
				continue // its own children went with it
			}
			if err := w.revokeOne(c, now); err != nil {
				return err
			}
			if err := w.audit("token.revoke", t.Owner+"/"+t.Name, "with the token that created it"); err != nil {
				return err
			}
			queue = append(queue, c)
		}
	}
	return nil
}

// takeChildren returns the tokens created with parent and forgets the
// links.
func (w *writeTx) takeChildren(parent Hash) ([]Hash, error) {
	var keys [][]byte
	err := w.ForEach(bucketTokenChildren, parent[:], func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	})
	if err != nil {
		return nil, err
	}
	children := make([]Hash, len(keys))
	for i, k := range keys {
		children[i] = hashOf(k[len(parent):])
		if err := w.Delete(bucketTokenChildren, k); err != nil {
			return nil, err
		}
	}
	return children, nil
}

// revokeOne keeps the record as a tombstone (so the next use can say
// "revoked") and frees its name.
func (w *writeTx) revokeOne(h Hash, now time.Time) error {
	t, err := getToken(w, h)
	if err != nil {
		return err
	}
	t.Revoked = now
	if err := putToken(w, t); err != nil {
		return err
	}
	if err := w.Delete(bucketTokenName, key(t.Owner, t.Name)); err != nil {
		return err
	}
	if err := w.Delete(bucketLastUsed, h[:]); err != nil {
		return err
	}
	if n, ok := w.ownerTokens[t.Owner]; ok {
		w.ownerTokens[t.Owner] = n - 1
	}
	w.tokenDelta--
	w.afterCommit = append(w.afterCommit, func() {
		w.s.tokens.invalidate(h)
	})
	return nil
}

// TokenInfo is a token record with its last-used time, for listings.
type TokenInfo struct {
	*Token
	LastUsed time.Time
}

// Tokens lists an owner's live tokens (revoked ones are not listed).
func (s *Store) Tokens(owner string) ([]TokenInfo, error) {
	var out []TokenInfo
	err := s.be.View(func(tx Tx) error {
		if _, err := getAccount(tx, owner); err != nil {
			return err
		}
		return tx.ForEach(bucketTokenName, key(owner, ""), func(_, v []byte) error {
			t, err := getToken(tx, hashOf(v))
			if err != nil {
				return err
			}
			out = append(out, TokenInfo{Token: t, LastUsed: readLastUsed(tx, t.Hash)})
			return nil
		})
	})
	return out, err
}

// TokenInfoByHash returns one token with its last-used time.
func (s *Store) TokenInfoByHash(h Hash) (TokenInfo, error) {
	var out TokenInfo
	err := s.be.View(func(tx Tx) error {
		t, err := getToken(tx, h)
		if err == nil {
			out = TokenInfo{Token: t, LastUsed: readLastUsed(tx, h)}
		}
		return err
	})
	return out, err
}

// LookupToken returns the whole record for a presented secret, read from
// the store (decisions go through the cache with AuthenticateToken). A
// malformed secret fails with ErrMalformedToken without touching the
// backend; an unknown one returns (nil, nil). Revoked and expired tokens
// are returned: the caller says why they fail.
func (s *Store) LookupToken(secret string) (*Token, error) {
	h, err := ParseToken(secret)
	if err != nil {
		return nil, err
	}
	return s.loadToken(h)
}

func (s *Store) lookup(secret string) (*cachedToken, error) {
	h, err := ParseToken(secret)
	if err != nil {
		return nil, err
	}
	if ct, ok := s.tokens.get(h); ok {
		// A cached entry is trusted only while the feed is current.
		if err := s.be.Fresh(); err != nil {
			return nil, err
		}
		return ct, nil
	}
	return s.tokens.fill(h, func() (*Token, error) {
		start := time.Now()
		t, err := s.loadToken(h)
		if s.opts.ObserveLookup != nil {
			s.opts.ObserveLookup(time.Since(start))
		}
		return t, err
	})
}

// loadToken reads a token record from the backend; (nil, nil) if there is
// none.
func (s *Store) loadToken(h Hash) (*Token, error) {
	var t *Token
	err := s.be.View(func(tx Tx) error {
		var err error
		t, err = getToken(tx, h)
		if isNotFound(err) {
			t, err = nil, nil
		}
		return err
	})
	return t, err
}

func getToken(tx Tx, h Hash) (*Token, error) {
	var t Token
	ok, err := readToken(tx, h, &t)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFoundf("no such token")
	}
	return &t, nil
}

func hashOf(b []byte) Hash {
	var h Hash
	copy(h[:], b)
	return h
}

func joinScopes(sc []Scope) string {
	b, _ := json.Marshal(sc)
	return string(b)
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
