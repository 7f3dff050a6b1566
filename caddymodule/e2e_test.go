package caddymodule

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/channelgate/channelgate/tokenstore"
)

// End-to-end tests: real clients (Debian's pip, conda-package-streaming)
// against a real Caddy with channelgate, real bbolt and real package
// files. Every test runs twice: with the storage served by file_server
// (the documented setup) and behind reverse_proxy to a recording store,
// and every run ends by checking that no token reached the logs or the
// storage.

// python is Debian's interpreter, which has the client packages; the
// python3 on PATH may be another build without them.
const python = "/usr/bin/python3"

// e2e is one gateway with the seeded accounts and the fixture channels.
type e2e struct {
	g   *gateway
	fx  fixtureChannel // channel acme: public and private packages
	tok map[string]string
}

// storageBackends are the two ways the tests put the storage behind the
// gateway.
var storageBackends = []struct {
	name  string
	proxy bool
}{{"file_server", false}, {"reverse_proxy", true}}

// forEachBackend runs fn against a fresh, seeded gateway per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, e *e2e)) {
	for _, b := range storageBackends {
		t.Run(b.name, func(t *testing.T) { fn(t, setupE2E(t, b.proxy)) })
	}
}

// setupE2E starts a gateway, seeds it (g.seed plus the public PyPI
// project acme-open, a revoked token alice/revoked and a private-by-default
// channel bob), installs the fixture channels acme and bob, and registers
// the leak check to run when the test ends.
func setupE2E(t *testing.T, proxy bool) *e2e {
	t.Helper()
	g := startSite(t, site{proxy: proxy, storageRoot: true})
	tok := g.seed()
	s := g.store
	if _, err := s.PutPackage(testActor, "acme", tokenstore.PyPI, "acme-open", true, ""); err != nil {
		t.Fatal(err)
	}
	secret, _, err := s.CreateToken(testActor, tokenstore.TokenSpec{Owner: "alice", CreatedBy: "alice", Name: "revoked"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(testActor, "alice", "revoked"); err != nil {
		t.Fatal(err)
	}
	tok["alice/revoked"] = secret
	if err := s.SetChannelDefault(testActor, "bob", true); err != nil {
		t.Fatal(err)
	}
	e := &e2e{g: g, fx: buildFixtureChannel(t, "acme"), tok: tok}
	e.fx.install(g)
	buildFixtureChannel(t, "bob").install(g)
	t.Cleanup(func() { e.assertNoTokenLeak(t) })
	return e
}

// assertNoTokenLeak proves the gateway kept every token to itself: see
// tokenLeaks. It fails if there is nothing to check (no access log
// lines; behind reverse_proxy, no storage requests).
func (e *e2e) assertNoTokenLeak(t *testing.T) {
	t.Helper()
	logs := e.g.logs()
	if !strings.Contains(logs, `"uri"`) {
		t.Errorf("no access log lines to check")
	}
	var reqs []recordedRequest
	if e.g.upstream != nil {
		if reqs = e.g.upstream.requests(); len(reqs) == 0 {
			t.Errorf("the storage received no request to check")
		}
	}
	for _, leak := range tokenLeaks(logs, reqs, e.tok) {
		t.Error(leak)
	}
}

// tokenLeaks lists where a token (whole or its last 20 characters) shows
// in the logs or in what the storage received, and storage requests that
// carry a /t/ segment or an Authorization header at all.
func tokenLeaks(logs string, reqs []recordedRequest, tokens map[string]string) []string {
	var leaks []string
	for name, secret := range tokens {
		if tail := secret[len(secret)-20:]; strings.Contains(logs, tail) {
			leaks = append(leaks, fmt.Sprintf("token %s found in the gateway's logs:\n%s", name, grepLines(logs, tail)))
		}
	}
	for _, r := range reqs {
		var seen strings.Builder
		seen.WriteString(r.Method + " " + r.URI + " Host: " + r.Host + "\n")
		for k, vs := range r.Header {
			seen.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
		}
		if strings.Contains(r.URI, "/t/") || r.Header.Get("Authorization") != "" {
			leaks = append(leaks, "storage request carries credentials:\n"+seen.String())
		}
		for name, secret := range tokens {
			if strings.Contains(seen.String(), secret[len(secret)-20:]) {
				leaks = append(leaks, fmt.Sprintf("token %s reached the storage:\n%s", name, seen.String()))
			}
		}
	}
	return leaks
}

// TestTokenLeaksFindsLeaks proves the leak check the end-to-end tests end
// with can fail: it finds a token, or its tail, in logs, storage paths and
// storage headers, and flags /t/ paths and Authorization headers.
func TestTokenLeaksFindsLeaks(t *testing.T) {
	secret := "cgt-" + strings.Repeat("a1B2", 10)
	tokens := map[string]string{"alice/all": secret}
	tail := secret[len(secret)-20:]
	get := func(uri string, hdr http.Header) []recordedRequest {
		return []recordedRequest{{Method: "GET", URI: uri, Host: "storage", Header: hdr}}
	}
	tests := []struct {
		name  string
		logs  string
		reqs  []recordedRequest
		leaks int
	}{
		{"clean", `{"uri":"/t/<TOKEN>/acme/noarch/x-1-0.conda"}`, get("/acme/noarch/x-1-0.conda", http.Header{"Via": {"1.1 Caddy"}}), 0},
		{"token in a log", `{"Location":"/t/` + secret + `/acme/"}`, nil, 1},
		{"token tail in a log", `{"from_path":"...` + tail + `"}`, nil, 1},
		{"token in the storage path", "", get("/t/"+secret+"/acme/", nil), 2},
		{"/t/ in the storage path", "", get("/t/x/acme/", nil), 1},
		{"Authorization to the storage", "", get("/acme/", http.Header{"Authorization": {"Basic eA=="}}), 1},
		{"token in another header", "", get("/acme/", http.Header{"X-Token": {secret}}), 1},
	}
	for _, tc := range tests {
		if got := tokenLeaks(tc.logs, tc.reqs, tokens); len(got) != tc.leaks {
			t.Errorf("%s: %d leaks %q, want %d", tc.name, len(got), got, tc.leaks)
		}
	}
}

// storageSaw returns the storage requests (reverse_proxy only) for a
// storage path.
func (e *e2e) storageSaw(path string) []recordedRequest {
	var out []recordedRequest
	for _, r := range e.g.upstream.requests() {
		if r.URI == path {
			out = append(out, r)
		}
	}
	return out
}

// requireClient fails the test, naming the fix, unless Debian's python3
// can import every module.
func requireClient(t *testing.T, modules ...string) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("%s is missing: the end-to-end tests need Debian's python3 and its client packages; install them with: bash .ci/run", python)
	}
	for _, m := range modules {
		if out, err := exec.Command(python, "-c", "import "+m).CombinedOutput(); err != nil {
			t.Fatalf("%s cannot import %s (install the Debian packages with: bash .ci/run): %v\n%s", python, m, err, out)
		}
	}
}

// runPython runs Debian's python3 with args in a clean environment (no
// pip configuration, no proxies, a null keyring, a fresh HOME) and
// returns its combined output and exit error. The timeout only stops a
// hung client.
func runPython(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "LANG=C.UTF-8",
		"PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring", "PYTHONDONTWRITEBYTECODE=1", "NO_PROXY=*", "no_proxy=*"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: stopped after hanging:\n%s", python, strings.Join(args, " "), out.String())
	}
	return out.String(), err
}

// maskTokens replaces every token in s, for failure messages.
func (e *e2e) maskTokens(s string) string {
	for _, secret := range e.tok {
		s = strings.ReplaceAll(s, secret, "<TOKEN>")
	}
	return s
}

// readDir returns the names of the files in dir.
func readDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
