package channelindex

import (
	"fmt"
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

// filterFunc filters one stored index for a viewer; contentType is what
// the storage said the file is (it tells the PyPI root's two forms apart).
type filterFunc func(c *IndexCodec, src []byte, contentType string, visible func(string) bool) ([]byte, error)

// kindSpec is one row of the kinds table: everything this package
// knows about one kind of index, so no other code switches on kinds.
type kindSpec struct {
	files  []string   // the base names of this kind's files, for ClassifyCondaPath
	filter filterFunc // nil: no filter reads it (see NotFoundWhenFiltered)
	// notFoundWhenFiltered: a viewer who may not see every package gets
	// 404 instead of a filtered copy.
	notFoundWhenFiltered bool
}

// kinds is the table of index kinds. The writer's outputs (write.go)
// name their kind from it too.
var kinds = [...]kindSpec{
	NotIndex:         {},
	CondaRepodata:    {files: []string{"repodata.json", "current_repodata.json"}, filter: plainFilter(FilterRepodata)},
	CondaRepodataZst: {files: []string{"repodata.json.zst", "current_repodata.json.zst"}, filter: (*IndexCodec).filterRepodata},
	// Go's standard library can read bzip2 but not write it, and adding
	// a compressor is not worth it, since every client has a better
	// choice. rattler asks for .zst before .bz2 and plain .json after
	// it, and treats a 404 on a compressed variant as "not offered";
	// conda never asks for .bz2. Answering 404 (not 403 or 500, which
	// make rattler abort the whole solve) sends them to a format we
	// filter.
	CondaRepodataBz2:  {files: []string{"repodata.json.bz2", "current_repodata.json.bz2"}, notFoundWhenFiltered: true},
	CondaChanneldata:  {files: []string{"channeldata.json"}, filter: plainFilter(FilterChanneldata)},
	CondaShardsIndex:  {files: []string{"repodata_shards.msgpack.zst"}, filter: (*IndexCodec).filterShardsIndex},
	CondaShard:        {}, // served whole when ShardOwners.Visible says so
	CondaUnfilterable: {notFoundWhenFiltered: true},
	PyPISimpleRoot:    {filter: filterSimpleRoot},
}

// plainFilter adapts a filter of uncompressed bytes to the table.
func plainFilter(f func([]byte, func(string) bool) ([]byte, error)) filterFunc {
	return func(_ *IndexCodec, src []byte, _ string, visible func(string) bool) ([]byte, error) {
		return f(src, visible)
	}
}

// filterSimpleRoot filters the PyPI root list in the form the storage
// served: PEP 691 JSON or PEP 503 HTML.
func filterSimpleRoot(_ *IndexCodec, src []byte, contentType string, visible func(string) bool) ([]byte, error) {
	if strings.Contains(contentType, "json") {
		return FilterSimpleJSON(src, visible)
	}
	return FilterSimpleHTML(src, visible)
}

// kindByFile maps a base name to its kind, built from the table.
var kindByFile = func() map[string]IndexKind {
	m := make(map[string]IndexKind)
	for k, spec := range kinds {
		for _, f := range spec.files {
			m[f] = IndexKind(k)
		}
	}
	return m
}()

// ClassifyCondaPath tells which kind of index the file at a channel
// relative path is, from its name: "linux-64/repodata.json.zst",
// "channeldata.json", "noarch/shards/<64 hex>.msgpack.zst".
func ClassifyCondaPath(p string) IndexKind {
	dir, base := path.Split(p)
	if k, ok := kindByFile[base]; ok {
		return k
	}
	if hexDigest, ok := strings.CutSuffix(base, ".msgpack.zst"); ok && path.Base(dir) == "shards" && isSHA256Hex(hexDigest) {
		return CondaShard
	}
	return NotIndex
}

// NotFoundWhenFiltered reports whether a viewer who may not see every
// package must get 404 for this file instead of a filtered copy: files
// no filter reads (CondaUnfilterable), and repodata.json.bz2, which
// could be filtered but not written again. A viewer who sees everything
// gets the stored file.
func (k IndexKind) NotFoundWhenFiltered() bool {
	return int(k) < len(kinds) && kinds[k].notFoundWhenFiltered
}

// Filter returns the stored index src of kind k as a viewer may see it.
// contentType is the stored file's media type. Kinds without a filter
// (NotIndex, CondaShard, CondaRepodataBz2, CondaUnfilterable) are an
// error: the caller decides those whole.
func (c *IndexCodec) Filter(k IndexKind, src []byte, contentType string, visible func(string) bool) ([]byte, error) {
	if int(k) >= len(kinds) || kinds[k].filter == nil {
		return nil, fmt.Errorf("no filter for index kind %d", k)
	}
	return kinds[k].filter(c, src, contentType, visible)
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
