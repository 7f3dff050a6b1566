// Package tokenstore is channelgate's domain: accounts (users and
// organizations in one namespace), organization groups, packages, scoped
// tokens, the access decision and the audit log, persisted through a
// Backend (bbolt by default) with an in-memory cache in front.
//
// It imports neither Caddy nor net/http, so it is tested, benchmarked and
// reused alone.
package tokenstore

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune a Store. Zero values take the documented defaults.
type Options struct {
	// CacheSize is how many token lookups (positive and negative) are kept
	// in memory. Default 10000.
	CacheSize int
	// LastUsedInterval is how often last-used times are written, in one
	// batch. Default 10s.
	LastUsedInterval time.Duration
	// MinPasswordLen is the shortest accepted password. Default and
	// minimum 7.
	MinPasswordLen int
	// MaxTokenAge caps a token's lifetime and is also the default
	// lifetime. Default one year.
	MaxTokenAge time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// ObserveLookup, if set, receives the duration of every token lookup
	// that reached the backend (a cache miss).
	ObserveLookup func(time.Duration)
}

// Defaults for Options.
const (
	DefaultCacheSize        = 10000
	DefaultLastUsedInterval = 10 * time.Second
	DefaultMinPasswordLen   = 7
	DefaultMaxTokenAge      = 365 * 24 * time.Hour
)

func (o *Options) setDefaults() {
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.LastUsedInterval <= 0 {
		o.LastUsedInterval = DefaultLastUsedInterval
	}
	if o.MinPasswordLen < DefaultMinPasswordLen {
		o.MinPasswordLen = DefaultMinPasswordLen
	}
	if o.MaxTokenAge <= 0 {
		o.MaxTokenAge = DefaultMaxTokenAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Store is the domain on top of a Backend. It is safe for concurrent use.
type Store struct {
	be   Backend
	opts Options

	tokens     *tokenCache
	tokenCount atomic.Int64

	// aclGen counts committed changes to accounts, groups and packages;
	// the access view is rebuilt when it is behind.
	aclGen atomic.Uint64
	aclMu  sync.Mutex
	acl    atomic.Pointer[aclView]

	lastUsed *lastUsedWriter

	closeOnce sync.Once
	closeErr  error
}

// Open builds a Store on be and starts its background last-used writer.
// The Store owns be from then on and closes it in Close.
func Open(be Backend, opts Options) (*Store, error) {
	opts.setDefaults()
	s := &Store{be: be, opts: opts}
	var err error
	if s.tokens, err = newTokenCache(opts.CacheSize); err != nil {
		return nil, err
	}
	// token_names holds exactly one entry per live token, so counting it
	// needs neither a scan of the token records (slow with millions) nor
	// their integrity: a corrupt token record fails its own lookups
	// closed instead of keeping the whole store from opening.
	if err := be.View(func(tx Tx) error {
		s.tokenCount.Store(int64(tx.Count(bucketTokenName)))
		return nil
	}); err != nil {
		return nil, err
	}
	if _, err := s.view(); err != nil {
		return nil, err
	}
	s.lastUsed = startLastUsedWriter(s, opts.LastUsedInterval)
	return s, nil
}

// OpenFile opens a Store on the bbolt file at path.
func OpenFile(path string, opts Options) (*Store, error) {
	be, err := OpenBolt(path, 5*time.Second)
	if err != nil {
		return nil, err
	}
	s, err := Open(be, opts)
	if err != nil {
		be.Close()
		return nil, err
	}
	return s, nil
}

// Close flushes pending last-used times and closes the backend.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.lastUsed.stop()
		s.closeErr = s.be.Close()
	})
	return s.closeErr
}

// Destruct lets a Store live in a caddy.UsagePool.
func (s *Store) Destruct() error { return s.Close() }

// SetCacheSize resizes the token cache (a configuration reload may change
// it while the store stays open).
func (s *Store) SetCacheSize(n int) {
	if n <= 0 {
		n = DefaultCacheSize
	}
	s.tokens.resize(n)
}

// CacheStats returns the token cache's counters since Open.
func (s *Store) CacheStats() CacheStats { return s.tokens.stats() }

// TokenCount is the number of live (not revoked) tokens.
func (s *Store) TokenCount() int64 { return s.tokenCount.Load() }

func (s *Store) now() time.Time { return s.opts.Now() }

// Actor says who makes a change and from where, for the audit log.
type Actor struct {
	Name   string // account name, or "operator" for the site secret
	Remote string // client address
}

// writeTx is a read-write transaction with audit helpers.
type writeTx struct {
	Tx
	s     *Store
	actor Actor
	// aclChanged is set by changes that can alter access decisions.
	aclChanged bool
	// afterCommit runs once the transaction is durable.
	afterCommit []func()
}

// write runs fn in one backend transaction; on commit it advances the
// access view's generation if fn changed access and runs the after-commit
// hooks (cache invalidation), so the next request sees the change.
func (s *Store) write(actor Actor, fn func(*writeTx) error) error {
	w := &writeTx{s: s, actor: actor}
	err := s.be.Update(func(tx Tx) error {
		w.Tx = tx
		return fn(w)
	})
	if err != nil {
		return err
	}
	if w.aclChanged {
		s.aclGen.Add(1)
	}
	for _, f := range w.afterCommit {
		f()
	}
	return nil
}

func getJSON(tx Tx, bucket string, key []byte, v any) (bool, error) {
	raw := tx.Get(bucket, key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("%s record %q: %w: %v", bucket, key, ErrCorrupt, err)
	}
	return true, nil
}

func putJSON(tx Tx, bucket string, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(bucket, key, raw)
}

// key joins parts with NUL, which names never contain, so prefixes of
// composite keys cannot collide.
func key(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}
