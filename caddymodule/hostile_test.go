package caddymodule

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

// hostileCase is one crafted request, written byte for byte to the
// gateway, and what must come of it.
type hostileCase struct {
	name   string
	method string
	target string   // request-target as sent, with {alice}-style token placeholders
	hdr    []string // header lines ("Name: value"), placeholders too; a Host line replaces the default
	status int
	// upstream is the exact request-target the storage must receive for
	// an allowed request; "" means the storage must receive nothing.
	upstream string
}

// rawRequest renders a case as the bytes to send.
func (c hostileCase) rawRequest(expand func(string) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", c.method, expand(c.target))
	host := false
	for _, h := range c.hdr {
		host = host || strings.HasPrefix(strings.ToLower(h), "host:")
		b.WriteString(expand(h) + "\r\n")
	}
	if !host {
		fmt.Fprintf(&b, "Host: localhost:%d\r\n", gatewayPort)
	}
	b.WriteString("Connection: close\r\n\r\n")
	return b.String()
}

// TestHostileRequests sends crafted requests (path traversal in every
// spelling, odd tokens, look-alike channel names, conflicting or
// malformed credentials, odd methods, tokens in queries, referrers and
// cookies, huge headers, control characters) through a real Caddy whose
// storage is reverse_proxy to a recording upstream. It proves, for each,
// the status and that the storage never saw a refused request, and that
// an allowed one reached it exactly at the expected path, inside the
// authorized channel, with no Authorization header, no /t/ segment and no
// token anywhere in its URI or headers.
func TestHostileRequests(t *testing.T) {
	g, up := startProxyGateway(t, "failure_limit off")
	tok := g.seed()
	if _, err := g.store.PutPackage(testActor, "bob", tokenstore.Conda, "diary", false, ""); err != nil {
		t.Fatal(err)
	}
	expired, _, err := g.store.CreateToken(testActor, tokenstore.TokenSpec{Owner: "alice", CreatedBy: "alice",
		Name: "short", MaxAge: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	revoked, _, err := g.store.CreateToken(testActor, tokenstore.TokenSpec{Owner: "alice", CreatedBy: "alice", Name: "old"})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.store.RevokeToken(testActor, "alice", "old"); err != nil {
		t.Fatal(err)
	}
	tok["alice/short"], tok["alice/old"] = expired, revoked
	expand := strings.NewReplacer("{alice}", tok["alice/all"], "{bob}", tok["bob/conda"], "{pypi}", tok["alice/pypi-only"],
		"{ci}", tok["acme/ci"], "{alice-tail}", tok["alice/all"][1:], "{expired}", expired, "{revoked}", revoked,
		"{long}", "cgt-"+strings.Repeat("A", 10<<10), "{huge}", strings.Repeat("x", 2<<20),
		"{basic-alice}", base64.StdEncoding.EncodeToString([]byte("__token__:"+tok["alice/all"])),
		"{basic-password}", base64.StdEncoding.EncodeToString([]byte("alice:secret-pw")),
	).Replace
	const (
		secret = "/acme/noarch/secret-1.0-0.conda"
		open   = "/acme/noarch/open-1.0-0.conda"
	)

	cases := []hostileCase{
		// Traversal and path spellings.
		{"dot-dot", "GET", "/acme/noarch/../noarch/secret-1.0-0.conda", nil, 400, ""},
		{"dot-dot into another channel", "GET", "/t/{ci}/acme/../bob/noarch/diary-1.0-0.conda", nil, 400, ""},
		{"trailing dot-dot", "GET", "/acme/noarch/..", nil, 400, ""},
		{"single dot", "GET", "/acme/./noarch/open-1.0-0.conda", nil, 400, ""},
		{"encoded dot-dot", "GET", "/acme/noarch/%2e%2e/noarch/secret-1.0-0.conda", nil, 400, ""},
		{"mixed-case encoded dot-dot", "GET", "/acme/%2E%2e/acme/noarch/secret-1.0-0.conda", nil, 400, ""},
		{"dot-dot encoded slash", "GET", "/acme/noarch/..%2fsecret-1.0-0.conda", nil, 400, ""},
		{"encoded backslash", "GET", "/acme/noarch/..%5csecret-1.0-0.conda", nil, 400, ""},
		{"raw backslash", "GET", `/acme/noarch\..\secret-1.0-0.conda`, nil, 400, ""},
		{"double-encoded dot-dot", "GET", "/acme/noarch/%252e%252e/secret-1.0-0.conda", nil, 400, ""},
		{"leading double slash", "GET", "//acme/noarch/open-1.0-0.conda", nil, 400, ""},
		{"inner double slash", "GET", "/acme//noarch/open-1.0-0.conda", nil, 400, ""},
		{"semicolon path parameter", "GET", secret + ";x=.json", nil, 400, ""},
		{"encoded question mark", "GET", secret + "%3F.json", nil, 400, ""},
		{"package file as a folder", "GET", secret + "/", nil, 400, ""},
		{"upper-case package extension", "GET", "/acme/noarch/secret-1.0-0.CONDA", nil, 404, ""},
		{"upper-case package name", "GET", "/acme/noarch/SECRET-1.0-0.conda", nil, 404, ""},

		// Tokens in the path.
		{"empty token", "GET", "/t//acme/noarch/open-1.0-0.conda", nil, 400, ""},
		{"10 KB token", "GET", "/t/{long}/acme/noarch/open-1.0-0.conda", nil, 400, ""},
		{"non-ASCII token", "GET", "/t/cgt-%C3%A4bcdefghijklmnopqrstuvwxyz0123456789/acme" + open[5:], nil, 401, ""},
		// Finding 12: a /t/ or a token spelled with percent-encodings
		// would be served as /t/<token>/ while logs see another spelling.
		{"encoded /t/", "GET", "/%74/{alice}" + secret, nil, 400, ""},
		{"encoded slash of /t/", "GET", "/t%2F{alice}" + secret, nil, 400, ""},
		{"encoded token", "GET", "/t/%63{alice-tail}" + secret, nil, 400, ""},
		{"encoded channel", "GET", "/%61cme/noarch/open-1.0-0.conda", nil, 400, ""},
		{"underscore token", "GET", "/t/cgt_abcdefghijklmnopqrstuvwxyz0123456789/acme" + open[5:], nil, 401, ""},
		{"token without channel", "GET", "/t/{alice}", nil, 400, ""},
		{"upper-case /T/", "GET", "/T/{alice}" + secret, nil, 400, ""},
		{"two /t/ segments", "GET", "/t/{alice}/t/{bob}" + secret, nil, 400, ""},
		{"token after the channel", "GET", "/acme/t/{alice}/noarch/repodata.json", nil, 400, ""},
		{"token under a path prefix", "GET", "/mirror/t/{alice}" + open, nil, 400, ""},
		{"expired token", "GET", "/t/{expired}" + secret, nil, 401, ""},
		{"revoked token", "GET", "/t/{revoked}" + open, nil, 401, ""},
		{"token of channel A on channel B", "GET", "/t/{ci}/bob/noarch/diary-1.0-0.conda", nil, 404, ""},
		{"token on its own channel", "GET", "/t/{bob}/bob/noarch/diary-1.0-0.conda", nil, 200, "/bob/noarch/diary-1.0-0.conda"},
		{"path token", "GET", "/t/{alice}" + secret, nil, 200, secret},
		{"path token with a label", "GET", "/t/{alice}/acme/label/dev/noarch/secret-2.0-0.conda", nil, 200, "/acme/label/dev/noarch/secret-2.0-0.conda"},
		// A folder listing may name hidden packages: 404 to a partial view.
		{"channel without a slash", "GET", "/acme", nil, 404, ""},
		{"channel without a slash, owner", "GET", "/t/{alice}/acme", nil, 200, "/acme/"},
		{"label without a slash", "GET", "/t/{alice}/acme/label/dev", nil, 200, "/acme/label/dev/"},
		{"absolute-form target", "GET", fmt.Sprintf("http://localhost:%d/t/{alice}%s", gatewayPort, secret), nil, 200, secret},

		// Channel and package look-alikes.
		{"upper-case channel", "GET", "/ACME/noarch/secret-1.0-0.conda", nil, 400, ""},
		// Normalizes to no name: would fetch the unfiltered root list under a package decision.
		{"project of separators only", "GET", "/acme/simple/_/", nil, 400, ""},
		{"capitalized channel", "GET", "/t/{alice}/Acme/noarch/secret-1.0-0.conda", nil, 400, ""},
		{"Cyrillic a, encoded", "GET", "/%D0%B0cme/noarch/secret-1.0-0.conda", nil, 400, ""},
		{"Cyrillic a, raw UTF-8", "GET", "/\xd0\xb0cme/noarch/secret-1.0-0.conda", nil, 400, ""},
		{"fullwidth a", "GET", "/%EF%BD%81cme/noarch/secret-1.0-0.conda", nil, 400, ""},
		{"PyPI project spelling anonymous", "GET", "/acme/simple/Acme.Tools/", nil, 404, ""},
		{"PyPI project spelling with token", "GET", "/t/{pypi}/acme/simple/Acme.Tools/", nil, 200, "/acme/simple/acme-tools/"},

		// Credentials in headers.
		{"two Authorization headers, same token", "GET", secret, []string{"Authorization: token {alice}", "Authorization: token {alice}"}, 400, ""},
		{"two Authorization headers, different tokens", "GET", open, []string{"Authorization: token {bob}", "Authorization: token {alice}"}, 400, ""},
		{"path and header tokens differ", "GET", "/t/{bob}" + secret, []string{"Authorization: token {alice}"}, 400, ""},
		{"path and header tokens agree", "GET", "/t/{alice}" + secret, []string{"Authorization: Bearer {alice}"}, 200, secret},
		{"malformed Basic base64", "GET", secret, []string{"Authorization: Basic !!not-base64!!"}, 400, ""},
		{"Basic with a password", "GET", secret, []string{"Authorization: Basic {basic-password}"}, 401, ""},
		{"empty Basic", "GET", secret, []string{"Authorization: Basic Og=="}, 400, ""},
		{"scheme without credentials", "GET", secret, []string{"Authorization: token"}, 400, ""},
		{"unsupported scheme", "GET", secret, []string{`Authorization: Digest username="alice"`}, 400, ""},
		{"Basic token", "GET", secret, []string{"Authorization: Basic {basic-alice}"}, 200, secret},
		{"lower-case bearer", "GET", open, []string{"Authorization: bearer {alice}"}, 200, open},

		// Methods.
		{"TRACE", "TRACE", open, nil, 405, ""},
		{"OPTIONS", "OPTIONS", open, nil, 405, ""},
		{"PROPFIND", "PROPFIND", "/acme/", []string{"Depth: infinity"}, 405, ""},
		{"CONNECT", "CONNECT", "localhost:80", nil, 405, ""},
		{"anonymous PUT on a public channel", "PUT", "/acme/noarch/open-2.0-0.conda", []string{"Content-Length: 0"}, 401, ""},

		// Secrets where the gateway does not read them.
		{"query token on a private package", "GET", secret + "?token={alice}", nil, 404, ""},
		{"query token on a public package", "GET", open + "?token={alice}", nil, 200, open},
		{"query beside a path token", "GET", "/t/{alice}" + secret + "?x=1", nil, 200, secret},
		{"referrer carrying a token", "GET", open, []string{"Referer: http://localhost/t/{alice}/acme/"}, 200, open},
		{"cookie carrying a token", "GET", open, []string{"Cookie: cg={alice}"}, 200, open},

		// Sizes and bytes the HTTP layer refuses.
		{"2 MB header", "GET", open, []string{"X-Big: {huge}"}, 431, ""},
		{"raw NUL in the path", "GET", "/acme/noarch/open\x00-1.0-0.conda", nil, 400, ""},
		{"encoded NUL", "GET", "/acme/noarch/open%00-1.0-0.conda", nil, 400, ""},
		{"raw control character", "GET", "/acme/noarch/open\x01-1.0-0.conda", nil, 400, ""},
		{"encoded control character", "GET", "/acme/noarch/open%01-1.0-0.conda", nil, 400, ""},
		{"encoded DEL", "GET", "/acme/noarch/open%7f-1.0-0.conda", nil, 400, ""},
		{"CR inside a header", "GET", open, []string{"X-A: b\rc"}, 400, ""},
		{"NUL inside a header", "GET", open, []string{"Authorization: token {alice}\x00"}, 400, ""},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up.take()
			status, body := g.raw(tc.rawRequest(expand))
			seen := up.take()
			if status != tc.status {
				t.Errorf("status %d %q, want %d", status, body, tc.status)
			}
			if tc.upstream == "" {
				for _, r := range seen {
					// A hidden package costs the lookup of a name no
					// storage holds (finding 13), without credentials.
					if !strings.Contains(r.URI, "%23channelgate-absent") {
						t.Fatalf("refused request reached the storage: %v", seen)
					}
					checkForwarded(t, r, r.URI, tok)
				}
				return
			}
			if len(seen) != 1 {
				t.Fatalf("storage saw %d requests, want 1: %v", len(seen), seen)
			}
			checkForwarded(t, seen[0], tc.upstream, tok)
		})
	}
}

// checkForwarded asserts that a request the storage received is exactly
// want and carries no credential.
func checkForwarded(t *testing.T, r recordedRequest, want string, tokens map[string]string) {
	t.Helper()
	if r.URI != want {
		t.Errorf("storage asked for %q, want %q", r.URI, want)
	}
	if strings.Contains(r.URI, "/t/") || strings.Contains(r.URI, "?") {
		t.Errorf("forwarded URI %q has a /t/ segment or a query", r.URI)
	}
	if v := r.Header.Values("Authorization"); len(v) > 0 {
		t.Errorf("forwarded request has Authorization %q", v)
	}
	for name, vals := range r.Header {
		for _, v := range vals {
			if strings.Contains(v, tokenstore.TokenPrefix) {
				t.Errorf("forwarded header %s carries a token-like value", name)
			}
		}
	}
	for name, secret := range tokens {
		if strings.Contains(r.String(), secret) {
			t.Errorf("forwarded request carries token %s", name)
		}
	}
}

// clientFrom is an HTTP client whose connections leave from a given
// loopback address, so one test can be several clients.
func clientFrom(t *testing.T, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// doWith sends a request with a given client.
func (g *gateway) doWith(c *http.Client, method, path string, hdr map[string]string) (int, string, http.Header) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.base+path, nil)
	if err != nil {
		g.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestBadTokenFlood proves the bad-token limit through a real Caddy: after
// failure_limit failures from one address, that address's requests with
// a token (even a valid one) get 429 with Retry-After and a reason, and
// are counted as rate_limited; its anonymous requests and other
// addresses are untouched; garbage tokens never reach the store (cache
// counters unchanged); revoked and expired tokens count as failures; a
// 429 is held for failure_delay before it is sent.
func TestBadTokenFlood(t *testing.T) {
	const delay = 200 * time.Millisecond
	g := startGateway(t, "failure_limit 3 1m\n\t\t\tfailure_delay 200ms")
	tok := g.seed()
	alice := tok["alice/all"]
	const (
		secret = "/acme/noarch/secret-1.0-0.conda"
		open   = "/acme/noarch/open-1.0-0.conda"
	)
	guesser, neighbour := clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3")
	before := g.store.CacheStats()
	limitedBefore := decisionCount(reasonRateLimited)

	for i, garbage := range []string{flip(alice), "cgt-guess", "cgt-" + strings.Repeat("Z", 49), flip(flip(alice))} {
		start := time.Now()
		status, body, hdr := g.doWith(guesser, "GET", "/t/"+garbage+open, nil)
		if i < 3 {
			if status != 401 || !strings.Contains(body, "malformed token") {
				t.Fatalf("guess %d: %d %q, want 401 malformed token", i, status, body)
			}
			continue
		}
		retry, err := strconv.Atoi(hdr.Get("Retry-After"))
		if status != 429 || err != nil || retry < 1 || retry > 60 || !strings.Contains(body, "too many failed token attempts") {
			t.Fatalf("guess after the limit: %d %q Retry-After %q", status, body, hdr.Get("Retry-After"))
		}
		if took := time.Since(start); took < delay {
			t.Fatalf("429 answered after %v, before failure_delay %v", took, delay)
		}
	}
	for _, tc := range []struct {
		name   string
		client *http.Client
		path   string
		hdr    map[string]string
		status int
	}{
		{"valid path token from the limited address", guesser, "/t/" + alice + secret, nil, 429},
		{"valid header token from the limited address", guesser, secret, map[string]string{"Authorization": basic("__token__", alice)}, 429},
		{"anonymous public download from the limited address", guesser, open, nil, 200},
		{"anonymous private download from the limited address", guesser, secret, nil, 404},
		{"valid token from another address", neighbour, "/t/" + alice + secret, nil, 200},
	} {
		if status, body, _ := g.doWith(tc.client, "GET", tc.path, tc.hdr); status != tc.status {
			t.Errorf("%s: %d %q, want %d", tc.name, status, body, tc.status)
		}
	}
	after := g.store.CacheStats()
	if after.Misses != before.Misses+1 || after.Hits != before.Hits {
		// The neighbour's one valid token is the only lookup.
		t.Errorf("cache misses %d→%d, hits %d→%d: refused guesses reached the store", before.Misses, after.Misses, before.Hits, after.Hits)
	}
	if got := decisionCount(reasonRateLimited) - limitedBefore; got != 3 {
		t.Errorf("rate_limited decisions counted %v, want 3", got)
	}

	// Well-formed but dead tokens count too.
	expired, _, err := g.store.CreateToken(testActor, tokenstore.TokenSpec{Owner: "bob", CreatedBy: "bob",
		Name: "short", MaxAge: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.store.RevokeToken(testActor, "alice", "pypi-only"); err != nil {
		t.Fatal(err)
	}
	other := clientFrom(t, "127.0.0.4")
	for i, dead := range []string{expired, tok["alice/pypi-only"], expired, tok["bob/conda"]} {
		want := 401
		if i == 3 {
			want = 429
		}
		if status, body, _ := g.doWith(other, "GET", "/t/"+dead+open, nil); status != want {
			t.Fatalf("dead token %d: %d %q, want %d", i, status, body, want)
		}
	}
}

// decisionCount reads the decision counter of a reason.
func decisionCount(r tokenstore.Reason) float64 {
	var m dto.Metric
	_ = decisionCounters[r].Write(&m)
	return m.GetCounter().GetValue()
}

// TestSecretHygiene drives every path a secret travels (path, header and
// Basic tokens, password logins, bad, revoked and rate-limited tokens,
// JSON and text refusals, token creation and listing through the API)
// through a real Caddy logging at DEBUG with a metrics route and a
// recording upstream, then proves that no token, password or operator
// secret (nor the Basic encoding of one) appears in the logs, in
// /metrics, in any answer (bodies and headers, API listings included),
// or in any request the storage received.
func TestSecretHygiene(t *testing.T) {
	up := newStorageRecorder(t, echoStorage())
	g := startSite(t, site{options: "failure_limit 3 1m", serve: "reverse_proxy " + up.srv.Listener.Addr().String(),
		routes: "handle /metrics {\n\t\tmetrics\n\t}"})
	tok := g.seed()
	alice, bob := tok["alice/all"], tok["bob/conda"]
	ctx := context.Background()
	login := &admin.Client{BaseURL: g.base + "/api"}
	created, err := login.Login(ctx, "alice", "secret-pw", "laptop", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.store.RevokeToken(testActor, "alice", "pypi-only"); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"password": "secret-pw", "operator secret": operatorSecret, "login token": created.Token}
	for name, s := range tok {
		secrets[name] = s
	}
	for name, s := range maps.Clone(secrets) {
		secrets[name+" in Basic"] = base64.StdEncoding.EncodeToString([]byte("__token__:" + s))
		secrets[name+" in Basic as alice"] = base64.StdEncoding.EncodeToString([]byte("alice:" + s))
	}

	guesser := clientFrom(t, "127.0.0.5")
	const secret = "/acme/noarch/secret-1.0-0.conda"
	var answers strings.Builder
	for _, rq := range []struct {
		client *http.Client
		method string
		path   string
		hdr    map[string]string
	}{
		{g.tester.Client, "GET", "/t/" + alice + secret, nil},
		{g.tester.Client, "GET", "/t/" + alice + "/acme/noarch/missing.json?token=" + alice, map[string]string{"Referer": "/t/" + alice + "/"}},
		{g.tester.Client, "GET", secret, map[string]string{"Authorization": "token " + alice, "Cookie": "t=" + alice}},
		{g.tester.Client, "GET", secret, map[string]string{"Authorization": basic("__token__", alice)}},
		{g.tester.Client, "GET", secret, map[string]string{"Authorization": basic("alice", "secret-pw")}},
		{g.tester.Client, "GET", secret, map[string]string{"Authorization": basic("alice", "secret-pw"), "Accept": "application/json"}},
		{g.tester.Client, "GET", "/t/" + bob + secret, map[string]string{"Accept": "application/json"}},
		{g.tester.Client, "PUT", "/t/" + bob + "/acme/noarch/x-1-0.conda", nil},
		{g.tester.Client, "GET", "/t/" + bob + secret, map[string]string{"Authorization": "token " + alice}},
		{g.tester.Client, "GET", "/t/" + tok["alice/pypi-only"] + "/acme/simple/acme-tools/", nil},
		{g.tester.Client, "GET", "/api/authentications", map[string]string{"Authorization": "token " + alice}},
		{g.tester.Client, "GET", "/api/authentication", map[string]string{"Authorization": "token " + created.Token}},
		{g.tester.Client, "GET", "/api/authentications?user=acme", map[string]string{"Authorization": "token " + alice}},
		{g.tester.Client, "GET", "/api/user", map[string]string{"Authorization": basic("alice", "wrong-pw")}},
		{guesser, "GET", "/t/" + flip(alice) + secret, nil},
		{guesser, "GET", "/t/" + flip(bob) + secret, nil},
		{guesser, "GET", "/t/" + tok["alice/pypi-only"] + secret, nil},
		{guesser, "GET", "/t/" + alice + secret, nil}, // 429
		{g.tester.Client, "GET", "/metrics", nil},
	} {
		status, body, hdr := g.doWith(rq.client, rq.method, rq.path, rq.hdr)
		fmt.Fprintf(&answers, "%s %d %v %s\n", rq.method, status, hdr, body)
	}
	_, metrics, _ := g.do("GET", "/metrics", nil)
	// The counter is per process: earlier tests may have counted too.
	limited := fmt.Sprintf(`reason="rate_limited"} %g`, decisionCount(reasonRateLimited))
	if decisionCount(reasonRateLimited) < 1 || !strings.Contains(metrics, limited) || !strings.Contains(metrics, "channelgate_cache_misses_total") {
		t.Errorf("metrics lack %s or the cache series:\n%s", limited, grepLines(metrics, "channelgate"))
	}
	var forwarded strings.Builder
	for _, r := range up.take() {
		forwarded.WriteString(r.String() + "\n")
	}
	if forwarded.Len() == 0 {
		t.Fatal("nothing was forwarded")
	}
	for place, text := range map[string]string{"logs": g.logs(), "/metrics": metrics, "answers": answers.String(), "forwarded requests": forwarded.String()} {
		for name, s := range secrets {
			i := strings.Index(text, s)
			if i < 0 && len(s) > 40 {
				i = strings.Index(text, s[len(s)-20:])
			}
			if i >= 0 {
				t.Errorf("%s contain %s: …%s…", place, name, text[max(0, i-300):min(len(text), i+100)])
			}
		}
	}
}
