package admin_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/admin"
)

func TestRoutingAndPublicEndpoints(t *testing.T) {
	e := newEnv(t, admin.Config{})
	stale := e.token("alice", "stale")
	if err := e.store.RevokeToken(e.fixture(), "alice", "stale"); err != nil {
		t.Fatal(err)
	}
	e.run(t, []apiCase{
		{name: "HEAD root", method: "HEAD", path: "/", status: 200},
		{name: "GET root", method: "GET", path: "/", status: 200},
		{name: "HEAD root with a revoked token still 200", method: "HEAD", path: "/", auth: "token " + stale, status: 200},
		{name: "authentication type", method: "GET", path: "/authentication-type", status: 200,
			fields: map[string]any{"authentication_type": "password"}},
		{name: "scopes without auth", method: "GET", path: "/scopes", status: 200,
			fields: map[string]any{"api:read": "Read accounts, packages and tokens through the API"}},
		{name: "unknown path", method: "GET", path: "/nope", status: 404, errContains: "no API endpoint /nope"},
		{name: "unknown nested path", method: "GET", path: "/user/alice/extra", status: 404, errContains: "no API endpoint"},
		{name: "wrong method", method: "PUT", path: "/scopes", status: 405, errContains: "method PUT is not allowed"},
	})
	if r := e.do("DELETE", "/authentication-type", "", nil); r.header.Get("Allow") == "" {
		t.Errorf("405 without Allow header")
	}
}

func TestRequestBodies(t *testing.T) {
	e := newEnv(t, admin.Config{})
	tok := e.token("alice", "t")
	auth := "token " + tok
	e.run(t, []apiCase{
		{name: "malformed JSON", method: "POST", path: "/authentications", auth: auth, body: `{"note": `,
			status: 400, errContains: "malformed JSON body"},
		{name: "syntax error names the byte", method: "POST", path: "/group/acme/devs", auth: auth, body: `{"perms": read}`,
			status: 400, errContains: "at byte"},
		{name: "wrong type names the field", method: "POST", path: "/authentications", auth: auth, body: `{"note": 5}`,
			status: 400, errContains: `field "note" must be string`},
		{name: "trailing data", method: "POST", path: "/group/acme/devs", auth: auth, body: `{"perms": "read"} {}`,
			status: 400, errContains: "data after the JSON value"},
		{name: "over 1 MiB", method: "POST", path: "/authentications", auth: auth,
			body: `{"note": "` + strings.Repeat("x", 1<<20) + `"}`, status: 413, errContains: "larger than"},
		{name: "anaconda-client's body: unknown fields ignored, public_attrs read", method: "POST", path: "/package/alice/pkg", auth: auth,
			body:   `{"public": true, "publish": false, "public_attrs": {"summary": "x", "package_types": ["pypi"], "license": {"name": "MIT"}}}`,
			status: 200, fields: map[string]any{"summary": "x", "package_types": []string{"pypi"}, "owner": map[string]any{"login": "alice"}}},
	})
}

func TestStripPrefixMount(t *testing.T) {
	e := newEnv(t, admin.Config{})
	tok := e.token("alice", "t")
	srv := httptest.NewServer(http.StripPrefix("/api", admin.New(e.store, admin.Config{})))
	defer srv.Close()
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"HEAD", "/api", 200},
		{"HEAD", "/api/", 200},
		{"GET", "/api/user", 200},
		{"DELETE", "/api/authentications/name/no%20such%20token", 404},
		{"GET", "/api/missing", 404},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		req.Header.Set("Authorization", "token "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
	}
}

func TestStoreFailureIs503(t *testing.T) {
	e := newEnv(t, admin.Config{})
	e.store.Close()
	e.run(t, []apiCase{
		{name: "closed store", method: "GET", path: "/user", auth: basic("alice", password), status: 503, errContains: "store unavailable"},
	})
}
