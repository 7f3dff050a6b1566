package etcdstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/channelgate/channelgate/tokenstore"
)

// pageSize is how many keys one range read returns; larger scans page.
const pageSize = 512

// tx is one transaction: reads at one revision, writes buffered until
// commit. A failed read is kept in err (Tx.Get has no error) and fails the
// transaction whatever fn returned, so a read error never passes for a
// missing key.
type tx struct {
	b   *Backend
	rev int64 // 0 until the first read fixes it
	// commitMod is the commit key's ModRevision at rev (0: absent).
	commitMod int64
	// writes maps etcd keys to new values (nil: deleted); nil for a
	// read-only transaction.
	writes map[string][]byte
	err    error
}

// View runs fn at one revision, read at its first read.
func (b *Backend) View(fn func(tokenstore.Tx) error) error {
	t := &tx{b: b}
	err := fn(t)
	if t.err != nil {
		return t.err
	}
	return err
}

// Update runs fn at one revision and commits its writes if no other write
// transaction committed since; otherwise it runs fn again, up to
// MaxAttempts times. The committed changes go to the feed before Update
// returns, so this process's caches see its own writes at once.
func (b *Backend) Update(fn func(tokenstore.Tx) error) error {
	for attempt := range b.cfg.MaxAttempts {
		if attempt > 0 {
			b.conflicts.Add(1)
			b.pause(backoff(attempt))
		}
		t := &tx{b: b, writes: map[string][]byte{}}
		if err := t.begin(); err != nil {
			return err
		}
		err := fn(t)
		if errors.Is(t.err, errRetry) {
			continue
		}
		if t.err != nil {
			return t.err
		}
		if err != nil {
			return err
		}
		ok, err := t.commit()
		if err != nil {
			return err
		}
		if ok {
			t.deliver()
			return nil
		}
	}
	return ErrConflict
}

// backoff is a jittered pause that grows with the attempt, up to 50ms.
func backoff(attempt int) time.Duration {
	d := min(time.Millisecond<<min(attempt, 6), 50*time.Millisecond)
	return d/2 + rand.N(d/2+1)
}

// errRetry marks a read that failed because its revision was compacted
// away mid-transaction: the transaction runs again at a new revision.
var errRetry = errors.New("etcd: revision compacted during transaction")

// begin fixes the revision by reading the commit key.
func (t *tx) begin() error {
	return t.b.call(func(ctx context.Context) error {
		resp, err := t.b.cli.Get(ctx, t.b.commit)
		if err != nil {
			return err
		}
		t.rev = resp.Header.Revision
		if len(resp.Kvs) == 1 {
			t.commitMod = resp.Kvs[0].ModRevision
		}
		return nil
	})
}

// get reads at the transaction's revision (fixing it at the first read).
// It returns nil after a failure, which stays in t.err.
func (t *tx) get(key string, opts ...clientv3.OpOption) *clientv3.GetResponse {
	if t.err != nil {
		return nil
	}
	if t.rev != 0 {
		opts = append(opts, clientv3.WithRev(t.rev))
	}
	var resp *clientv3.GetResponse
	err := t.b.call(func(ctx context.Context) error {
		var err error
		resp, err = t.b.cli.Get(ctx, key, opts...)
		return err
	})
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		t.err = errRetry
	case err != nil:
		t.err = err
	default:
		if t.rev == 0 {
			t.rev = resp.Header.Revision
		}
		return resp
	}
	return nil
}

// base is a key's value at the transaction's revision.
func (t *tx) base(key string) []byte {
	resp := t.get(key)
	if resp == nil || len(resp.Kvs) == 0 {
		return nil
	}
	if v := resp.Kvs[0].Value; v != nil {
		return v
	}
	return []byte{}
}

// value is a key's value as this transaction sees it.
func (t *tx) value(key string) []byte {
	if v, ok := t.writes[key]; ok {
		return v
	}
	return t.base(key)
}

func (t *tx) Get(bucket string, key []byte) []byte {
	return t.value(t.b.bucketKey(bucket, key))
}

func (t *tx) Put(bucket string, key, value []byte) error {
	if t.writes == nil {
		return errors.New("etcd: write in a read-only transaction")
	}
	if len(key) == 0 {
		return errors.New("etcd: empty key")
	}
	t.writes[t.b.bucketKey(bucket, key)] = append([]byte{}, value...)
	return nil
}

func (t *tx) Delete(bucket string, key []byte) error {
	if t.writes == nil {
		return errors.New("etcd: write in a read-only transaction")
	}
	t.writes[t.b.bucketKey(bucket, key)] = nil
	return nil
}

func (t *tx) ForEach(bucket string, prefix []byte, fn func(k, v []byte) error) error {
	from := t.b.bucketKey(bucket, prefix)
	return t.scan(bucket, from, clientv3.GetPrefixRangeEnd(from), fn)
}

func (t *tx) ForEachFrom(bucket string, start []byte, fn func(k, v []byte) error) error {
	return t.scan(bucket, t.b.bucketKey(bucket, start), t.bucketEnd(bucket), fn)
}

// bucketEnd is the end of the range of a bucket's keys.
func (t *tx) bucketEnd(bucket string) string {
	return clientv3.GetPrefixRangeEnd(t.b.bucketKey(bucket, nil))
}

// scan calls fn for the keys in [from, end) in order: the keys read at
// the revision, a page at a time, merged with this transaction's writes.
func (t *tx) scan(bucket, from, end string, fn func(k, v []byte) error) error {
	skip := len(t.b.bucketKey(bucket, nil))
	pending := t.pendingIn(from, end)
	emit := func(k string, v []byte) error {
		err := fn([]byte(k[skip:]), v)
		if err == tokenstore.ErrStop {
			return errStopped
		}
		return err
	}
	// flush emits the buffered writes before key k ("" for all).
	flush := func(k string) error {
		for len(pending) > 0 && (k == "" || pending[0] < k) {
			p := pending[0]
			pending = pending[1:]
			if v := t.writes[p]; v != nil {
				if err := emit(p, v); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := t.pages(from, end, func(k string, v []byte) error {
		if err := flush(k); err != nil {
			return err
		}
		if len(pending) > 0 && pending[0] == k {
			return nil // overwritten or deleted here: flush emits it
		}
		return emit(k, v)
	})
	if err == nil {
		err = flush("")
	}
	if err == errStopped {
		return nil
	}
	return err
}

// errStopped carries ErrStop out of a page loop.
var errStopped = errors.New("stopped")

// pages reads [from, end) at the revision, pageSize keys at a time.
func (t *tx) pages(from, end string, fn func(k string, v []byte) error) error {
	for {
		resp := t.get(from, clientv3.WithRange(end), clientv3.WithLimit(pageSize))
		if resp == nil {
			return t.err
		}
		for _, kv := range resp.Kvs {
			if err := fn(string(kv.Key), kv.Value); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// pendingIn lists the buffered writes in [from, end), sorted.
func (t *tx) pendingIn(from, end string) []string {
	var keys []string
	for k := range t.writes {
		if k >= from && k < end {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// seqKey is the key of a bucket's counter.
func (t *tx) seqKey(bucket string) string { return t.b.cfg.Prefix + "_seq/" + bucket }

// Sequence reads the bucket's counter, kept under <prefix>_seq/<bucket>.
func (t *tx) Sequence(bucket string) uint64 {
	if v := t.value(t.seqKey(bucket)); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// SetSequence sets the bucket's counter.
func (t *tx) SetSequence(bucket string, n uint64) error {
	if t.writes == nil {
		return errors.New("etcd: write in a read-only transaction")
	}
	t.writes[t.seqKey(bucket)] = binary.BigEndian.AppendUint64(nil, n)
	return nil
}

// NextSequence increments the bucket's counter.
func (t *tx) NextSequence(bucket string) (uint64, error) {
	n := t.Sequence(bucket)
	if t.err != nil {
		return 0, t.err
	}
	return n + 1, t.SetSequence(bucket, n+1)
}

// Count is the number of keys in bucket at the revision, adjusted by this
// transaction's writes.
func (t *tx) Count(bucket string) int {
	from := t.b.bucketKey(bucket, nil)
	resp := t.get(from, clientv3.WithRange(t.bucketEnd(bucket)), clientv3.WithCountOnly())
	if resp == nil {
		return 0
	}
	n := int(resp.Count)
	for _, k := range t.pendingIn(from, t.bucketEnd(bucket)) {
		had, has := t.base(k) != nil, t.writes[k] != nil
		switch {
		case had && !has:
			n--
		case !had && has:
			n++
		}
	}
	return n
}

// commit writes the buffered changes if the commit key is unchanged since
// the transaction's revision; false means another writer came first.
func (t *tx) commit() (bool, error) {
	if len(t.writes) == 0 {
		return true, nil
	}
	ops := make([]clientv3.Op, 0, len(t.writes)+1)
	for k, v := range t.writes {
		if v == nil {
			ops = append(ops, clientv3.OpDelete(k))
		} else {
			ops = append(ops, clientv3.OpPut(k, string(v)))
		}
	}
	ops = append(ops, clientv3.OpPut(t.b.commit, ""))
	var ok bool
	err := t.b.call(func(ctx context.Context) error {
		resp, err := t.b.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(t.b.commit), "=", t.commitMod)).
			Then(ops...).Commit()
		if err != nil {
			return err
		}
		ok = resp.Succeeded
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("commit of %d changes: %w", len(t.writes), err)
	}
	return ok, nil
}

// deliver hands the committed changes to the feed.
func (t *tx) deliver() {
	for k, v := range t.writes {
		if bucket, key, ok := t.b.split([]byte(k)); ok {
			t.b.deliver(tokenstore.Change{Bucket: bucket, Key: key, Value: v})
		}
	}
}
