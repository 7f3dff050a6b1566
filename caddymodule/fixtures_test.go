package caddymodule

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"os/exec"
	"path"
	"sort"
	"strings"
	"testing"
	"time"
)

// Fixtures: real package files built in Go, byte for byte the same on
// every run, so the clients' checks (zip directory, zstd frames, RECORD,
// #sha256 fragments, repodata md5/sha256/size) run on the real formats.

// fixtureTime is the modification time of every archive member.
var fixtureTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// payload returns n incompressible bytes derived from seed (a SHA-256
// chain), so packages are larger than one 10 KiB range read and the
// clients must fetch several ranges.
func payload(seed string, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	sum := sha256.Sum256([]byte(seed))
	for len(out) < n {
		out = append(out, sum[:]...)
		sum = sha256.Sum256(sum[:])
	}
	return out[:n]
}

// archiveFile is one member of a tar or zip archive.
type archiveFile struct {
	name string
	data []byte
}

func tarball(t testing.TB, files []archiveFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: fixtureTime,
			Typeflag: tar.TypeReg, Uname: "root", Gname: "root", Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bzip2Compress runs /usr/bin/bzip2 (Go's standard library only reads
// bzip2); conda's .tar.bz2 needs it.
func bzip2Compress(t testing.TB, b []byte) []byte {
	t.Helper()
	cmd := exec.Command("/usr/bin/bzip2", "-c", "-9")
	cmd.Stdin = bytes.NewReader(b)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("/usr/bin/bzip2 is needed to build the .tar.bz2 fixture (install it with: bash .ci/run): %v %s", err, errb.String())
	}
	return out.Bytes()
}

// zipArchive writes files in order; stored (uncompressed) entries as in
// .conda files, deflated ones as in wheels.
func zipArchive(t testing.TB, files []archiveFile, method uint16) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: method, Modified: fixtureTime})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// condaSpec describes one conda package of the fixture channel.
type condaSpec struct {
	name, version, build string
	depends              []string
	format               string // ".conda" or ".tar.bz2"
}

func (s condaSpec) fileName() string {
	return fmt.Sprintf("%s-%s-%s%s", s.name, s.version, s.build, s.format)
}

func (s condaSpec) indexJSON(subdir string) []byte {
	deps := s.depends
	if deps == nil {
		deps = []string{}
	}
	b, _ := json.Marshal(map[string]any{"name": s.name, "version": s.version, "build": s.build,
		"build_number": 0, "depends": deps, "subdir": subdir, "noarch": "generic", "license": "MIT"})
	return b
}

// condaPackage builds the package file: for .conda a zip (stored entries)
// of metadata.json, pkg-<id>.tar.zst and info-<id>.tar.zst, info last as
// conda-package-handling writes it; for .tar.bz2 one bzip2 tarball.
func condaPackage(t testing.TB, s condaSpec, subdir string) []byte {
	t.Helper()
	info := []archiveFile{{"info/index.json", s.indexJSON(subdir)}}
	pkg := []archiveFile{{"share/" + s.name + "/data.bin", payload(s.fileName(), 24<<10)}}
	if s.format == ".tar.bz2" {
		return bzip2Compress(t, tarball(t, append(info, pkg...)))
	}
	id := strings.TrimSuffix(s.fileName(), ".conda")
	return zipArchive(t, []archiveFile{
		{"metadata.json", []byte(`{"conda_pkg_format_version": 2}`)},
		{"pkg-" + id + ".tar.zst", zstdCompress(t, tarball(t, pkg))},
		{"info-" + id + ".tar.zst", zstdCompress(t, tarball(t, info))},
	}, zip.Store)
}

// wheelSpec describes one PyPI distribution of the fixture index.
type wheelSpec struct {
	project string // as registered, e.g. "acme-tools"
	version string
}

func (w wheelSpec) dist() string { return strings.ReplaceAll(w.project, "-", "_") }

func (w wheelSpec) fileName() string {
	return fmt.Sprintf("%s-%s-py3-none-any.whl", w.dist(), w.version)
}

// initPy is the module body the wheel carries; tests check it arrives.
func (w wheelSpec) initPy() []byte {
	return []byte(fmt.Sprintf("__version__ = %q\nPROJECT = %q\n", w.version, w.project))
}

// wheel builds a PEP 427 wheel: the module, METADATA, WHEEL and a RECORD
// whose hashes match.
func wheel(t testing.TB, w wheelSpec) []byte {
	t.Helper()
	distInfo := fmt.Sprintf("%s-%s.dist-info", w.dist(), w.version)
	files := []archiveFile{
		{w.dist() + "/__init__.py", w.initPy()},
		{distInfo + "/METADATA", []byte(fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: channelgate test fixture\n\n", w.project, w.version))},
		{distInfo + "/WHEEL", []byte("Wheel-Version: 1.0\nGenerator: channelgate-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")},
	}
	var record strings.Builder
	for _, f := range files {
		sum := sha256.Sum256(f.data)
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.data))
	}
	fmt.Fprintf(&record, "%s/RECORD,,\n", distInfo)
	files = append(files, archiveFile{distInfo + "/RECORD", []byte(record.String())})
	return zipArchive(t, files, zip.Deflate)
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
		rec["timestamp"] = fixtureTime.UnixMilli()
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
