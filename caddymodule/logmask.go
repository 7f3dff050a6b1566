package caddymodule

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/logging"
	"go.uber.org/zap/zapcore"

	"github.com/channelgate/channelgate/tokenstore"
)

func init() {
	caddy.RegisterModule(TokenMask{})
}

// TokenMask is a log field filter (`format filter { request
// channelgate_token_mask }`) that masks channelgate tokens wherever a
// request carries them: a URI's /t/<token> segment becomes /t/<TOKEN>
// (and the code of a mailed link, /verify/<code> and
// /reset-password/<code>, becomes <TOKEN> the same way),
// and anything that starts with the token prefix (cgt-, in any case) and
// its letters and digits becomes <TOKEN>, in the URI (query included) and
// in every header value. Percent-encoded letters, digits and "-._~" are
// decoded first, so /%74/%63gt-... is masked too.
//
// It filters a whole request (Caddy's "request" field: URI and headers),
// a header set ("resp_headers", "request>headers"), a string array or a
// string. A field of any other type is replaced by "<not masked>":
// unknown is never logged as is. It uses no regular expression: a field
// without '%' and without the prefix costs one scan and no allocation.
type TokenMask struct{}

// CaddyModule returns the Caddy module information.
func (TokenMask) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.logging.encoders.filter.channelgate_token_mask",
		New: func() caddy.Module { return new(TokenMask) },
	}
}

// UnmarshalCaddyfile takes no arguments.
func (*TokenMask) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the filter's name
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// Filter masks the tokens of one field.
func (*TokenMask) Filter(in zapcore.Field) zapcore.Field {
	switch v := in.Interface.(type) {
	case caddyhttp.LoggableHTTPRequest:
		if r, ok := maskRequest(v.Request); ok {
			v.Request = r
			in.Interface = v
		}
	case caddyhttp.LoggableHTTPHeader:
		if h, ok := maskHeader(v.Header); ok {
			v.Header = h
			in.Interface = v
		}
	case caddyhttp.LoggableStringArray:
		if a, ok := maskStrings(v); ok {
			in.Interface = caddyhttp.LoggableStringArray(a)
		}
	default:
		if in.Type != zapcore.StringType {
			return zapcore.Field{Key: in.Key, Type: zapcore.StringType, String: "<not masked>"}
		}
		in.String, _ = maskTokens(in.String, in.Key == "uri")
	}
	return in
}

// maskRequest returns a shallow copy of r whose URI and headers are
// masked, or r itself (false) when neither holds a token.
func maskRequest(r *http.Request) (*http.Request, bool) {
	if r == nil {
		return r, false
	}
	uri, uriMasked := maskTokens(r.RequestURI, true)
	h, hdrMasked := maskHeader(r.Header)
	if !uriMasked && !hdrMasked {
		return r, false
	}
	c := *r
	c.RequestURI, c.Header = uri, h
	return &c, true
}

// maskHeader returns a copy of h with masked values, or h itself (false)
// when no value needs masking.
func maskHeader(h http.Header) (http.Header, bool) {
	found := false
	for _, vs := range h {
		for _, v := range vs {
			found = found || mayHoldToken(v)
		}
	}
	if !found {
		return h, false
	}
	c := make(http.Header, len(h))
	for k, vs := range h {
		c[k], _ = maskStrings(vs)
	}
	return c, true
}

// maskStrings returns a copy of vs with masked values, or vs itself
// (false) when none needs masking.
func maskStrings(vs []string) ([]string, bool) {
	var c []string
	for i, v := range vs {
		m, ok := maskTokens(v, false)
		if ok && c == nil {
			c = append(make([]string, 0, len(vs)), vs[:i]...)
		}
		if c != nil {
			c = append(c, m)
		}
	}
	if c == nil {
		return vs, false
	}
	return c, true
}

// tokenMark replaces a masked token.
const tokenMark = "<TOKEN>"

// mayHoldToken reports whether s has a percent-encoding or the token
// prefix in any case.
func mayHoldToken(s string) bool {
	return strings.IndexByte(s, '%') >= 0 || prefixAt(s, 0) >= 0
}

// maskTokens masks the tokens of s (see TokenMask); uri also masks a
// leading /t/<segment> whatever the segment holds. It returns s itself
// (false) when there is nothing to mask.
func maskTokens(s string, uri bool) (string, bool) {
	if !mayHoldToken(s) && !(uri && secretSegment(s) != "") {
		return s, false
	}
	d := decodeUnreserved(s)
	var b strings.Builder
	b.Grow(len(d))
	rest := d
	if prefix := secretSegment(d); uri && prefix != "" {
		tail := d[len(prefix):]
		end := strings.IndexAny(tail, "/?")
		if end < 0 {
			end = len(tail)
		}
		b.WriteString(prefix + tokenMark)
		rest = tail[end:]
	}
	for {
		i := prefixAt(rest, 0)
		if i < 0 {
			break
		}
		b.WriteString(rest[:i])
		b.WriteString(tokenMark)
		j := i + len(tokenstore.TokenPrefix)
		for j < len(rest) && isAlnum(rest[j]) {
			j++
		}
		rest = rest[j:]
	}
	if b.Len() == 0 && len(d) == len(s) {
		return s, false // no token, nothing decoded
	}
	b.WriteString(rest)
	return b.String(), true
}

// secretPrefixes start the URIs whose next segment is a secret: a token
// in the path, and the codes of the web pages' mailed links.
var secretPrefixes = [...]string{"/t/", "/verify/", "/reset-password/"}

// secretSegment is the prefix of secretPrefixes s starts with, or "".
func secretSegment(s string) string {
	for _, p := range secretPrefixes {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return ""
}

// prefixAt is the index of the first token prefix in s at or after
// from, in any case, or -1. It looks for the prefix's '-' (fast, and rare
// in a URI) and compares the three bytes before it.
func prefixAt(s string, from int) int {
	const p = tokenstore.TokenPrefix // "cgt-"
	for {
		i := strings.IndexByte(s[from:], p[len(p)-1])
		if i < 0 {
			return -1
		}
		i += from
		if start := i - (len(p) - 1); start >= 0 && strings.EqualFold(s[start:i], p[:len(p)-1]) {
			return start
		}
		from = i + 1
	}
}

// decodeUnreserved decodes the percent-encodings of letters, digits and
// "-._~", which mean the same encoded or not (RFC 3986, 2.3); others stay
// encoded. It returns s itself when there are none.
func decodeUnreserved(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	b := []byte(s[:i])
	for ; i < len(s); i++ {
		if c, ok := unreservedAt(s, i); ok {
			b = append(b, c)
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// unreservedAt decodes a "%XX" at s[i] that encodes an unreserved byte.
func unreservedAt(s string, i int) (byte, bool) {
	if s[i] != '%' || i+2 >= len(s) {
		return 0, false
	}
	hi, ok1 := unhex(s[i+1])
	lo, ok2 := unhex(s[i+2])
	c := hi<<4 | lo
	return c, ok1 && ok2 && (isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Interface guards
var (
	_ logging.LogFieldFilter = (*TokenMask)(nil)
	_ caddyfile.Unmarshaler  = (*TokenMask)(nil)
)
