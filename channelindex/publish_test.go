package channelindex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// testPublisher is a Publisher on a fresh folder.
type testPublisher struct {
	*Publisher
	t    testing.TB
	root string
}

func newTestPublisher(t testing.TB) *testPublisher {
	t.Helper()
	root := t.TempDir()
	dir, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	p, err := NewPublisher(dir, Options{Now: func() time.Time { return indextest.Time }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return &testPublisher{Publisher: p, t: t, root: root}
}

// addConda publishes a built package and fails the test on error.
func (tp *testPublisher) addConda(c indextest.Conda, labels ...string) *CondaPackage {
	tp.t.Helper()
	b := indextest.CondaPackage(tp.t, c)
	p, err := tp.AddConda(context.Background(), CondaAdd{Channel: "acme", Labels: labels, File: c.FileName()}, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tp.t.Fatal(err)
	}
	return p
}

// read returns a stored file, or nil if absent.
func (tp *testPublisher) read(rel string) []byte {
	tp.t.Helper()
	b, err := os.ReadFile(filepath.Join(tp.root, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		tp.t.Fatal(err)
	}
	return b
}

// repodata is the parts of a repodata.json the tests check.
type repodata struct {
	Info            map[string]string                     `json:"info"`
	Packages        map[string]map[string]json.RawMessage `json:"packages"`
	PackagesConda   map[string]map[string]json.RawMessage `json:"packages.conda"`
	Removed         []string                              `json:"removed"`
	RepodataVersion int                                   `json:"repodata_version"`
}

func (r repodata) files() []string {
	var out []string
	for f := range r.Packages {
		out = append(out, f)
	}
	for f := range r.PackagesConda {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// repodata reads and checks one repodata.json: compact, keys sorted (it
// equals its own re-encoding), .zst the same bytes.
func (tp *testPublisher) repodata(rel string) repodata {
	tp.t.Helper()
	b := tp.read(rel)
	if b == nil {
		tp.t.Fatalf("%s is missing", rel)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		tp.t.Fatalf("%s: %v", rel, err)
	}
	if again, _ := compactJSON(generic); !bytes.Equal(again, b) {
		tp.t.Fatalf("%s is not compact with sorted keys:\n%s", rel, b)
	}
	if strings.HasSuffix(rel, "/repodata.json") {
		if zst := tp.read(rel + ".zst"); !bytes.Equal(indextest.Unzstd(tp.t, zst), b) {
			tp.t.Fatalf("%s.zst differs from %s", rel, rel)
		}
	}
	var r repodata
	_ = json.Unmarshal(b, &r)
	return r
}

// TestAddCondaWritesIndexes publishes both formats into two labels and
// checks every index conda-index would write.
func TestAddCondaWritesIndexes(t *testing.T) {
	tp := newTestPublisher(t)
	conda := indextest.Conda{Name: "tool", Version: "1.0", Build: "0", Subdir: "linux-64", Index: map[string]any{"arch": "x86_64", "platform": "linux", "timestamp": 1700000000000}}
	old := indextest.Conda{Name: "tool", Version: "0.9", Build: "0", Subdir: "linux-64", Format: ".tar.bz2"}
	pkg := tp.addConda(conda, "main", "dev")
	tp.addConda(old)

	r := tp.repodata("acme/linux-64/repodata.json")
	if r.Info["subdir"] != "linux-64" || r.RepodataVersion != 1 || r.Removed == nil || len(r.Removed) != 0 {
		t.Fatalf("repodata header %+v", r)
	}
	if got := r.files(); !slices.Equal(got, []string{"tool-0.9-0.tar.bz2", "tool-1.0-0.conda"}) {
		t.Fatalf("files %v", got)
	}
	rec := r.PackagesConda["tool-1.0-0.conda"]
	for k, want := range map[string]string{"md5": `"` + pkg.MD5 + `"`, "sha256": `"` + pkg.SHA256 + `"`,
		"size": string(mustJSON(t, pkg.Size)), "name": `"tool"`, "timestamp": "1700000000000", "subdir": `"linux-64"`} {
		if string(rec[k]) != want {
			t.Errorf("record %s = %s, want %s", k, rec[k], want)
		}
	}
	for _, k := range []string{"arch", "platform"} {
		if _, ok := rec[k]; ok {
			t.Errorf("record keeps %s", k)
		}
	}
	if got := tp.repodata("acme/linux-64/current_repodata.json").files(); !slices.Equal(got, []string{"tool-1.0-0.conda"}) {
		t.Errorf("current_repodata lists %v", got)
	}
	if got := tp.repodata("acme/label/dev/linux-64/repodata.json").files(); !slices.Equal(got, []string{"tool-1.0-0.conda"}) {
		t.Errorf("label dev lists %v", got)
	}
	for _, root := range []string{"acme", "acme/label/dev"} {
		if n := tp.repodata(root + "/noarch/repodata.json"); n.Info["subdir"] != "noarch" || len(n.files()) != 0 {
			t.Errorf("%s/noarch/repodata.json: %+v", root, n)
		}
	}
	var cd struct {
		Version  int                       `json:"channeldata_version"`
		Packages map[string]map[string]any `json:"packages"`
		Subdirs  []string                  `json:"subdirs"`
	}
	if err := json.Unmarshal(tp.read("acme/channeldata.json"), &cd); err != nil {
		t.Fatal(err)
	}
	if e := cd.Packages["tool"]; cd.Version != 1 || !slices.Equal(cd.Subdirs, []string{"linux-64"}) || e["version"] != "1.0" ||
		e["summary"] != "tool test package" || e["license"] != "MIT" {
		t.Fatalf("channeldata %+v", cd)
	}
	if got := tp.read("acme/linux-64/tool-1.0-0.conda"); !bytes.Equal(got, indextest.CondaPackage(t, conda)) {
		t.Fatal("stored file differs from the upload")
	}
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAddCondaRefusals proves a refused add writes nothing.
func TestAddCondaRefusals(t *testing.T) {
	good := indextest.Conda{Name: "x", Version: "1", Build: "0"}
	data := indextest.CondaPackage(t, good)
	tests := []struct {
		name string
		req  CondaAdd
		data []byte
		want error
	}{
		{"damaged", CondaAdd{Channel: "acme", File: good.FileName()}, data[:100], ErrInvalidPackage},
		{"mislabelled", CondaAdd{Channel: "acme", File: "y-1-0.conda"}, data, ErrInvalidPackage},
		{"wrong subdir", CondaAdd{Channel: "acme", File: "linux-64/" + good.FileName()}, data, ErrInvalidPackage},
		{"wrong sha256", CondaAdd{Channel: "acme", File: good.FileName(), SHA256: strings.Repeat("0", 64)}, data, ErrInvalidRequest},
		{"bad channel", CondaAdd{Channel: "../etc", File: good.FileName()}, data, ErrInvalidRequest},
		{"bad label", CondaAdd{Channel: "acme", Labels: []string{"a/b"}, File: good.FileName()}, data, ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := newTestPublisher(t)
			_, err := tp.AddConda(context.Background(), tt.req, bytes.NewReader(tt.data), int64(len(tt.data)))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if entries, _ := os.ReadDir(tp.root); len(entries) != 0 {
				t.Fatalf("a refused add wrote %v", entries)
			}
		})
	}
}

// TestAddCondaExists proves an existing file is ErrExists unless forced.
func TestAddCondaExists(t *testing.T) {
	tp := newTestPublisher(t)
	c := indextest.Conda{Name: "x", Version: "1", Build: "0"}
	tp.addConda(c, "dev")
	b := indextest.CondaPackage(t, c)
	for _, labels := range [][]string{{"dev"}, {"main", "dev"}} {
		_, err := tp.AddConda(context.Background(), CondaAdd{Channel: "acme", Labels: labels, File: c.FileName()}, bytes.NewReader(b), int64(len(b)))
		if !errors.Is(err, ErrExists) {
			t.Fatalf("labels %v: %v, want ErrExists", labels, err)
		}
	}
	if tp.read("acme/noarch/"+c.FileName()) != nil {
		t.Fatal("a refused add wrote into main")
	}
	if _, err := tp.AddConda(context.Background(), CondaAdd{Channel: "acme", Labels: []string{"dev"}, File: c.FileName(), Force: true}, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
}

// TestRemoveAndCopyConda removes files, versions and packages, and
// copies and moves between labels.
func TestRemoveAndCopyConda(t *testing.T) {
	ctx := context.Background()
	tp := newTestPublisher(t)
	a1 := indextest.Conda{Name: "a", Version: "1", Build: "0"}
	a2 := indextest.Conda{Name: "a", Version: "2", Build: "0", Subdir: "linux-64"}
	b1 := indextest.Conda{Name: "b", Version: "1", Build: "0", Format: ".tar.bz2"}
	for _, c := range []indextest.Conda{a1, a2, b1} {
		tp.addConda(c)
	}
	if _, err := tp.CopyConda(ctx, "acme", CondaQuery{Name: "a", Label: "main"}, "dev", false); err != nil {
		t.Fatal(err)
	}
	if got := tp.repodata("acme/label/dev/linux-64/repodata.json").files(); !slices.Equal(got, []string{"a-2-0.conda"}) {
		t.Fatalf("copy: dev lists %v", got)
	}
	if tp.read("acme/label/dev/noarch/a-1-0.conda") == nil || tp.read("acme/noarch/a-1-0.conda") == nil {
		t.Fatal("copy: file missing")
	}
	if _, err := tp.CopyConda(ctx, "acme", CondaQuery{Name: "b", Label: "main"}, "test", true); err != nil {
		t.Fatal(err)
	}
	if tp.read("acme/noarch/b-1-0.tar.bz2") != nil || tp.read("acme/label/test/noarch/b-1-0.tar.bz2") == nil {
		t.Fatal("move: file not moved")
	}
	if got := tp.repodata("acme/noarch/repodata.json").files(); !slices.Equal(got, []string{"a-1-0.conda"}) {
		t.Fatalf("move: main lists %v", got)
	}
	if labels, _ := tp.Labels(ctx, "acme"); !slices.Equal(labels, []string{"dev", "main", "test"}) {
		t.Fatalf("labels %v", labels)
	}

	removed, err := tp.RemoveConda(ctx, "acme", CondaQuery{Name: "A", Version: "2"})
	if err != nil || len(removed) != 2 {
		t.Fatalf("remove version: %v, %v", removed, err)
	}
	for _, rel := range []string{"acme/linux-64/a-2-0.conda", "acme/label/dev/linux-64/a-2-0.conda"} {
		if tp.read(rel) != nil {
			t.Fatalf("%s still stored", rel)
		}
	}
	if got := tp.repodata("acme/linux-64/repodata.json").files(); len(got) != 0 {
		t.Fatalf("linux-64 still lists %v", got)
	}
	cd := map[string]map[string]any{}
	var top struct {
		Packages *map[string]map[string]any `json:"packages"`
	}
	top.Packages = &cd
	_ = json.Unmarshal(tp.read("acme/channeldata.json"), &top)
	if e := cd["a"]; e["version"] != "1" || len(e["subdirs"].([]any)) != 1 {
		t.Fatalf("channeldata after removing a 2: %v", cd)
	}
	if _, err := tp.RemoveConda(ctx, "acme", CondaQuery{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	clear(cd)
	_ = json.Unmarshal(tp.read("acme/channeldata.json"), &top)
	if _, ok := cd["a"]; ok || len(cd) != 0 {
		t.Fatalf("channeldata keeps a removed package: %v", cd)
	}
	if _, err := tp.RemoveConda(ctx, "acme", CondaQuery{Name: "a"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing again: %v, want ErrNotFound", err)
	}
}
