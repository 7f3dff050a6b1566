package channelindex

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/channelgate/channelgate/channelindex/indextest"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func minimalForm(n int) byte {
	switch {
	case n < 16:
		return 0x80
	case n <= 0xffff:
		return 0xde
	}
	return 0xdf
}

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
			src := indextest.ShardsIndex(all, tt.form)
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
			if want := indextest.ShardsIndex(kept, form); !bytes.Equal(out, want) {
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
	e := indextest.Msgpack{}.MapHeader(0x80, 1).Str("shards").MapHeader(0x80, 3).
		Str("Alpha").Bin(indextest.ShardDigest("Alpha")).Str("beta").Bin(indextest.ShardDigest("beta")).Str("gamma").Bin(indextest.ShardDigest("beta"))
	owners, err := ShardOwnersOf(e)
	if err != nil {
		t.Fatal(err)
	}
	a, b := hex.EncodeToString(indextest.ShardDigest("Alpha")), hex.EncodeToString(indextest.ShardDigest("beta"))
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
		{hex.EncodeToString(indextest.ShardDigest("unknown")), showAll, false},
	} {
		if got := owners.Visible(c.digest, c.visible); got != c.want {
			t.Errorf("Visible(%s…) = %v", c.digest[:8], got)
		}
	}
	if owners, err := ShardOwnersOf(indextest.ShardsIndex(nil, 0x80)); err != nil || len(owners) != 0 {
		t.Errorf("empty index: %v, %v", owners, err)
	}
}

func TestFilterShardsIndexMalformed(t *testing.T) {
	good := indextest.ShardsIndex([]string{"a", "b"}, 0x80)
	for name, in := range map[string][]byte{
		"empty":            {},
		"not a map":        {0x90},
		"truncated":        good[:len(good)-1],
		"trailing garbage": append(slices.Clip(good), 0xc0),
		"0xc1":             {0x81, 0xa1, 'x', 0xc1},
		"shards not a map": indextest.Msgpack{}.MapHeader(0x80, 1).Str("shards").Append(0x90),
		"digest too short": indextest.Msgpack{}.MapHeader(0x80, 1).Str("shards").MapHeader(0x80, 1).Str("a").Bin([]byte{1, 2}),
		"digest a string":  indextest.Msgpack{}.MapHeader(0x80, 1).Str("shards").MapHeader(0x80, 1).Str("a").Str(string(indextest.ShardDigest("a"))),
		"name not a str":   indextest.Msgpack{}.MapHeader(0x80, 1).Str("shards").MapHeader(0x80, 1).Append(0x01).Bin(indextest.ShardDigest("a")),
		"huge count":       {0xdf, 0xff, 0xff, 0xff, 0xff},
		"huge str":         {0x81, 0xdb, 0xff, 0xff, 0xff, 0xff},
		"truncated length": {0x81, 0xda, 0x01},
		"deep nesting":     append(append([]byte{0x81, 0xa1, 'x'}, bytes.Repeat([]byte{0x91}, 100000)...), 0xc0),
		"map count short":  indextest.Msgpack{}.MapHeader(0x80, 2).Str("shards").MapHeader(0x80, 0),
	} {
		if out, err := FilterShardsIndex(in, hide("a")); err == nil || out != nil || !errors.Is(err, ErrMalformedIndex) {
			t.Errorf("%s: want an error, got %v", name, err)
		}
		if _, err := ShardOwnersOf(in); err == nil {
			t.Errorf("%s: ShardOwnersOf: want an error", name)
		}
	}
}
