package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/channelgate/channelgate/tokenstore"
)

// gateway is a real Caddy (in this process, driven through its admin API) serving a storage folder through channelgate with a
// bbolt file of its own.
type gateway struct {
	t       *testing.T
	tester  *caddytest.Tester
	dir     string
	base    string
	store   *tokenstore.Store
	storage string
	db      string // the bbolt file
	config  string // the loaded Caddyfile
	// upstream records the storage's requests (proxy sites only).
	upstream *storageRecorder
}

// The test Caddy's ports: caddytest's admin port and the site's port.
// CHANNELGATE_TEST_PORTS="<admin> <site>" moves them, so that two test
// runs on one machine do not drive each other's Caddy.
var adminPort, gatewayPort = testPorts()

func testPorts() (int, int) {
	admin, site := 2999, 9080
	if v := os.Getenv("CHANNELGATE_TEST_PORTS"); v != "" {
		if _, err := fmt.Sscanf(v, "%d %d", &admin, &site); err != nil {
			panic("CHANNELGATE_TEST_PORTS must be two port numbers: " + err.Error())
		}
	}
	return admin, site
}

// operatorSecret is the test gateway's site-administrator secret for the
// API at /api.
const operatorSecret = "operator-secret-for-tests-0123456789"

// site is what differs between test gateways; one builder (caddyfile)
// renders every variant.
type site struct {
	// options are extra lines in the channelgate block.
	options string
	// serve is what answers decided requests; "" serves the storage
	// folder with file_server.
	serve string
	// routes are extra site routes placed before the gateway (e.g. a
	// metrics handle).
	routes string
	// db is the bbolt file; "" puts it in the test's folder.
	db string
	// proxy serves the storage folder through a recording HTTP storage
	// (g.upstream) behind reverse_proxy instead of file_server.
	proxy bool
	// api are extra lines in the channelgate_api block.
	api string
	// storageRoot gives the API the storage folder as storage_root.
	storageRoot bool
	// web, when set, are the options of a channelgate_web directive in
	// front of the gateway (its db is added).
	web string
}

// startGateway loads a Caddyfile with extra channelgate options and returns
// the running gateway; its storage folder starts empty.
func startGateway(t *testing.T, options string) *gateway {
	return startSite(t, site{options: options})
}

// startSite is startGateway for any site variant.
func startSite(t *testing.T, s site) *gateway {
	t.Helper()
	dir := t.TempDir()
	g := &gateway{t: t, dir: dir, base: fmt.Sprintf("http://localhost:%d", gatewayPort),
		storage: filepath.Join(dir, "storage"), db: filepath.Join(dir, "cg.db")}
	if err := os.MkdirAll(g.storage, 0o755); err != nil {
		t.Fatal(err)
	}
	if s.db != "" {
		g.db = s.db
	}
	if s.proxy {
		g.upstream = newStorageRecorder(t, folderStorage(g.storage))
		s.serve = "reverse_proxy " + g.upstream.srv.URL
	}
	g.config = g.caddyfile(s)
	g.tester = caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort})
	g.tester.InitServer(g.config, "caddyfile")
	abs, _ := filepath.Abs(g.db)
	st, ok := openStores.Load(abs)
	if !ok {
		t.Fatalf("store %s not open after config load", abs)
	}
	g.store = st.(*tokenstore.Store)
	return g
}

// caddyfile renders the test Caddyfile of a site variant.
func (g *gateway) caddyfile(s site) string {
	if s.serve == "" {
		s.serve = "root * " + g.storage + "\n\t\tfile_server"
	}
	if s.storageRoot {
		s.api += "\n\t\t\tstorage_root " + g.storage
	}
	return fmt.Sprintf(`{
	admin localhost:%[8]d
	http_port %[1]d
	grace_period 1ns
	log {
		output file %[2]s/caddy.log
		level DEBUG
	}
}
http://localhost:%[3]d {
	log {
		output file %[2]s/access.log
		format filter {
			request channelgate_token_mask
			resp_headers channelgate_token_mask
		}
	}
	@twine {
		method POST
		path_regexp ^/(t/[^/]+/)?[a-z0-9][a-z0-9._-]*/(simple/?)?$
	}
	rewrite @twine /api/pypi/upload
	@api path /api /api/*
	handle @api {
		uri strip_prefix /api
		channelgate_api {
			db %[4]s
			operator_secret %[7]s
			%[10]s
		}
	}
	%[9]s
	handle {
		%[11]s
		channelgate {
			db %[4]s
			%[5]s
		}
		%[6]s
	}
}
`, gatewayPort, g.dir, gatewayPort, g.db, s.options, s.serve, operatorSecret, adminPort, s.routes, s.api, webBlock(s.web, g.db))
}

// webBlock is the channelgate_web directive with options, or nothing.
func webBlock(options, db string) string {
	if options == "" {
		return ""
	}
	return "channelgate_web {\n\t\t\tdb " + db + "\n\t\t\t" + options + "\n\t\t}"
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

// testActor sets fixtures up as the operator would: as a site
// administrator, who may create accounts named like served channels.
var testActor = tokenstore.Actor{Name: "test", SiteAdmin: true}

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
