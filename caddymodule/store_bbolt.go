package caddymodule

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/channelgate/channelgate/tokenstore"
)

func init() {
	caddy.RegisterModule(BoltStore{})
}

// BoltStore keeps the store in one bbolt file: the default, for one
// gateway (bbolt locks the file to one process).
type BoltStore struct {
	// Path is the file. Default: channelgate/channelgate.db in Caddy's
	// data directory.
	Path string `json:"path,omitempty"`
}

// boltLockTimeout is how long opening waits for another process's lock on
// the file before failing with tokenstore.ErrLocked.
const boltLockTimeout = 5 * time.Second

// CaddyModule returns the Caddy module information.
func (BoltStore) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "channelgate.stores.bbolt",
		New: func() caddy.Module { return new(BoltStore) },
	}
}

// path is the absolute path of the file.
func (b *BoltStore) path() (string, error) {
	p := b.Path
	if p == "" {
		p = filepath.Join(caddy.AppDataDir(), "channelgate", "channelgate.db")
	}
	return filepath.Abs(p)
}

// StoreKey is the file's absolute path.
func (b *BoltStore) StoreKey() (string, error) { return b.path() }

// OpenBackend opens the file, creating it and its folder if needed.
func (b *BoltStore) OpenBackend() (tokenstore.Backend, error) {
	p, err := b.path()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, fmt.Errorf("creating folder for %s: %v", p, err)
	}
	return tokenstore.OpenBolt(p, boltLockTimeout)
}

// UnmarshalCaddyfile reads `bbolt [<path>]`.
func (b *BoltStore) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // backend name
	if d.NextArg() {
		b.Path = d.Val()
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	if d.NextBlock(0) {
		return d.Err("bbolt takes no block")
	}
	return nil
}

// Interface guards
var (
	_ StoreBackend          = (*BoltStore)(nil)
	_ caddyfile.Unmarshaler = (*BoltStore)(nil)
)
