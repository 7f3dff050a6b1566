package tokenstore

import (
	"errors"
	"slices"
)

// Backend is the persistence the store needs: ordered buckets of byte keys
// and values with serializable read and write transactions, and a change
// feed. bbolt is the embedded default (see OpenBolt); etcd (package
// etcdstore) implements the same interface so several gateways share one
// state. The domain never learns which one it has.
type Backend interface {
	// View runs fn in a read-only transaction. fn runs once.
	View(fn func(Tx) error) error
	// Update runs fn in a read-write transaction that commits when fn
	// returns nil and rolls back otherwise. An optimistic backend runs fn
	// again when another writer committed first, so fn must have no
	// effect outside tx that a second run would repeat. Update returns
	// after the feed has delivered the transaction's changes.
	Update(fn func(Tx) error) error
	// Watch sets the function that receives every committed change, made
	// by this process or (for a shared backend) any other, and Resets
	// when changes may have been missed. It is called once, before the
	// first transaction; fn must not block for long.
	Watch(fn func(Change))
	// Fresh returns nil while the feed is known to be current (every
	// change committed more than the backend's staleness bound ago has
	// been delivered), and an error wrapping ErrStale otherwise: what was
	// derived from earlier reads must not be trusted then.
	Fresh() error
	// Close releases the backend.
	Close() error
}

// Change is one committed change of a key, or a Reset.
type Change struct {
	Bucket string
	Key    []byte
	// Value is the new value, nil when the key was deleted.
	Value []byte
	// Reset says that changes may have been missed (a lost or compacted
	// watch): everything derived from earlier reads must be dropped.
	// Bucket, Key and Value are empty then.
	Reset bool
}

// Tx is one transaction of a Backend. Byte slices returned by Get and
// passed to ForEach are valid only inside the transaction.
type Tx interface {
	Get(bucket string, key []byte) []byte
	Put(bucket string, key, value []byte) error
	Delete(bucket string, key []byte) error
	// ForEach calls fn for every key starting with prefix, in key order,
	// and stops at the first error fn returns.
	ForEach(bucket string, prefix []byte, fn func(k, v []byte) error) error
	// ForEachFrom calls fn for every key from start (inclusive) to the
	// end of the bucket, in key order, and stops at the first error fn
	// returns: paging without rescanning what came before.
	ForEachFrom(bucket string, start []byte, fn func(k, v []byte) error) error
	// NextSequence returns a per-bucket counter, increased on every call.
	NextSequence(bucket string) (uint64, error)
	// Sequence is the bucket's counter as NextSequence last returned it
	// (0 if never), and SetSequence sets it: for copying a store.
	Sequence(bucket string) uint64
	SetSequence(bucket string, n uint64) error
	// Count returns the number of keys in a bucket.
	Count(bucket string) int
}

// bulkLoader is implemented by transactions that can pack a bucket's
// pages fuller for a bulk insert (bbolt: Bucket.FillPercent). Backends
// without it simply do not get the hint.
type bulkLoader interface {
	// BulkLoad says that this transaction inserts many keys into bucket,
	// mostly in key order, so pages split when nearly full rather than
	// half full.
	BulkLoad(bucket string)
}

// ErrStop, returned by a ForEach callback, ends the scan without being an
// error. Backends return nil for it.
var ErrStop = errors.New("stop")

// errStop is ErrStop for the domain's own scans.
var errStop = ErrStop

// Bucket names. Records are JSON except token records (a small binary
// encoding, see tokenrec.go) and a few fixed-size binary values (last-used
// times, the token count); keys are described where each bucket is used.
const (
	bucketMeta      = "meta"
	bucketAccounts  = "accounts"
	bucketGroups    = "groups"
	bucketPackages  = "packages"
	bucketTokens    = "tokens"
	bucketTokenName = "token_names"
	bucketLastUsed  = "last_used"
	bucketAudit     = "audit"
	bucketUsage     = "usage"
	bucketGrants    = "grants"
	// bucketAccountNames holds every name that was ever an account (key:
	// the name, value empty), kept when an account goes (names.go).
	bucketAccountNames = "account_names"
	// bucketTokenChildren links a token to the tokens created with it
	// (key: parent hash + child hash, value empty), so that revoking it
	// revokes them (tokens.go).
	bucketTokenChildren = "token_children"
	// Web pages: sessions (session.go), unverified accounts (verify.go),
	// mailed single-use links (links.go).
	bucketSessions   = "sessions"
	bucketUnverified = "unverified"
	bucketLinks      = "links"
)

// Buckets lists every bucket the store uses, for backends that create
// them up front and for tools that copy a store.
func Buckets() []string { return slices.Clone(allBuckets) }

var allBuckets = []string{bucketMeta, bucketAccounts, bucketGroups, bucketPackages,
	bucketTokens, bucketTokenName, bucketLastUsed, bucketAudit, bucketUsage, bucketGrants, bucketAccountNames,
	bucketTokenChildren,
	bucketSessions, bucketUnverified, bucketLinks}
