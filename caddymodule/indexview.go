package caddymodule

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/channelgate/channelgate/channelindex"
	"github.com/channelgate/channelgate/tokenstore"
)

// Defaults of the index filtering options.
const (
	defaultIndexCacheBytes = 256 << 20
)

// indexViews serves channel indexes as each viewer may see them. Where a
// viewer sees every package the storage's bytes pass through untouched;
// otherwise the stored index is read whole (a subrequest to the next
// handler), filtered once per (stored version, visible set), cached, and
// served with an ETag of its own.
type indexViews struct {
	codec  *channelindex.IndexCodec
	views  *channelindex.ViewCache[[]byte]
	owners *channelindex.ViewCache[channelindex.ShardOwners]
	// known remembers each stored index's last version, so the next
	// subrequest asks the storage with If-None-Match and a 304 spares
	// reading the file again.
	known sync.Map // storage path → storedVersion
}

// storedVersion is what the storage said about one version of a file.
type storedVersion struct {
	etag, validator, contentType string
}

func newIndexViews(cacheBytes, maxIndex int64) (*indexViews, error) {
	if cacheBytes <= 0 {
		cacheBytes = defaultIndexCacheBytes
	}
	codec, err := channelindex.NewIndexCodec(maxIndex)
	if err != nil {
		return nil, err
	}
	return &indexViews{
		codec:  codec,
		views:  channelindex.NewViewCache(cacheBytes, func(b []byte) int64 { return int64(cap(b)) }),
		owners: channelindex.NewViewCache(cacheBytes/4, channelindex.ShardOwners.Size),
	}, nil
}

// indexKindOf says which channel-level file a request names.
func indexKindOf(t *target) channelindex.IndexKind {
	switch {
	case t.class != classIndex:
		return channelindex.NotIndex
	case t.kind == tokenstore.PyPI:
		return channelindex.PyPISimpleRoot
	case t.subdir == "" && t.file == "notices.json":
		return channelindex.NotIndex // channel notices name no packages
	}
	if k := channelindex.ClassifyCondaPath(t.rest); k != channelindex.NotIndex {
		return k
	}
	return channelindex.CondaUnfilterable
}

// serveIndex answers a read of a channel-level file; r is already
// rewritten to the storage path.
func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, t *target, kind channelindex.IndexKind, tok *tokenstore.Credential) error {
	w.Header().Add("Vary", "Authorization")
	vis, err := h.store.Visibility(tok, t.channel, t.kind, h.unregisteredPublic)
	if err != nil {
		h.logger.Error("access store unavailable; refusing index", zap.String("channel", t.channel), zap.Error(err))
		return h.answer(w, r, http.StatusServiceUnavailable, "access store unavailable")
	}
	if vis.All() {
		return h.next(w, r, next, t)
	}
	if kind.NotFoundWhenFiltered() {
		return h.answer(w, r, http.StatusNotFound, "not found")
	}
	if tok != nil {
		w.Header().Set("Cache-Control", "private")
	}
	if kind == channelindex.CondaShard {
		return h.serveShard(w, r, next, t, vis)
	}
	view, sv, status, err := storedDerivedView(h, r, next, r.URL.Path, h.indexes.views, vis.Key(), func(stored []byte, sv storedVersion) ([]byte, error) {
		return h.indexes.codec.Filter(kind, stored, sv.contentType, vis.Visible)
	})
	switch {
	case err != nil:
		return h.badIndex(w, r, err)
	case status != http.StatusOK:
		return h.answer(w, r, status, http.StatusText(status))
	}
	hdr := w.Header()
	hdr.Set("Content-Type", sv.contentType)
	hdr.Set("ETag", channelindex.ViewETag(sv.validator, vis.Key()))
	// No Last-Modified: two views of one stored file share its time, so
	// only the ETag can tell a client's cached view from another.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(view))
	return nil
}

// serveShard answers a CEP-16 shard file: 404 if every package it holds
// is hidden (or the shards index does not list it), else the stored file.
func (h *Handler) serveShard(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, t *target, vis tokenstore.Visibility) error {
	digest := strings.TrimSuffix(path.Base(r.URL.Path), ".msgpack.zst")
	indexPath := path.Dir(path.Dir(r.URL.Path)) + "/repodata_shards.msgpack.zst"
	owners, _, status, err := storedDerivedView(h, r, next, indexPath, h.indexes.owners, "", func(stored []byte, _ storedVersion) (channelindex.ShardOwners, error) {
		return h.indexes.codec.ShardOwners(stored)
	})
	switch {
	case err != nil:
		return h.badIndex(w, r, err)
	case status != http.StatusOK || !owners.Visible(digest, vis.Visible):
		return h.answer(w, r, http.StatusNotFound, "not found")
	}
	return h.next(w, r, next, t)
}

// storedDerivedView derives a value from the current version of a stored
// file, through cache. The storage is asked with If-None-Match when the
// version is known, so an unchanged file is not read again; a cache miss
// on a 304 reads it whole. status is the storage's answer when it is not
// 200 (404: no such index).
func storedDerivedView[V any](h *Handler, r *http.Request, next caddyhttp.Handler, storagePath string, cache *channelindex.ViewCache[V],
	view string, derive func([]byte, storedVersion) (V, error)) (V, storedVersion, int, error) {
	var zero V
	for _, conditional := range []bool{true, false} {
		stored, sv, status, err := h.fetchStored(r, next, storagePath, conditional)
		if err != nil || (status != http.StatusOK && status != http.StatusNotModified) {
			return zero, sv, status, err
		}
		key := channelindex.ViewKey{Path: storagePath, Validator: sv.validator, View: view}
		if status == http.StatusNotModified {
			if v, ok := cache.Get(key); ok {
				return v, sv, http.StatusOK, nil
			}
			continue // known version, but its view was evicted: read it whole
		}
		v, err := cache.Do(key, func() (V, error) { return derive(stored, sv) })
		return v, sv, http.StatusOK, err
	}
	return zero, storedVersion{}, http.StatusBadGateway, errors.New("storage keeps answering 304 to an unconditional request")
}

// fetchStored reads a stored file through the next handler, whole and
// unencoded. With conditional set and the file's version known, it asks
// with If-None-Match and may get 304 and no body.
func (h *Handler) fetchStored(r *http.Request, next caddyhttp.Handler, storagePath string, conditional bool) ([]byte, storedVersion, int, error) {
	sub := r.Clone(r.Context())
	sub.Method = http.MethodGet
	sub.URL.Path, sub.URL.RawPath = storagePath, ""
	sub.RequestURI = sub.URL.RequestURI()
	for _, k := range []string{"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "Accept-Encoding"} {
		sub.Header.Del(k)
	}
	prev, known := h.indexes.known.Load(storagePath)
	if conditional && known && prev.(storedVersion).etag != "" {
		sub.Header.Set("If-None-Match", prev.(storedVersion).etag)
	}
	rec := &bufferedResponse{header: http.Header{}}
	if err := next.ServeHTTP(rec, sub); err != nil {
		var he caddyhttp.HandlerError
		if errors.As(err, &he) && he.StatusCode >= 400 && he.StatusCode < 500 {
			return nil, storedVersion{}, he.StatusCode, nil
		}
		return nil, storedVersion{}, 0, fmt.Errorf("reading %s from storage: %w", storagePath, err)
	}
	switch rec.status() {
	case http.StatusNotModified:
		if !known {
			return nil, storedVersion{}, 0, fmt.Errorf("storage answered 304 for %s unasked", storagePath)
		}
		return nil, prev.(storedVersion), http.StatusNotModified, nil
	case http.StatusOK:
	default:
		return nil, storedVersion{}, rec.status(), nil
	}
	if ce := rec.header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		return nil, storedVersion{}, 0, fmt.Errorf("storage sent %s with Content-Encoding %s", storagePath, ce)
	}
	body := rec.body.Bytes()
	modTime, _ := http.ParseTime(rec.header.Get("Last-Modified"))
	sv := storedVersion{etag: rec.header.Get("ETag"), contentType: rec.header.Get("Content-Type"),
		validator: channelindex.StorageValidator(int64(len(body)), modTime, rec.header.Get("ETag"))}
	h.indexes.known.Store(storagePath, sv)
	return body, sv, http.StatusOK, nil
}

// badIndex answers an index the gateway cannot filter: never the stored
// bytes, which would show hidden packages.
func (h *Handler) badIndex(w http.ResponseWriter, r *http.Request, err error) error {
	h.logger.Error("cannot filter index from storage", zap.String("path", r.URL.Path), zap.Error(err))
	msg := "storage index cannot be filtered"
	if errors.Is(err, channelindex.ErrMalformedIndex) || errors.Is(err, channelindex.ErrIndexTooLarge) {
		msg += ": " + err.Error()
	}
	return h.answer(w, r, http.StatusBadGateway, msg)
}

// bufferedResponse collects a subrequest's answer in memory.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *bufferedResponse) status() int {
	if b.code == 0 {
		return http.StatusOK
	}
	return b.code
}
