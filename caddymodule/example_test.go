package caddymodule

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/channelgate/channelgate/tokenstore"
)

// TestCaddyfileExample adapts the repository's Caddyfile.example (what
// `caddy validate --config Caddyfile.example` starts with) and checks
// that it serves the API at /api with the operator secret read from the
// environment when the API starts (the adapted configuration holds the
// placeholder, never the secret), and the pages in front of the gateway.
func TestCaddyfileExample(t *testing.T) {
	const secret = "example-operator-secret-0123456789"
	t.Setenv("CHANNELGATE_ADMIN_TOKEN", secret)
	t.Setenv("CHANNELGATE_SIGNUP", "open")
	s := adaptExample(t)
	for _, want := range []string{`"handler":"channelgate_api"`, `"operator_secret":"{env.CHANNELGATE_ADMIN_TOKEN}"`,
		`"path":["/api","/api/*"]`, `"handler":"channelgate"`, `"store":{"backend":"bbolt"}`,
		`"handler":"channelgate_web"`, `"signup":"open"`} {
		if !strings.Contains(s, want) {
			t.Errorf("adapted config lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, secret) {
		t.Errorf("adapted config holds the operator secret:\n%s", s)
	}
	// The pages come before the gateway; without the variables there is
	// no mail.
	if strings.Index(s, `"handler":"channelgate_web"`) > strings.Index(s, `"handler":"channelgate"`) {
		t.Errorf("channelgate_web is not before channelgate:\n%s", s)
	}
	if strings.Contains(s, `"smtp"`) {
		t.Errorf("mail without CHANNELGATE_SMTP:\n%s", s)
	}
}

// TestCaddyfileExampleEtcd: with CHANNELGATE_ETCD (and a prefix) set, the
// example's gateway, API and pages use etcd.
func TestCaddyfileExampleEtcd(t *testing.T) {
	t.Setenv("CHANNELGATE_ETCD", "http://10.0.0.1:2379,http://10.0.0.2:2379")
	t.Setenv("CHANNELGATE_ETCD_PREFIX", "/cg/")
	s := adaptExample(t)
	want := `"store":{"backend":"etcd","endpoints":["http://10.0.0.1:2379","http://10.0.0.2:2379"],"prefix":"/cg/"}`
	if strings.Count(s, want) != 3 {
		t.Errorf("adapted config lacks %s three times (gateway, API and pages):\n%s", want, s)
	}
}

// adaptExample adapts the repository's Caddyfile.example with the
// current environment and returns its JSON.
func adaptExample(t *testing.T) string {
	t.Helper()
	body, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	cfg, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(body, map[string]any{"filename": "Caddyfile.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warnings {
		t.Errorf("warning: %s", w.String())
	}
	var v any
	if err := json.Unmarshal(cfg, &v); err != nil {
		t.Fatal(err)
	}
	return string(cfg)
}

// startExample runs the repository's Caddyfile.example as shipped, with
// the settings its header names taken from the environment: the test's
// ports, a fresh database and storage folder, and the access log in the
// test's folder; the seed is the shipped example/seed.json. It returns the gateway and the metrics port.
func startExample(t *testing.T) (*gateway, int) {
	t.Helper()
	body, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	g := &gateway{t: t, dir: dir, base: fmt.Sprintf("http://localhost:%d", gatewayPort),
		storage: filepath.Join(dir, "storage"), db: filepath.Join(dir, "cg.db"), config: string(body)}
	if err := os.MkdirAll(g.storage, 0o755); err != nil {
		t.Fatal(err)
	}
	metricsPort := procFreePort(t)
	for k, v := range map[string]string{
		"CHANNELGATE_LISTEN":       g.base,
		"CHANNELGATE_DB":           g.db,
		"CHANNELGATE_STORAGE":      g.storage,
		"CHANNELGATE_ADMIN_TOKEN":  operatorSecret,
		"CHANNELGATE_CADDY_ADMIN":  fmt.Sprintf("localhost:%d", adminPort),
		"CHANNELGATE_METRICS_PORT": strconv.Itoa(metricsPort),
		"CHANNELGATE_ACCESS_LOG":   "file " + filepath.Join(dir, "access.log"),
		"CHANNELGATE_SEED":         filepath.Join("..", "example", "seed.json"),
	} {
		t.Setenv(k, v)
	}
	g.tester = caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort})
	g.tester.InitServer(g.config, "caddyfile")
	st, ok := openStores.Load(g.db)
	if !ok {
		t.Fatalf("store %s not open after loading Caddyfile.example", g.db)
	}
	g.store = st.(*tokenstore.Store)
	return g, metricsPort
}

// TestCaddyfileExampleMetricsOperatorOnly proves finding 8's fix in the
// shipped configuration: the public site does not serve /metrics (whose
// counters tell a hidden package from a missing one); a listener on
// 127.0.0.1 does.
func TestCaddyfileExampleMetricsOperatorOnly(t *testing.T) {
	g, metricsPort := startExample(t)
	g.seed()
	if status, _, _ := g.do("GET", "/acme/noarch/secret-1.0-0.conda", nil); status != 404 {
		t.Fatalf("hidden package: %d", status)
	}
	status, body, _ := g.do("GET", "/metrics", nil)
	if status == 200 || strings.Contains(body, "channelgate_") {
		t.Fatalf("the public site serves metrics: %d\n%s", status, body)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `channelgate_decisions_total{outcome="unauthenticated",reason="no_token"}`) {
		t.Fatalf("operator metrics: %d\n%.500s", resp.StatusCode, b)
	}
}

// TestCaddyfileExampleAccessLog proves finding 12's fix in the shipped
// configuration: tokens in the path (plain or percent-encoded), the
// query and any header never reach the access log, and a /t/ spelled
// with percent-encodings is refused.
func TestCaddyfileExampleAccessLog(t *testing.T) {
	g, _ := startExample(t)
	tok := g.seed()
	alice, bob, ci, pypi := tok["alice/all"], tok["bob/conda"], tok["acme/ci"], tok["alice/pypi-only"]
	secret := "/acme/noarch/secret-1.0-0.conda"
	for _, r := range []struct {
		path   string
		hdr    map[string]string
		status int
	}{
		{"/t/" + alice + secret, nil, 200},
		{"/%74/" + alice + secret, nil, 400},
		{"/t/%63" + alice[1:] + secret, nil, 400},
		{"/acme/noarch/open-1.0-0.conda?token=" + alice, nil, 200},
		{"/acme/noarch/open-1.0-0.conda", map[string]string{"X-Api-Key": bob, "User-Agent": "pip/24 " + ci,
			"Referer": "http://localhost/%74/" + pypi + "/acme/simple/"}, 200},
	} {
		if status, body, _ := g.do("GET", r.path, r.hdr); status != r.status {
			t.Fatalf("GET %s: %d %q, want %d", redactToken(r.path), status, body, r.status)
		}
	}
	b, err := os.ReadFile(filepath.Join(g.dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	logs := string(b)
	if strings.Count(logs, `"uri":"/t/<TOKEN>/acme/`) != 3 || !strings.Contains(logs, `"X-Api-Key":["<TOKEN>"]`) {
		t.Fatalf("access log lacks the masked lines:\n%s", logs)
	}
	for name, secret := range tok {
		if tail := secret[len(secret)-20:]; strings.Contains(logs, tail) {
			t.Errorf("token %s in the access log:\n%s", name, grepLines(logs, tail))
		}
	}
}

// redactToken hides a token in a test's failure message.
func redactToken(s string) string {
	if i := strings.Index(s, "cgt-"); i >= 0 {
		return s[:i] + "<TOKEN>"
	}
	return s
}
