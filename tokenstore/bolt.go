package tokenstore

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// boltBackend is the embedded Backend on one bbolt file. Its change feed
// is in-process: bbolt locks the file, so no other process writes it.
type boltBackend struct {
	db    *bolt.DB
	watch func(Change)
}

// OpenBolt opens (creating if needed) the bbolt file at path. bbolt locks
// the file, so a second process, or a second Open in this process, waits up
// to timeout and then fails with ErrLocked: share one Backend per file (the
// Caddy module does so through a caddy.UsagePool).
func OpenBolt(path string, timeout time.Duration) (Backend, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w: another process holds it", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialize %s: %w", path, err)
	}
	return &boltBackend{db: db}, nil
}

func (b *boltBackend) View(fn func(Tx) error) error {
	return b.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx: tx}) })
}

// Update records the transaction's changes and hands them to the feed
// once committed.
func (b *boltBackend) Update(fn func(Tx) error) error {
	var changes []Change
	err := b.db.Update(func(tx *bolt.Tx) error {
		return fn(boltTx{tx: tx, changes: &changes})
	})
	if err != nil || b.watch == nil {
		return err
	}
	for _, c := range changes {
		b.watch(c)
	}
	return nil
}

// Watch sets the feed; Update calls it after each commit.
func (b *boltBackend) Watch(fn func(Change)) { b.watch = fn }

// Fresh is always nil: the feed is synchronous and nothing else writes.
func (b *boltBackend) Fresh() error { return nil }

func (b *boltBackend) Close() error { return b.db.Close() }

// boltTx is a bbolt transaction; a writable one records its changes.
type boltTx struct {
	tx      *bolt.Tx
	changes *[]Change
}

// record notes a change for the feed, copying what bbolt owns.
func (t boltTx) record(bucket string, key, value []byte) {
	c := Change{Bucket: bucket, Key: bytes.Clone(key)}
	if value != nil {
		c.Value = append([]byte{}, value...)
	}
	*t.changes = append(*t.changes, c)
}

func (t boltTx) bucket(name string) (*bolt.Bucket, error) {
	b := t.tx.Bucket([]byte(name))
	if b == nil {
		return nil, fmt.Errorf("bucket %q missing: %w", name, ErrCorrupt)
	}
	return b, nil
}

func (t boltTx) Get(bucket string, key []byte) []byte {
	b, err := t.bucket(bucket)
	if err != nil {
		return nil
	}
	return b.Get(key)
}

func (t boltTx) Put(bucket string, key, value []byte) error {
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	if err := b.Put(key, value); err != nil {
		return err
	}
	t.record(bucket, key, value)
	return nil
}

func (t boltTx) Delete(bucket string, key []byte) error {
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	if err := b.Delete(key); err != nil {
		return err
	}
	t.record(bucket, key, nil)
	return nil
}

func (t boltTx) ForEach(bucket string, prefix []byte, fn func(k, v []byte) error) error {
	return t.scan(bucket, prefix, func(k []byte) bool { return bytes.HasPrefix(k, prefix) }, fn)
}

func (t boltTx) ForEachFrom(bucket string, start []byte, fn func(k, v []byte) error) error {
	return t.scan(bucket, start, func([]byte) bool { return true }, fn)
}

// scan calls fn for the keys from start on while in(key) holds.
func (t boltTx) scan(bucket string, start []byte, in func([]byte) bool, fn func(k, v []byte) error) error {
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	c := b.Cursor()
	for k, v := c.Seek(start); k != nil && in(k); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			if err == ErrStop {
				return nil
			}
			return err
		}
	}
	return nil
}

func (t boltTx) NextSequence(bucket string) (uint64, error) {
	b, err := t.bucket(bucket)
	if err != nil {
		return 0, err
	}
	return b.NextSequence()
}

// Count uses the bucket's page statistics, which a writable transaction
// does not update before commit: there it walks the keys, so the count
// includes the transaction's own puts and deletes.
func (t boltTx) Sequence(bucket string) uint64 {
	b, err := t.bucket(bucket)
	if err != nil {
		return 0
	}
	return b.Sequence()
}

func (t boltTx) SetSequence(bucket string, n uint64) error {
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	return b.SetSequence(n)
}

func (t boltTx) Count(bucket string) int {
	b, err := t.bucket(bucket)
	if err != nil {
		return 0
	}
	if !t.tx.Writable() {
		return b.Stats().KeyN
	}
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// bulkFillPercent is how full bbolt leaves pages it splits in a bulk
// load (its default, 0.5, leaves keys inserted in order in half-empty
// pages for good).
const bulkFillPercent = 0.9

// BulkLoad sets the bucket's FillPercent for the rest of the transaction
// (a writable transaction keeps one handle per bucket).
func (t boltTx) BulkLoad(bucket string) {
	if b, err := t.bucket(bucket); err == nil {
		b.FillPercent = bulkFillPercent
	}
}

var _ Backend = (*boltBackend)(nil)
