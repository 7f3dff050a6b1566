package tokenstore

import "errors"

// Backend is the persistence the store needs: ordered buckets of byte keys
// and values with serializable read and write transactions. bbolt is the
// embedded default (see OpenBolt); a distributed key-value store can implement
// the same interface so several gateways share one state.
type Backend interface {
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Update runs fn in a read-write transaction that commits when fn
	// returns nil and rolls back otherwise.
	Update(fn func(Tx) error) error
	// Close releases the backend.
	Close() error
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

// errStop ends a ForEach early without being an error.
var errStop = errors.New("stop")

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
)

var allBuckets = []string{bucketMeta, bucketAccounts, bucketGroups, bucketPackages,
	bucketTokens, bucketTokenName, bucketLastUsed, bucketAudit, bucketUsage, bucketGrants}
