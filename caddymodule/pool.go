package caddymodule

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/caddyserver/caddy/v2"

	"github.com/channelgate/channelgate/tokenstore"
)

// stores shares one open Store per database file across handlers and
// configuration reloads: bbolt locks its file, so a reload that opened it
// again would wait on itself. The last handler to let go closes it.
var stores = caddy.NewUsagePool()

// openStores lists the stores currently in the pool, for the metrics
// collector.
var openStores sync.Map // path → *tokenstore.Store

// StoreConfig says which database to open and how to tune it.
type StoreConfig struct {
	// DB is the bbolt file. Default: channelgate/channelgate.db in Caddy's
	// data directory.
	DB string `json:"db,omitempty"`
	// CacheSize is the number of token lookups kept in memory. Default
	// 10000.
	CacheSize int `json:"cache_size,omitempty"`
}

func (c *StoreConfig) dbPath() (string, error) {
	p := c.DB
	if p == "" {
		p = filepath.Join(caddy.AppDataDir(), "channelgate", "channelgate.db")
	}
	return filepath.Abs(p)
}

// acquireStore returns the shared store for the configured file, opening
// it if no handler holds it yet. Every successful call must be paired with
// releaseStore.
func acquireStore(c StoreConfig) (*tokenstore.Store, string, error) {
	path, err := c.dbPath()
	if err != nil {
		return nil, "", err
	}
	val, _, err := stores.LoadOrNew(path, func() (caddy.Destructor, error) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("creating folder for %s: %v", path, err)
		}
		s, err := tokenstore.OpenFile(path, tokenstore.Options{CacheSize: c.CacheSize, ObserveLookup: observeLookup,
			ObservePasswordCheck: observePasswordCheck})
		if errors.Is(err, tokenstore.ErrLocked) {
			return nil, fmt.Errorf("%w: %s is locked by another process (another Caddy? use 'caddy reload')", err, path)
		}
		if err != nil {
			return nil, err
		}
		openStores.Store(path, s)
		return s, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("channelgate database: %w", err)
	}
	s := val.(*tokenstore.Store)
	s.SetCacheSize(c.CacheSize)
	return s, path, nil
}

// releaseStore gives a store back; the last release closes it.
func releaseStore(path string) error {
	deleted, err := stores.Delete(path)
	if deleted {
		openStores.Delete(path)
	}
	return err
}
