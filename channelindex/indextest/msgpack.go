package indextest

import "crypto/sha256"

// Msgpack assembles msgpack for tests, independently of the walker
// that reads it.
type Msgpack []byte

// Str appends a string in its shortest form.
func (e Msgpack) Str(s string) Msgpack {
	switch n := len(s); {
	case n < 32:
		e = append(e, 0xa0|byte(n))
	case n < 256:
		e = append(e, 0xd9, byte(n))
	default:
		e = append(e, 0xda, byte(n>>8), byte(n))
	}
	return append(e, s...)
}

// Bin appends a bin 8 of up to 255 bytes.
func (e Msgpack) Bin(b []byte) Msgpack { return append(append(e, 0xc4, byte(len(b))), b...) }

// MapHeader appends a map header in the given form: 0x80 (fixmap), 0xde
// (map16) or 0xdf (map32).
func (e Msgpack) MapHeader(form byte, n int) Msgpack {
	switch form {
	case 0x80:
		return append(e, 0x80|byte(n))
	case 0xde:
		return append(e, 0xde, byte(n>>8), byte(n))
	}
	return append(e, 0xdf, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// ShardDigest is the sha256 ShardsIndex lists for a name.
func ShardDigest(name string) []byte { d := sha256.Sum256([]byte(name)); return d[:] }

// ShardsIndex builds a CEP-16 shards index (uncompressed) with every
// msgpack type around a shards map of the given names, whose header
// takes the given form: 0x80 (fixmap), 0xde (map16) or 0xdf (map32). Each
// name's digest is ShardDigest(name).
func ShardsIndex(names []string, form byte) []byte {
	e := Msgpack{}.MapHeader(0x80, 4)
	e = e.Str("info").MapHeader(0x80, 5).
		Str("base_url").Str("https://example.org/ch/linux-64/").
		Str("shards_base_url").Str("./shards/").
		Str("subdir").Str("linux-64").
		Str("version").Append(0x01).
		Str("created_at").Append(0xd6, 0xff, 0x65, 0x00, 0x00, 0x00) // timestamp ext
	e = e.Str("shards").MapHeader(form, len(names))
	for _, n := range names {
		e = e.Str(n).Bin(ShardDigest(n))
	}
	e = e.Str("extra").Append(0x9f, // fixarray of 15
		0xc0, 0xc2, 0xc3, 0x7f, 0xe0, 0xcc, 1, 0xcd, 1, 2, 0xce, 1, 2, 3, 4,
		0xcf, 1, 2, 3, 4, 5, 6, 7, 8, 0xd3, 1, 2, 3, 4, 5, 6, 7, 8,
		0xca, 0, 0, 0, 0, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0,
		0xc7, 2, 5, 'x', 'y', 0xd4, 1, 2, 0xdc, 0, 1, 0xc0)
	return e.Str("bin16").Append(0xc5, 0, 1, 'z')
}

// Append appends raw bytes.
func (e Msgpack) Append(b ...byte) Msgpack { return append(e, b...) }
