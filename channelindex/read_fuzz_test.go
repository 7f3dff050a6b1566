package channelindex

import (
	"archive/tar"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// fuzzLimits keep each fuzz input cheap.
var fuzzLimits = Limits{MaxUnpackedBytes: 4 << 20, MaxEntries: 1000, MaxMetadataBytes: 64 << 10}

// checkRefusal fails the test unless err is a one-line
// InvalidPackageError.
func checkRefusal(t *testing.T, err error) {
	var ie *InvalidPackageError
	if !errors.As(err, &ie) || strings.ContainsAny(err.Error(), "\r\n") {
		t.Fatalf("refusal %q is not a one-line InvalidPackageError", err)
	}
}

// fuzzConda is the body of the conda fuzz targets: no panic, a refusal
// is a one-line InvalidPackageError, and what is accepted names the
// file it was read from.
func fuzzConda(f *testing.F, file string, seeds [][]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := ReadCondaPackage(bytes.NewReader(in), int64(len(in)), file, fuzzLimits)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if p.Name+"-"+p.Version+"-"+p.Build+strings.TrimPrefix(file, "x-1-0") != file || ValidateSubdir(p.Subdir) != nil {
			t.Fatalf("accepted %s as %+v", file, p)
		}
		if _, err := p.Record(); err != nil {
			t.Fatalf("accepted package has no record: %v", err)
		}
	})
}

func condaSeeds(t testing.TB, format string) [][]byte {
	c := indextest.Conda{Name: "x", Version: "1", Build: "0", Format: format}
	info := c.InfoFiles()
	evil := []indextest.File{{Name: "../x", Data: []byte("x")}, {Name: "l", Type: tar.TypeSymlink, Link: "/etc"}}
	if format == ".tar.bz2" {
		return [][]byte{indextest.CondaPackage(t, c), indextest.Bzip2(t, indextest.Tar(t, append(info, evil...))),
			indextest.Bzip2(t, indextest.Tar(t, nil)), []byte("BZh9")}
	}
	return [][]byte{indextest.CondaPackage(t, c), indextest.CondaZip(t, "x-1-0", append(info, evil...), nil),
		indextest.CondaZip(t, "x-1-0", nil, nil), []byte(zipMagic)}
}

func FuzzReadConda(f *testing.F)  { fuzzConda(f, "x-1-0.conda", condaSeeds(f, ".conda")) }
func FuzzReadTarBz2(f *testing.F) { fuzzConda(f, "x-1-0.tar.bz2", condaSeeds(f, ".tar.bz2")) }

// fuzzPython is the body of the Python fuzz targets.
func fuzzPython(f *testing.F, file string, seeds [][]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := ReadPythonDist(bytes.NewReader(in), int64(len(in)), file, fuzzLimits)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if d.Project != "acme" || d.Version == "" || d.Metadata == nil {
			t.Fatalf("accepted %s as %+v", file, d)
		}
	})
}

var fuzzPy = indextest.Python{Project: "acme", Version: "1.0", RequiresPython: ">=3"}

func FuzzReadWheel(f *testing.F) {
	meta := indextest.File{Name: "acme-1.0.dist-info/METADATA", Data: fuzzPy.Metadata()}
	fuzzPython(f, fuzzPy.WheelName(), [][]byte{indextest.Wheel(f, fuzzPy),
		indextest.Zip(f, []indextest.File{meta, {Name: "../evil", Data: []byte("x")}}, 8), []byte(zipMagic)})
}

func FuzzReadSdist(f *testing.F) {
	pkgInfo := indextest.File{Name: "acme-1.0/PKG-INFO", Data: fuzzPy.Metadata()}
	fuzzPython(f, fuzzPy.SdistName(), [][]byte{indextest.Sdist(f, fuzzPy),
		indextest.Gzip(f, indextest.Tar(f, []indextest.File{pkgInfo, {Name: "acme-1.0/l", Type: tar.TypeSymlink, Link: "../../x"}})),
		{0x1f, 0x8b}})
}

// FuzzParseRepodata reads stored repodata as an update does: no panic,
// and what it accepts renders back to valid JSON listing the same files.
func FuzzParseRepodata(f *testing.F) {
	for _, s := range []string{sampleRepodata, `{}`, `{"packages":{"a-1-0.tar.bz2":{}},"packages.conda":{"b-1-0.conda":{"x":1}}}`,
		`{"packages":[]}`, `{"info":{"subdir":"noarch"},"removed":[]} x`, `{"packages.conda":{"\u0061-1-0.conda":{}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		st, err := parseRepodata(in, "noarch")
		if err != nil {
			return
		}
		out := st.render(nil)
		again, err := parseRepodata(out, "noarch")
		if err != nil {
			t.Fatalf("rendered %q does not parse: %v", out, err)
		}
		if a, b := strings.Join(st.files(), "\x00"), strings.Join(again.files(), "\x00"); a != b {
			t.Fatalf("files changed from %q to %q", a, b)
		}
		_ = st.renderCurrent()
	})
}
