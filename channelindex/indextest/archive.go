// Package indextest builds real package files (.conda, .tar.bz2,
// wheels, sdists) and indexes for tests, byte for byte the same on every
// run, so readers and clients check the real formats. Every builder
// takes the test's testing.TB and fails it on error.
package indextest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"os/exec"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Time is the modification time of every archive member.
var Time = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// File is one member of a tar or zip archive. Type and Link make
// hostile members (symlinks, hard links, devices) for tar; zero Type is
// a regular file.
type File struct {
	Name string
	Data []byte
	Type byte   // tar.TypeReg when zero
	Link string // the target of a link
}

// Payload returns n incompressible bytes derived from seed (a SHA-256
// chain), so packages are larger than one 10 KiB range read.
func Payload(seed string, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	sum := sha256.Sum256([]byte(seed))
	for len(out) < n {
		out = append(out, sum[:]...)
		sum = sha256.Sum256(sum[:])
	}
	return out[:n]
}

// Tar writes files in order as a PAX tar.
func Tar(t testing.TB, files []File) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.Name, Mode: 0o644, Size: int64(len(f.Data)), ModTime: Time,
			Typeflag: f.Type, Linkname: f.Link, Uname: "root", Gname: "root", Format: tar.FormatPAX}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Typeflag != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write(f.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Zip writes files in order: stored (zip.Store) entries as in .conda
// files, deflated (zip.Deflate) ones as in wheels.
func Zip(t testing.TB, files []File, method uint16) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: method, Modified: Time})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Zstd compresses b into one zstd frame.
func Zstd(t testing.TB, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// Unzstd decompresses a zstd stream, failing the test if it is not one.
func Unzstd(t testing.TB, b []byte) []byte {
	t.Helper()
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	out, err := dec.DecodeAll(b, nil)
	if err != nil {
		t.Fatalf("not zstd: %v", err)
	}
	return out
}

// Gzip compresses b as an sdist's .tar.gz is.
func Gzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.ModTime = Time
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Bzip2 runs /usr/bin/bzip2 (Go's standard library only reads bzip2);
// conda's .tar.bz2 needs it. .ci/run installs it.
func Bzip2(t testing.TB, b []byte) []byte {
	t.Helper()
	cmd := exec.Command("/usr/bin/bzip2", "-c", "-9")
	cmd.Stdin = bytes.NewReader(b)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("/usr/bin/bzip2 is needed to build .tar.bz2 fixtures (install it with: bash .ci/run): %v %s", err, errb.String())
	}
	return out.Bytes()
}
