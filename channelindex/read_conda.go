package channelindex

import (
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"encoding/json"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/channelgate/channelgate/tokenstore"
)

// maxZstdWindow bounds the memory one zstd stream may ask for. conda
// packages are compressed with windows of 8 MiB (level 19) and up to
// 128 MiB (level 22 --long).
const maxZstdWindow = 128 << 20

// CondaPackage is what a conda package file says about itself, checked.
type CondaPackage struct {
	File        string // base name, "<name>-<version>-<build>.conda" or ".tar.bz2"
	Format      Format // FormatConda or FormatTarBz2
	Subdir      string // from info/index.json, e.g. "noarch", "linux-64"
	Name        string // as info/index.json spells it
	Version     string
	Build       string
	BuildNumber int64
	Depends     []string
	Timestamp   int64  // info/index.json's (often milliseconds), 0 if none
	License     string // info/index.json's, else info/about.json's
	Summary     string // info/about.json's

	// IndexJSON is info/index.json as the file holds it (a JSON object);
	// AboutJSON info/about.json ("{}" when the package has none).
	IndexJSON, AboutJSON json.RawMessage

	Size        int64
	MD5, SHA256 string // lowercase hex of the whole file
}

// condaIndex is the part of info/index.json this package reads.
type condaIndex struct {
	Name        *string  `json:"name"`
	Version     *string  `json:"version"`
	Build       *string  `json:"build"`
	BuildNumber *int64   `json:"build_number"`
	Subdir      *string  `json:"subdir"`
	Depends     []string `json:"depends"`
	Timestamp   int64    `json:"timestamp"`
	License     string   `json:"license"`
}

// ReadCondaPackage reads and checks a whole conda package file of size
// bytes named fileName (a base name): a .conda (a zip of metadata.json,
// info-<stem>.tar.zst and pkg-<stem>.tar.zst) or a .tar.bz2. Every
// archive stream is decompressed to its end, every member checked
// (no absolute paths, no "..", no links out of the package, no devices),
// and info/index.json must name the package the file name does. A file
// that fails is refused with an *InvalidPackageError. Zero lim fields
// take their defaults.
func ReadCondaPackage(r io.ReaderAt, size int64, fileName string, lim Limits) (*CondaPackage, error) {
	f, hashes, err := readPackage(r, size, fileName, lim, tokenstore.Conda)
	if err != nil {
		return nil, err
	}
	p := &CondaPackage{File: fileName, Format: hashes.format, Size: size, MD5: hashes.md5, SHA256: hashes.sha256,
		IndexJSON: f.index, AboutJSON: f.about}
	if err := p.parseIndex(f.stem); err != nil {
		return nil, err
	}
	return p, nil
}

// parseIndex fills p from its index.json and about.json and checks them
// against the file name's stem.
func (p *CondaPackage) parseIndex(stem string) error {
	var idx condaIndex
	if err := decodeObject(p.IndexJSON, &idx); err != nil {
		return invalidf(p.File, "info/index.json: %s", err)
	}
	if idx.Name == nil || idx.Version == nil || idx.Build == nil || idx.Subdir == nil {
		return invalidf(p.File, "info/index.json lacks name, version, build or subdir")
	}
	p.Name, p.Version, p.Build, p.Subdir = *idx.Name, *idx.Version, *idx.Build, *idx.Subdir
	if idx.BuildNumber != nil {
		p.BuildNumber = *idx.BuildNumber
	}
	p.Depends, p.Timestamp, p.License = idx.Depends, idx.Timestamp, idx.License
	if err := tokenstore.ValidatePackageName(p.Name); err != nil {
		return invalidf(p.File, "info/index.json: %s", err)
	}
	if err := ValidateSubdir(p.Subdir); err != nil {
		return invalidf(p.File, "info/index.json: %s", err)
	}
	if want := p.Name + "-" + p.Version + "-" + p.Build; stem != want {
		return invalidf(p.File, "file name does not match info/index.json, which names %s", want)
	}
	var about struct {
		Summary string `json:"summary"`
		License string `json:"license"`
	}
	if err := decodeObject(p.AboutJSON, &about); err != nil {
		return invalidf(p.File, "info/about.json: %s", err)
	}
	p.Summary = about.Summary
	if p.License == "" {
		p.License = about.License
	}
	return nil
}

// decodeObject decodes a JSON object into v, with one-line errors.
func decodeObject(b []byte, v any) error {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return errNotObject
	}
	if err := json.Unmarshal(b, v); err != nil {
		return jsonReason(err)
	}
	return nil
}

// checkConda reads a .conda: exactly metadata.json (format version 2),
// info-<stem>.tar.zst and pkg-<stem>.tar.zst.
func checkConda(f *packageFile) error {
	z, err := zip.NewReader(f.r, f.size)
	if err != nil {
		return archiveErr(f.name, "zip", err)
	}
	if len(z.File) != 3 {
		return invalidf(f.name, "a .conda holds metadata.json, info-%s.tar.zst and pkg-%s.tar.zst, not %d members", f.stem, f.stem, len(z.File))
	}
	b := &budget{left: f.lim.unpackBudget(f.size)}
	entries := 0
	seen := map[string]bool{}
	for _, zf := range z.File {
		if seen[zf.Name] {
			return invalidf(f.name, "member %s appears twice", zf.Name)
		}
		seen[zf.Name] = true
		if err := f.condaMember(zf, b, &entries); err != nil {
			return err
		}
	}
	if f.index == nil {
		return invalidf(f.name, "info-%s.tar.zst holds no info/index.json", f.stem)
	}
	return nil
}

// condaMember checks one member of a .conda.
func (f *packageFile) condaMember(zf *zip.File, b *budget, entries *int) error {
	rc, err := zf.Open()
	if err != nil {
		return archiveErr(f.name, zf.Name, err)
	}
	defer rc.Close()
	r := budgetReader{r: rc, b: b}
	switch zf.Name {
	case "metadata.json":
		meta, err := readMember(f.name, zf.Name, r, f.lim.MaxMetadataBytes)
		if err != nil {
			return err
		}
		var v struct {
			Version int `json:"conda_pkg_format_version"`
		}
		if decodeObject(meta, &v) != nil || v.Version != 2 {
			return invalidf(f.name, `metadata.json must say {"conda_pkg_format_version": 2}`)
		}
		return nil
	case "info-" + f.stem + ".tar.zst":
		return f.zstdTar(zf.Name, r, b, entries, []member{{"info/index.json", &f.index}, {"info/about.json", &f.about}})
	case "pkg-" + f.stem + ".tar.zst":
		return f.zstdTar(zf.Name, r, b, entries, nil)
	}
	if strings.HasPrefix(zf.Name, "info-") || strings.HasPrefix(zf.Name, "pkg-") {
		return invalidf(f.name, "member %s does not match the file name (mislabelled?)", zf.Name)
	}
	return invalidf(f.name, "unexpected member %s", zf.Name)
}

// zstdTar scans one zstd-compressed tar member.
func (f *packageFile) zstdTar(what string, r io.Reader, b *budget, entries *int, want []member) error {
	dec, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow),
		zstd.WithDecoderLowmem(true))
	if err != nil {
		return archiveErr(f.name, what, err)
	}
	defer dec.Close()
	return prefixed(what, tarScan(f.name, budgetReader{r: dec, b: b}, want, f.lim, entries))
}

// checkTarBz2 reads a .tar.bz2: one bzip2 tar holding info/index.json.
func checkTarBz2(f *packageFile) error {
	b := &budget{left: f.lim.unpackBudget(f.size)}
	entries := 0
	zr := bzip2.NewReader(io.NewSectionReader(f.r, 0, f.size))
	if err := tarScan(f.name, budgetReader{r: zr, b: b}, []member{{"info/index.json", &f.index}, {"info/about.json", &f.about}}, f.lim, &entries); err != nil {
		return err
	}
	if f.index == nil {
		return invalidf(f.name, "holds no info/index.json")
	}
	return nil
}

// prefixed puts "what: " before the reason of a refusal about one
// member stream.
func prefixed(what string, err error) error {
	if e, ok := err.(*InvalidPackageError); ok && !strings.HasPrefix(e.Reason, what) {
		e.Reason = what + ": " + e.Reason
	}
	return err
}
