package tokenstore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// An account's name is also a channel name, so a new account could take
// over a channel the storage already serves, or one a deleted account used
// to own (its users' tokens and configurations still point at it). Only a
// site administrator may create such a name: the storage is asked through
// ServedChannels, and every name that was ever an account stays in the
// account_names bucket (a tombstone outliving the account).

// ServedChannels tells whether the storage already serves a channel. The
// Caddy module provides it for the gateway's storage.
type ServedChannels interface {
	// Serves reports whether the storage has a channel called name (a
	// valid account name). An error fails the account creation closed.
	Serves(name string) (bool, error)
}

// ChannelDir is a storage on the local disk: a channel is served when
// <dir>/<name> exists.
type ChannelDir string

// Serves reports whether <dir>/<name> exists.
func (d ChannelDir) Serves(name string) (bool, error) {
	_, err := os.Lstat(filepath.Join(string(d), name))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

// EveryChannel says every name is served: with a storage the gateway
// cannot ask, only site administrators create accounts (fail closed).
type EveryChannel struct{}

// Serves is always true.
func (EveryChannel) Serves(string) (bool, error) { return true, nil }

// metaNamesIndexed marks a database whose account_names bucket holds the
// name of every account (databases written before the bucket existed are
// indexed once, at Open).
var metaNamesIndexed = []byte("account_names_indexed")

// indexAccountNames fills account_names from accounts.
func indexAccountNames(tx Tx) error {
	err := tx.ForEach(bucketAccounts, nil, func(k, _ []byte) error {
		return tx.Put(bucketAccountNames, k, []byte{})
	})
	if err != nil {
		return err
	}
	return tx.Put(bucketMeta, metaNamesIndexed, []byte{1})
}

// served asks the storage whether it serves name; a store without
// ServedChannels serves nothing.
func (s *Store) served(name string) (bool, error) {
	c := s.channels.Load()
	if c == nil || *c == nil {
		return false, nil
	}
	return (*c).Serves(name)
}

// claimName checks, in the transaction that creates the account, that
// name is free and that actor may take it: a name the storage serves
// (served, asked before the transaction) or that was an account before
// needs a site administrator. It records the name for good.
func (w *writeTx) claimName(name string, served bool) error {
	if w.Get(bucketAccounts, []byte(name)) != nil {
		return existsf("the name %q is taken", name)
	}
	if !w.actor.SiteAdmin {
		switch {
		case served:
			return forbiddenf("%q is a channel the storage already serves: only a site administrator can create an account for it", name)
		case w.Get(bucketAccountNames, []byte(name)) != nil:
			return forbiddenf("%q was an account before: only a site administrator can create it again", name)
		}
	}
	return w.Put(bucketAccountNames, []byte(name), []byte{})
}

// Interface guards
var (
	_ ServedChannels = ChannelDir("")
	_ ServedChannels = EveryChannel{}
)
