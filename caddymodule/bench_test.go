package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/channelgate/channelgate/tokenstore"
)

// Run with:
//
//	go test -run '^$' -bench . -benchmem ./caddymodule/
//
// The load benchmark of the built Caddy is bench/load (see BENCHMARKS.md).

// benchPath is a typical conda download with the token in the path.
const benchFile = "/acme/noarch/secret-1.0-0.conda"

func BenchmarkParsePath(b *testing.B) {
	tok := "cgt-" + "0123456789abcdefghijABCDEFGHIJ0123456789ab"
	p := "/t/" + tok + benchFile
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parsePath(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePathPyPI(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parsePath("/acme/simple/Acme_Tools/acme_tools-1.0-py3-none-any.whl"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender is the storage path rewrite alone, for the default
// template and for a template with a fixed prefix and the label name.
func BenchmarkRender(b *testing.B) {
	t, err := parsePath("/acme/label/dev/noarch/secret-1.0-0.conda")
	if err != nil {
		b.Fatal(err)
	}
	for _, tmpl := range []string{"", "/mirror/{channel}/{label}/{rest}"} {
		layout, err := parseStorageTemplate(tmpl)
		if err != nil {
			b.Fatal(err)
		}
		name := tmpl
		if name == "" {
			name = "default"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if layout.render(&t) == "" {
					b.Fatal("empty path")
				}
			}
		})
	}
}

// BenchmarkRequestToken is token extraction from the path and from each
// Authorization form.
func BenchmarkRequestToken(b *testing.B) {
	tok := "cgt-" + "0123456789abcdefghijABCDEFGHIJ0123456789ab"
	cases := []struct {
		name      string
		header    string
		pathToken string
	}{
		{"path", "", tok},
		{"token", "token " + tok, ""},
		{"bearer", "Bearer " + tok, ""},
		{"basic", basic("__token__", tok), ""},
	}
	for _, c := range cases {
		h := http.Header{}
		if c.header != "" {
			h.Set("Authorization", c.header)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got, err := requestToken(h, c.pathToken); err != nil || got != tok {
					b.Fatalf("%q %v", got, err)
				}
			}
		})
	}
}

// benchHandler is a provisioned Handler on a fresh bbolt file from the
// shared pool (acquireStore, as Provision does), with user alice owning
// the private conda package acme/secret through organization acme, and a
// conda:download token of hers.
func benchHandler(b *testing.B) (*Handler, string) {
	b.Helper()
	return benchHandlerOn(b, StoreConfig{DB: filepath.Join(b.TempDir(), "bench.db")}, "dl")
}

// benchHandlerOn is benchHandler on the store cfg names, with a token
// named token.
func benchHandlerOn(b *testing.B, cfg StoreConfig, token string) (*Handler, string) {
	b.Helper()
	h := &Handler{StoreConfig: cfg, logger: zap.NewNop(), unregisteredPublic: true}
	if err := h.provisionFailureLimit(); err != nil {
		b.Fatal(err)
	}
	var err error
	if h.layout, err = parseStorageTemplate(""); err != nil {
		b.Fatal(err)
	}
	if h.store, h.storeKey, err = acquireStore(cfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Cleanup() })
	s, actor := h.store, tokenstore.Actor{Name: "bench"}
	if _, err := s.CreateUser(actor, tokenstore.NewUser{Name: "alice", Email: "alice@example.com",
		Password: "secret-pw", PasswordConfirmation: "secret-pw", AcceptTerms: true}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateOrg(actor, "acme", "alice"); err != nil {
		b.Fatal(err)
	}
	if _, err := s.PutPackage(actor, "acme", tokenstore.Conda, "secret", false, ""); err != nil {
		b.Fatal(err)
	}
	return h, benchToken(b, h, token)
}

// benchToken creates alice's conda:download token named name.
func benchToken(b *testing.B, h *Handler, name string) string {
	b.Helper()
	secret, _, err := h.store.CreateToken(tokenstore.Actor{Name: "bench"}, tokenstore.TokenSpec{Owner: "alice",
		CreatedBy: "alice", Name: name, Scopes: []string{"conda:download"}})
	if err != nil {
		b.Fatal(err)
	}
	return secret
}

// nopWriter is a ResponseWriter that keeps nothing.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkServeHTTPCacheHit is the whole handler on the common download:
// private package, valid token (in the path or a header), token in the
// cache, decision, token stripping, rewrite, placeholders, next handler.
// The request is built once, as Caddy builds it before the handler runs,
// and the fields the handler rewrites are restored before each call; the
// replacer and the original request are what Caddy puts in every
// request's context.
func BenchmarkServeHTTPCacheHit(b *testing.B) {
	h, secret := benchHandler(b)
	for _, c := range []struct {
		name string
		req  benchRequest
	}{
		{"path-token", benchRequest{path: "/t/" + secret + benchFile}},
		{"header-token", benchRequest{path: benchFile, auth: "token " + secret}},
	} {
		b.Run(c.name, func(b *testing.B) { benchServe(b, h, c.req) })
	}
}

// benchRequest is a download's path and Authorization header ("": none).
type benchRequest struct{ path, auth string }

// benchServe runs h b.N times on the requests in turn, failing unless
// every one reaches the next handler with its path rewritten.
func benchServe(b *testing.B, h *Handler, reqs ...benchRequest) {
	b.Helper()
	var served int
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		served++
		return nil
	})
	rs := make([]*http.Request, len(reqs))
	auths := make([][]string, len(reqs))
	for i, c := range reqs {
		auths[i] = []string{c.auth}
		r := httptest.NewRequest(http.MethodGet, c.path, nil)
		ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
		rs[i] = r.WithContext(context.WithValue(ctx, caddyhttp.OriginalRequestCtxKey, *r))
	}
	w := &nopWriter{h: http.Header{}}
	serve := func(i int) error {
		c, r := reqs[i], rs[i]
		r.URL.Path, r.URL.RawPath, r.RequestURI = c.path, "", c.path
		if c.auth != "" {
			r.Header["Authorization"] = auths[i]
		}
		return h.ServeHTTP(w, r, next)
	}
	for i := range reqs {
		if err := serve(i); err != nil || served != i+1 || rs[i].URL.Path != benchFile {
			b.Fatalf("setup %d: served %d, err %v, rewritten to %q", i, served, err, rs[i].URL.Path)
		}
	}
	served = 0
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		if err := serve(n % len(reqs)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if served != n {
		b.Fatalf("next handler ran %d times for %d requests", served, n)
	}
}

// TestRestAndRenderWithoutAllocs guards the allocation-free parsePath and
// render against what they replaced: rest is the segments below the
// channel and label joined with "/", and render is the template filled in
// (whether or not it returns the request path itself).
func TestRestAndRenderWithoutAllocs(t *testing.T) {
	tok := "cgt-" + "0123456789abcdefghijABCDEFGHIJ0123456789ab"
	layouts := map[string]storageTemplate{}
	for _, s := range []string{"", "/mirror/{channel}/{label}/{rest}", "/{rest}"} {
		l, err := parseStorageTemplate(s)
		if err != nil {
			t.Fatal(err)
		}
		layouts[s] = l
	}
	for _, p := range []string{
		"/acme/noarch/secret-1.0-0.conda", "/t/" + tok + "/acme/noarch/secret-1.0-0.conda",
		"/acme/label/dev/noarch/x-1-0.conda", "/acme/label/main/noarch/x-1-0.conda", "/acme/label/main/",
		"/acme/", "/acme/noarch/", "/acme/simple/", "/acme/simple/Acme_Tools/", "/acme/simple/acme-tools/a.whl",
		"/t/" + tok + "/acme/label/dev/simple/Acme.Tools/", "/acme/channeldata.json", "/acme/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r",
	} {
		tg, err := parsePath(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		below := strings.TrimPrefix(tg.clientPath, "/"+tg.channel)
		segs := strings.Split(strings.TrimPrefix(below, "/"), "/")
		if len(segs) >= 2 && segs[0] == "label" {
			segs = segs[2:]
		}
		if tg.kind == tokenstore.PyPI && len(segs) > 1 {
			segs[1] = tokenstore.NormalizeName(tokenstore.PyPI, segs[1])
		}
		if want := strings.Join(segs, "/"); tg.rest != want {
			t.Errorf("%s: rest %q, want %q", p, tg.rest, want)
		}
		for s, l := range layouts {
			label := tg.label
			if label == "" {
				label = "main"
			}
			labelPath := ""
			if tg.label != "" {
				labelPath = "/label/" + tg.label
			}
			if s == "" {
				s = defaultStoragePath
			}
			want := strings.NewReplacer("{channel}", tg.channel, "{label}", label, "{label_path}", labelPath, "{rest}", tg.rest).Replace(s)
			if got := l.render(&tg); got != want {
				t.Errorf("%s with %s: render %q, want %q", p, s, got, want)
			}
		}
	}
}
