package caddymodule

import (
	"encoding/base64"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/tokenstore"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestGatewayDecisions runs the access matrix through a real Caddy, real
// HTTP and a real bbolt file, with private packages refused by reason
// (401/403); TestHiddenPackages covers the default, which hides them.
func TestGatewayDecisions(t *testing.T) {
	g := startGateway(t, "private_packages refuse")
	tok := g.seed()
	alice, bob, pypiOnly, ci := tok["alice/all"], tok["bob/conda"], tok["alice/pypi-only"], tok["acme/ci"]

	tests := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		status int
		body   string // substring of the body
	}{
		{"public package anonymous", "GET", "/acme/noarch/open-1.0-0.conda", nil, 200, "OPEN"},
		{"public index anonymous", "GET", "/acme/noarch/repodata.json", nil, 200, "packages"},
		{"missing probe stays 404", "GET", "/acme/noarch/repodata_shards.msgpack.zst", nil, 404, ""},
		{"missing zst probe with token stays 404", "GET", "/t/" + alice + "/acme/linux-64/repodata.json.zst", nil, 404, ""},
		{"private anonymous", "GET", "/acme/noarch/secret-1.0-0.conda", nil, 401, "authentication required"},
		{"private via path token", "GET", "/t/" + alice + "/acme/noarch/secret-1.0-0.conda", nil, 200, "SECRET"},
		{"private via label", "GET", "/t/" + alice + "/acme/label/dev/noarch/secret-2.0-0.conda", nil, 200, "SECRET-DEV"},
		{"label main is no label", "GET", "/t/" + alice + "/acme/label/main/noarch/secret-1.0-0.conda", nil, 200, "SECRET"},
		{"private via token header", "GET", "/acme/noarch/secret-1.0-0.conda", map[string]string{"Authorization": "token " + alice}, 200, "SECRET"},
		{"private via bearer", "GET", "/acme/noarch/secret-1.0-0.conda", map[string]string{"Authorization": "Bearer " + alice}, 200, "SECRET"},
		{"private via basic password", "GET", "/acme/noarch/secret-1.0-0.conda", map[string]string{"Authorization": basic("__token__", alice)}, 200, "SECRET"},
		{"private via basic user", "GET", "/acme/noarch/secret-1.0-0.conda", map[string]string{"Authorization": basic(alice, "")}, 200, "SECRET"},
		{"org token", "GET", "/t/" + ci + "/acme/noarch/secret-1.0-0.conda", nil, 200, "SECRET"},
		{"group member on group package", "GET", "/t/" + bob + "/acme/noarch/shared-1.0-0.tar.bz2", nil, 200, "SHARED"},
		{"group member elsewhere", "GET", "/t/" + bob + "/acme/noarch/secret-1.0-0.conda", nil, 403, "bob may not read acme/secret"},
		{"missing scope", "GET", "/t/" + pypiOnly + "/acme/noarch/secret-1.0-0.conda", nil, 403, "token lacks scope conda:download"},
		{"pypi private with pypi scope", "GET", "/t/" + pypiOnly + "/acme/simple/Acme_Tools/", nil, 200, "TOOLS"},
		{"pypi private anonymous", "GET", "/acme/simple/acme-tools/", nil, 401, ""},
		{"conda token on pypi", "GET", "/t/" + bob + "/acme/simple/acme-tools/", nil, 403, "pypi:download"},
		{"malformed token", "GET", "/t/not-a-token/acme/noarch/secret-1.0-0.conda", nil, 401, "malformed token"},
		{"underscore token", "GET", "/t/cgt_abc/acme/noarch/open-1.0-0.conda", nil, 401, "malformed token"},
		{"token on public with bad checksum", "GET", "/t/" + flip(alice) + "/acme/noarch/open-1.0-0.conda", nil, 401, "malformed token"},
		{"disagreeing tokens", "GET", "/t/" + alice + "/acme/noarch/secret-1.0-0.conda", map[string]string{"Authorization": "token " + bob}, 400, "differ"},
		{"json error", "GET", "/acme/noarch/secret-1.0-0.conda", map[string]string{"Accept": "application/json"}, 401, `{"error":"authentication required`},
		{"write needs upload scope", "PUT", "/t/" + bob + "/acme/noarch/shared-2.0-0.conda", nil, 403, "token lacks scope conda"},
		{"write needs write permission", "PUT", "/t/" + ci + "/bob/noarch/x-1.0-0.conda", nil, 403, "acme may not write to bob/x"},
		{"dot segment", "GET", "/acme/noarch/%2e%2e/secret-1.0-0.conda", nil, 400, "dot segment"},
		{"encoded slash", "GET", "/acme%2fnoarch/open-1.0-0.conda", nil, 400, "encoded slash"},
		{"upper-case channel", "GET", "/ACME/noarch/open-1.0-0.conda", nil, 400, "invalid channel"},
		// First-try items of issue 9: the site root and reserved names
		// (pages the site may serve) are no bad request.
		{"site root", "GET", "/", nil, 404, "no channel here"},
		{"reserved name", "GET", "/login", nil, 404, "login is a reserved name, not a channel"},
		{"reserved name, deeper, with a token", "GET", "/t/" + alice + "/settings/tokens", nil, 404, "settings is a reserved name"},
		{"odd method", "OPTIONS", "/acme/noarch/open-1.0-0.conda", nil, 405, ""},
		{"bad conda file name", "GET", "/acme/noarch/secret.conda", nil, 400, "package file name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, hdr := g.do(tc.method, tc.path, tc.hdr)
			if status != tc.status || !strings.Contains(body, tc.body) {
				t.Fatalf("%s %s: got %d %q, want %d containing %q", tc.method, tc.path, status, body, tc.status, tc.body)
			}
			if status == 401 && hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			for _, secret := range tok {
				if strings.Contains(body, secret) {
					t.Errorf("response echoes a token")
				}
			}
		})
	}

	t.Run("revocation applies to the next request", func(t *testing.T) {
		path := "/t/" + alice + "/acme/noarch/secret-1.0-0.conda"
		if status, _, _ := g.do("GET", path, nil); status != 200 {
			t.Fatalf("before revoke: %d", status)
		}
		if err := g.store.RevokeToken(testActor, "alice", "all"); err != nil {
			t.Fatal(err)
		}
		status, body, _ := g.do("GET", path, nil)
		if status != 401 || !strings.Contains(body, "revoked") {
			t.Fatalf("after revoke: %d %q", status, body)
		}
	})

	t.Run("visibility change applies to the next request", func(t *testing.T) {
		if _, err := g.store.PutPackage(testActor, "acme", "conda", "open", false, ""); err != nil {
			t.Fatal(err)
		}
		if status, _, _ := g.do("GET", "/acme/noarch/open-1.0-0.conda", nil); status != 401 {
			t.Fatalf("package made private still served: %d", status)
		}
	})

	t.Run("no token in any log", func(t *testing.T) {
		logs := g.logs()
		if !strings.Contains(logs, "/t/<TOKEN>") {
			t.Fatalf("access log has no filtered request lines:\n%s", logs)
		}
		for name, secret := range tok {
			if strings.Contains(logs, secret) || strings.Contains(logs, secret[len(secret)-20:]) {
				t.Errorf("token %s found in logs:\n%s", name, grepLines(logs, secret[len(secret)-20:]))
			}
		}
	})
}

// flip changes the last character of a token, breaking its checksum.
func flip(tok string) string {
	last := tok[len(tok)-1]
	if last == 'a' {
		return tok[:len(tok)-1] + "b"
	}
	return tok[:len(tok)-1] + "a"
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestHiddenPackages checks the default private_packages hide: in a
// channel whose unregistered packages are public, a private package the
// caller may not read answers exactly as a package the channel does not
// have (status, headers and body), for every kind of caller; callers who
// may read it get it; and in a channel private by default both answer
// 401/403 with their reason.
func TestHiddenPackages(t *testing.T) {
	g := startGateway(t, "")
	tok := g.seed()
	alice, bob, pypiOnly := tok["alice/all"], tok["bob/conda"], tok["alice/pypi-only"]
	const (
		secret  = "/acme/noarch/secret-1.0-0.conda"
		missing = "/acme/noarch/nothere-1.0-0.conda"
	)
	for _, tc := range []struct {
		name, method, hidden, missing string
		hdr                           map[string]string
	}{
		{"anonymous", "GET", secret, missing, nil},
		{"anonymous HEAD", "HEAD", secret, missing, nil},
		{"anonymous asking for JSON", "GET", secret, missing, map[string]string{"Accept": "application/json"}},
		{"anonymous range", "GET", secret, missing, map[string]string{"Range": "bytes=-10240"}},
		{"token without permission, in the path", "GET", "/t/" + bob + secret, "/t/" + bob + missing, nil},
		{"token without scope, in a header", "GET", secret, missing, map[string]string{"Authorization": "Bearer " + pypiOnly}},
		{"label", "GET", "/acme/label/dev/noarch/secret-2.0-0.conda", "/acme/label/dev/noarch/nothere-2.0-0.conda", nil},
		{"PyPI project page", "GET", "/acme/simple/Acme_Tools/", "/acme/simple/no-such-project/", nil},
		{"PyPI project page, pip's Accept", "GET", "/acme/simple/acme-tools/", "/acme/simple/no-such-project/", map[string]string{"Accept": pipAccept}},
		{"PyPI project page, conda token", "GET", "/t/" + bob + "/acme/simple/acme-tools/", "/t/" + bob + "/acme/simple/no-such-project/", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs, hb, hh := g.do(tc.method, tc.hidden, tc.hdr)
			ms, mb, mh := g.do(tc.method, tc.missing, tc.hdr)
			hh.Del("Date")
			mh.Del("Date")
			if hs != http.StatusNotFound || hs != ms || hb != mb || !maps.EqualFunc(hh, mh, func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }) {
				t.Fatalf("hidden: %d %v %q\nmissing: %d %v %q", hs, hh, hb, ms, mh, mb)
			}
		})
	}
	for _, path := range []string{"/t/" + alice + secret, "/t/" + pypiOnly + "/acme/simple/acme-tools/"} {
		if status, _, _ := g.do("GET", path, nil); status != http.StatusOK {
			t.Errorf("reader refused: %d", status)
		}
	}
	if status, body, _ := g.do("GET", "/t/"+flip(alice)+secret, nil); status != http.StatusUnauthorized || !strings.Contains(body, "malformed token") {
		t.Errorf("bad token on a hidden package: %d %q, want 401 as on any package", status, body)
	}
	if status, body, _ := g.do("PUT", "/t/"+bob+secret, nil); status != http.StatusForbidden || !strings.Contains(body, "token lacks scope conda") {
		t.Errorf("write: %d %q, want 403 with its reason", status, body)
	}

	if err := g.store.SetChannelDefault(testActor, "acme", true); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{secret, missing} {
		if status, body, _ := g.do("GET", path, nil); status != http.StatusUnauthorized || !strings.Contains(body, "authentication required") {
			t.Errorf("private-by-default channel, anonymous %s: %d %q, want 401", path, status, body)
		}
		if status, body, _ := g.do("GET", "/t/"+bob+path, nil); status != http.StatusForbidden || !strings.Contains(body, "bob may not read") {
			t.Errorf("private-by-default channel, bob %s: %d %q, want 403", path, status, body)
		}
	}
	if _, err := g.store.PutPackage(testActor, "acme", tokenstore.Conda, "secret", true, ""); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := g.do("GET", secret, nil); status != http.StatusOK {
		t.Errorf("package made public: %d", status)
	}
}
