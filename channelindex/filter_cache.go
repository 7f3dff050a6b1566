package channelindex

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"time"
)

// filterVersion is part of every view ETag, so a change in what the
// filters output invalidates what clients cached.
const filterVersion = "1"

// StorageValidator identifies one version of a stored file from what
// the storage says about it: size, modification time and, if the
// storage has one, its ETag. Any change gives a different validator.
func StorageValidator(size int64, modTime time.Time, etag string) string {
	return strconv.FormatInt(size, 10) + "/" + strconv.FormatInt(modTime.UnixNano(), 10) + "/" + etag
}

// ViewETag returns the strong ETag (quotes included) of a filtered file:
// a hash of the stored file's validator and the viewer's visibility key
// (tokenstore.Visibility.Key). The same view of the same file keeps its
// ETag; a different file version or a different visible set changes it,
// so a conda cache filled anonymously is not reused with a token.
func ViewETag(validator, viewKey string) string {
	h := sha256.New()
	for _, s := range []string{filterVersion, validator, viewKey} {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	return `"cg-` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}

var errViewAborted = errors.New("computing the filtered view failed")

// ViewKey names one filtered view of one stored file.
type ViewKey struct {
	Path      string // the stored file, e.g. "ch/linux-64/repodata.json.zst"
	Validator string // its version, from StorageValidator
	View      string // the visible set, from tokenstore.Visibility.Key
}

// viewCacheOverhead is what an entry costs beside its value and key.
const viewCacheOverhead = 160

// ViewCache keeps filtered indexes (or anything derived from a stored
// file and a view) in memory, bounded by an estimate of their total
// size, evicting the least recently used. It holds one version per path
// and view: a new validator replaces the old entry. Concurrent requests
// for the same missing key compute it once. Safe for concurrent use.
type ViewCache[V any] struct {
	maxBytes int64
	sizeOf   func(V) int64

	mu       sync.Mutex
	bytes    int64
	order    *list.List // of *viewEntry[V], most recent first
	entries  map[viewSlot]*list.Element
	inflight map[ViewKey]*viewCall[V]
}

type viewSlot struct{ path, view string }

type viewEntry[V any] struct {
	slot      viewSlot
	validator string
	value     V
	cost      int64
}

type viewCall[V any] struct {
	done  chan struct{}
	value V
	err   error
}

// NewViewCache returns a cache holding about maxBytes, where sizeOf
// estimates the bytes one value holds.
func NewViewCache[V any](maxBytes int64, sizeOf func(V) int64) *ViewCache[V] {
	return &ViewCache[V]{
		maxBytes: maxBytes,
		sizeOf:   sizeOf,
		order:    list.New(),
		entries:  make(map[viewSlot]*list.Element),
		inflight: make(map[ViewKey]*viewCall[V]),
	}
}

// Get returns the cached value for k.
func (c *ViewCache[V]) Get(k ViewKey) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.entries[viewSlot{k.Path, k.View}]; el != nil {
		if e := el.Value.(*viewEntry[V]); e.validator == k.Validator {
			c.order.MoveToFront(el)
			return e.value, true
		}
	}
	var zero V
	return zero, false
}

// Do returns the cached value for k, or computes, caches and returns it.
// Concurrent calls for the same key wait for one computation; errors
// are returned to them all and not cached.
func (c *ViewCache[V]) Do(k ViewKey, compute func() (V, error)) (V, error) {
	if v, ok := c.Get(k); ok {
		return v, nil
	}
	c.mu.Lock()
	if call := c.inflight[k]; call != nil {
		c.mu.Unlock()
		<-call.done
		return call.value, call.err
	}
	// The error stands if compute panics, so waiters do not take the
	// zero value for a result.
	call := &viewCall[V]{done: make(chan struct{}), err: errViewAborted}
	c.inflight[k] = call
	c.mu.Unlock()

	defer func() {
		c.mu.Lock()
		delete(c.inflight, k)
		c.mu.Unlock()
		close(call.done)
	}()
	call.value, call.err = compute()
	if call.err == nil {
		c.put(k, call.value)
	}
	return call.value, call.err
}

// put stores v under k unless it alone exceeds the bound.
func (c *ViewCache[V]) put(k ViewKey, v V) {
	cost := c.sizeOf(v) + int64(len(k.Path)+len(k.Validator)+len(k.View)) + viewCacheOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	slot := viewSlot{k.Path, k.View}
	if el := c.entries[slot]; el != nil {
		c.remove(el)
	}
	if cost > c.maxBytes {
		return
	}
	c.entries[slot] = c.order.PushFront(&viewEntry[V]{slot: slot, validator: k.Validator, value: v, cost: cost})
	c.bytes += cost
	for c.bytes > c.maxBytes {
		c.remove(c.order.Back())
	}
}

func (c *ViewCache[V]) remove(el *list.Element) {
	e := c.order.Remove(el).(*viewEntry[V])
	delete(c.entries, e.slot)
	c.bytes -= e.cost
}

// Len returns the number of entries and their estimated total size.
func (c *ViewCache[V]) Len() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.bytes
}
