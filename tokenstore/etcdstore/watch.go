package etcdstore

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/channelgate/channelgate/tokenstore"
)

// retryDelay is the pause before watching again after a broken watch or a
// failed reload.
const retryDelay = 100 * time.Millisecond

// watch delivers every change under the prefix from revision rev on, for
// as long as the backend is open. A watch the server cancelled (no leader,
// member gone) starts again from the next revision; a compacted one
// reloads: the store drops its caches and the watch starts again from the
// revision of that moment.
func (b *Backend) watch(rev int64) {
	defer b.done.Done()
	// The caches are empty at Open: the feed is current as of now.
	b.proved(b.now())
	for b.ctx.Err() == nil {
		next, compacted := b.watchFrom(rev)
		switch {
		case compacted:
			rev = b.reload()
		case next > rev:
			rev = next
		}
		if b.ctx.Err() == nil {
			b.pause(retryDelay)
		}
	}
}

// pause waits d or until the backend closes.
func (b *Backend) pause(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.ctx.Done():
	}
}

// reload tells the store that changes may have been missed and returns
// the revision to watch from. The revision is read before the Reset is
// delivered, so every change after it comes through the new watch and
// every change before it is in what the store reads after dropping its
// caches.
func (b *Backend) reload() int64 {
	for b.ctx.Err() == nil {
		start := b.now()
		rev, err := b.currentRevision(b.cfg.RequestTimeout)
		if err == nil {
			b.reloads.Add(1)
			b.deliver(tokenstore.Change{Reset: true})
			b.proved(start)
			return rev + 1
		}
		b.pause(retryDelay)
	}
	return 0
}

// probe is one liveness check: at the moment at, the cluster's revision
// was rev (a linearizable read, so only a member with a leader answers).
type probe struct {
	at, rev int64
	err     error
}

// watchFrom runs one watch from rev until it breaks. It returns the
// revision to go on from, and whether rev was compacted away.
//
// Liveness: every StaleAfter/5 it reads the cluster's revision R through
// the leader, then asks the server for a progress notification; once the
// watch has delivered every event up to R (an event at R or later, or a
// progress notification at R or later: responses come in order), every
// change committed before the read has reached the store, so the feed is
// current as of the read. A member cut off from the leader cannot answer
// the read, so its watch is never taken for current.
func (b *Backend) watchFrom(rev int64) (next int64, compacted bool) {
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(b.ctx))
	defer cancel()
	wch := b.cli.Watch(ctx, b.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithRev(rev),
		clientv3.WithProgressNotify())
	tick := time.NewTicker(max(b.cfg.StaleAfter/5, 10*time.Millisecond))
	defer tick.Stop()
	probes := make(chan probe, 1)
	probing := false
	var pending *probe // read, waiting for the watch to reach its revision
	reached := func(r int64) {
		if pending != nil && r >= pending.rev {
			b.proved(pending.at)
			pending = nil
		}
	}
	for {
		select {
		case <-b.ctx.Done():
			return rev, false
		case <-tick.C:
			if pending != nil && time.Duration(b.now()-pending.at) > b.cfg.StaleAfter/2 {
				pending = nil // too old to prove much: read again
			}
			switch {
			case pending != nil:
				// Ask again: a request or its answer may be lost.
				_ = b.cli.RequestProgress(ctx)
			case !probing:
				probing = true
				go func() {
					// A read slower than half the bound could not
					// prove much: give up and read again, so the
					// feed is current again soon after an election.
					at := b.now()
					r, err := b.currentRevision(b.cfg.StaleAfter / 2)
					probes <- probe{at: at, rev: r, err: err}
				}()
			}
		case p := <-probes:
			probing = false
			if p.err == nil {
				pending = &p
				reached(rev - 1)
			}
			if pending != nil {
				// An error here shows as a missing answer, asked
				// again at the next tick.
				_ = b.cli.RequestProgress(ctx)
			}
		case resp, ok := <-wch:
			if !ok {
				return rev, false
			}
			if resp.CompactRevision != 0 {
				b.errs.Add(1)
				return rev, true
			}
			if err := resp.Err(); err != nil {
				b.errs.Add(1)
				return rev, false
			}
			rev = b.apply(resp, rev)
			reached(rev - 1)
			if resp.IsProgressNotify() {
				reached(resp.Header.Revision)
			}
		}
	}
}

// apply delivers a response's events and returns the revision to go on
// from.
func (b *Backend) apply(resp clientv3.WatchResponse, rev int64) int64 {
	for _, ev := range resp.Events {
		rev = max(rev, ev.Kv.ModRevision+1)
		bucket, key, ok := b.split(ev.Kv.Key)
		if !ok {
			continue
		}
		c := tokenstore.Change{Bucket: bucket, Key: key}
		if ev.Type == clientv3.EventTypePut {
			c.Value = append([]byte{}, ev.Kv.Value...)
		}
		b.deliver(c)
	}
	return rev
}
