package channelindex

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// TestReadPythonDist reads a wheel and both sdist forms.
func TestReadPythonDist(t *testing.T) {
	py := indextest.Python{Project: "Acme_Tools", Version: "1.0.post1", RequiresPython: ">=3.8, <4"}
	sdistZip := indextest.Zip(t, []indextest.File{{Name: "Acme_Tools-1.0.post1/PKG-INFO", Data: py.Metadata()}}, zip.Deflate)
	tests := []struct {
		file   string
		data   []byte
		format Format
	}{
		{py.WheelName(), indextest.Wheel(t, py), FormatWheel},
		{py.SdistName(), indextest.Sdist(t, py), FormatSdist},
		{"Acme_Tools-1.0.post1.zip", sdistZip, FormatSdist},
		{"acme-tools-1.0.post1.tar.gz", indextest.Gzip(t, indextest.Tar(t, []indextest.File{{Name: "acme-tools-1.0.post1/PKG-INFO", Data: py.Metadata()}})), FormatSdist},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d, err := ReadPythonDist(bytes.NewReader(tt.data), int64(len(tt.data)), tt.file, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Project != "acme-tools" || d.Name != "Acme_Tools" || d.Version != "1.0.post1" || d.Format != tt.format ||
				d.RequiresPython != ">=3.8, <4" || !bytes.Equal(d.Metadata, py.Metadata()) || len(d.SHA256) != 64 {
				t.Fatalf("read %+v", d)
			}
		})
	}
}

// TestReadPythonDistRefuses proves bad wheels and sdists are refused
// with a one-line reason.
func TestReadPythonDistRefuses(t *testing.T) {
	py := indextest.Python{Project: "acme", Version: "1.0"}
	whl := indextest.Wheel(t, py)
	meta := indextest.File{Name: "acme-1.0.dist-info/METADATA", Data: py.Metadata()}
	zipOf := func(files ...indextest.File) []byte { return indextest.Zip(t, files, zip.Deflate) }
	sdistOf := func(files ...indextest.File) []byte { return indextest.Gzip(t, indextest.Tar(t, files)) }
	pkgInfo := indextest.File{Name: "acme-1.0/PKG-INFO", Data: py.Metadata()}
	tests := []struct {
		name, file string
		data       []byte
		lim        Limits
		reason     string
	}{
		{"truncated wheel", py.WheelName(), whl[:len(whl)-30], Limits{}, "zip"},
		{"wheel named sdist", py.SdistName(), whl, Limits{}, "wrong extension"},
		{"conda extension", "acme-1.0-0.conda", whl, Limits{}, "not a pypi package file name"},
		{"wheel of another project", "other-1.0-py3-none-any.whl", whl, Limits{}, "does not match the core metadata"},
		{"wheel of another version", "acme-2.0-py3-none-any.whl", whl, Limits{}, "does not match the core metadata"},
		{"wheel name shape", "acme-1.0.whl", whl, Limits{}, "a wheel is named"},
		{"no METADATA", py.WheelName(), zipOf(indextest.File{Name: "acme/__init__.py"}), Limits{}, "holds no"},
		{"two METADATA", py.WheelName(), zipOf(meta, indextest.File{Name: "x-1.dist-info/METADATA", Data: py.Metadata()}), Limits{}, "more than one"},
		{"zip traversal", py.WheelName(), zipOf(meta, indextest.File{Name: "../../evil.py", Data: []byte("x")}), Limits{}, "path traversal"},
		{"zip absolute", py.WheelName(), zipOf(meta, indextest.File{Name: "/etc/evil", Data: []byte("x")}), Limits{}, "absolute"},
		{"zip bomb", py.WheelName(), zipOf(meta, indextest.File{Name: "zeros", Data: make([]byte, 16<<20)}), Limits{}, "bomb"},
		{"zip entries", py.WheelName(), whl, Limits{MaxEntries: 2}, "more than 2 archive members"},
		{"metadata without name", py.WheelName(), zipOf(indextest.File{Name: meta.Name, Data: []byte("Metadata-Version: 2.1\nVersion: 1.0\n\n")}), Limits{}, "lacks"},
		{"metadata not text", py.WheelName(), zipOf(indextest.File{Name: meta.Name, Data: append(py.Metadata(), 0)}), Limits{}, "not text"},
		{"sdist without PKG-INFO", py.SdistName(), sdistOf(indextest.File{Name: "acme-1.0/setup.py"}), Limits{}, "holds no acme-1.0/PKG-INFO"},
		{"sdist PKG-INFO symlink", py.SdistName(), sdistOf(indextest.File{Name: "acme-1.0/PKG-INFO", Type: tar.TypeSymlink, Link: "setup.py"}), Limits{}, "not a regular file"},
		{"sdist symlink out", py.SdistName(), sdistOf(pkgInfo, indextest.File{Name: "acme-1.0/x", Type: tar.TypeSymlink, Link: "../../../etc/passwd"}), Limits{}, "points outside"},
		{"sdist traversal", py.SdistName(), sdistOf(pkgInfo, indextest.File{Name: "acme-1.0/../../x", Data: []byte("x")}), Limits{}, "path traversal"},
		{"sdist fifo", py.SdistName(), sdistOf(pkgInfo, indextest.File{Name: "acme-1.0/fifo", Type: tar.TypeFifo}), Limits{}, "unsupported type"},
		{"sdist bomb", py.SdistName(), sdistOf(pkgInfo, indextest.File{Name: "acme-1.0/zeros", Data: make([]byte, 16<<20)}), Limits{}, "bomb"},
		{"sdist truncated", py.SdistName(), indextest.Sdist(t, py)[:60], Limits{}, ""},
		{"sdist of another version", "acme-1.1.tar.gz", sdistOf(indextest.File{Name: "acme-1.1/PKG-INFO", Data: py.Metadata()}), Limits{}, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ReadPythonDist(bytes.NewReader(tt.data), int64(len(tt.data)), tt.file, tt.lim)
			var ie *InvalidPackageError
			if d != nil || !errors.As(err, &ie) {
				t.Fatalf("got %v, %v; want an InvalidPackageError", d, err)
			}
			t.Log(err)
			if !strings.Contains(ie.Reason, tt.reason) || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("reason %q; want one line containing %q", err, tt.reason)
			}
		})
	}
}
