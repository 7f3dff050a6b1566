// Package etcdstore is the tokenstore.Backend on an etcd cluster, so that
// several gateways share accounts, tokens and everything else the store
// keeps, and each sees the others' changes through a watch.
//
// Transactions are optimistic and serializable: a transaction reads at one
// revision, buffers its writes and commits with one etcd Txn that compares
// a single commit key's ModRevision with the one it read; a conflict runs
// the transaction again. All writers therefore serialize on that key, as
// bbolt's writers do on its single writer lock, and the domain's checks
// (unique names, last owner) hold across gateways unchanged.
//
// It is its own package so that tokenstore keeps its small import list
// (no gRPC) and the domain never learns which backend it has.
package etcdstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/channelgate/channelgate/tokenstore"
)

// Config says which cluster to use and how. Zero values take the
// documented defaults.
type Config struct {
	// Endpoints are the cluster's client URLs. Required.
	Endpoints []string
	// Prefix is put in front of every key. Default "/channelgate/".
	Prefix string
	// TLS, if set, is the client's TLS configuration (certificate and
	// CA).
	TLS *tls.Config
	// Username and Password authenticate to etcd when set.
	Username, Password string
	// DialTimeout bounds connecting at Open. Default 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds every etcd call. Default 5s.
	RequestTimeout time.Duration
	// StaleAfter is how long the change feed may go without a proof that
	// it is current before Fresh fails (and cached decisions are refused).
	// Default 5s.
	StaleAfter time.Duration
	// MaxAttempts bounds how often a conflicting write transaction is run.
	// Default 32.
	MaxAttempts int
	// LockTTL is the lease of the Locker's locks, in whole seconds: a
	// process killed while holding a lock releases it when the lease
	// expires. Default 10s.
	LockTTL time.Duration
	// Logger receives the client's own log. Default: none.
	Logger *zap.Logger
}

// Defaults for Config.
const (
	DefaultPrefix         = "/channelgate/"
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 5 * time.Second
	DefaultStaleAfter     = 5 * time.Second
	DefaultMaxAttempts    = 32
	DefaultLockTTL        = 10 * time.Second
)

func (c *Config) setDefaults() {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.StaleAfter <= 0 {
		c.StaleAfter = DefaultStaleAfter
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.LockTTL < time.Second {
		c.LockTTL = DefaultLockTTL
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
}

// ErrConflict says that a write transaction kept conflicting with other
// writers for MaxAttempts runs.
var ErrConflict = errors.New("etcd: too many conflicting writers")

// Backend is a tokenstore.Backend on etcd.
type Backend struct {
	cfg    Config
	cli    *clientv3.Client
	commit string // the commit key every write transaction updates

	ctx    context.Context
	cancel context.CancelFunc
	done   sync.WaitGroup

	feed atomic.Pointer[func(tokenstore.Change)]
	// base anchors liveAt: liveAt is nanoseconds since base (monotonic)
	// of the last moment up to which the feed is known complete.
	base   time.Time
	liveAt atomic.Int64
	// stale caches "liveAt is older than StaleAfter", kept by the clock
	// goroutine and proved, so Fresh costs an atomic load on every
	// decision instead of reading the clock.
	stale atomic.Bool

	reloads, errs, conflicts atomic.Uint64
}

// Open connects to the cluster, reads its current revision and starts
// watching the prefix from there.
func Open(cfg Config) (*Backend, error) {
	cfg.setDefaults()
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("etcd: no endpoints")
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: cfg.Endpoints, DialTimeout: cfg.DialTimeout, TLS: cfg.TLS,
		Username: cfg.Username, Password: cfg.Password, Logger: cfg.Logger,
		DialKeepAliveTime: cfg.StaleAfter, DialKeepAliveTimeout: cfg.RequestTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	b := &Backend{cfg: cfg, cli: cli, commit: cfg.Prefix + "_commit", base: time.Now()}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	rev, err := b.currentRevision(cfg.RequestTimeout)
	if err != nil {
		b.cancel()
		cli.Close()
		return nil, fmt.Errorf("etcd %s: %w", strings.Join(cfg.Endpoints, ","), err)
	}
	b.done.Add(2)
	go b.watch(rev + 1)
	go b.clock()
	return b, nil
}

// staleTick is how often the clock goroutine checks the staleness bound:
// decisions are refused at most this much after the bound passed.
const staleTick = 10 * time.Millisecond

// clock keeps the stale flag current while the backend is open.
func (b *Backend) clock() {
	defer b.done.Done()
	t := time.NewTicker(staleTick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.checkStale()
		case <-b.ctx.Done():
			return
		}
	}
}

// checkStale sets the stale flag from liveAt.
func (b *Backend) checkStale() {
	b.stale.Store(time.Duration(b.now()-b.liveAt.Load()) > b.cfg.StaleAfter)
}

// Client is the backend's etcd client, for what shares its connection
// (locks across gateways).
func (b *Backend) Client() *clientv3.Client { return b.cli }

// Close stops the watch and closes the client.
func (b *Backend) Close() error {
	b.cancel()
	b.done.Wait()
	return b.cli.Close()
}

// Watch sets the feed's receiver.
func (b *Backend) Watch(fn func(tokenstore.Change)) { b.feed.Store(&fn) }

// deliver hands c to the feed's receiver, if there is one.
func (b *Backend) deliver(c tokenstore.Change) {
	if fn := b.feed.Load(); fn != nil {
		(*fn)(c)
	}
}

// now is monotonic nanoseconds since base.
func (b *Backend) now() int64 { return int64(time.Since(b.base)) }

// Fresh fails once the feed has gone StaleAfter (plus at most staleTick)
// without a proof that it is current.
func (b *Backend) Fresh() error {
	if !b.stale.Load() {
		return nil
	}
	age := time.Duration(b.now() - b.liveAt.Load())
	return fmt.Errorf("%w: no word from etcd for %s (bound %s)", tokenstore.ErrStale,
		age.Round(time.Millisecond), b.cfg.StaleAfter)
}

// proved records that every change committed before the moment at (from
// now()) has been delivered.
func (b *Backend) proved(at int64) {
	for {
		old := b.liveAt.Load()
		if at <= old || b.liveAt.CompareAndSwap(old, at) {
			break
		}
	}
	b.checkStale()
}

// Stats are the backend's counters, for metrics.
type Stats struct {
	// Lag is how long ago the feed was last known current.
	Lag time.Duration
	// Stale is whether Lag is beyond the bound (decisions refused).
	Stale bool
	// Reloads counts lost or compacted watches that dropped the caches.
	Reloads uint64
	// Errors counts failed etcd calls and broken watches.
	Errors uint64
	// Conflicts counts write transactions run again after a conflict.
	Conflicts uint64
}

// Stats returns the backend's counters.
func (b *Backend) Stats() Stats {
	lag := time.Duration(b.now() - b.liveAt.Load())
	return Stats{Lag: lag, Stale: lag > b.cfg.StaleAfter, Reloads: b.reloads.Load(),
		Errors: b.errs.Load(), Conflicts: b.conflicts.Load()}
}

// call runs one etcd request under the request timeout and counts its
// failure.
func (b *Backend) call(fn func(ctx context.Context) error) error {
	return b.callWithin(b.cfg.RequestTimeout, fn)
}

// callWithin is call with its own timeout.
func (b *Backend) callWithin(timeout time.Duration, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	err := fn(ctx)
	if err != nil {
		b.errs.Add(1)
		return fmt.Errorf("etcd: %w", err)
	}
	return nil
}

// currentRevision reads the cluster's revision with a linearizable read,
// waiting at most timeout.
func (b *Backend) currentRevision(timeout time.Duration) (int64, error) {
	var rev int64
	err := b.callWithin(timeout, func(ctx context.Context) error {
		resp, err := b.cli.Get(ctx, b.commit, clientv3.WithCountOnly())
		if err == nil {
			rev = resp.Header.Revision
		}
		return err
	})
	return rev, err
}

// bucketKey is the etcd key of key in bucket.
func (b *Backend) bucketKey(bucket string, key []byte) string {
	return b.cfg.Prefix + bucket + "/" + string(key)
}

// split returns the bucket and key of an etcd key under the prefix; ok is
// false for the backend's own keys (commit, sequences).
func (b *Backend) split(k []byte) (bucket string, key []byte, ok bool) {
	rest := k[len(b.cfg.Prefix):]
	i := strings.IndexByte(string(rest), '/')
	if i <= 0 || rest[0] == '_' {
		return "", nil, false
	}
	return string(rest[:i]), rest[i+1:], true
}

var _ tokenstore.Backend = (*Backend)(nil)
