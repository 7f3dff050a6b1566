// Package caddymodule is channelgate's Caddy glue: the channelgate HTTP
// handler (access decision, token stripping and path rewrite in front of
// file_server or reverse_proxy), its Caddyfile directive, the shared store
// pool, metrics and the registration of the CLI (package cli).
package caddymodule

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/channelgate/channelgate/tokenstore"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler decides, per request, whether the caller may read or write the
// package the path names, then strips the token (path prefix and
// Authorization header), rewrites the path to the storage layout and
// calls the next handler. Refusals are answered here and never reach the
// storage.
//
// Placeholders set for later handlers and logs: {http.auth.user.id} (the
// token's owner), {channelgate.token.name}, {channelgate.channel},
// {channelgate.label}, {channelgate.package}.
type Handler struct {
	StoreConfig

	// StoragePath is the template of the path the storage is asked for.
	// Placeholders: {channel}, {label} ("main" when none is given),
	// {label_path} ("" or "/label/<label>") and {rest} (the path below the
	// channel and label). Default: "/{channel}{label_path}/{rest}".
	StoragePath string `json:"storage_path,omitempty"`

	// UnregisteredChannels is the access of channels that have no
	// account: "public" (default; anyone may read, nobody may write) or
	// "private" (only site administrators).
	UnregisteredChannels string `json:"unregistered_channels,omitempty"`

	// PrivatePackages says how a refused read of a private package is
	// answered in a channel whose unregistered packages anyone may read:
	// "hide" (default) answers 404, exactly as the storage answers a
	// package it does not have, so refusals reveal no private name (the
	// caller's indexes leave it out too); "refuse" answers 401 or 403 with
	// the reason, which prompts clients to authenticate. In channels
	// private by default a missing package is refused with 401/403 as
	// well, so both settings answer 401/403 there.
	PrivatePackages string `json:"private_packages,omitempty"`

	// IndexCacheBytes bounds the memory of filtered indexes kept for
	// reuse (conda repodata, channeldata, shards indexes, PyPI root
	// lists). Default 256 MiB.
	IndexCacheBytes int64 `json:"index_cache_bytes,omitempty"`

	// MaxIndexBytes caps the decompressed size of a zstd index the
	// gateway filters. Default 2 GiB.
	MaxIndexBytes int64 `json:"max_index_bytes,omitempty"`
	// Bad-token flood limit (see FailureLimitConfig).
	FailureLimitConfig

	store              *tokenstore.Store
	indexes            *indexViews
	storeKey           string
	layout             storageTemplate
	unregisteredPublic bool
	hidePrivate        bool
	logger             *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.channelgate",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision validates the configuration, registers metrics and takes a
// share of the store.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	var err error
	if h.unregisteredPublic, err = choice("unregistered_channels", h.UnregisteredChannels, "public", "private"); err != nil {
		return err
	}
	if h.hidePrivate, err = choice("private_packages", h.PrivatePackages, "hide", "refuse"); err != nil {
		return err
	}
	if err = h.provisionFailureLimit(); err != nil {
		return err
	}
	if h.layout, err = parseStorageTemplate(h.StoragePath); err != nil {
		return err
	}
	if h.indexes, err = newIndexViews(h.IndexCacheBytes, h.MaxIndexBytes); err != nil {
		return err
	}
	if err = h.provisionStore(ctx); err != nil {
		return err
	}
	h.store, h.storeKey, err = acquireStore(h.StoreConfig)
	return err
}

// choice reads a two-word option: true for its default word (or no
// value), false for the other.
func choice(option, value, byDefault, other string) (bool, error) {
	switch value {
	case "", byDefault:
		return true, nil
	case other:
		return false, nil
	}
	return false, fmt.Errorf("%s must be %s or %s, not %q", option, byDefault, other, value)
}

// Cleanup releases the store; the last user closes it.
func (h *Handler) Cleanup() error {
	if h.indexes != nil {
		h.indexes.codec.Close()
	}
	if h.storeKey == "" {
		return nil
	}
	return releaseStore(h.storeKey)
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
