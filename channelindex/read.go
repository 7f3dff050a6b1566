package channelindex

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// fileHashes is what reading a file whole gives besides its metadata.
type fileHashes struct {
	format      Format
	md5, sha256 string
}

var errNotObject = errors.New("not a JSON object")

// readPackage checks the name, kind and size of a package file, hashes
// it and runs its format's reader.
func readPackage(r io.ReaderAt, size int64, fileName string, lim Limits, kind tokenstore.Kind) (*packageFile, fileHashes, error) {
	lim = lim.withDefaults()
	format, stem := FormatOf(fileName)
	var h fileHashes
	switch {
	case fileName == "" || strings.ContainsAny(fileName, "/\\\x00") || strings.HasPrefix(fileName, "."):
		return nil, h, invalidf(fileName, "not a plain file name")
	case format.Kind() != kind:
		return nil, h, invalidf(fileName, "not a %s package file name (%s)", kind, extsOf(kind))
	case size > lim.MaxPackageBytes:
		return nil, h, invalidf(fileName, "larger than %d bytes", lim.MaxPackageBytes)
	case size <= 0:
		return nil, h, invalidf(fileName, "empty file")
	}
	if err := format.sniff(r, fileName); err != nil {
		return nil, h, err
	}
	md, sh := md5.New(), sha256.New()
	n, err := io.Copy(io.MultiWriter(md, sh), io.NewSectionReader(r, 0, size))
	if err != nil || n != size {
		return nil, h, invalidf(fileName, "truncated: read %d of %d bytes", n, size)
	}
	h = fileHashes{format: format, md5: hex.EncodeToString(md.Sum(nil)), sha256: hex.EncodeToString(sh.Sum(nil))}
	f := &packageFile{name: fileName, stem: stem, r: r, size: size, lim: lim}
	if err := formats[format].check(f); err != nil {
		return nil, h, err
	}
	if f.about == nil {
		f.about = []byte("{}")
	}
	return f, h, nil
}

// extsOf lists the extensions of one kind's formats.
func extsOf(kind tokenstore.Kind) string {
	var exts []string
	for _, spec := range formats {
		if spec.kind == kind {
			for _, e := range spec.exts {
				exts = append(exts, e.ext)
			}
		}
	}
	return strings.Join(exts, ", ")
}

// jsonReason shortens a decoding error to one line without offsets.
func jsonReason(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return errors.New("invalid JSON: " + oneLine(se.Error()))
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return errors.New(te.Field + " has the wrong type")
	}
	return errors.New(oneLine(err.Error()))
}
