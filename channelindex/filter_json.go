package channelindex

import (
	"encoding/json"
	"errors"
	"fmt"
)

// This file holds the one JSON scanner every JSON index filter shares.
// It never builds values: it finds where a value ends while checking the
// grammar as strictly as encoding/json does, so filters can copy the
// records they keep byte for byte and still promise valid output.

// ErrMalformedIndex is wrapped by every error about input that is not a
// well-formed index; a filter that returns it has produced no output.
var ErrMalformedIndex = errors.New("malformed index")

// indexError locates a syntax or shape error in an index.
type indexError struct {
	format string // "JSON", "msgpack", "HTML"
	offset int
	msg    string
}

func (e *indexError) Error() string {
	return fmt.Sprintf("%v: %s at byte %d: %s", ErrMalformedIndex, e.format, e.offset, e.msg)
}

func (e *indexError) Unwrap() error { return ErrMalformedIndex }

func jsonErr(offset int, msg string) error {
	return &indexError{format: "JSON", offset: offset, msg: msg}
}

// jsonMaxDepth bounds nesting so hostile input cannot exhaust the stack.
// Real indexes nest about four levels.
const jsonMaxDepth = 512

// jsonStrPlain marks the bytes that may appear unescaped inside a string
// without ending it: everything but '"', '\\' and control characters.
var jsonStrPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func jsonIsSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// jsonSkipSpace returns the index of the first non-whitespace byte at or
// after i.
func jsonSkipSpace(b []byte, i int) int {
	for i < len(b) && jsonIsSpace(b[i]) {
		i++
	}
	return i
}

// jsonSkipString expects b[i] == '"' and returns the index just past the
// closing quote, and whether the string holds escapes.
func jsonSkipString(b []byte, i int) (end int, escaped bool, err error) {
	start := i
	i++
	for {
		// Eight bytes per round: strings are most of an index.
		for i+8 <= len(b) && jsonStrPlain[b[i]] && jsonStrPlain[b[i+1]] && jsonStrPlain[b[i+2]] &&
			jsonStrPlain[b[i+3]] && jsonStrPlain[b[i+4]] && jsonStrPlain[b[i+5]] &&
			jsonStrPlain[b[i+6]] && jsonStrPlain[b[i+7]] {
			i += 8
		}
		for i < len(b) && jsonStrPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return 0, false, jsonErr(start, "unterminated string")
		}
		switch b[i] {
		case '"':
			return i + 1, escaped, nil
		case '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, false, jsonErr(start, "unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return 0, false, jsonErr(i, `invalid \u escape`)
				}
				i += 6
			default:
				return 0, false, jsonErr(i, "invalid escape")
			}
		default:
			return 0, false, jsonErr(i, "control character in string")
		}
	}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// jsonSkipNumber returns the end of the number starting at b[i].
func jsonSkipNumber(b []byte, i int) (int, error) {
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return 0, jsonErr(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, jsonErr(start, "invalid number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, jsonErr(start, "invalid number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, nil
}

// jsonSkipValue checks the value starting exactly at b[i] and returns the
// index just past it. depth is the nesting level of the value.
func jsonSkipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, jsonErr(i, "unexpected end of input, expected a value")
	}
	switch c := b[i]; c {
	case '"':
		end, _, err := jsonSkipString(b, i)
		return end, err
	case '{', '[':
		w, err := jsonOpen(b, i, depth)
		if err != nil {
			return 0, err
		}
		for {
			more, err := w.next()
			if err != nil {
				return 0, err
			}
			if !more {
				return w.pos, nil
			}
			if _, err := w.skip(); err != nil {
				return 0, err
			}
		}
	case 't':
		return jsonSkipLiteral(b, i, "true")
	case 'f':
		return jsonSkipLiteral(b, i, "false")
	case 'n':
		return jsonSkipLiteral(b, i, "null")
	default:
		if c == '-' || isDigit(c) {
			return jsonSkipNumber(b, i)
		}
		return 0, jsonErr(i, fmt.Sprintf("unexpected character %q", c))
	}
}

func jsonSkipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, jsonErr(i, "invalid literal")
	}
	return i + len(lit), nil
}

// jsonWalker steps through the members of one object or the elements of
// one array. After next reports a member, the caller must move pos past
// its value (skip does that) before calling next again.
type jsonWalker struct {
	b      []byte
	close  byte // '}' or ']'
	depth  int  // nesting level of the members
	n      int  // members seen so far
	pos    int  // where next resumes; after the container, just past it
	seg    int  // start of the member's segment: just after '{', '[' or ','
	key    int  // object members: the key's opening quote
	keyEnd int  // object members: just past the key's closing quote
	keyEsc bool // the key holds escapes
	val    int  // first byte of the value
}

// jsonOpen starts walking the container whose opening bracket is b[i],
// nested at the given depth.
func jsonOpen(b []byte, i, depth int) (jsonWalker, error) {
	if depth >= jsonMaxDepth {
		return jsonWalker{}, jsonErr(i, "nesting too deep")
	}
	w := jsonWalker{b: b, depth: depth + 1, pos: i + 1}
	switch {
	case i < len(b) && b[i] == '{':
		w.close = '}'
	case i < len(b) && b[i] == '[':
		w.close = ']'
	default:
		return jsonWalker{}, jsonErr(i, "expected an object or array")
	}
	return w, nil
}

// isObject reports whether the walker walks an object.
func (w *jsonWalker) isObject() bool { return w.close == '}' }

// next finds the next member. It returns false, with pos just past the
// closing bracket, when the container ends.
func (w *jsonWalker) next() (bool, error) {
	b := w.b
	i := jsonSkipSpace(b, w.pos)
	if i >= len(b) {
		return false, jsonErr(i, "unexpected end of input")
	}
	if b[i] == w.close {
		w.pos = i + 1
		return false, nil
	}
	w.seg = w.pos
	if w.n > 0 {
		if b[i] != ',' {
			return false, jsonErr(i, "expected ',' or '"+string(w.close)+"'")
		}
		w.seg = i + 1
		i = jsonSkipSpace(b, i+1)
	}
	w.n++
	if w.close == '}' {
		if i >= len(b) || b[i] != '"' {
			return false, jsonErr(i, "expected a string key")
		}
		end, esc, err := jsonSkipString(b, i)
		if err != nil {
			return false, err
		}
		w.key, w.keyEnd, w.keyEsc = i, end, esc
		i = jsonSkipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false, jsonErr(i, "expected ':' after key")
		}
		i = jsonSkipSpace(b, i+1)
	}
	w.val = i
	return true, nil
}

// skip moves past the current member's value and returns its end.
func (w *jsonWalker) skip() (int, error) {
	end, err := jsonSkipValue(w.b, w.val, w.depth)
	if err != nil {
		return 0, err
	}
	w.pos = end
	return end, nil
}

// keyText returns the current member's key, unescaped.
func (w *jsonWalker) keyText() ([]byte, bool) {
	return jsonStringContent(w.b[w.key:w.keyEnd], w.keyEsc)
}

// keyIs reports whether the current member's key decodes to name.
func (w *jsonWalker) keyIs(name string) bool {
	key, ok := w.keyText()
	return ok && string(key) == name
}

// jsonStringContent returns the text of the checked JSON string
// literal q, unescaped only when it holds escapes (the rare case, which
// allocates).
func jsonStringContent(q []byte, escaped bool) ([]byte, bool) {
	if !escaped {
		return q[1 : len(q)-1], true
	}
	return jsonUnquote(q)
}

// jsonUnquote decodes a JSON string literal the way encoding/json does.
func jsonUnquote(q []byte) ([]byte, bool) {
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}

// jsonKeepFunc decides whether a member of a filtered container stays.
// It is called after the member's value was checked; end is just past
// the value.
type jsonKeepFunc func(w *jsonWalker, end int) (bool, error)

// jsonFilter copies the container starting at b[i] to dst, keeping the
// members keep accepts. Kept members are copied verbatim with the
// whitespace around them, separators are rewritten so the result stays
// valid, and with nothing dropped the output equals the input.
func jsonFilter(dst, b []byte, i, depth int, keep jsonKeepFunc) ([]byte, int, error) {
	w, err := jsonOpen(b, i, depth)
	if err != nil {
		return nil, 0, err
	}
	dst = append(dst, b[i])
	kept := 0
	for {
		tail := w.pos
		more, err := w.next()
		if err != nil {
			return nil, 0, err
		}
		if !more {
			// Whitespace before the bracket, then the bracket.
			return append(dst, b[tail:w.pos]...), w.pos, nil
		}
		end, err := w.skip()
		if err != nil {
			return nil, 0, err
		}
		ok, err := keep(&w, end)
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			continue
		}
		if kept > 0 {
			dst = append(dst, ',')
		}
		kept++
		w.pos = jsonSkipSpace(b, end)
		dst = append(dst, b[w.seg:w.pos]...)
	}
}

// jsonField names a member of an index's top-level object whose value
// is a container to filter, and how.
type jsonField struct {
	name  string
	array bool // the value must be an array, else an object
	keep  jsonKeepFunc
}

// jsonFilterRoot filters a whole JSON document that must be an object:
// the values of the named fields are filtered, every other byte is kept.
// Only whitespace may follow the object.
func jsonFilterRoot(src []byte, fields []jsonField) ([]byte, error) {
	start := jsonSkipSpace(src, 0)
	if start >= len(src) || src[start] != '{' {
		return nil, jsonErr(start, "the index must be a JSON object")
	}
	w, err := jsonOpen(src, start, 0)
	if err != nil {
		return nil, err
	}
	dst := make([]byte, 0, len(src))
	copied := 0 // src[:copied] is already in dst
	for {
		more, err := w.next()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		f := matchField(&w, fields)
		if f == nil {
			if _, err := w.skip(); err != nil {
				return nil, err
			}
			continue
		}
		open, what := byte('{'), "an object"
		if f.array {
			open, what = '[', "an array"
		}
		if w.val >= len(src) || src[w.val] != open {
			return nil, jsonErr(w.val, fmt.Sprintf("%q must be %s", f.name, what))
		}
		dst = append(dst, src[copied:w.val]...)
		if dst, w.pos, err = jsonFilter(dst, src, w.val, w.depth, f.keep); err != nil {
			return nil, err
		}
		copied = w.pos
	}
	if rest := jsonSkipSpace(src, w.pos); rest != len(src) {
		return nil, jsonErr(rest, "data after the top-level object")
	}
	return append(dst, src[copied:]...), nil
}

func matchField(w *jsonWalker, fields []jsonField) *jsonField {
	for i := range fields {
		if w.keyIs(fields[i].name) {
			return &fields[i]
		}
	}
	return nil
}
