package caddymodule

import (
	"errors"
	"strings"

	"github.com/channelgate/channelgate/channelindex"
	"github.com/channelgate/channelgate/tokenstore"
)

// maxPathLen bounds the request path the gateway accepts.
const maxPathLen = 2048

// fileClass tells how a request path relates to packages.
type fileClass uint8

const (
	// classIndex is a channel- or subdir-level file: repodata, channeldata,
	// notices, shards, the PyPI root list. Readable with the channel.
	classIndex fileClass = iota
	// classPackage is a package's own file or PyPI project page.
	classPackage
)

// target is a parsed request path: what it names and how to rebuild the
// storage path from it. Decision and rewrite both read it, so they always
// see the same cleaned path.
type target struct {
	token string // from /t/<token>/, "" if none
	// clientPath is the request path without its /t/<token> segment.
	clientPath string
	channel    string
	label      string // "" for the default label ("main")
	rest       string // path below channel[/label/<l>], no leading slash
	kind       tokenstore.Kind
	class      fileClass
	pkg        string // normalized package name for classPackage
	subdir     string // conda subdir, "" at channel level
	file       string // last segment
}

// errBadPath is wrapped by every path refusal; its message is safe to show.
var errBadPath = errors.New("bad path")

type pathError string

func (e pathError) Error() string { return string(e) }
func (e pathError) Unwrap() error { return errBadPath }

// errNotChannel is wrapped by the refusal of a path whose first segment
// cannot be a channel though it is well formed: none at all (/), or a
// reserved name (/login, /static, ...: pages the site may serve before
// the gateway). Answered 404 with its message, which is safe to show.
var errNotChannel = errors.New("not a channel")

type notChannel string

func (e notChannel) Error() string { return string(e) }
func (e notChannel) Unwrap() error { return errNotChannel }

// badPathByte marks the bytes no path may hold: control characters,
// backslash, and '%', ';', '?', '#' (see parsePath). One table lookup a
// byte, on the hot path.
var badPathByte = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	for _, c := range []byte("\x7f\\%;?#") {
		t[c] = true
	}
	return t
}()

// parsePath splits a decoded, not yet cleaned URL path. It rejects instead
// of cleaning: a request that needs cleaning (dot segments, empty
// segments, backslashes, control characters) is not from a package client.
func parsePath(p string) (target, error) {
	var t target
	if len(p) > maxPathLen {
		return t, pathError("path too long")
	}
	if p == "" || p[0] != '/' {
		return t, pathError("path must start with /")
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; badPathByte[c] {
			// Decoded, '%', ';', '?' and '#' come from %25, %3B, %3F,
			// %23: an upstream that decodes again or drops path
			// parameters would see another path than the decision did.
			// No package name contains them.
			if c == '%' || c == ';' || c == '?' || c == '#' {
				return t, pathError("path contains an encoded '%', ';', '?' or '#'")
			}
			return t, pathError("path contains a control character or backslash")
		}
	}
	rest := p[1:]
	if strings.HasPrefix(rest, "t/") {
		tok, after, ok := strings.Cut(rest[2:], "/")
		if !ok || tok == "" {
			return t, pathError("/t/ must be followed by a token and a channel")
		}
		if len(tok) > tokenstore.MaxTokenLen*2 {
			return t, pathError("token too long")
		}
		t.token, rest = tok, after
	}
	t.clientPath = p[len(p)-len(rest)-1:]
	// Segments in a stack array, and rest as a substring of the path
	// below: strings.Split and strings.Join cost an allocation each.
	var segBuf [16]string
	segs := appendSegments(segBuf[:0], rest)
	for i, s := range segs {
		if s == "." || s == ".." {
			return t, pathError("path contains a dot segment")
		}
		if s == "" && i != len(segs)-1 {
			return t, pathError("path contains an empty segment")
		}
		if looksLikeToken(s) {
			// The storage would receive it: /t/<token>/ goes first.
			return t, pathError("path contains a token outside a leading /t/<token>/")
		}
	}
	t.channel = segs[0]
	below := rest[len(t.channel):] // "" or "/..."
	if err := tokenstore.ValidateAccountName(t.channel); err != nil {
		switch {
		case t.channel == "":
			return t, notChannel("no channel here: channels are served at /<channel>/")
		case tokenstore.IsReservedName(t.channel):
			return t, notChannel("not found: " + t.channel + " is a reserved name, not a channel")
		}
		return t, pathError("invalid channel name: channels are lowercase letters, digits, '.', '_' and '-'")
	}
	segs = segs[1:]
	if len(segs) >= 2 && segs[0] == "label" {
		if !channelindex.ValidLabel(segs[1]) {
			return t, pathError("invalid label name")
		}
		if segs[1] != "main" {
			t.label = segs[1]
		}
		below = below[len("/label/")+len(segs[1]):]
		segs = segs[2:]
	}
	if len(segs) == 0 {
		segs = []string{""} // /<channel> and /<channel>/label/<l>: the folder itself
	}
	t.file = segs[len(segs)-1]
	var err error
	t.rest = strings.TrimPrefix(below, "/") // = strings.Join(segs, "/")
	if len(segs) > 0 && segs[0] == "simple" {
		project := ""
		if len(segs) > 1 {
			project = segs[1]
		}
		err = t.classifyPyPI(segs[1:])
		if len(segs) > 1 && segs[1] != project { // normalized in place
			t.rest = strings.Join(segs, "/")
		}
	} else {
		err = t.classifyConda(segs)
	}
	return t, err
}

// appendSegments is strings.Split(s, "/") appended to dst.
func appendSegments(dst []string, s string) []string {
	for {
		i := strings.IndexByte(s, '/')
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
}

// classifyPyPI handles <channel>/simple/[<project>/[<file>]]. The project
// segment is normalized in place (PEP 503), so the storage is always asked
// for the normalized directory whatever spelling the client used.
func (t *target) classifyPyPI(segs []string) error {
	t.kind = tokenstore.PyPI
	if len(segs) == 0 || len(segs) == 1 && (segs[0] == "" || segs[0] == "index.html" || segs[0] == "index.json") {
		return nil // the root list
	}
	t.class, t.pkg = classPackage, tokenstore.NormalizeName(tokenstore.PyPI, segs[0])
	// A name of separators only ("_", "-.") normalizes to nothing: it
	// would name the channel-level root list under a package decision.
	if tokenstore.ValidatePackageName(segs[0]) != nil || t.pkg == "" {
		return pathError("invalid project name")
	}
	segs[0] = t.pkg
	return nil
}

// classifyConda handles <channel>/<file> and <channel>/<subdir>/... .
func (t *target) classifyConda(segs []string) error {
	t.kind = tokenstore.Conda
	if len(segs) >= 2 {
		t.subdir = segs[0]
	}
	if len(segs) != 2 {
		// Channel root files, shards, and anything else: channel level.
		// A package file name is only a package at <subdir>/<file>;
		// elsewhere (a trailing slash, a label with no subdir) a lenient
		// storage might still serve the package under a channel-level
		// decision.
		for _, s := range segs {
			if _, isPkg := channelindex.CutPackageExt(s); isPkg {
				return pathError("package file outside <subdir>/<file>")
			}
		}
		return t.attributePyPIFile()
	}
	if _, isPkg := channelindex.CutPackageExt(segs[1]); !isPkg {
		return t.attributePyPIFile()
	}
	name, ok := channelindex.CondaPackageName(segs[1])
	if !ok || tokenstore.ValidatePackageName(name) != nil {
		return pathError("invalid package file name")
	}
	t.class, t.pkg = classPackage, tokenstore.NormalizeName(tokenstore.Conda, name)
	return nil
}

// pypiFileExts are the extensions of PyPI distributions (wheels, sdists,
// eggs), which a channel may store outside simple/<project>/ (pages link
// to them anywhere), with PEP 658's ".metadata" files beside them.
var pypiFileExts = [...]string{".whl", ".tar.gz", ".zip", ".egg", ".tgz", ".tar.xz"}

// attributePyPIFile decides a PyPI distribution found outside
// simple/<project>/ as a file of its project, named by its file name
// (<project>-<version>...; a wheel's project has no '-'), so a private
// project's files are private wherever they are stored. A distribution
// whose project cannot be told is refused rather than served under the
// channel's decision.
func (t *target) attributePyPIFile() error {
	file := t.file
	if n := len(file) - len(".metadata"); n > 0 && strings.EqualFold(file[n:], ".metadata") {
		file = file[:n]
	}
	isDist := false
	for _, ext := range pypiFileExts {
		if n := len(file) - len(ext); n > 0 && strings.EqualFold(file[n:], ext) {
			isDist = true
			break
		}
	}
	if !isDist {
		return nil
	}
	name, ok := pypiProjectOf(file)
	pkg := tokenstore.NormalizeName(tokenstore.PyPI, name)
	if !ok || tokenstore.ValidatePackageName(name) != nil || pkg == "" {
		return pathError("cannot tell the project of this PyPI file: name it <project>-<version>... or store it under simple/<project>/")
	}
	t.kind, t.class, t.pkg = tokenstore.PyPI, classPackage, pkg
	return nil
}

// pypiProjectOf is the project part of a distribution's file name: up to
// the first '-' followed by a digit (the version; wheels and PEP 625
// sdists escape the project's own '-' as '_').
func pypiProjectOf(file string) (string, bool) {
	for i := 1; i+1 < len(file); i++ {
		if file[i] == '-' && file[i+1] >= '0' && file[i+1] <= '9' {
			return file[:i], true
		}
	}
	return "", false
}

// looksLikeToken reports whether a path segment has a token's shape: the
// prefix and at least 20 letters and digits (typos included).
func looksLikeToken(s string) bool {
	rest, ok := strings.CutPrefix(s, tokenstore.TokenPrefix)
	if !ok || len(rest) < 20 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}
