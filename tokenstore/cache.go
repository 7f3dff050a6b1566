package tokenstore

import (
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// tokenCache keeps token lookups in memory, keyed by token hash (never the
// secret). Positive entries (known tokens, including revoked ones) and
// negative entries (hashes the store does not know) live in separate LRUs,
// so a flood of well-formed random tokens can only evict negatives.
//
// Invalidation is exact: a fill (backend read + insert) and an
// invalidation (after the write committed) of the same hash hold the same
// striped lock, so a fill that read the old record cannot insert it after
// the invalidation ran.
type tokenCache struct {
	pos     *lru.Cache[Hash, *cachedToken]
	neg     *lru.Cache[Hash, struct{}]
	stripes [256]sync.Mutex

	hits, misses, evictions atomic.Uint64
}

// cachedToken is what the cache keeps of a token record: what decisions
// read (the credential with its expiry, revocation) plus the last time it was
// marked used, so last-used bookkeeping costs one atomic load per request.
// It takes about a third of a whole Token's memory (no scopes list,
// prefix, creation time, hostname, note or address), which the
// cache multiplies by its size; those are read from the store where they
// are shown.
type cachedToken struct {
	cred      Credential
	revoked   bool
	lastTouch atomic.Int64 // unix seconds
}

// newCachedToken keeps what decisions need of a record.
func newCachedToken(t *Token) *cachedToken {
	return &cachedToken{cred: Credential{Hash: t.Hash, Owner: t.Owner, Name: t.Name, CreatedBy: t.CreatedBy,
		Caps: t.Caps, Expires: t.Expires}, revoked: !t.Revoked.IsZero()}
}

// expired reports whether the token is past its expiry at now.
func (ct *cachedToken) expired(now time.Time) bool { return !now.Before(ct.cred.Expires) }

// CacheStats are the token cache's counters.
type CacheStats struct {
	Hits, Misses, Evictions uint64
	Entries                 int
}

func newTokenCache(size int) (*tokenCache, error) {
	c := &tokenCache{}
	var err error
	onEvict := func(Hash, *cachedToken) { c.evictions.Add(1) }
	if c.pos, err = lru.NewWithEvict(size, onEvict); err != nil {
		return nil, err
	}
	if c.neg, err = lru.NewWithEvict(negSize(size), func(Hash, struct{}) { c.evictions.Add(1) }); err != nil {
		return nil, err
	}
	return c, nil
}

// negSize keeps negative entries to a quarter of the cache.
func negSize(size int) int { return max(1, size/4) }

func (c *tokenCache) resize(size int) {
	c.pos.Resize(size)
	c.neg.Resize(negSize(size))
}

// get returns (entry, true) on a hit; a hit with a nil entry is a known
// unknown hash.
func (c *tokenCache) get(h Hash) (*cachedToken, bool) {
	if ct, ok := c.pos.Get(h); ok {
		c.hits.Add(1)
		return ct, true
	}
	if c.neg.Contains(h) {
		c.hits.Add(1)
		return nil, true
	}
	return nil, false
}

// fill runs load under the hash's stripe lock unless another request
// filled it meanwhile, and caches the result.
func (c *tokenCache) fill(h Hash, load func() (*Token, error)) (*cachedToken, error) {
	mu := &c.stripes[h[0]]
	mu.Lock()
	defer mu.Unlock()
	if ct, ok := c.get(h); ok {
		return ct, nil
	}
	c.misses.Add(1)
	tok, err := load()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		c.neg.Add(h, struct{}{})
		return nil, nil
	}
	ct := newCachedToken(tok)
	c.pos.Add(h, ct)
	return ct, nil
}

// invalidate drops a hash after a committed change to it.
func (c *tokenCache) invalidate(h Hash) {
	mu := &c.stripes[h[0]]
	mu.Lock()
	c.pos.Remove(h)
	c.neg.Remove(h)
	mu.Unlock()
}

// purge drops every entry, holding all stripe locks so that no fill that
// read before the purge inserts after it.
func (c *tokenCache) purge() {
	for i := range c.stripes {
		c.stripes[i].Lock()
	}
	c.pos.Purge()
	c.neg.Purge()
	for i := range c.stripes {
		c.stripes[i].Unlock()
	}
}

func (c *tokenCache) stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(),
		Entries: c.pos.Len() + c.neg.Len()}
}
