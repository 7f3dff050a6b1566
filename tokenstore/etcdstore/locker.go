package etcdstore

import (
	"context"
	"fmt"
	"sync"

	"go.etcd.io/etcd/client/v3/concurrency"
)

// Locker serializes work across every gateway on the cluster (index
// updates of one subdir) with etcd lease locks under <prefix>_locks/. It
// has the shape of channelindex.Locker. One lease per Locker, kept alive
// while the process runs and created again if it was lost. The lock is
// held by the lease, so goroutines sharing a Locker are not serialized
// by it (channelindex.ProcessLocal adds that).
type Locker struct {
	b       *Backend
	mu      sync.Mutex
	session *concurrency.Session
}

// Locker returns the backend's locker.
func (b *Backend) Locker() *Locker { return &Locker{b: b} }

// Lock blocks until key's lock is held or ctx is done; unlock releases
// it (a failed release ends with the lease).
func (l *Locker) Lock(ctx context.Context, key string) (func(), error) {
	s, err := l.currentSession()
	if err != nil {
		return nil, err
	}
	m := concurrency.NewMutex(s, l.b.cfg.Prefix+"_locks/"+key)
	if err := m.Lock(ctx); err != nil {
		l.b.errs.Add(1)
		return nil, fmt.Errorf("etcd lock %q: %w", key, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(l.b.ctx, l.b.cfg.RequestTimeout)
			defer cancel()
			if m.Unlock(ctx) != nil {
				l.b.errs.Add(1)
			}
		})
	}, nil
}

// currentSession returns the live session, opening one if there is none
// or the last one's lease was lost.
func (l *Locker) currentSession() (*concurrency.Session, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.session != nil {
		select {
		case <-l.session.Done():
			l.session = nil
		default:
			return l.session, nil
		}
	}
	s, err := concurrency.NewSession(l.b.cli, concurrency.WithTTL(int(l.b.cfg.LockTTL.Seconds())), concurrency.WithContext(l.b.ctx))
	if err != nil {
		l.b.errs.Add(1)
		return nil, fmt.Errorf("etcd lock session: %w", err)
	}
	l.session = s
	return s, nil
}
