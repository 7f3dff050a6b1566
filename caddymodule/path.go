package caddymodule

import (
	"errors"
	"strings"

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
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return t, pathError("path contains a control character or backslash")
		}
	}
	rest := p[1:]
	t.clientPath = p
	if strings.HasPrefix(rest, "t/") {
		tok, after, ok := strings.Cut(rest[2:], "/")
		if !ok || tok == "" {
			return t, pathError("/t/ must be followed by a token and a channel")
		}
		if len(tok) > tokenstore.MaxTokenLen*2 {
			return t, pathError("token too long")
		}
		t.token, rest = tok, after
		t.clientPath = "/" + after
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		if s == "." || s == ".." {
			return t, pathError("path contains a dot segment")
		}
		if s == "" && i != len(segs)-1 {
			return t, pathError("path contains an empty segment")
		}
	}
	t.channel = segs[0]
	if err := tokenstore.ValidateAccountName(t.channel); err != nil {
		return t, pathError("invalid channel name: channels are lowercase letters, digits, '.', '_' and '-'")
	}
	segs = segs[1:]
	if len(segs) >= 2 && segs[0] == "label" {
		if !validLabel(segs[1]) {
			return t, pathError("invalid label name")
		}
		if segs[1] != "main" {
			t.label = segs[1]
		}
		segs = segs[2:]
	}
	t.file = segs[len(segs)-1]
	var err error
	if len(segs) > 0 && segs[0] == "simple" {
		err = t.classifyPyPI(segs[1:])
	} else {
		err = t.classifyConda(segs)
	}
	t.rest = strings.Join(segs, "/")
	return t, err
}

// classifyPyPI handles <channel>/simple/[<project>/[<file>]]. The project
// segment is normalized in place (PEP 503), so the storage is always asked
// for the normalized directory whatever spelling the client used.
func (t *target) classifyPyPI(segs []string) error {
	t.kind = tokenstore.PyPI
	if len(segs) == 0 || len(segs) == 1 && (segs[0] == "" || segs[0] == "index.html" || segs[0] == "index.json") {
		return nil // the root list
	}
	if tokenstore.ValidatePackageName(segs[0]) != nil {
		return pathError("invalid project name")
	}
	t.class, t.pkg = classPackage, tokenstore.NormalizeName(tokenstore.PyPI, segs[0])
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
		return nil // channel root files, shards, and anything else: channel level
	}
	if _, isPkg := cutPackageExt(segs[1]); !isPkg {
		return nil
	}
	name, ok := condaPackageName(segs[1])
	if !ok || tokenstore.ValidatePackageName(name) != nil {
		return pathError("invalid package file name")
	}
	t.class, t.pkg = classPackage, tokenstore.NormalizeName(tokenstore.Conda, name)
	return nil
}

func validLabel(l string) bool {
	if l == "" || len(l) > 64 {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
