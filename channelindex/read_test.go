package channelindex

import (
	"archive/tar"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// TestReadCondaPackage reads good packages of both formats.
func TestReadCondaPackage(t *testing.T) {
	for _, format := range []string{".conda", ".tar.bz2"} {
		t.Run(format, func(t *testing.T) {
			c := indextest.Conda{Name: "Acme-Tool", Version: "1.2.3", Build: "py_0", Subdir: "linux-64", Format: format,
				Depends: []string{"python >=3.8"}, Index: map[string]any{"timestamp": 1700000000000, "arch": "x86_64"},
				About: map[string]any{"summary": "A tool", "home": "https://example.org"}}
			b := indextest.CondaPackage(t, c)
			p, err := ReadCondaPackage(bytes.NewReader(b), int64(len(b)), c.FileName(), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != "Acme-Tool" || p.Version != "1.2.3" || p.Build != "py_0" || p.Subdir != "linux-64" ||
				p.Timestamp != 1700000000000 || p.Summary != "A tool" || p.License != "MIT" || p.Size != int64(len(b)) ||
				len(p.SHA256) != 64 || len(p.MD5) != 32 || len(p.Depends) != 1 {
				t.Fatalf("read %+v", p)
			}
		})
	}
}

// hostileConda builds .conda files whose info tar holds the given
// members.
func hostileConda(t *testing.T, info ...indextest.File) []byte {
	c := indextest.Conda{Name: "x", Version: "1", Build: "0"}
	return indextest.CondaZip(t, "x-1-0", append(c.InfoFiles(), info...), nil)
}

// TestReadCondaPackageRefuses proves every kind of bad file is refused
// with a one-line reason that says why.
func TestReadCondaPackageRefuses(t *testing.T) {
	good := indextest.Conda{Name: "x", Version: "1", Build: "0"}
	goodConda := indextest.CondaPackage(t, good)
	bz2 := good
	bz2.Format = ".tar.bz2"
	goodBz2 := indextest.CondaPackage(t, bz2)
	tests := []struct {
		name, file string
		data       []byte
		lim        Limits
		reason     string
	}{
		{"truncated conda", "x-1-0.conda", goodConda[:len(goodConda)-100], Limits{}, "zip"},
		{"truncated tar.bz2", "x-1-0.tar.bz2", goodBz2[:len(goodBz2)/2], Limits{}, ""},
		{"garbage", "x-1-0.conda", []byte("not a package at all"), Limits{}, "wrong extension"},
		{"tar.bz2 named .conda", "x-1-0.conda", goodBz2, Limits{}, "wrong extension"},
		{"conda named .tar.bz2", "x-1-0.tar.bz2", goodConda, Limits{}, "wrong extension"},
		{"wrong name", "y-1-0.conda", goodConda, Limits{}, "does not match"},
		{"wrong version", "x-2-0.conda", goodConda, Limits{}, "does not match"},
		{"index.json names another", "y-1-0.conda", indextest.CondaZip(t, "y-1-0", good.InfoFiles(), nil), Limits{}, "does not match info/index.json"},
		{"tar.bz2 wrong build", "x-1-1.tar.bz2", goodBz2, Limits{}, "does not match info/index.json"},
		{"wrong extension", "x-1-0.whl", goodConda, Limits{}, "not a conda package file name"},
		{"sdist named .conda", "x-1-0.conda", indextest.Sdist(t, indextest.Python{Project: "x", Version: "1"}), Limits{}, "wrong extension"},
		{"path in name", "../x-1-0.conda", goodConda, Limits{}, "not a plain file name"},
		{"too large", "x-1-0.conda", goodConda, Limits{MaxPackageBytes: 100}, "larger than"},
		{"traversal", "x-1-0.conda", hostileConda(t, indextest.File{Name: "../../etc/passwd", Data: []byte("x")}), Limits{}, "path traversal"},
		{"absolute", "x-1-0.conda", hostileConda(t, indextest.File{Name: "/etc/passwd", Data: []byte("x")}), Limits{}, "absolute"},
		{"symlink out", "x-1-0.conda", hostileConda(t, indextest.File{Name: "info/link", Type: tar.TypeSymlink, Link: "../../../etc/passwd"}), Limits{}, "points outside"},
		{"absolute symlink", "x-1-0.conda", hostileConda(t, indextest.File{Name: "info/link", Type: tar.TypeSymlink, Link: "/etc/passwd"}), Limits{}, "points outside"},
		{"hard link out", "x-1-0.conda", hostileConda(t, indextest.File{Name: "info/link", Type: tar.TypeLink, Link: "../x"}), Limits{}, "points outside"},
		{"device", "x-1-0.conda", hostileConda(t, indextest.File{Name: "info/dev", Type: tar.TypeChar}), Limits{}, "unsupported type"},
		{"index.json a symlink", "x-1-0.conda", indextest.CondaZip(t, "x-1-0",
			[]indextest.File{{Name: "info/index.json", Type: tar.TypeSymlink, Link: "about.json"}}, nil), Limits{}, "not a regular file"},
		{"no index.json", "x-1-0.conda", indextest.CondaZip(t, "x-1-0", nil, nil), Limits{}, "no info/index.json"},
		{"index.json twice", "x-1-0.conda", hostileConda(t, indextest.File{Name: "info/index.json", Data: good.IndexJSON()}), Limits{}, "twice"},
		{"index.json not JSON", "x-1-0.conda", indextest.CondaZip(t, "x-1-0", []indextest.File{{Name: "info/index.json", Data: []byte("{")}}, nil), Limits{}, "invalid JSON"},
		{"index.json lacks build", "x-1-0.conda", indextest.CondaZip(t, "x-1-0", []indextest.File{{Name: "info/index.json", Data: []byte(`{"name":"x","version":"1","subdir":"noarch"}`)}}, nil), Limits{}, "lacks"},
		{"bad subdir", "x-1-0.conda", indextest.CondaPackage(t, indextest.Conda{Name: "x", Version: "1", Build: "0", Subdir: "../etc"}), Limits{}, "subdir"},
		{"stem mismatch in members", "x-1-0.conda", indextest.CondaZip(t, "x-1-1", good.InfoFiles(), nil), Limits{}, "does not match the file name"},
		{"bomb", "x-1-0.conda", hostileConda(t, indextest.File{Name: "info/zeros", Data: make([]byte, 8<<20)}), Limits{MaxRatio: 2}, "bomb"},
		{"tar.bz2 bomb", "x-1-0.tar.bz2", indextest.Bzip2(t, indextest.Tar(t, append(good.InfoFiles(), indextest.File{Name: "zeros", Data: make([]byte, 8<<20)}))), Limits{MaxUnpackedBytes: 1 << 20}, "bomb"},
		{"too many entries", "x-1-0.conda", goodConda, Limits{MaxEntries: 1}, "more than 1 archive members"},
		{"metadata too large", "x-1-0.conda", goodConda, Limits{MaxMetadataBytes: 10}, "larger than 10 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ReadCondaPackage(bytes.NewReader(tt.data), int64(len(tt.data)), tt.file, tt.lim)
			var ie *InvalidPackageError
			if p != nil || !errors.As(err, &ie) || !errors.Is(err, ErrInvalidPackage) {
				t.Fatalf("got %v, %v; want an InvalidPackageError", p, err)
			}
			t.Log(err)
			if !strings.Contains(ie.Reason, tt.reason) || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("reason %q; want one line containing %q", err, tt.reason)
			}
		})
	}
}
