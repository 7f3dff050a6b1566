package channelindex

import (
	"bytes"
	"encoding/json"
	"github.com/channelgate/channelgate/channelindex/indextest"
	"maps"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/tokenstore"
)

// fuzzVisible hides every normalized name containing an 'a'.
func fuzzVisible(name string) bool { return !strings.Contains(name, "a") }

func FuzzFilterRepodata(f *testing.F) {
	for _, s := range []string{
		sampleRepodata, `{}`, `{"packages":{}}`, `{"packages":[]}`, `{"removed":["a-1-0.conda"]}`,
		`{"packages":{"a-1-0.conda":{},"b-1-0.conda":{"x":[1,2,{"y":null}]}}}`,
		`{"packages":{"\u0061-1-0.conda":{"k":"a\"b"}},"packages.conda":{"b-1-0.conda":1}}`,
		"{\n  \"packages\": {\n    \"b-1-0.conda\": {},\n    \"A-1-0.tar.bz2\": {}\n  }\n}\n",
		`{"packages":{"a-1-0.conda":{}}} x`, `{"a":1.5e-3,"b":[true,false,null],"packages":{"c-1-0.conda":"\u00e9"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := FilterRepodata(in, fuzzVisible)
		if err != nil {
			if out != nil {
				t.Fatal("output with an error")
			}
			return
		}
		if !json.Valid(in) {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid output %q from %q", out, in)
		}
		all, err := FilterRepodata(in, showAll)
		if err != nil || !bytes.Equal(all, in) {
			t.Fatalf("hiding nothing changed the input: %q, %v", all, err)
		}
		// Clients match keys exactly; encoding/json's struct decoding
		// would not, so decode by hand.
		type repodata struct {
			packages, packagesConda map[string]json.RawMessage
			removed                 []string
		}
		decode := func(b []byte) (r repodata, ok bool) {
			var top map[string]json.RawMessage
			if json.Unmarshal(b, &top) != nil {
				return r, false
			}
			for _, f := range []struct {
				key string
				v   any
			}{{"packages", &r.packages}, {"packages.conda", &r.packagesConda}, {"removed", &r.removed}} {
				if raw, ok := top[f.key]; ok && json.Unmarshal(raw, f.v) != nil {
					return r, false
				}
			}
			return r, true
		}
		want, ok := decode(in)
		if !ok {
			t.Fatalf("accepted an index of another shape: %q", in)
		}
		got, ok := decode(out)
		if !ok {
			t.Fatalf("output of another shape: %q", out)
		}
		visibleFile := func(file string) bool {
			name, ok := CondaPackageName([]byte(file))
			if !ok {
				t.Fatalf("accepted file name %q", file)
			}
			return fuzzVisible(tokenstore.NormalizeName(tokenstore.Conda, string(name)))
		}
		for _, m := range []struct{ got, want map[string]json.RawMessage }{{got.packages, want.packages}, {got.packagesConda, want.packagesConda}} {
			maps.DeleteFunc(m.want, func(k string, _ json.RawMessage) bool { return !visibleFile(k) })
			if !maps.EqualFunc(m.got, m.want, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
				t.Fatalf("records: got %v, want %v", m.got, m.want)
			}
		}
		var removed []string
		for _, r := range want.removed {
			if visibleFile(r) {
				removed = append(removed, r)
			}
		}
		if strings.Join(removed, "\x00") != strings.Join(got.removed, "\x00") {
			t.Fatalf("removed: got %q, want %q", got.removed, removed)
		}
	})
}

func FuzzShardsIndex(f *testing.F) {
	for _, s := range [][]byte{
		indextest.ShardsIndex(nil, 0x80), indextest.ShardsIndex([]string{"a", "b", "Ca"}, 0x80), indextest.ShardsIndex(names(20), 0xde),
		indextest.ShardsIndex([]string{"x", "y"}, 0xdf), {0x80}, {0x81, 0xa6, 's', 'h', 'a', 'r', 'd', 's', 0x80},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := FilterShardsIndex(in, fuzzVisible)
		ownersIn, errOwners := ShardOwnersOf(in)
		if (err == nil) != (errOwners == nil) {
			t.Fatalf("filter and owners disagree: %v, %v", err, errOwners)
		}
		if err != nil {
			if out != nil {
				t.Fatal("output with an error")
			}
			return
		}
		all, err := FilterShardsIndex(in, showAll)
		if err != nil || !bytes.Equal(all, in) {
			t.Fatalf("hiding nothing changed the input: %v", err)
		}
		ownersOut, err := ShardOwnersOf(out)
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		for digest, names := range ownersIn {
			var kept []string
			for _, n := range names {
				if fuzzVisible(n) {
					kept = append(kept, n)
				}
			}
			if strings.Join(kept, "\x00") != strings.Join(ownersOut[digest], "\x00") {
				t.Fatalf("shard %s: got %q, want %q", digest, ownersOut[digest], kept)
			}
		}
		for digest := range ownersOut {
			if _, ok := ownersIn[digest]; !ok {
				t.Fatalf("output invents shard %s", digest)
			}
		}
	})
}

func FuzzFilterSimpleHTML(f *testing.F) {
	for _, s := range []string{simpleHTML, `<a href="a/">a</a><br><a href="b/">b</a><br>`, `<a href="/s/x%61/">y</a>`, `<abbr>a</abbr>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := FilterSimpleHTML(in, fuzzVisible)
		if err != nil {
			return
		}
		if all, err := FilterSimpleHTML(in, showAll); err != nil || !bytes.Equal(all, in) {
			t.Fatalf("hiding nothing changed the input: %v", err)
		}
		// Every hidden anchor is gone, so filtering again changes nothing.
		again, err := FilterSimpleHTML(out, fuzzVisible)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("output %q still holds hidden anchors (%v)", out, err)
		}
	})
}
