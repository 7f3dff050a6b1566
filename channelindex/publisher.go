package channelindex

import (
	"context"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Publisher adds, removes, copies and moves package files in a Storage
// and rewrites the indexes that list them. Every change follows the
// same order, so that no index ever lists a file that is absent or
// partial, even after a SIGKILL at any moment:
//
//   - a new file is written whole (Storage.WriteAtomic) before the
//     indexes that list it are rewritten;
//   - a removed file leaves the indexes first and is deleted after.
//
// Updates of one conda subdir (or one PyPI project) are serialized by
// its Locker key; an update reads the subdir's repodata.json once
// (remembered while unchanged in storage), patches it and writes it:
// no package file is read again and the folder is not rescanned.
// A Publisher is safe for concurrent use.
type Publisher struct {
	store  Storage
	locker Locker
	limits Limits
	now    func() time.Time
	// zst compresses repodata.json.zst at zstd's fastest level: at
	// 100,000 records the default level doubles an update's time for a
	// file a few percent smaller.
	zst    *zstd.Encoder
	states *ViewCache[*subdirState]
}

// Options configure a Publisher; zero fields take their defaults.
type Options struct {
	// Locker serializes index updates; default a LocalLocker (one
	// process). Gateways sharing a storage must share a Locker.
	Locker Locker
	// Limits bound reading uploaded files (see Limits for defaults).
	Limits Limits
	// StateCacheBytes bounds the parsed repodata kept in memory between
	// updates. Default 512 MiB (about 1,000,000 records).
	StateCacheBytes int64
	// Now gives upload times; default time.Now.
	Now func() time.Time
}

// DefaultStateCacheBytes is the default of Options.StateCacheBytes.
const DefaultStateCacheBytes = 512 << 20

// NewPublisher returns a Publisher writing into s.
func NewPublisher(s Storage, o Options) (*Publisher, error) {
	zst, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		return nil, err
	}
	if o.Locker == nil {
		o.Locker = &LocalLocker{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.StateCacheBytes <= 0 {
		o.StateCacheBytes = DefaultStateCacheBytes
	}
	return &Publisher{store: s, locker: o.Locker, limits: o.Limits.withDefaults(), now: o.Now, zst: zst,
		states: NewViewCache(o.StateCacheBytes, (*subdirState).sizeBytes)}, nil
}

// Close releases the Publisher's compressor.
func (p *Publisher) Close() { _ = p.zst.Close() }

// Limits returns the limits uploads are read with, defaults filled in.
func (p *Publisher) Limits() Limits { return p.limits }

// lock takes the lock of each key in order and returns one function
// that releases them all in reverse.
func (p *Publisher) lock(ctx context.Context, keys ...string) (func(), error) {
	var unlocks []func()
	release := func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	for _, k := range keys {
		u, err := p.locker.Lock(ctx, k)
		if err != nil {
			release()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return release, nil
}
