package channelindex

import (
	"bytes"
	"html"
	"net/url"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// SimpleJSONContentType is the media type of the PEP 691 JSON simple
// API; the HTML form is text/html or application/vnd.pypi.simple.v1+html.
const SimpleJSONContentType = "application/vnd.pypi.simple.v1+json"

// FilterSimpleJSON returns the PEP 691 project list (the JSON form of
// the simple index root) src without the projects visible rejects.
// Every element of "projects" must be an object with a string "name"
// (a project with several is hidden if any of them is); kept projects
// and everything else are copied byte for byte.
func FilterSimpleJSON(src []byte, visible func(string) bool) ([]byte, error) {
	names := newNameFilter(tokenstore.PyPI, visible)
	return jsonFilterRoot(src, []jsonField{{name: "projects", array: true, keep: func(w *jsonWalker, _ int) (bool, error) {
		p, err := jsonOpen(w.b, w.val, w.depth)
		if err != nil || !p.isObject() {
			return false, jsonErr(w.val, "a project must be an object")
		}
		named, keep := false, true
		for {
			more, err := p.next()
			if err != nil {
				return false, err
			}
			if !more {
				break
			}
			end, err := p.skip()
			if err != nil {
				return false, err
			}
			if !p.keyIs("name") {
				continue
			}
			q := p.b[p.val:end]
			if q[0] != '"' {
				return false, jsonErr(p.val, "a project name must be a string")
			}
			name, ok := jsonStringContent(q, bytes.IndexByte(q, '\\') >= 0)
			if !ok {
				return false, jsonErr(p.val, "invalid project name")
			}
			named = true
			keep = keep && names.allows(name)
		}
		if !named {
			return false, jsonErr(w.val, "a project without a name")
		}
		return keep, nil
	}}})
}

func htmlErr(offset int, msg string) error {
	return &indexError{format: "HTML", offset: offset, msg: msg}
}

// FilterSimpleHTML returns the PEP 503 simple index root src without the
// anchors of projects visible rejects. A project is named by its
// anchor's text and by the last segment of its href; it is hidden if
// either name is, so a mismatched link cannot smuggle a hidden project
// through. A hidden anchor goes with a <br> right after it, and with
// its whole line when it stands alone on it. All other bytes are kept.
func FilterSimpleHTML(src []byte, visible func(string) bool) ([]byte, error) {
	names := newNameFilter(tokenstore.PyPI, visible)
	dst := make([]byte, 0, len(src))
	copied := 0 // src[:copied] is already in dst
	for i := 0; ; {
		lt := bytes.IndexByte(src[i:], '<')
		if lt < 0 {
			break
		}
		start := i + lt
		if !htmlTagIs(src, start+1, "a") {
			i = start + 1
			continue
		}
		a, err := htmlParseAnchor(src, start)
		if err != nil {
			return nil, err
		}
		i = a.end
		if names.allows(a.text) && (a.hrefName == nil || names.allows(a.hrefName)) {
			continue
		}
		from, to := start, a.end
		if to < len(src) && src[to] == '<' && htmlTagIs(src, to+1, "br") {
			if j := bytes.IndexByte(src[to:], '>'); j >= 0 {
				to += j + 1
			}
		}
		// The whole line, when the anchor is alone on it.
		lineStart := from
		for lineStart > 0 && (src[lineStart-1] == ' ' || src[lineStart-1] == '\t') {
			lineStart--
		}
		lineEnd := to
		for lineEnd < len(src) && (src[lineEnd] == ' ' || src[lineEnd] == '\t' || src[lineEnd] == '\r') {
			lineEnd++
		}
		if (lineStart == 0 || src[lineStart-1] == '\n') && (lineEnd == len(src) || src[lineEnd] == '\n') {
			from, to = lineStart, min(lineEnd+1, len(src))
		}
		dst = append(dst, src[copied:from]...)
		copied, i = to, to
	}
	return append(dst, src[copied:]...), nil
}

// htmlTagIs reports whether the tag name starting at src[i] is name
// (ASCII, any case), followed by whitespace, '/' or '>'.
func htmlTagIs(src []byte, i int, name string) bool {
	end := i + len(name)
	if end >= len(src) || !strings.EqualFold(string(src[i:end]), name) {
		return false
	}
	switch src[end] {
	case ' ', '\t', '\n', '\r', '\f', '/', '>':
		return true
	}
	return false
}

// htmlAnchor is one <a ...>text</a>: its end, its text as a project
// name, and the name the href points to (nil if none).
type htmlAnchor struct {
	end      int
	text     []byte
	hrefName []byte
}

// htmlParseAnchor reads the anchor whose '<' is src[start].
func htmlParseAnchor(src []byte, start int) (htmlAnchor, error) {
	var a htmlAnchor
	i := start + 2
	// Attributes: name, optionally '=' and a quoted or bare value.
	for {
		for i < len(src) && htmlIsSpace(src[i]) {
			i++
		}
		if i >= len(src) {
			return a, htmlErr(start, "unterminated <a> tag")
		}
		if src[i] == '>' {
			i++
			break
		}
		nameStart := i
		for i < len(src) && !htmlIsSpace(src[i]) && src[i] != '=' && src[i] != '>' {
			i++
		}
		attr := src[nameStart:i]
		for i < len(src) && htmlIsSpace(src[i]) {
			i++
		}
		if i >= len(src) || src[i] != '=' {
			continue
		}
		i++
		for i < len(src) && htmlIsSpace(src[i]) {
			i++
		}
		var value []byte
		if i < len(src) && (src[i] == '"' || src[i] == '\'') {
			q := bytes.IndexByte(src[i+1:], src[i])
			if q < 0 {
				return a, htmlErr(i, "unterminated attribute value")
			}
			value, i = src[i+1:i+1+q], i+q+2
		} else {
			valueStart := i
			for i < len(src) && !htmlIsSpace(src[i]) && src[i] != '>' {
				i++
			}
			value = src[valueStart:i]
		}
		if strings.EqualFold(string(attr), "href") {
			a.hrefName = hrefProject(value)
		}
	}
	endTag := htmlIndexFold(src[i:], "</a")
	if endTag < 0 || !htmlTagIs(src, i+endTag+2, "a") {
		return a, htmlErr(start, "anchor without </a>")
	}
	gt := bytes.IndexByte(src[i+endTag:], '>')
	if gt < 0 {
		return a, htmlErr(i+endTag, "unterminated </a> tag")
	}
	a.text = []byte(html.UnescapeString(string(bytes.TrimSpace(src[i : i+endTag]))))
	if len(a.text) == 0 {
		return a, htmlErr(start, "anchor without a project name")
	}
	a.end = i + endTag + gt + 1
	return a, nil
}

// hrefProject returns the last path segment of an href (HTML- and
// percent-decoded, query and fragment dropped): "/simple/Frob/" gives
// "Frob".
func hrefProject(href []byte) []byte {
	s := html.UnescapeString(string(href))
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	s = strings.TrimRight(s, "/")
	s = s[strings.LastIndexByte(s, '/')+1:]
	if s == "" {
		return nil
	}
	return []byte(s)
}

func htmlIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// htmlIndexFold is bytes.Index ignoring ASCII case of the lowercase
// pattern.
func htmlIndexFold(s []byte, pattern string) int {
	for i := 0; i+len(pattern) <= len(s); i++ {
		if strings.EqualFold(string(s[i:i+len(pattern)]), pattern) {
			return i
		}
	}
	return -1
}
