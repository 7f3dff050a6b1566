package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/caddyserver/caddy/v2"

	"github.com/channelgate/channelgate/channelindex"
	"github.com/channelgate/channelgate/tokenstore"
	"github.com/channelgate/channelgate/tokenstore/etcdstore"
)

// stores shares one open Store per backend state (a bbolt file, an etcd
// cluster and prefix) across handlers and configuration reloads: bbolt
// locks its file, so a reload that opened it again would wait on itself,
// and one etcd watch per process is enough. The last handler to let go
// closes it.
var stores = caddy.NewUsagePool()

// openStores lists the stores currently in the pool, and etcdBackends
// the etcd backends among their backends, for the metrics collectors.
// indexLockers holds the cross-gateway Locker of the stores whose module
// gives one (IndexLocking), one per open store.
var (
	openStores   sync.Map // key → *tokenstore.Store
	etcdBackends sync.Map // key → *etcdstore.Backend
	indexLockers sync.Map // key → channelindex.Locker
)

// StoreConfig says where the store keeps its state and how to tune it.
type StoreConfig struct {
	// DB is the bbolt file of the default store (and of a bbolt Store
	// without a path). Default: channelgate/channelgate.db in Caddy's
	// data directory. Not used with an etcd Store.
	DB string `json:"db,omitempty"`
	// Store is the backend as a guest module of namespace
	// channelgate.stores, named by its "backend" key: "bbolt" or "etcd".
	// Default: bbolt at DB.
	Store json.RawMessage `json:"store,omitempty" caddy:"namespace=channelgate.stores inline_key=backend"`
	// CacheSize is the number of token lookups kept in memory. Default
	// 10000.
	CacheSize int `json:"cache_size,omitempty"`

	backend StoreBackend
}

// StoreBackend is what a channelgate.stores module provides: the backend
// the Store runs on.
type StoreBackend interface {
	// StoreKey names the state the backend reaches: handlers whose keys
	// are equal share one open Store.
	StoreKey() (string, error)
	// OpenBackend opens (or connects to) the state.
	OpenBackend() (tokenstore.Backend, error)
}

// IndexLocking is implemented by store modules whose backend every
// gateway shares (etcd): index updates of a storage_root take the
// Locker's locks, so gateways publishing into one shared directory do
// not overwrite each other's indexes. Without it, updates are
// serialized in the process only.
type IndexLocking interface {
	// IndexLocker returns a Locker on be, a backend this module opened.
	IndexLocker(be tokenstore.Backend) channelindex.Locker
}

// indexLocker is the Locker of the open store key, nil (the process's
// own) when its module has none.
func indexLocker(key string) channelindex.Locker {
	if l, ok := indexLockers.Load(key); ok {
		return l.(channelindex.Locker)
	}
	return nil
}

// provisionStore loads the configured store module (bbolt at DB when none
// is configured).
func (c *StoreConfig) provisionStore(ctx caddy.Context) error {
	if c.Store == nil {
		return nil
	}
	m, err := ctx.LoadModule(c, "Store")
	if err != nil {
		return fmt.Errorf("loading channelgate store: %w", err)
	}
	c.backend = m.(StoreBackend)
	if b, ok := c.backend.(*BoltStore); ok && b.Path == "" {
		b.Path = c.DB
	}
	return nil
}

// storeBackend is the configured backend, bbolt at DB by default.
func (c *StoreConfig) storeBackend() StoreBackend {
	if c.backend != nil {
		return c.backend
	}
	return &BoltStore{Path: c.DB}
}

// acquireStore returns the shared store for the configured backend,
// opening it if no handler holds it yet. Every successful call must be
// paired with releaseStore of the key it returns.
func acquireStore(c StoreConfig) (*tokenstore.Store, string, error) {
	sb := c.storeBackend()
	key, err := sb.StoreKey()
	if err != nil {
		return nil, "", err
	}
	val, _, err := stores.LoadOrNew(key, func() (caddy.Destructor, error) {
		be, err := sb.OpenBackend()
		if errors.Is(err, tokenstore.ErrLocked) {
			return nil, fmt.Errorf("%w (another Caddy? use 'caddy reload')", err)
		}
		if err != nil {
			return nil, err
		}
		s, err := tokenstore.Open(be, tokenstore.Options{CacheSize: c.CacheSize, ObserveLookup: observeLookup,
			ObservePasswordCheck: observePasswordCheck})
		if err != nil {
			be.Close()
			return nil, err
		}
		openStores.Store(key, s)
		if eb, ok := be.(*etcdstore.Backend); ok {
			etcdBackends.Store(key, eb)
		}
		if il, ok := sb.(IndexLocking); ok {
			indexLockers.Store(key, il.IndexLocker(be))
		}
		return s, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("channelgate database: %w", err)
	}
	s := val.(*tokenstore.Store)
	s.SetCacheSize(c.CacheSize)
	return s, key, nil
}

// releaseStore gives a store back; the last release closes it.
func releaseStore(key string) error {
	deleted, err := stores.Delete(key)
	if deleted {
		openStores.Delete(key)
		etcdBackends.Delete(key)
		indexLockers.Delete(key)
	}
	return err
}
