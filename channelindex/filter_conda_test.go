package channelindex

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// hide returns a predicate that rejects the given normalized names.
func hide(names ...string) func(string) bool {
	hidden := make(map[string]bool, len(names))
	for _, n := range names {
		hidden[n] = true
	}
	return func(n string) bool { return !hidden[n] }
}

func showAll(string) bool { return true }

// decode parses a filter's output for comparison; the tests may parse
// what the filters themselves must not.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("output is not valid JSON: %v\n%s", err, b)
	}
	return v
}

const sampleRepodata = `{
  "info": {"subdir": "linux-64", "base_url": "https://x/y"},
  "packages": {
    "numpy-1.26.0-py311_0.tar.bz2": {"name": "numpy", "version": "1.26.0", "depends": ["python >=3.11", "libblas"], "size": 1},
    "secret-tool-2.0-0.tar.bz2": {"name": "secret-tool", "version": "2.0", "depends": [], "size": 2},
    "Secret-Tool-2.1-h1_0.tar.bz2": {"name": "secret-tool", "note": "a\"b\\c}{][", "size": 3}
  },
  "packages.conda": {
    "secret-tool-2.0-0.conda": {"name": "secret-tool", "size": 4},
    "zlib-1.3-0.conda": {"name": "zlib", "weird": {"nested": [1, 2.5e-3, -0, true, false, null, {"k": "v"}]}}
  },
  "removed": ["secret-tool-1.0-0.conda", "numpy-1.0-0.tar.bz2"],
  "repodata_version": 1,
  "extra": {"packages": {"secret-tool-9-0.conda": {}}}
}
`

func TestFilterRepodataRecords(t *testing.T) {
	out, err := FilterRepodata([]byte(sampleRepodata), hide("secret-tool"))
	if err != nil {
		t.Fatal(err)
	}
	got, want := decode(t, out), decode(t, []byte(sampleRepodata))
	delete(want["packages"].(map[string]any), "secret-tool-2.0-0.tar.bz2")
	delete(want["packages"].(map[string]any), "Secret-Tool-2.1-h1_0.tar.bz2")
	delete(want["packages.conda"].(map[string]any), "secret-tool-2.0-0.conda")
	want["removed"] = []any{"numpy-1.0-0.tar.bz2"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%s", out)
	}
	// Members outside packages, packages.conda and removed are untouched,
	// even when they look like them.
	if !strings.Contains(string(out), `"extra": {"packages": {"secret-tool-9-0.conda": {}}}`) {
		t.Errorf("other members changed:\n%s", out)
	}
}

func TestFilterRepodataCases(t *testing.T) {
	tests := []struct {
		name, in string
		visible  func(string) bool
		want     string // exact output
	}{
		{"empty object", `{}`, hide("a"), `{}`},
		{"empty maps", ` { "packages" : { } , "packages.conda":{},"removed":[ ] } `, hide("a"),
			` { "packages" : { } , "packages.conda":{},"removed":[ ] } `},
		{"missing keys", `{"info":{"subdir":"noarch"}}`, hide("a"), `{"info":{"subdir":"noarch"}}`},
		{"drop first", `{"packages":{"a-1-0.conda":{},"b-1-0.conda":{"x":1}}}`, hide("a"), `{"packages":{"b-1-0.conda":{"x":1}}}`},
		{"drop last", `{"packages":{"b-1-0.conda":{"x":1},"a-1-0.conda":{}}}`, hide("a"), `{"packages":{"b-1-0.conda":{"x":1}}}`},
		{"drop middle", `{"packages":{"b-1-0.conda":1,"a-1-0.conda":2,"c-1-0.conda":3}}`, hide("a"), `{"packages":{"b-1-0.conda":1,"c-1-0.conda":3}}`},
		{"drop all", `{"packages":{"a-1-0.conda":{},"a-2-0.conda":{}},"removed":["a-0-0.conda"]}`, hide("a"), `{"packages":{},"removed":[]}`},
		{"indented", "{\n  \"packages\": {\n    \"a-1-0.conda\": {},\n    \"b-1-0.conda\": {}\n  }\n}\n", hide("a"),
			"{\n  \"packages\": {\n    \"b-1-0.conda\": {}\n  }\n}\n"},
		{"indented drop last", "{\n  \"packages\": {\n    \"b-1-0.conda\": {},\n    \"a-1-0.conda\": {}\n  }\n}", hide("a"),
			"{\n  \"packages\": {\n    \"b-1-0.conda\": {}\n  }\n}"},
		{"escaped key hides", `{"packages":{"\u0061-1-0.conda":{},"b-1-0.conda":{}}}`, hide("a"), `{"packages":{"b-1-0.conda":{}}}`},
		{"escaped top-level key", `{"packages\u002econda":{"a-1-0.conda":{}}}`, hide("a"), `{"packages\u002econda":{}}`},
		{"quote in key", `{"packages":{"a\"b-1-0.conda":{"k":"a\"b"}}}`, hide("a"), `{"packages":{"a\"b-1-0.conda":{"k":"a\"b"}}}`},
		{"quote in hidden key", `{"packages":{"a\"b-1-0.conda":{}}}`, hide(`a"b`), `{"packages":{}}`},
		{"uppercase normalized", `{"packages":{"A-1-0.conda":{}}}`, hide("a"), `{"packages":{}}`},
		{"dashes in name", `{"packages":{"foo-bar-1.0-py_0.tar.bz2":{}}}`, hide("foo-bar"), `{"packages":{}}`},
		{"removed escaped", `{"removed":["\u0061-1-0.conda","b-1-0.conda"]}`, hide("a"), `{"removed":["b-1-0.conda"]}`},
		{"show all identical", sampleRepodata, showAll, sampleRepodata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := FilterRepodata([]byte(tt.in), tt.visible)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got  %q\nwant %q", out, tt.want)
			}
			decode(t, out)
		})
	}
}

func TestFilterRepodataMalformed(t *testing.T) {
	for _, in := range []string{
		``, ` `, `[]`, `null`, `"x"`,
		`{`, `{"packages":{"a-1-0.conda":{}}`, `{"packages":{"a-1-0.conda":{"x":"y}}}`,
		`{"packages":{"a-1-0.conda":{}}} x`, `{}{}`, `{},`,
		`{"packages":[]}`, `{"packages":"x"}`, `{"removed":{}}`, `{"removed":[1]}`, `{"packages.conda":null}`,
		`{"packages":{"a-1-0.conda":{},}}`, `{"packages":{,}}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`,
		`{"packages":{"nodash.conda":{}}}`, `{"packages":{"a-1.conda":{}}}`, `{"packages":{"a-1-0.zip":{}}}`,
		`{"packages":{"-1-0.conda":{}}}`, `{"packages":{"a-1-.conda":{}}}`, `{"removed":["x"]}`,
		`{"a":tru}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\n\"}",
		`{"a":[1 2]}`, `{"a":[1,]}`, `{"a":{"b"}}`,
		strings.Repeat("[", 10000),
		`{"x":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`,
	} {
		out, err := FilterRepodata([]byte(in), hide("a"))
		if err == nil || out != nil {
			t.Errorf("%.60q: want an error and no output, got %q, %v", in, out, err)
		} else if !errors.Is(err, ErrMalformedIndex) {
			t.Errorf("%.60q: error %v does not wrap ErrMalformedIndex", in, err)
		}
	}
}

func TestCondaPackageName(t *testing.T) {
	for file, want := range map[string]string{
		"foo-bar-1.0-py_0.tar.bz2":     "foo-bar",
		"_libgcc_mutex-0.1-main.conda": "_libgcc_mutex",
		"a-1-0.conda":                  "a",
		"a-1-0.tar.bz2.conda":          "a",
		"a.conda":                      "",
		"a-1-0.tar.gz":                 "",
		"1-0.conda":                    "",
		"a--0.conda":                   "",
	} {
		got, ok := CondaPackageName([]byte(file))
		if string(got) != want || ok != (want != "") {
			t.Errorf("%s: got %q, %v", file, got, ok)
		}
	}
}

func TestFilterChanneldata(t *testing.T) {
	in := `{"channeldata_version": 1, "packages": {"numpy": {"version": "1.26"}, "Secret": {"subdirs": ["noarch"]}, "s\u0065cret2": {}}, "subdirs": ["linux-64", "noarch"]}`
	out, err := FilterChanneldata([]byte(in), hide("secret", "secret2"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"channeldata_version": 1, "packages": {"numpy": {"version": "1.26"}}, "subdirs": ["linux-64", "noarch"]}`
	if string(out) != want {
		t.Errorf("got %s", out)
	}
	if _, err := FilterChanneldata([]byte(`{"packages": []}`), showAll); !errors.Is(err, ErrMalformedIndex) {
		t.Errorf("packages as an array: %v", err)
	}
}
