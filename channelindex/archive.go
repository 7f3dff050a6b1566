package channelindex

import (
	"archive/tar"
	"errors"
	"io"
	"path"
	"strings"
)

// This file holds what every archive reader shares: a budget on
// decompressed bytes and the checks every tar member passes.

// errBudget is returned by a budgetReader past its budget.
var errBudget = errors.New("decompressed size over the limit")

// budget counts the bytes decompressed from one package file against
// its limit, across all its streams.
type budget struct{ left int64 }

// budgetReader reads through r, charging every byte to b.
type budgetReader struct {
	r io.Reader
	b *budget
}

func (br budgetReader) Read(p []byte) (int, error) {
	if br.b.left < 0 {
		return 0, errBudget
	}
	n, err := br.r.Read(p)
	if br.b.left -= int64(n); br.b.left < 0 {
		return n, errBudget
	}
	return n, err
}

// member is one metadata member a tar scan collects.
type member struct {
	name string  // path inside the tar, e.g. "info/index.json"
	dst  *[]byte // where its bytes go; nil until found
}

// tarScan reads a whole tar stream, checking every member (safeTarEntry)
// and the entry count, and collects the named metadata members, each
// at most maxBytes. It reads the stream to its end, so damage anywhere
// in it is found.
func tarScan(file string, r io.Reader, want []member, lim Limits, entries *int) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return archiveErr(file, "tar", err)
		}
		if *entries++; *entries > lim.MaxEntries {
			return invalidf(file, "more than %d archive members", lim.MaxEntries)
		}
		if err := safeTarEntry(file, hdr); err != nil {
			return err
		}
		if err := collect(file, hdr, tr, want, lim); err != nil {
			return err
		}
	}
	// What follows the end-of-archive blocks must still decompress.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return archiveErr(file, "tar", err)
	}
	return nil
}

// collect reads hdr's member into the wanted slot it names, if any.
func collect(file string, hdr *tar.Header, r io.Reader, want []member, lim Limits) error {
	name := strings.TrimPrefix(hdr.Name, "./")
	for _, m := range want {
		if m.name != name {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return invalidf(file, "%s is not a regular file", name)
		}
		if *m.dst != nil {
			return invalidf(file, "%s appears twice", name)
		}
		b, err := readMember(file, name, r, lim.MaxMetadataBytes)
		if err != nil {
			return err
		}
		*m.dst = b
	}
	return nil
}

// readMember reads one metadata member whole, refusing more than max
// bytes. The result is never nil.
func readMember(file, name string, r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, archiveErr(file, name, err)
	}
	if int64(len(b)) > max {
		return nil, invalidf(file, "%s is larger than %d bytes", name, max)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// safeTarEntry refuses a member that would write outside the package
// when unpacked, or that is not a file, folder or link: absolute paths,
// ".." segments, links whose target leaves the package, devices and
// FIFOs.
func safeTarEntry(file string, hdr *tar.Header) error {
	if err := safeMemberPath(file, hdr.Name); err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeXGlobalHeader: // Python's tarfile may write a PAX global header
		return nil
	case tar.TypeSymlink:
		target := path.Join(path.Dir(strings.TrimSuffix(hdr.Name, "/")), hdr.Linkname)
		if hdr.Linkname == "" || path.IsAbs(hdr.Linkname) || target == ".." || strings.HasPrefix(target, "../") {
			return invalidf(file, "symlink %s points outside the package", hdr.Name)
		}
		return nil
	case tar.TypeLink:
		if err := safeMemberPath(file, hdr.Linkname); err != nil {
			return invalidf(file, "hard link %s points outside the package", hdr.Name)
		}
		return nil
	}
	return invalidf(file, "member %s has unsupported type %q (only files, folders and links)", hdr.Name, hdr.Typeflag)
}

// safeMemberPath refuses archive paths that are empty, absolute, hold a
// ".." segment, a backslash or a NUL.
func safeMemberPath(file, name string) error {
	switch {
	case name == "" || strings.ContainsAny(name, "\x00\\"):
		return invalidf(file, "member name %q is not a relative path", name)
	case path.IsAbs(name) || len(name) > 1 && name[1] == ':':
		return invalidf(file, "member %s has an absolute path", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			return invalidf(file, "member %s leaves the package (path traversal)", name)
		}
	}
	return nil
}

// archiveErr turns a decoder's error into the one-line refusal.
func archiveErr(file, what string, err error) error {
	switch {
	case errors.Is(err, errBudget):
		return invalidf(file, "decompresses to more than the limit (a compression bomb?)")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidf(file, "%s: truncated", what)
	}
	return invalidf(file, "%s: damaged: %s", what, strings.TrimPrefix(oneLine(err.Error()), what+": "))
}

// oneLine keeps the first line of s, at most 200 bytes.
func oneLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
