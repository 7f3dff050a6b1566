package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/channelgate/channelgate/tokenstore"
)

// gateway is a real Caddy (in this process, driven through its admin API
// on localhost:2999) serving a storage folder through channelgate with a
// bbolt file of its own.
type gateway struct {
	t       *testing.T
	tester  *caddytest.Tester
	dir     string
	base    string
	store   *tokenstore.Store
	storage string
	// upstream records the storage's requests (startGatewayProxy only).
	upstream *storageRecorder
}

// The test Caddy's ports: caddytest's admin port and the site's port.
// CHANNELGATE_TEST_PORTS="<admin> <site>" moves them, so that two test
// runs on one machine do not drive each other's Caddy.
var adminPort, gatewayPort = testPorts()

func testPorts() (int, int) {
	adminP, site := 2999, 9080
	if v := os.Getenv("CHANNELGATE_TEST_PORTS"); v != "" {
		if _, err := fmt.Sscanf(v, "%d %d", &adminP, &site); err != nil {
			panic("CHANNELGATE_TEST_PORTS must be two port numbers: " + err.Error())
		}
	}
	return adminP, site
}

// operatorSecret is the test gateway's site-administrator secret for the
// API at /api.
const operatorSecret = "operator-secret-for-tests"

// startGateway loads a Caddyfile with extra channelgate options and returns
// the running gateway; its storage folder starts empty and is served by
// file_server.
func startGateway(t *testing.T, options string) *gateway {
	t.Helper()
	return newGateway(t, options, false)
}

// startGatewayProxy is startGateway with the storage behind reverse_proxy:
// a Go server (g.upstream) serves the storage folder and records every
// request it gets, so tests can check what reaches the storage.
func startGatewayProxy(t *testing.T, options string) *gateway {
	t.Helper()
	return newGateway(t, options, true)
}

func newGateway(t *testing.T, options string, proxy bool) *gateway {
	t.Helper()
	dir := t.TempDir()
	g := &gateway{t: t, dir: dir, base: fmt.Sprintf("http://localhost:%d", gatewayPort),
		storage: filepath.Join(dir, "storage")}
	if err := os.MkdirAll(g.storage, 0o755); err != nil {
		t.Fatal(err)
	}
	storage := fmt.Sprintf("root * %s\n\tfile_server", g.storage)
	if proxy {
		g.upstream = newStorageRecorder(t, g.storage)
		storage = "reverse_proxy " + g.upstream.srv.URL
	}
	db := filepath.Join(dir, "cg.db")
	g.tester = caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort})
	g.tester.InitServer(gatewayConfig(dir, db, options, storage), "caddyfile")
	abs, _ := filepath.Abs(db)
	s, ok := openStores.Load(abs)
	if !ok {
		t.Fatalf("store %s not open after config load", abs)
	}
	g.store = s.(*tokenstore.Store)
	return g
}

// gatewayConfig is the one Caddyfile of the tests: logs to files in dir,
// the API at /api, channelgate with its options, then the storage
// directives.
func gatewayConfig(dir, db, options, storage string) string {
	return fmt.Sprintf(`{
	admin localhost:%[1]d
	http_port %[2]d
	grace_period 1ns
	log {
		output file %[3]s/caddy.log
		level DEBUG
	}
}
http://localhost:%[2]d {
	log {
		output file %[3]s/access.log
		format filter {
			request>uri regexp ^/t/[^/]* /t/<TOKEN>
		}
	}
	@api path /api /api/*
	handle @api {
		uri strip_prefix /api
		channelgate_api {
			db %[4]s
			operator_secret %[5]s
		}
	}
	handle {
		channelgate {
			db %[4]s
			%[6]s
		}
		%[7]s
	}
}
`, adminPort, gatewayPort, dir, db, operatorSecret, options, storage)
}

// storageRecorder is a static package store over HTTP, like a bucket: it
// serves a folder for GET and HEAD with ETags (405 for other methods) and
// records every request it receives.
type storageRecorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recordedRequest
}

// recordedRequest is what the storage saw of one request.
type recordedRequest struct {
	Method, URI, Host string
	Header            http.Header
}

func newStorageRecorder(t *testing.T, root string) *storageRecorder {
	r := &storageRecorder{}
	files := http.FileServer(http.Dir(root))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, recordedRequest{Method: req.Method, URI: req.RequestURI, Host: req.Host, Header: req.Header.Clone()})
		r.mu.Unlock()
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path.Clean(req.URL.Path)))); err == nil {
			sum := sha256.Sum256(b)
			w.Header().Set("Etag", `"`+hex.EncodeToString(sum[:8])+`"`) // as buckets do; FileServer honours it
		}
		files.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// requests returns a copy of what the storage received so far.
func (r *storageRecorder) requests() []recordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedRequest(nil), r.reqs...)
}

// file writes a storage file.
func (g *gateway) file(rel, content string) {
	g.t.Helper()
	p := filepath.Join(g.storage, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		g.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

// do sends a request and returns status and body.
func (g *gateway) do(method, path string, hdr map[string]string) (int, string, http.Header) {
	g.t.Helper()
	return g.doBody(method, path, hdr, nil)
}

// doBody is do with a request body.
func (g *gateway) doBody(method, path string, hdr map[string]string, body io.Reader) (int, string, http.Header) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.base+path, body)
	if err != nil {
		g.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := g.tester.Client.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// logs returns everything Caddy logged so far.
func (g *gateway) logs() string {
	var all strings.Builder
	for _, f := range []string{"caddy.log", "access.log"} {
		b, _ := os.ReadFile(filepath.Join(g.dir, f))
		all.Write(b)
	}
	return all.String()
}

var testActor = tokenstore.Actor{Name: "test"}

// seed creates users, an organization and packages, and returns tokens by
// name.
func (g *gateway) seed() map[string]string {
	g.t.Helper()
	s := g.store
	must := func(err error) {
		g.t.Helper()
		if err != nil {
			g.t.Fatal(err)
		}
	}
	for _, u := range []string{"alice", "bob"} {
		_, err := s.CreateUser(testActor, tokenstore.NewUser{Name: u, Email: u + "@example.com",
			Password: "secret-pw", PasswordConfirmation: "secret-pw", AcceptTerms: true})
		must(err)
	}
	_, err := s.CreateOrg(testActor, "acme", "alice")
	must(err)
	_, err = s.PutGroup(testActor, "acme", "readers", tokenstore.PermRead)
	must(err)
	must(s.SetMember(testActor, "acme", "readers", "bob", true))
	must(s.SetGroupPackage(testActor, "acme", "readers", "shared", true))
	for _, p := range []struct {
		kind   tokenstore.Kind
		name   string
		public bool
	}{{tokenstore.Conda, "secret", false}, {tokenstore.Conda, "shared", false}, {tokenstore.Conda, "open", true},
		{tokenstore.PyPI, "acme-tools", false}} {
		_, err := s.PutPackage(testActor, "acme", p.kind, p.name, p.public, "")
		must(err)
	}
	tokens := map[string]string{}
	for _, spec := range []tokenstore.TokenSpec{
		{Owner: "alice", CreatedBy: "alice", Name: "all"},
		{Owner: "alice", CreatedBy: "alice", Name: "pypi-only", Scopes: []string{"pypi:download"}},
		{Owner: "bob", CreatedBy: "bob", Name: "conda", Scopes: []string{"conda:download"}},
		{Owner: "acme", CreatedBy: "alice", Name: "ci", Scopes: []string{"repos"}},
	} {
		secret, _, err := s.CreateToken(testActor, spec)
		must(err)
		tokens[spec.Owner+"/"+spec.Name] = secret
	}
	g.file("acme/noarch/repodata.json", `{"packages":{}}`)
	g.file("acme/noarch/secret-1.0-0.conda", "SECRET")
	g.file("acme/noarch/shared-1.0-0.tar.bz2", "SHARED")
	g.file("acme/noarch/open-1.0-0.conda", "OPEN")
	g.file("acme/label/dev/noarch/secret-2.0-0.conda", "SECRET-DEV")
	g.file("acme/simple/acme-tools/index.html", "TOOLS")
	return tokens
}
