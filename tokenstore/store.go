// Package tokenstore is channelgate's domain: accounts (users and
// organizations in one namespace), organization groups, packages, scoped
// tokens, the access decision and the audit log, persisted through a
// Backend (bbolt by default) with an in-memory cache in front.
//
// It imports neither Caddy nor net/http, so it is tested, benchmarked and
// reused alone.
package tokenstore

import (
	"encoding/binary"
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
	// MaxPasswordChecks bounds how many password hashes (argon2id, 19 MiB
	// and a core each) run at once, for logins with known and unknown
	// names alike. Default GOMAXPROCS, at least 2.
	MaxPasswordChecks int
	// PasswordWait is how long a password check waits for one of those
	// slots before it fails with ErrBusy. Default DefaultPasswordWait (1s).
	PasswordWait time.Duration
	// ObservePasswordCheck, if set, receives the duration of every
	// password hash run.
	ObservePasswordCheck func(time.Duration)
	// MaxTokensPerAccount caps the live tokens one account (user or
	// organization) may hold; creating one more is refused. Default 1000
	// (DefaultMaxTokensPerAccount); negative disables the cap (bulk
	// imports, benchmarks).
	MaxTokensPerAccount int
	// Channels tells which channel names the storage already serves:
	// creating an account of such a name needs a site administrator.
	// Default nil: the storage serves no channel (a store used alone).
	Channels ServedChannels
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
	if o.PasswordWait <= 0 {
		o.PasswordWait = DefaultPasswordWait
	}
	if o.MaxTokensPerAccount == 0 {
		o.MaxTokensPerAccount = DefaultMaxTokensPerAccount
	}
}

// Store is the domain on top of a Backend. It is safe for concurrent use.
type Store struct {
	be   Backend
	opts Options

	tokens     *tokenCache
	tokenCount atomic.Int64
	hashing    *hasher
	// maxTokens and channels start as the Options say; the API's
	// configuration may change them while the store stays open.
	maxTokens atomic.Int64
	channels  atomic.Pointer[ServedChannels]

	// aclGen counts committed changes to accounts, groups and packages;
	// the access view is rebuilt when it is behind.
	aclGen atomic.Uint64
	aclMu  sync.Mutex
	acl    atomic.Pointer[aclView]

	lastUsed *lastUsedWriter

	// sessionSweep is when this process last deleted expired sessions
	// (Unix nanoseconds; session.go).
	sessionSweep atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// Open builds a Store on be and starts its background last-used writer.
// The Store owns be from then on and closes it in Close.
func Open(be Backend, opts Options) (*Store, error) {
	opts.setDefaults()
	s := &Store{be: be, opts: opts,
		hashing: newHasher(opts.MaxPasswordChecks, opts.PasswordWait, opts.ObservePasswordCheck)}
	s.SetMaxTokensPerAccount(opts.MaxTokensPerAccount)
	s.SetServedChannels(opts.Channels)
	var err error
	if s.tokens, err = newTokenCache(opts.CacheSize); err != nil {
		return nil, err
	}
	be.Watch(s.changed)
	// The live-token count is kept in the meta bucket, updated in the
	// transaction of every create and revoke, so opening a store with
	// millions of tokens reads one key. A file without it (written before
	// the count was stored) is counted once, from token_names, which holds
	// exactly one entry per live token, and the count is stored.
	var n int64
	var stored, indexed bool
	if err := be.View(func(tx Tx) error {
		n, stored = storedTokenCount(tx)
		indexed = tx.Get(bucketMeta, metaNamesIndexed) != nil
		return nil
	}); err != nil {
		return nil, err
	}
	if !indexed {
		if err := be.Update(indexAccountNames); err != nil {
			return nil, err
		}
	}
	if !stored {
		if err := be.Update(func(tx Tx) error {
			var err error
			n, err = recountTokens(tx)
			return err
		}); err != nil {
			return nil, err
		}
	}
	s.tokenCount.Store(n)
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

// SetMaxPasswordChecks changes how many password hashes run at once (a
// configuration reload may change it while the store stays open); 0
// takes the default.
func (s *Store) SetMaxPasswordChecks(n int) { s.hashing.resize(n) }

// SetMaxTokensPerAccount changes Options.MaxTokensPerAccount (0: the
// default) for tokens created from now on.
func (s *Store) SetMaxTokensPerAccount(n int) {
	if n == 0 {
		n = DefaultMaxTokensPerAccount
	}
	s.maxTokens.Store(int64(n))
}

// SetServedChannels changes Options.Channels for accounts created from
// now on.
func (s *Store) SetServedChannels(c ServedChannels) { s.channels.Store(&c) }

// CacheStats returns the token cache's counters since Open.
func (s *Store) CacheStats() CacheStats { return s.tokens.stats() }

// MaxTokenAge is the longest lifetime a new token may have.
func (s *Store) MaxTokenAge() time.Duration { return s.opts.MaxTokenAge }

// TokenCount is the number of live (not revoked) tokens.
func (s *Store) TokenCount() int64 { return s.tokenCount.Load() }

func (s *Store) now() time.Time { return s.opts.Now() }

// Actor says who makes a change and from where, for the audit log.
type Actor struct {
	Name   string // account name, or "operator" for the site secret
	Remote string // client address
	// SiteAdmin is set by the front end when the actor is the operator or
	// a site administrator: only such actors may create an account whose
	// name the storage already serves or that was an account before.
	SiteAdmin bool
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
	// tokenDelta is the change of the live-token count, stored in the
	// meta bucket at the end of the transaction.
	tokenDelta int64
	// ownerTokens counts live tokens of the owners this transaction
	// creates tokens for (countToken).
	ownerTokens map[string]int
}

// metaTokenCount is the meta key of the live-token count, 8 bytes big
// endian.
var metaTokenCount = []byte("token_count")

// storedTokenCount reads the stored live-token count; false if it is
// absent or unreadable (it is derived data: the caller recounts).
func storedTokenCount(tx Tx) (int64, bool) {
	v := tx.Get(bucketMeta, metaTokenCount)
	if len(v) != 8 {
		return 0, false
	}
	n := int64(binary.BigEndian.Uint64(v))
	return n, n >= 0
}

func putTokenCount(tx Tx, n int64) error {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(n))
	return tx.Put(bucketMeta, metaTokenCount, v[:])
}

// recountTokens counts the live tokens from token_names and stores the
// count.
func recountTokens(tx Tx) (int64, error) {
	n := int64(tx.Count(bucketTokenName))
	return n, putTokenCount(tx, n)
}

// write runs fn in one backend transaction; on commit it advances the
// access view's generation if fn changed access and runs the after-commit
// hooks (cache invalidation), so the next request sees the change. The
// backend's feed (feed.go) does the same for every committed change, this
// process's or another's; the hooks keep the domain's own intent explicit.
func (s *Store) write(actor Actor, fn func(*writeTx) error) error {
	var w *writeTx
	err := s.be.Update(func(tx Tx) error {
		// A fresh writeTx per run: an optimistic backend runs this
		// again after a conflict.
		w = &writeTx{Tx: tx, s: s, actor: actor}
		if err := fn(w); err != nil {
			return err
		}
		if w.tokenDelta == 0 {
			return nil
		}
		n, ok := storedTokenCount(tx)
		if !ok {
			// Counting token_names here already includes this
			// transaction's changes.
			_, err := recountTokens(tx)
			return err
		}
		return putTokenCount(tx, n+w.tokenDelta)
	})
	if err != nil {
		return err
	}
	// The live-token count follows the stored one through the feed.
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
