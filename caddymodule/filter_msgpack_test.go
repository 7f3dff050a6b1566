package caddymodule

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// mpEnc assembles msgpack for the tests, independently of the walker.
type mpEnc []byte

func (e mpEnc) str(s string) mpEnc {
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

func (e mpEnc) bin(b []byte) mpEnc { return append(append(e, 0xc4, byte(len(b))), b...) }

// mapHeader writes a map header in the given form: 0x80 (fixmap), 0xde
// (map16) or 0xdf (map32).
func (e mpEnc) mapHeader(form byte, n int) mpEnc {
	switch form {
	case 0x80:
		return append(e, 0x80|byte(n))
	case 0xde:
		return append(e, 0xde, byte(n>>8), byte(n))
	}
	return append(e, 0xdf, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func minimalForm(n int) byte {
	switch {
	case n < 16:
		return 0x80
	case n <= 0xffff:
		return 0xde
	}
	return 0xdf
}

func digestOf(name string) []byte { d := sha256.Sum256([]byte(name)); return d[:] }

// shardsIndex builds an index with every msgpack type around a shards
// map of the given names, whose header takes the given form.
func shardsIndex(names []string, form byte) []byte {
	e := mpEnc{}.mapHeader(0x80, 4)
	e = e.str("info").mapHeader(0x80, 5).
		str("base_url").str("https://example.org/ch/linux-64/").
		str("shards_base_url").str("./shards/").
		str("subdir").str("linux-64").
		str("version").append(0x01).
		str("created_at").append(0xd6, 0xff, 0x65, 0x00, 0x00, 0x00) // timestamp ext
	e = e.str("shards").mapHeader(form, len(names))
	for _, n := range names {
		e = e.str(n).bin(digestOf(n))
	}
	e = e.str("extra").append(0x9f, // fixarray of 15
		0xc0, 0xc2, 0xc3, 0x7f, 0xe0, 0xcc, 1, 0xcd, 1, 2, 0xce, 1, 2, 3, 4,
		0xcf, 1, 2, 3, 4, 5, 6, 7, 8, 0xd3, 1, 2, 3, 4, 5, 6, 7, 8,
		0xca, 0, 0, 0, 0, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0,
		0xc7, 2, 5, 'x', 'y', 0xd4, 1, 2, 0xdc, 0, 1, 0xc0)
	return e.str("bin16").append(0xc5, 0, 1, 'z')
}

func (e mpEnc) append(b ...byte) mpEnc { return append(e, b...) }

func names(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("pkg-%d", i)
	}
	return s
}

func TestFilterShardsIndex(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		form   byte
		hidden []string
	}{
		{"empty", 0, 0x80, nil},
		{"hide one of three", 3, 0x80, []string{"pkg-1"}},
		{"fix16 to fix15", 16, 0xde, []string{"pkg-0"}},
		{"map16 stays map16", 17, 0xde, []string{"pkg-16"}},
		{"map16 to fixmap", 20, 0xde, []string{"pkg-0", "pkg-1", "pkg-2", "pkg-3", "pkg-4"}},
		{"hide all", 20, 0xde, names(20)},
		{"map16 full to map16", 0xffff, 0xde, []string{"pkg-7"}},
		{"map32 to map16", 0x10000, 0xdf, []string{"pkg-65535"}},
		{"map32 stays map32", 0x10001, 0xdf, []string{"pkg-3"}},
		{"non-minimal header kept when nothing hidden", 3, 0xdf, nil},
		{"uppercase normalized", 2, 0x80, []string{"pkg-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := names(tt.n)
			if tt.name == "uppercase normalized" {
				all[1] = "PKG-1"
			}
			src := shardsIndex(all, tt.form)
			out, err := FilterShardsIndex(src, hide(tt.hidden...))
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, n := range all {
				if !slices.Contains(tt.hidden, strings.ToLower(n)) {
					kept = append(kept, n)
				}
			}
			form := tt.form
			if len(kept) != len(all) {
				form = minimalForm(len(kept))
			}
			if want := shardsIndex(kept, form); !bytes.Equal(out, want) {
				t.Fatalf("output differs from the index of the kept shards (%d bytes, want %d)", len(out), len(want))
			}
			owners, err := ShardOwnersOf(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(owners) != len(kept) {
				t.Fatalf("%d owners, want %d", len(owners), len(kept))
			}
		})
	}
}

func TestShardOwners(t *testing.T) {
	// gamma's shard is byte-identical to beta's.
	e := mpEnc{}.mapHeader(0x80, 1).str("shards").mapHeader(0x80, 3).
		str("Alpha").bin(digestOf("Alpha")).str("beta").bin(digestOf("beta")).str("gamma").bin(digestOf("beta"))
	owners, err := ShardOwnersOf(e)
	if err != nil {
		t.Fatal(err)
	}
	a, b := hex.EncodeToString(digestOf("Alpha")), hex.EncodeToString(digestOf("beta"))
	want := ShardOwners{a: {"alpha"}, b: {"beta", "gamma"}}
	if !reflect.DeepEqual(owners, want) {
		t.Fatalf("got %v", owners)
	}
	for _, c := range []struct {
		digest  string
		visible func(string) bool
		want    bool
	}{
		{a, showAll, true},
		{a, hide("alpha"), false},
		{b, hide("beta"), true}, // gamma's identical shard is visible
		{b, hide("beta", "gamma"), false},
		{hex.EncodeToString(digestOf("unknown")), showAll, false},
	} {
		if got := owners.Visible(c.digest, c.visible); got != c.want {
			t.Errorf("Visible(%s…) = %v", c.digest[:8], got)
		}
	}
	if owners, err := ShardOwnersOf(shardsIndex(nil, 0x80)); err != nil || len(owners) != 0 {
		t.Errorf("empty index: %v, %v", owners, err)
	}
}

func TestFilterShardsIndexMalformed(t *testing.T) {
	good := shardsIndex([]string{"a", "b"}, 0x80)
	for name, in := range map[string][]byte{
		"empty":            {},
		"not a map":        {0x90},
		"truncated":        good[:len(good)-1],
		"trailing garbage": append(slices.Clip(good), 0xc0),
		"0xc1":             {0x81, 0xa1, 'x', 0xc1},
		"shards not a map": mpEnc{}.mapHeader(0x80, 1).str("shards").append(0x90),
		"digest too short": mpEnc{}.mapHeader(0x80, 1).str("shards").mapHeader(0x80, 1).str("a").bin([]byte{1, 2}),
		"digest a string":  mpEnc{}.mapHeader(0x80, 1).str("shards").mapHeader(0x80, 1).str("a").str(string(digestOf("a"))),
		"name not a str":   mpEnc{}.mapHeader(0x80, 1).str("shards").mapHeader(0x80, 1).append(0x01).bin(digestOf("a")),
		"huge count":       {0xdf, 0xff, 0xff, 0xff, 0xff},
		"huge str":         {0x81, 0xdb, 0xff, 0xff, 0xff, 0xff},
		"truncated length": {0x81, 0xda, 0x01},
		"deep nesting":     append(append([]byte{0x81, 0xa1, 'x'}, bytes.Repeat([]byte{0x91}, 100000)...), 0xc0),
		"map count short":  mpEnc{}.mapHeader(0x80, 2).str("shards").mapHeader(0x80, 0),
	} {
		if out, err := FilterShardsIndex(in, hide("a")); err == nil || out != nil || !errors.Is(err, ErrMalformedIndex) {
			t.Errorf("%s: want an error, got %v", name, err)
		}
		if _, err := ShardOwnersOf(in); err == nil {
			t.Errorf("%s: ShardOwnersOf: want an error", name)
		}
	}
}
