package caddymodule

import (
	"net/http"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

const maskTok = "cgt-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh"

func TestMaskTokens(t *testing.T) {
	for _, tc := range []struct {
		in   string
		uri  bool
		want string
	}{
		{"/acme/noarch/open-1.0-0.conda", true, ""},
		{"/t/" + maskTok + "/acme/noarch/x-1-0.conda", true, "/t/<TOKEN>/acme/noarch/x-1-0.conda"},
		{"/t/not-a-token/acme/", true, "/t/<TOKEN>/acme/"},
		{"/t/not-a-token/acme/", false, ""},
		{"/verify/Zm9vYmFyYmF6cXV4", true, "/verify/<TOKEN>"},
		{"/reset-password/Zm9vYmFy?next=/", true, "/reset-password/<TOKEN>?next=/"},
		{"/%76erify/Zm9vYmFy", true, "/verify/<TOKEN>"},
		{"/%74/" + maskTok + "/acme/", true, "/t/<TOKEN>/acme/"},
		{"/%74/%63gt-" + maskTok[4:] + "/acme/", true, "/t/<TOKEN>/acme/"},
		{"/acme/?token=" + maskTok + "&x=1", true, "/acme/?token=<TOKEN>&x=1"},
		{"/acme/%2Fnoarch", true, ""},
		{"/acme/%2fcgt-%41bc", true, "/acme/%2f<TOKEN>"},
		{"token " + maskTok, false, "token <TOKEN>"},
		{"CGT-" + maskTok[4:] + " and " + maskTok, false, "<TOKEN> and <TOKEN>"},
		{"pip/24.0 " + maskTok, false, "pip/24.0 <TOKEN>"},
		{"cgt-", false, "<TOKEN>"},
		{"%", false, ""},
		{"%4", false, ""},
		{"%zz%41", false, "%zzA"},
	} {
		got, ok := maskTokens(tc.in, tc.uri)
		want := tc.want
		if want == "" {
			want = tc.in
		}
		if got != want || ok != (tc.want != "") {
			t.Errorf("maskTokens(%q, %v) = %q, %v; want %q", tc.in, tc.uri, got, ok, want)
		}
	}
}

// TestTokenMaskFilter filters Caddy's own request and header fields.
func TestTokenMaskFilter(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://x/t/"+maskTok+"/acme/", nil)
	r.RequestURI = "/t/" + maskTok + "/acme/"
	r.Header.Set("X-Api-Key", maskTok)
	r.Header.Set("User-Agent", "conda/24 "+maskTok)
	r.Header.Set("Accept", "*/*")
	var f TokenMask
	out := f.Filter(zap.Object("request", caddyhttp.LoggableHTTPRequest{Request: r}))
	got := out.Interface.(caddyhttp.LoggableHTTPRequest).Request
	if got.RequestURI != "/t/<TOKEN>/acme/" || got.Header.Get("X-Api-Key") != "<TOKEN>" ||
		got.Header.Get("User-Agent") != "conda/24 <TOKEN>" || got.Header.Get("Accept") != "*/*" {
		t.Fatalf("masked request: %q %v", got.RequestURI, got.Header)
	}
	if r.RequestURI == got.RequestURI || r.Header.Get("X-Api-Key") != maskTok {
		t.Fatal("the filter changed the request being served")
	}
	hdr := f.Filter(zap.Object("resp_headers", caddyhttp.LoggableHTTPHeader{Header: http.Header{"Location": {"/t/" + maskTok}}}))
	if loc := hdr.Interface.(caddyhttp.LoggableHTTPHeader).Header.Get("Location"); strings.Contains(loc, maskTok) {
		t.Fatalf("Location %q", loc)
	}
	if s := f.Filter(zap.String("uri", "/t/x/acme/")); s.String != "/t/<TOKEN>/acme/" {
		t.Fatalf("string field %q", s.String)
	}
	if n := f.Filter(zap.Int("size", 3)); n.String != "<not masked>" {
		t.Fatalf("an int field gave %+v", n)
	}
}

// BenchmarkTokenMask is the filter on a request without a token (the
// common case: one scan, no allocation) and on one with a /t/ token.
func BenchmarkTokenMask(b *testing.B) {
	for _, tc := range []struct{ name, uri string }{
		{"none", "/acme/noarch/open-1.0-0.conda"},
		{"path token", "/t/" + maskTok + "/acme/noarch/secret-1.0-0.conda"},
	} {
		r, _ := http.NewRequest("GET", "http://x"+tc.uri, nil)
		r.RequestURI = tc.uri
		r.Header.Set("User-Agent", "conda/24.1.2 requests/2.31.0 CPython/3.12.1 Linux/6.1 debian/12 glibc/2.36")
		r.Header.Set("Accept", "*/*")
		r.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
		field := zap.Object("request", caddyhttp.LoggableHTTPRequest{Request: r})
		var f TokenMask
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.Filter(field)
			}
		})
	}
}
