package channelindex

import (
	"context"
	"sync"
)

// Locker serializes the updates of one index: every change to a conda
// subdir (or a PyPI project, or a channel's root files) runs while
// holding the lock of its key. LocalLocker serializes within one
// process; gateways sharing a storage need a shared one (an etcd lease
// lock). Lock blocks until the lock is held or ctx is done; unlock must
// be called exactly once.
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// LocalLocker is a Locker for one process: one mutex per key, dropped
// when no one holds or waits for it. The zero value is ready to use.
type LocalLocker struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

var _ Locker = (*LocalLocker)(nil)

type keyLock struct {
	held  chan struct{} // holds one token while the lock is held
	users int           // holders and waiters
}

// Lock implements Locker.
func (l *LocalLocker) Lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = make(map[string]*keyLock)
	}
	k := l.locks[key]
	if k == nil {
		k = &keyLock{held: make(chan struct{}, 1)}
		l.locks[key] = k
	}
	k.users++
	l.mu.Unlock()

	select {
	case k.held <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-k.held; l.release(key, k) }) }, nil
	case <-ctx.Done():
		l.release(key, k)
		return nil, ctx.Err()
	}
}

func (l *LocalLocker) release(key string, k *keyLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k.users--; k.users == 0 {
		delete(l.locks, key)
	}
}
