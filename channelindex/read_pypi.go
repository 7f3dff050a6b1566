package channelindex

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// PythonDist is what a Python distribution (a wheel or an sdist) says
// about itself, checked.
type PythonDist struct {
	File           string // base name
	Format         Format // FormatWheel or FormatSdist
	Project        string // the name normalized per PEP 503: the simple/<project>/ folder
	Name           string // as the core metadata spells it
	Version        string
	RequiresPython string // Requires-Python, "" if none
	Summary        string
	// Metadata is the core metadata file (a wheel's METADATA, an sdist's
	// PKG-INFO); a wheel's is served beside it as <file>.metadata (PEP 658).
	Metadata []byte

	Size        int64
	MD5, SHA256 string // lowercase hex of the whole file
}

// ReadPythonDist reads and checks a whole Python distribution of size
// bytes named fileName (a base name): a wheel
// (<dist>-<version>[-<build>]-<py>-<abi>-<platform>.whl, with exactly one
// <dist>-<version>.dist-info/METADATA) or an sdist (<dist>-<version>.tar.gz
// or .zip, with <dist>-<version>/PKG-INFO). Every member is decompressed
// and checked (no absolute paths, no "..", no links out of it, no
// devices), and the core metadata's Name and Version must match the file
// name. A file that fails is refused with an *InvalidPackageError.
// Zero lim fields take their defaults.
func ReadPythonDist(r io.ReaderAt, size int64, fileName string, lim Limits) (*PythonDist, error) {
	f, hashes, err := readPackage(r, size, fileName, lim, tokenstore.PyPI)
	if err != nil {
		return nil, err
	}
	d := &PythonDist{File: fileName, Format: hashes.format, Size: size, MD5: hashes.md5, SHA256: hashes.sha256, Metadata: f.metadata}
	if err := d.parseMetadata(f.stem); err != nil {
		return nil, err
	}
	return d, nil
}

// parseMetadata fills d from its core metadata and checks it against
// the file name's stem.
func (d *PythonDist) parseMetadata(stem string) error {
	h := parseCoreMetadata(d.Metadata)
	d.Name, d.Version, d.RequiresPython, d.Summary = h["name"], h["version"], h["requires-python"], h["summary"]
	if h["metadata-version"] == "" || d.Name == "" || d.Version == "" {
		return invalidf(d.File, "core metadata lacks Metadata-Version, Name or Version")
	}
	if err := tokenstore.ValidatePackageName(d.Name); err != nil {
		return invalidf(d.File, "core metadata: %s", err)
	}
	d.Project = tokenstore.NormalizeName(tokenstore.PyPI, d.Name)
	name, version := stem, ""
	if d.Format == FormatWheel {
		parts := strings.Split(stem, "-")
		if len(parts) != 5 && len(parts) != 6 {
			return invalidf(d.File, "a wheel is named <dist>-<version>[-<build>]-<python>-<abi>-<platform>.whl")
		}
		name, version = parts[0], parts[1]
	} else if i := strings.LastIndexByte(stem, '-'); i > 0 {
		name, version = stem[:i], stem[i+1:]
	}
	if tokenstore.NormalizeName(tokenstore.PyPI, name) != d.Project || !sameVersion(version, d.Version) {
		return invalidf(d.File, "file name does not match the core metadata, which says %s %s", d.Name, d.Version)
	}
	return nil
}

// sameVersion compares a file name's version with the metadata's, as
// file names escape them: case-insensitive, '-' written '_'.
func sameVersion(inName, inMetadata string) bool {
	return inName != "" && strings.EqualFold(inName, strings.ReplaceAll(inMetadata, "-", "_"))
}

// parseCoreMetadata reads the header fields of core metadata (RFC 822
// style, up to the first empty line) into lowercase keys; the first
// value of a repeated field wins, continuation lines are joined.
func parseCoreMetadata(b []byte) map[string]string {
	h := map[string]string{}
	last := ""
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last != "" {
				h[last] += " " + strings.TrimSpace(line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			last = ""
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := h[k]; dup {
			last = ""
			continue
		}
		h[k], last = strings.TrimSpace(v), k
	}
	return h
}

// checkWheel reads a wheel: every zip member, and the one
// <dist>-<version>.dist-info/METADATA.
func checkWheel(f *packageFile) error {
	return f.zipScan(func(name string) bool {
		dir, base := path.Split(name)
		return base == "METADATA" && strings.Count(dir, "/") == 1 && strings.HasSuffix(dir, ".dist-info/")
	}, "<dist>-<version>.dist-info/METADATA")
}

// checkSdist reads an sdist: a .tar.gz or .zip whose PKG-INFO sits in
// its one top folder.
func checkSdist(f *packageFile) error {
	pkgInfo := f.stem + "/PKG-INFO"
	if strings.HasSuffix(strings.ToLower(f.name), ".zip") {
		return f.zipScan(func(name string) bool { return name == pkgInfo }, pkgInfo)
	}
	b := &budget{left: f.lim.unpackBudget(f.size)}
	zr, err := gzip.NewReader(io.NewSectionReader(f.r, 0, f.size))
	if err != nil {
		return archiveErr(f.name, "gzip", err)
	}
	entries := 0
	if err := tarScan(f.name, budgetReader{r: zr, b: b}, []member{{pkgInfo, &f.metadata}}, f.lim, &entries); err != nil {
		return err
	}
	if f.metadata == nil {
		return invalidf(f.name, "holds no %s", pkgInfo)
	}
	return nil
}

// zipScan reads every member of a zip, checking paths, types and the
// budget, and keeps the one member isMetadata accepts.
func (f *packageFile) zipScan(isMetadata func(string) bool, want string) error {
	z, err := zip.NewReader(f.r, f.size)
	if err != nil {
		return archiveErr(f.name, "zip", err)
	}
	if len(z.File) > f.lim.MaxEntries {
		return invalidf(f.name, "more than %d archive members", f.lim.MaxEntries)
	}
	b := &budget{left: f.lim.unpackBudget(f.size)}
	for _, zf := range z.File {
		if err := f.zipMember(zf, b, isMetadata); err != nil {
			return err
		}
	}
	if f.metadata == nil {
		return invalidf(f.name, "holds no %s", want)
	}
	return nil
}

// zipMember checks one zip member and reads it to its end (the CRC is
// checked there), keeping it if it is the metadata.
func (f *packageFile) zipMember(zf *zip.File, b *budget, isMetadata func(string) bool) error {
	if err := safeMemberPath(f.name, zf.Name); err != nil {
		return err
	}
	if mode := zf.Mode(); mode&(fs.ModeSymlink|fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeCharDevice) != 0 {
		return invalidf(f.name, "member %s is not a regular file", zf.Name)
	}
	rc, err := zf.Open()
	if err != nil {
		return archiveErr(f.name, zf.Name, err)
	}
	defer rc.Close()
	r := budgetReader{r: rc, b: b}
	if !isMetadata(zf.Name) {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return archiveErr(f.name, zf.Name, err)
		}
		return nil
	}
	if f.metadata != nil {
		return invalidf(f.name, "more than one core metadata file (%s)", zf.Name)
	}
	m, err := readMember(f.name, zf.Name, r, f.lim.MaxMetadataBytes)
	if err == nil && bytes.IndexByte(m, 0) >= 0 {
		err = invalidf(f.name, "%s is not text", zf.Name)
	}
	f.metadata = m
	return err
}
