package caddymodule

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestMaskTokens(t *testing.T) {
	for _, tc := range []struct {
		in   string
		uri  bool
		want string
	}{
		{"/acme/noarch/open-1.0-0.conda", true, ""},
		{"/t/" + fuzzToken + "/acme/noarch/x-1-0.conda", true, "/t/<TOKEN>/acme/noarch/x-1-0.conda"},
		{"/t/not-a-token/acme/", true, "/t/<TOKEN>/acme/"},
		{"/t/not-a-token/acme/", false, ""},
		{"/verify/Zm9vYmFyYmF6cXV4", true, "/verify/<TOKEN>"},
		{"/reset-password/Zm9vYmFy?next=/", true, "/reset-password/<TOKEN>?next=/"},
		{"/%76erify/Zm9vYmFy", true, "/verify/<TOKEN>"},
		{"/%74/" + fuzzToken + "/acme/", true, "/t/<TOKEN>/acme/"},
		{"/%74/%63gt-" + fuzzToken[4:] + "/acme/", true, "/t/<TOKEN>/acme/"},
		{"/acme/?token=" + fuzzToken + "&x=1", true, "/acme/?token=<TOKEN>&x=1"},
		{"/acme/%2Fnoarch", true, ""},
		{"/acme/%2fcgt-%41bc", true, "/acme/%2f<TOKEN>"},
		{"token " + fuzzToken, false, "token <TOKEN>"},
		{"CGT-" + fuzzToken[4:] + " and " + fuzzToken, false, "<TOKEN> and <TOKEN>"},
		{"pip/24.0 " + fuzzToken, false, "pip/24.0 <TOKEN>"},
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
	r, _ := http.NewRequest("GET", "http://x/t/"+fuzzToken+"/acme/", nil)
	r.RequestURI = "/t/" + fuzzToken + "/acme/"
	r.Header.Set("X-Api-Key", fuzzToken)
	r.Header.Set("User-Agent", "conda/24 "+fuzzToken)
	r.Header.Set("Accept", "*/*")
	var f TokenMask
	out := f.Filter(zap.Object("request", caddyhttp.LoggableHTTPRequest{Request: r}))
	got := out.Interface.(caddyhttp.LoggableHTTPRequest).Request
	if got.RequestURI != "/t/<TOKEN>/acme/" || got.Header.Get("X-Api-Key") != "<TOKEN>" ||
		got.Header.Get("User-Agent") != "conda/24 <TOKEN>" || got.Header.Get("Accept") != "*/*" {
		t.Fatalf("masked request: %q %v", got.RequestURI, got.Header)
	}
	if r.RequestURI == got.RequestURI || r.Header.Get("X-Api-Key") != fuzzToken {
		t.Fatal("the filter changed the request being served")
	}
	hdr := f.Filter(zap.Object("resp_headers", caddyhttp.LoggableHTTPHeader{Header: http.Header{"Location": {"/t/" + fuzzToken}}}))
	if loc := hdr.Interface.(caddyhttp.LoggableHTTPHeader).Header.Get("Location"); strings.Contains(loc, fuzzToken) {
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
		{"path token", "/t/" + fuzzToken + "/acme/noarch/secret-1.0-0.conda"},
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

// BenchmarkAccessLogEncoder encodes one access log entry of a /t/<token>
// download, as Caddy's access log does, through: Caddy's JSON encoder
// alone (what a site without a filter pays), the regexp filters
// Caddyfile.example used before (request>uri and Referer), and
// channelgate_token_mask on request and resp_headers. The differences are
// what masking costs per request, independent of machine load.
func BenchmarkAccessLogEncoder(b *testing.B) {
	uri := "/t/" + fuzzToken + "/acme/noarch/secret-1.0-0.conda"
	r, _ := http.NewRequest("GET", "http://localhost:8080"+uri, nil)
	r.RequestURI, r.RemoteAddr = uri, "127.0.0.1:40000"
	r.Header.Set("User-Agent", "conda/24.1.2 requests/2.31.0 CPython/3.12.1 Linux/6.1 debian/12 glibc/2.36")
	r.Header.Set("Accept", "*/*")
	r.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	resp := http.Header{"Content-Type": {"application/octet-stream"}, "Etag": {`"dn8dyho4zh4q-1000"`},
		"Last-Modified": {"Mon, 30 Nov 2026 08:00:50 GMT"}, "Accept-Ranges": {"bytes"}, "Content-Length": {"4096"}, "Server": {"Caddy"}}
	fields := []zapcore.Field{
		zap.Object("request", caddyhttp.LoggableHTTPRequest{Request: r}),
		zap.Int("bytes_read", 0), zap.String("user_id", "acme"), zap.Duration("duration", 310*time.Microsecond),
		zap.Int("size", 4096), zap.Int("status", 200),
		zap.Object("resp_headers", caddyhttp.LoggableHTTPHeader{Header: resp}),
	}
	entry := zapcore.Entry{Level: zapcore.InfoLevel, Time: time.Now(), LoggerName: "http.log.access.log0", Message: "handled request"}
	for _, tc := range []struct{ name, module, config string }{
		{"json only", "json", `{}`},
		{"regexp filters (before)", "filter", `{"fields":{
			"request>uri":{"filter":"regexp","regexp":"(^/t/)[^/?]*|cgt-[A-Za-z0-9]+","value":"${1}<TOKEN>"},
			"request>headers>Referer":{"filter":"regexp","regexp":"cgt-[A-Za-z0-9]+","value":"<TOKEN>"}}}`},
		{"token mask (after)", "filter", `{"fields":{
			"request":{"filter":"channelgate_token_mask"},"resp_headers":{"filter":"channelgate_token_mask"}}}`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
			defer cancel()
			mod, err := ctx.LoadModuleByID("caddy.logging.encoders."+tc.module, json.RawMessage(tc.config))
			if err != nil {
				b.Fatal(err)
			}
			enc := mod.(zapcore.Encoder)
			out, err := enc.EncodeEntry(entry, fields)
			if err != nil || strings.Contains(out.String(), fuzzToken) != (tc.name == "json only") {
				b.Fatalf("%v: %s", err, out)
			}
			b.ReportAllocs()
			for b.Loop() {
				buf, _ := enc.EncodeEntry(entry, fields)
				buf.Free()
			}
		})
	}
}
