package channelindex

import (
	"encoding/hex"

	"github.com/channelgate/channelgate/tokenstore"
)

// Sharded repodata (CEP-16): <subdir>/repodata_shards.msgpack.zst is a
// zstd-compressed msgpack map {"info": {...}, "shards": {name: sha256}}
// where each sha256 is 32 bytes of bin and names a shard file
// <shards_base_url><hex>.msgpack.zst holding that package's records.
// This file walks msgpack without decoding it, as filter_json.go does
// for JSON.

func mpErr(offset int, msg string) error {
	return &indexError{format: "msgpack", offset: offset, msg: msg}
}

// mpKind is what a msgpack item is, as far as the walker cares.
type mpKind uint8

const (
	mpScalar mpKind = iota // nil, bool, int, float, ext: opaque bytes
	mpStr
	mpBin
	mpArray
	mpMap
)

// mpItem describes the item at some offset. For maps and arrays, n
// counts the entries (pairs for maps) and body is the first one; for
// everything else the item's payload is b[body:end].
type mpItem struct {
	kind      mpKind
	n         int
	body, end int
}

// mpMaxDepth bounds nesting; the shards index nests three levels.
const mpMaxDepth = 512

// mpHead reads the header of the item at b[i].
func mpHead(b []byte, i int) (mpItem, error) {
	if i >= len(b) {
		return mpItem{}, mpErr(i, "unexpected end of input")
	}
	c := b[i]
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return mpItem{kind: mpScalar, body: i + 1, end: i + 1}, nil
	case c <= 0x8f:
		return mpContainer(b, i, mpMap, int(c&0x0f), i+1)
	case c <= 0x9f:
		return mpContainer(b, i, mpArray, int(c&0x0f), i+1)
	case c <= 0xbf:
		return mpSized(b, i, mpStr, int(c&0x1f), i+1)
	}
	switch c {
	case 0xc0, 0xc2, 0xc3: // nil, false, true
		return mpItem{kind: mpScalar, body: i + 1, end: i + 1}, nil
	case 0xc4, 0xc5, 0xc6: // bin 8, 16, 32
		n, body, err := mpLength(b, i, 1<<(c-0xc4))
		if err != nil {
			return mpItem{}, err
		}
		return mpSized(b, i, mpBin, n, body)
	case 0xc7, 0xc8, 0xc9: // ext 8, 16, 32: length, type byte, data
		n, body, err := mpLength(b, i, 1<<(c-0xc7))
		if err != nil {
			return mpItem{}, err
		}
		return mpSized(b, i, mpScalar, n+1, body)
	case 0xca, 0xcb: // float 32, 64
		return mpSized(b, i, mpScalar, 4<<(c-0xca), i+1)
	case 0xcc, 0xcd, 0xce, 0xcf: // uint 8 to 64
		return mpSized(b, i, mpScalar, 1<<(c-0xcc), i+1)
	case 0xd0, 0xd1, 0xd2, 0xd3: // int 8 to 64
		return mpSized(b, i, mpScalar, 1<<(c-0xd0), i+1)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1 to 16, plus the type byte
		return mpSized(b, i, mpScalar, 1+1<<(c-0xd4), i+1)
	case 0xd9, 0xda, 0xdb: // str 8, 16, 32
		n, body, err := mpLength(b, i, 1<<(c-0xd9))
		if err != nil {
			return mpItem{}, err
		}
		return mpSized(b, i, mpStr, n, body)
	case 0xdc, 0xdd: // array 16, 32
		n, body, err := mpLength(b, i, 2<<(c-0xdc))
		if err != nil {
			return mpItem{}, err
		}
		return mpContainer(b, i, mpArray, n, body)
	case 0xde, 0xdf: // map 16, 32
		n, body, err := mpLength(b, i, 2<<(c-0xde))
		if err != nil {
			return mpItem{}, err
		}
		return mpContainer(b, i, mpMap, n, body)
	}
	return mpItem{}, mpErr(i, "invalid type byte 0xc1")
}

// mpLength reads the big-endian length of width bytes after b[i].
func mpLength(b []byte, i, width int) (n, body int, err error) {
	body = i + 1 + width
	if body > len(b) {
		return 0, 0, mpErr(i, "truncated header")
	}
	for _, c := range b[i+1 : body] {
		n = n<<8 | int(c)
	}
	return n, body, nil
}

func mpSized(b []byte, i int, kind mpKind, n, body int) (mpItem, error) {
	if n > len(b)-body {
		return mpItem{}, mpErr(i, "truncated item")
	}
	return mpItem{kind: kind, n: n, body: body, end: body + n}, nil
}

func mpContainer(b []byte, i int, kind mpKind, n, body int) (mpItem, error) {
	entries := n
	if kind == mpMap {
		entries *= 2
	}
	// Every entry takes at least one byte: reject impossible counts
	// before looping over them.
	if entries > len(b)-body {
		return mpItem{}, mpErr(i, "count larger than the input")
	}
	return mpItem{kind: kind, n: n, body: body}, nil
}

// mpSkip checks the item at b[i], nested at depth, and returns its end.
func mpSkip(b []byte, i, depth int) (int, error) {
	it, err := mpHead(b, i)
	if err != nil {
		return 0, err
	}
	if it.kind != mpMap && it.kind != mpArray {
		return it.end, nil
	}
	if depth >= mpMaxDepth {
		return 0, mpErr(i, "nesting too deep")
	}
	entries := it.n
	if it.kind == mpMap {
		entries *= 2
	}
	pos := it.body
	for range entries {
		if pos, err = mpSkip(b, pos, depth+1); err != nil {
			return 0, err
		}
	}
	return pos, nil
}

// mpAppendMapHeader writes the shortest header of a map of n pairs.
func mpAppendMapHeader(dst []byte, n int) []byte {
	switch {
	case n < 16:
		return append(dst, 0x80|byte(n))
	case n <= 0xffff:
		return append(dst, 0xde, byte(n>>8), byte(n))
	}
	return append(dst, 0xdf, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// mpShardsVisitor is called for each entry of the shards map: the
// package name as written, its sha256, and where the pair starts and
// ends.
type mpShardsVisitor func(name, digest []byte, start, end int) error

// mpWalkShardsIndex checks a whole shards index and calls onMap for the
// value of every top-level "shards" key with the map's header and
// offset; onMap must check the map and return its end.
func mpWalkShardsIndex(b []byte, onMap func(head mpItem, start int) (int, error)) error {
	top, err := mpHead(b, 0)
	if err != nil {
		return err
	}
	if top.kind != mpMap {
		return mpErr(0, "the shards index must be a map")
	}
	pos := top.body
	for range top.n {
		key, err := mpHead(b, pos)
		if err != nil {
			return err
		}
		if key.kind == mpStr && string(b[key.body:key.end]) == "shards" {
			val, err := mpHead(b, key.end)
			if err != nil {
				return err
			}
			if val.kind != mpMap {
				return mpErr(key.end, `"shards" must be a map`)
			}
			if pos, err = onMap(val, key.end); err != nil {
				return err
			}
			continue
		}
		if pos, err = mpSkip(b, pos, 1); err != nil {
			return err
		}
		if pos, err = mpSkip(b, pos, 1); err != nil {
			return err
		}
	}
	if pos != len(b) {
		return mpErr(pos, "data after the shards index")
	}
	return nil
}

// mpEachShard calls visit for every entry of the shards map described by
// head, checking that names are strings and digests 32 bytes of bin, and
// returns the map's end.
func mpEachShard(b []byte, head mpItem, visit mpShardsVisitor) (int, error) {
	pos := head.body
	for range head.n {
		name, err := mpHead(b, pos)
		if err != nil {
			return 0, err
		}
		if name.kind != mpStr {
			return 0, mpErr(pos, "shard key must be a package name")
		}
		digest, err := mpHead(b, name.end)
		if err != nil {
			return 0, err
		}
		if digest.kind != mpBin || digest.n != 32 {
			return 0, mpErr(name.end, "shard value must be a 32-byte sha256")
		}
		if err := visit(b[name.body:name.end], b[digest.body:digest.end], pos, digest.end); err != nil {
			return 0, err
		}
		pos = digest.end
	}
	return pos, nil
}

// FilterShardsIndex returns the decompressed CEP-16 shards index src
// without the entries of "shards" whose package visible rejects. The
// map's header is rewritten for its new size; every other byte is kept.
func FilterShardsIndex(src []byte, visible func(string) bool) ([]byte, error) {
	names := newNameFilter(tokenstore.Conda, visible)
	dst := make([]byte, 0, len(src))
	copied := 0 // src[:copied] is already in dst
	err := mpWalkShardsIndex(src, func(head mpItem, start int) (int, error) {
		kept := 0
		end, err := mpEachShard(src, head, func(name, _ []byte, _, _ int) error {
			if names.allows(name) {
				kept++
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		if kept == head.n {
			return end, nil // unchanged: copy it with the rest
		}
		dst = mpAppendMapHeader(append(dst, src[copied:start]...), kept)
		_, err = mpEachShard(src, head, func(name, _ []byte, from, to int) error {
			if names.allows(name) {
				dst = append(dst, src[from:to]...)
			}
			return nil
		})
		copied = end
		return end, err
	})
	if err != nil {
		return nil, err
	}
	return append(dst, src[copied:]...), nil
}

// ShardOwners maps the lowercase hex sha256 of each shard file to the
// normalized names of the packages listed with it. Two packages share a
// shard only when their shards are byte-identical.
type ShardOwners map[string][]string

// ShardOwnersOf reads the owners of every shard from the decompressed
// shards index src, so the handler can answer 404 for the shard of a
// hidden package (see ShardOwners.Visible).
func ShardOwnersOf(src []byte) (ShardOwners, error) {
	owners := make(ShardOwners)
	err := mpWalkShardsIndex(src, func(head mpItem, _ int) (int, error) {
		return mpEachShard(src, head, func(name, digest []byte, _, _ int) error {
			h := hex.EncodeToString(digest)
			owners[h] = append(owners[h], tokenstore.NormalizeName(tokenstore.Conda, string(name)))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return owners, nil
}

// Visible reports whether the shard file with this sha256 (lowercase
// hex) may be served: whether one of its packages is visible. A shared
// shard holds the same bytes for each owner, so a visible owner reveals
// nothing about a hidden one. A digest the index does not list is not
// visible: it may be a stale shard of a hidden package.
func (o ShardOwners) Visible(hexDigest string, visible func(string) bool) bool {
	for _, name := range o[hexDigest] {
		if visible(name) {
			return true
		}
	}
	return false
}

// Size estimates the memory the map holds, for caching it:
// NewViewCache(maxBytes, ShardOwners.Size).
func (o ShardOwners) Size() int64 {
	var n int64
	for h, names := range o {
		n += int64(len(h)) + 48
		for _, name := range names {
			n += int64(len(name)) + 16
		}
	}
	return n
}
