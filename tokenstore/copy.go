package tokenstore

import (
	"bytes"
	"errors"
	"fmt"
)

// CopyOptions tune Copy. Zero values take the documented defaults.
type CopyOptions struct {
	// Batch is how many keys one destination transaction writes.
	// Default 100 (etcd's default --max-txn-ops is 128).
	Batch int
	// Sample is how many records per bucket Verify compares byte for
	// byte, spread evenly over the bucket. Default 1000.
	Sample int
	// Progress, if set, is called after every batch with the keys copied
	// so far.
	Progress func(copied int)
}

// Defaults for CopyOptions.
const (
	DefaultCopyBatch  = 100
	DefaultCopySample = 1000
)

// CopyReport says what Copy copied and what Verify checked.
type CopyReport struct {
	// Keys per bucket, in the source and in the destination.
	Source, Destination map[string]int
	// Sampled is how many records were compared byte for byte.
	Sampled int
}

// ErrNotEmpty says that the destination of a copy already holds records.
var ErrNotEmpty = errors.New("destination store is not empty")

// Copy copies every bucket's keys and sequence from src to dst, which
// must be empty, then verifies the copy (see Verify). The source should
// not change meanwhile (stop the gateways): it is read in one transaction.
func Copy(dst, src Backend, opts CopyOptions) (CopyReport, error) {
	if opts.Batch <= 0 {
		opts.Batch = DefaultCopyBatch
	}
	if err := checkEmpty(dst); err != nil {
		return CopyReport{}, err
	}
	copied := 0
	err := src.View(func(tx Tx) error {
		for _, bucket := range allBuckets {
			if err := copyBucket(dst, tx, bucket, opts, &copied); err != nil {
				return fmt.Errorf("copying %s: %w", bucket, err)
			}
		}
		return nil
	})
	if err != nil {
		return CopyReport{}, err
	}
	return Verify(dst, src, opts)
}

// checkEmpty fails with ErrNotEmpty if any bucket of be holds a key.
func checkEmpty(be Backend) error {
	return be.View(func(tx Tx) error {
		for _, bucket := range allBuckets {
			if n := tx.Count(bucket); n > 0 {
				return fmt.Errorf("%w: %s holds %d keys", ErrNotEmpty, bucket, n)
			}
		}
		return nil
	})
}

// copyBucket writes one bucket's keys to dst in batches, then its
// sequence.
func copyBucket(dst Backend, tx Tx, bucket string, opts CopyOptions, copied *int) error {
	var keys, values [][]byte
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		err := dst.Update(func(w Tx) error {
			if bl, ok := w.(bulkLoader); ok {
				bl.BulkLoad(bucket)
			}
			for i := range keys {
				if err := w.Put(bucket, keys[i], values[i]); err != nil {
					return err
				}
			}
			return nil
		})
		*copied += len(keys)
		keys, values = keys[:0], values[:0]
		if err == nil && opts.Progress != nil {
			opts.Progress(*copied)
		}
		return err
	}
	err := tx.ForEach(bucket, nil, func(k, v []byte) error {
		keys, values = append(keys, bytes.Clone(k)), append(values, bytes.Clone(v))
		if len(keys) < opts.Batch {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	seq := tx.Sequence(bucket)
	return dst.Update(func(w Tx) error { return w.SetSequence(bucket, seq) })
}

// Verify compares two stores: the number of keys and the sequence of
// every bucket, and a sample of records (opts.Sample per bucket, evenly
// spread) byte for byte.
func Verify(dst, src Backend, opts CopyOptions) (CopyReport, error) {
	if opts.Sample <= 0 {
		opts.Sample = DefaultCopySample
	}
	r := CopyReport{Source: map[string]int{}, Destination: map[string]int{}}
	err := src.View(func(stx Tx) error {
		return dst.View(func(dtx Tx) error {
			for _, bucket := range allBuckets {
				if err := verifyBucket(&r, dtx, stx, bucket, opts.Sample); err != nil {
					return err
				}
			}
			return nil
		})
	})
	return r, err
}

// verifyBucket compares one bucket's count, sequence and sample.
func verifyBucket(r *CopyReport, dtx, stx Tx, bucket string, sample int) error {
	n, m := stx.Count(bucket), dtx.Count(bucket)
	r.Source[bucket], r.Destination[bucket] = n, m
	if n != m {
		return fmt.Errorf("%s: %d keys in the source, %d in the destination", bucket, n, m)
	}
	if s, d := stx.Sequence(bucket), dtx.Sequence(bucket); s != d {
		return fmt.Errorf("%s: sequence %d in the source, %d in the destination", bucket, s, d)
	}
	every := max(1, n/sample)
	i := 0
	return stx.ForEach(bucket, nil, func(k, v []byte) error {
		if i++; (i-1)%every != 0 {
			return nil
		}
		r.Sampled++
		if got := dtx.Get(bucket, k); got == nil || !bytes.Equal(got, v) {
			return fmt.Errorf("%s: record %q differs in the destination", bucket, k)
		}
		return nil
	})
}
