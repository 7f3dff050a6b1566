package channelindex

import "context"

// ProcessLocal returns a Locker that takes a LocalLocker's lock of the
// key before shared's, so that shared serializes the goroutines of this
// process too. An etcd lease lock needs it: it is held per lease (one
// per process), so two goroutines of one gateway would both hold it.
func ProcessLocal(shared Locker) Locker { return &layeredLocker{shared: shared} }

// layeredLocker is ProcessLocal's Locker.
type layeredLocker struct {
	local  LocalLocker
	shared Locker
}

var _ Locker = (*layeredLocker)(nil)

// Lock implements Locker: the local lock, then the shared one.
func (l *layeredLocker) Lock(ctx context.Context, key string) (func(), error) {
	unlockLocal, err := l.local.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	unlockShared, err := l.shared.Lock(ctx, key)
	if err != nil {
		unlockLocal()
		return nil, err
	}
	return func() { unlockShared(); unlockLocal() }, nil
}
