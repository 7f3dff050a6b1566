package caddymodule

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
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
