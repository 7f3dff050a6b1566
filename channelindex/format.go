package channelindex

import (
	"io"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// Format is the format of a package file, known from its extension.
type Format uint8

const (
	FormatUnknown Format = iota
	FormatConda          // .conda: a zip of metadata.json, pkg-<stem>.tar.zst, info-<stem>.tar.zst
	FormatTarBz2         // .tar.bz2: a bzip2 tar holding info/ and the payload
	FormatWheel          // .whl: a zip with <dist>-<version>.dist-info/METADATA
	FormatSdist          // .tar.gz or .zip: <dist>-<version>/PKG-INFO
)

// formatSpec is one row of the formats table.
type formatSpec struct {
	exts []extSpec
	kind tokenstore.Kind
	// check reads the file and fills what the format knows; the
	// caller has checked the size and hashes the bytes.
	check func(f *packageFile) error
}

// extSpec is one file name extension (lowercase) of a format, with the
// first bytes its files start with and what that content is called.
type extSpec struct{ ext, magic, what string }

// formats is the table of package formats: extension → kind → reader.
var formats = [...]formatSpec{
	FormatUnknown: {},
	FormatConda:   {exts: []extSpec{{".conda", zipMagic, "a zip"}}, kind: tokenstore.Conda, check: checkConda},
	FormatTarBz2:  {exts: []extSpec{{".tar.bz2", "BZh", "bzip2"}}, kind: tokenstore.Conda, check: checkTarBz2},
	FormatWheel:   {exts: []extSpec{{".whl", zipMagic, "a zip"}}, kind: tokenstore.PyPI, check: checkWheel},
	FormatSdist: {exts: []extSpec{{".tar.gz", "\x1f\x8b", "gzip"}, {".zip", zipMagic, "a zip"}},
		kind: tokenstore.PyPI, check: checkSdist},
}

const zipMagic = "PK\x03\x04"

// FormatOf tells a file's format from its name (any case), and the
// name without the extension.
func FormatOf(fileName string) (Format, string) {
	lower := strings.ToLower(fileName)
	for f, spec := range formats {
		for _, e := range spec.exts {
			if strings.HasSuffix(lower, e.ext) {
				return Format(f), fileName[:len(fileName)-len(e.ext)]
			}
		}
	}
	return FormatUnknown, fileName
}

// sniff checks that the file's first bytes are what its extension
// says, so a mislabelled file gets a clear refusal.
func (f Format) sniff(r io.ReaderAt, name string) error {
	lower := strings.ToLower(name)
	for _, e := range formats[f].exts {
		if !strings.HasSuffix(lower, e.ext) {
			continue
		}
		head := make([]byte, len(e.magic))
		if _, err := r.ReadAt(head, 0); err == nil && string(head) == e.magic {
			return nil
		}
		return invalidf(name, "content is not %s as %s files are: damaged, or the wrong extension", e.what, e.ext)
	}
	return nil
}

// Kind is the package kind of the format: conda or pypi ("" if unknown).
func (f Format) Kind() tokenstore.Kind {
	if int(f) >= len(formats) {
		return ""
	}
	return formats[f].kind
}

// packageFile is one file being read: the input, its limits, and what
// the format's reader found.
type packageFile struct {
	name string // base name
	stem string // name without the extension
	r    io.ReaderAt
	size int64
	lim  Limits
	// Filled by the conda readers.
	index, about []byte
	// Filled by the Python readers.
	metadata []byte
}
