package channelindex

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// FilterRepodata returns the conda repodata.json (or
// current_repodata.json) src without the packages visible rejects:
// entries of "packages" and "packages.conda" and names in "removed".
// A file's package is read from its name, "<name>-<version>-<build>"
// plus ".tar.bz2" or ".conda", as conda-index writes it; record bodies
// are checked for syntax but never decoded, and kept records and every
// other top-level member are copied byte for byte. A file name not of
// that form is an error rather than a guess.
func FilterRepodata(src []byte, visible func(string) bool) ([]byte, error) {
	names := newNameFilter(tokenstore.Conda, visible)
	record := func(w *jsonWalker, _ int) (bool, error) {
		return names.allowsFile(w.b[w.key:w.keyEnd], w.keyEsc, w.key)
	}
	removed := func(w *jsonWalker, end int) (bool, error) {
		if w.b[w.val] != '"' {
			return false, jsonErr(w.val, `"removed" must hold file names`)
		}
		return names.allowsFile(w.b[w.val:end], bytes.IndexByte(w.b[w.val:end], '\\') >= 0, w.val)
	}
	return jsonFilterRoot(src, []jsonField{
		{name: "packages", keep: record},
		{name: "packages.conda", keep: record},
		{name: "removed", array: true, keep: removed},
	})
}

// FilterChanneldata returns the conda channeldata.json src without the
// members of "packages" (keyed by package name) that visible rejects.
// "subdirs" and everything else are kept byte for byte.
func FilterChanneldata(src []byte, visible func(string) bool) ([]byte, error) {
	names := newNameFilter(tokenstore.Conda, visible)
	return jsonFilterRoot(src, []jsonField{{name: "packages", keep: func(w *jsonWalker, _ int) (bool, error) {
		name, ok := w.keyText()
		if !ok {
			return false, jsonErr(w.key, "invalid key")
		}
		return names.allows(name), nil
	}}})
}

// allowsFile reports whether the package of the conda file named by the
// JSON string literal q (found at offset off) is visible.
func (f *nameFilter) allowsFile(q []byte, escaped bool, off int) (bool, error) {
	file, ok := jsonStringContent(q, escaped)
	if !ok {
		return false, jsonErr(off, "invalid file name")
	}
	name, ok := CondaPackageName(file)
	if !ok {
		return false, jsonErr(off, fmt.Sprintf("%q is not a conda file name <name>-<version>-<build>.{conda,tar.bz2}", file))
	}
	return f.allows(name), nil
}

// CondaPackageName returns the package part of a conda file name:
// "foo-bar-1.0-py_0.tar.bz2" gives "foo-bar". ok is false unless the name
// has a package extension and non-empty name, version and build fields.
// It serves the index filters ([]byte, no allocation) and the request
// path parser (string) alike.
func CondaPackageName[S ~string | ~[]byte](file S) (name S, ok bool) {
	stem, ok := CutPackageExt(file)
	if !ok {
		return stem, false
	}
	build := lastDash(stem)
	if build < 0 {
		return stem[:0], false
	}
	version := lastDash(stem[:build])
	if version <= 0 || build == version+1 || build == len(stem)-1 {
		return stem[:0], false
	}
	return stem[:version], true
}

// CutPackageExt strips ".conda" or ".tar.bz2" in any case (a
// case-insensitive storage serves x-1-0.CONDA as x-1-0.conda, so it must
// be decided as a package); ok reports whether it found one.
func CutPackageExt[S ~string | ~[]byte](file S) (S, bool) {
	for _, ext := range [...]string{".conda", ".tar.bz2"} {
		if n := len(file) - len(ext); n >= 0 && strings.EqualFold(string(file[n:]), ext) {
			return file[:n], true
		}
	}
	return file[:0], false
}

func lastDash[S ~string | ~[]byte](s S) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '-' {
			return i
		}
	}
	return -1
}
