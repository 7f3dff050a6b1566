package caddymodule

import (
	"path"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// The filter*.go files are the filtering core: pure functions from the
// bytes of a stored index to the bytes of the same index as one viewer
// may see it. They import neither Caddy nor net/http, so they can be
// tested and benchmarked alone.
//
// Every filter takes visible, a predicate on normalized package names
// (tokenstore.Visibility.Visible fits). The filters normalize names read
// from an index with tokenstore.NormalizeName for the index's kind
// before asking. A filter either returns a complete, well-formed index
// or an error wrapping ErrMalformedIndex and no output: never a partial
// or unfiltered index.

// IndexKind says what a channel-level file is, for filtering.
type IndexKind uint8

const (
	NotIndex         IndexKind = iota // a package file or anything else: decided per package
	CondaRepodata                     // repodata.json, current_repodata.json: FilterRepodata
	CondaRepodataZst                  // repodata.json.zst, current_repodata.json.zst: IndexCodec.FilterRepodata
	CondaRepodataBz2                  // repodata.json.bz2, current_repodata.json.bz2: see NotFoundWhenFiltered
	CondaChanneldata                  // channeldata.json: FilterChanneldata
	CondaShardsIndex                  // repodata_shards.msgpack.zst: IndexCodec.FilterShardsIndex
	CondaShard                        // shards/<sha256>.msgpack.zst: ShardOwners.Visible
	// CondaUnfilterable is any other channel-level file (index.html,
	// rss.xml, run_exports.json, directory listings, ...): it may name
	// packages and no filter reads it, so it is only served whole.
	CondaUnfilterable
	PyPISimpleRoot // <channel>/simple/: FilterSimpleHTML or FilterSimpleJSON
)

// ClassifyCondaPath tells which kind of index the file at a channel
// relative path is, from its name: "linux-64/repodata.json.zst",
// "channeldata.json", "noarch/shards/<64 hex>.msgpack.zst".
func ClassifyCondaPath(p string) IndexKind {
	dir, base := path.Split(p)
	switch base {
	case "repodata.json", "current_repodata.json":
		return CondaRepodata
	case "repodata.json.zst", "current_repodata.json.zst":
		return CondaRepodataZst
	case "repodata.json.bz2", "current_repodata.json.bz2":
		return CondaRepodataBz2
	case "channeldata.json":
		return CondaChanneldata
	case "repodata_shards.msgpack.zst":
		return CondaShardsIndex
	}
	if hexDigest, ok := strings.CutSuffix(base, ".msgpack.zst"); ok && path.Base(dir) == "shards" && isSHA256Hex(hexDigest) {
		return CondaShard
	}
	return NotIndex
}

// NotFoundWhenFiltered reports whether a viewer who may not see every
// package must get 404 for this file instead of a filtered copy.
//
// That is the rule for files no filter reads (CondaUnfilterable), and for
// repodata.json.bz2: Go's standard library can read
// bzip2 but not write it, and adding a compressor is not worth it, since
// every client has a better choice. rattler asks for .zst before .bz2 and
// plain .json after it, and treats a 404 on a compressed variant as
// "not offered"; conda never asks for .bz2. Answering 404 (not 403 or
// 500, which make rattler abort the whole solve) sends them to a format
// we filter. A viewer who sees everything gets the stored file.
func (k IndexKind) NotFoundWhenFiltered() bool {
	return k == CondaRepodataBz2 || k == CondaUnfilterable
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// nameFilter asks visible about package names read from an index,
// normalizing them for kind first and remembering each answer, so a
// name shared by thousands of records costs one map lookup per record
// and no allocation.
type nameFilter struct {
	kind    tokenstore.Kind
	visible func(string) bool
	memo    map[string]bool
}

func newNameFilter(kind tokenstore.Kind, visible func(string) bool) *nameFilter {
	return &nameFilter{kind: kind, visible: visible, memo: make(map[string]bool)}
}

// allows reports whether the package named name (as written in the
// index) is visible.
func (f *nameFilter) allows(name []byte) bool {
	if ok, seen := f.memo[string(name)]; seen {
		return ok
	}
	s := string(name)
	ok := f.visible(tokenstore.NormalizeName(f.kind, s))
	f.memo[s] = ok
	return ok
}
