package caddymodule

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// Fixtures: real package files built in Go by indextest, byte for byte
// the same on every run, so the clients' checks (zip directory, zstd
// frames, RECORD, #sha256 fragments, repodata md5/sha256/size) run on the
// real formats.

// condaSpec describes one conda package of the fixture channel.
type condaSpec struct {
	name, version, build string
	depends              []string
	format               string // ".conda" or ".tar.bz2"
}

// conda is the package as indextest builds it, with a payload larger
// than one 10 KiB range read, so clients must fetch several ranges.
func (s condaSpec) conda(subdir string) indextest.Conda {
	c := indextest.Conda{Name: s.name, Version: s.version, Build: s.build, Subdir: subdir, Depends: s.depends, Format: s.format}
	c.Files = []indextest.File{{Name: "share/" + s.name + "/data.bin", Data: indextest.Payload(c.FileName(), 24<<10)}}
	return c
}

func (s condaSpec) fileName() string { return s.conda("").FileName() }

func (s condaSpec) indexJSON(subdir string) []byte { return s.conda(subdir).IndexJSON() }

// condaPackage builds the package file.
func condaPackage(t testing.TB, s condaSpec, subdir string) []byte {
	t.Helper()
	return indextest.CondaPackage(t, s.conda(subdir))
}

// wheelSpec describes one PyPI distribution of the fixture index.
type wheelSpec struct {
	project string // as registered, e.g. "acme-tools"
	version string
}

func (w wheelSpec) python() indextest.Python {
	return indextest.Python{Project: w.project, Version: w.version}
}

func (w wheelSpec) dist() string { return strings.ReplaceAll(w.project, "-", "_") }

func (w wheelSpec) fileName() string { return w.python().WheelName() }

// initPy is the module body the wheel carries; tests check it arrives.
func (w wheelSpec) initPy() []byte { return w.python().InitPy() }

// wheel builds a PEP 427 wheel.
func wheel(t testing.TB, w wheelSpec) []byte {
	t.Helper()
	return indextest.Wheel(t, w.python())
}

// fixtureChannel is one conda channel plus PyPI index in storage layout:
// relative storage path → content.
type fixtureChannel struct {
	channel string
	files   map[string][]byte
}

// conda and pypi are what the fixture channel "acme" holds; the names
// match the packages g.seed() registers (secret and shared private, open
// public, acme-tools private) plus acme-open, a public PyPI project.
var (
	fixtureConda = []condaSpec{
		{name: "secret", version: "1.0", build: "0", depends: []string{"python >=3.8"}, format: ".conda"},
		{name: "open", version: "1.0", build: "0", format: ".conda"},
		{name: "shared", version: "1.0", build: "0", format: ".tar.bz2"},
	}
	fixtureWheels = []wheelSpec{{"acme-tools", "1.2.0"}, {"acme-open", "0.1.0"}}
)

// buildFixtureChannel builds every file of the channel: the conda
// packages of fixtureConda in noarch and label dev, their repodata.json,
// channeldata.json, the wheels with their PEP 503 project pages and the
// root page.
func buildFixtureChannel(t testing.TB, channel string) fixtureChannel {
	t.Helper()
	fx := fixtureChannel{channel: channel, files: map[string][]byte{}}
	for _, label := range []string{"", "label/dev/"} {
		for _, s := range fixtureConda {
			fx.files[label+"noarch/"+s.fileName()] = condaPackage(t, s, "noarch")
		}
		fx.files[label+"noarch/repodata.json"] = fx.repodata(label, "noarch")
	}
	fx.files["channeldata.json"] = []byte(`{"channeldata_version": 1, "packages": {}, "subdirs": ["noarch"]}`)

	var projects []string
	for _, w := range fixtureWheels {
		dir := "simple/" + w.project + "/"
		whl := wheel(t, w)
		sum := sha256.Sum256(whl)
		fx.files[dir+w.fileName()] = whl
		fx.files[dir+"index.html"] = simplePage("Links for "+w.project,
			map[string]string{w.fileName(): w.fileName() + "#sha256=" + hex.EncodeToString(sum[:])})
		projects = append(projects, w.project)
	}
	root := map[string]string{}
	for _, p := range projects {
		root[p] = p + "/"
	}
	fx.files["simple/index.html"] = simplePage("Simple index", root)
	return fx
}

// repodata lists the conda packages of one label and subdir with the
// md5, sha256 and size of the built files.
func (fx fixtureChannel) repodata(label, subdir string) []byte {
	pkgs := map[string]map[string]any{"packages": {}, "packages.conda": {}}
	for _, s := range fixtureConda {
		b := fx.files[label+subdir+"/"+s.fileName()]
		md5sum, sha := md5.Sum(b), sha256.Sum256(b)
		var rec map[string]any
		_ = json.Unmarshal(s.indexJSON(subdir), &rec)
		rec["md5"], rec["sha256"], rec["size"] = hex.EncodeToString(md5sum[:]), hex.EncodeToString(sha[:]), len(b)
		rec["timestamp"] = indextest.Time.UnixMilli()
		key := "packages"
		if s.format == ".conda" {
			key = "packages.conda"
		}
		pkgs[key][s.fileName()] = rec
	}
	out, _ := json.MarshalIndent(map[string]any{"info": map[string]string{"subdir": subdir},
		"packages": pkgs["packages"], "packages.conda": pkgs["packages.conda"],
		"removed": []string{}, "repodata_version": 1}, "", " ")
	return out
}

// simplePage renders a PEP 503 page of links (text → href), sorted.
func simplePage(title string, links map[string]string) []byte {
	var names []string
	for n := range links {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>%s</title></head><body>\n<h1>%s</h1>\n", html.EscapeString(title), html.EscapeString(title))
	for _, n := range names {
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a><br>\n", html.EscapeString(links[n]), html.EscapeString(n))
	}
	b.WriteString("</body></html>\n")
	return []byte(b.String())
}

// install writes the channel into the gateway's storage folder.
func (fx fixtureChannel) install(g *gateway) {
	g.t.Helper()
	for rel, b := range fx.files {
		g.file(path.Join(fx.channel, rel), string(b))
	}
}

// file returns one fixture file by channel-relative path, failing the
// test if the fixture has no such file.
func (fx fixtureChannel) file(t testing.TB, rel string) []byte {
	t.Helper()
	b, ok := fx.files[rel]
	if !ok {
		t.Fatalf("fixture has no %s", rel)
	}
	return b
}
