package tokenstore

import (
	"encoding/binary"
	"sync"
	"time"
)

// lastUsedWriter collects last-used times in memory and writes them in one
// backend transaction per interval: bbolt has a single writer, so a write
// per request would serialize every download.
type lastUsedWriter struct {
	s       *Store
	mu      sync.Mutex
	pending map[Hash]int64
	done    chan struct{}
	stopped sync.WaitGroup
}

func startLastUsedWriter(s *Store, every time.Duration) *lastUsedWriter {
	w := &lastUsedWriter{s: s, pending: map[Hash]int64{}, done: make(chan struct{})}
	w.stopped.Add(1)
	go func() {
		defer w.stopped.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				w.flush()
			case <-w.done:
				w.flush()
				return
			}
		}
	}()
	return w
}

// touch marks a token used at now, at most once per second per token.
func (s *Store) touch(ct *cachedToken, now time.Time) {
	sec := now.Unix()
	last := ct.lastTouch.Load()
	if sec <= last || !ct.lastTouch.CompareAndSwap(last, sec) {
		return
	}
	w := s.lastUsed
	w.mu.Lock()
	w.pending[ct.cred.Hash] = now.UnixNano()
	w.mu.Unlock()
}

// flush writes the pending times; tokens revoked meanwhile are skipped.
// A failed write is dropped: last-used is advisory and must not grow
// without bound while the store is unwritable.
func (w *lastUsedWriter) flush() {
	w.mu.Lock()
	batch := w.pending
	// Not sized like the batch: a busy interval's map would stay
	// allocated through quiet ones.
	w.pending = map[Hash]int64{}
	w.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	_ = w.s.be.Update(func(tx Tx) error {
		var v [8]byte
		for h, ns := range batch {
			var t Token
			if ok, err := readToken(tx, h, &t); err != nil || !ok || !t.Revoked.IsZero() {
				continue
			}
			binary.BigEndian.PutUint64(v[:], uint64(ns))
			if err := tx.Put(bucketLastUsed, h[:], v[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

// FlushLastUsed writes pending last-used times now (tests, shutdown).
func (s *Store) FlushLastUsed() { s.lastUsed.flush() }

func (w *lastUsedWriter) stop() {
	close(w.done)
	w.stopped.Wait()
}

func readLastUsed(tx Tx, h Hash) time.Time {
	v := tx.Get(bucketLastUsed, h[:])
	if len(v) != 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
}
