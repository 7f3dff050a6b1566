package caddymodule

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// TestAPIAccountOptions checks the channelgate_api options that guard
// accounts: storage_root and max_tokens.
func TestAPIAccountOptions(t *testing.T) {
	for _, tc := range []struct {
		block   string
		root    string
		max     int
		wantErr string
	}{
		{"storage_root /srv/channels", "/srv/channels", 0, ""},
		{"max_tokens 50", "", 50, ""},
		{"max_tokens -1", "", -1, ""},
		{"max_tokens 0", "", 0, `max_tokens must be a count (negative: no cap), not "0"`},
		{"max_tokens lots", "", 0, `not "lots"`},
		{"max_tokens", "", 0, "wrong argument count"},
		{"storage_root", "", 0, "wrong argument count"},
		{"storage_root a b", "", 0, "wrong argument count"},
	} {
		t.Run(tc.block, func(t *testing.T) {
			var a APIHandler
			err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser("channelgate_api {\n" + tc.block + "\n}"))
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr == "" && (a.StorageRoot != tc.root || a.MaxTokens != tc.max):
				t.Fatalf("storage_root %q max_tokens %d", a.StorageRoot, a.MaxTokens)
			}
		})
	}
}

// TestAccountPolicyThroughCaddy proves through a real Caddy that the API
// directive wires finding 1 of issue 9 (channel takeover: a name the
// storage serves needs the operator, who adopts the channel) and the
// max_tokens cap of finding 11 into the store, and that without
// storage_root account creation fails closed.
func TestAccountPolicyThroughCaddy(t *testing.T) {
	op := map[string]string{"Authorization": "token " + operatorSecret, "Content-Type": "application/json"}
	mallory := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("mallory:secret-pw")),
		"Content-Type": "application/json"}
	type call struct {
		name, method, path string
		hdr                map[string]string
		body               string
		status             int
		msg                string
	}
	run := func(t *testing.T, g *gateway, calls []call) {
		for _, c := range calls {
			status, body, _ := g.doBody(c.method, c.path, c.hdr, strings.NewReader(c.body))
			if status != c.status || !strings.Contains(body, c.msg) {
				t.Errorf("%s: %s %s = %d %s, want %d with %q", c.name, c.method, c.path, status, body, c.status, c.msg)
			}
		}
	}
	newUser := `{"login": "mallory", "email": "m@example.com", "password": "secret-pw", "password_confirmation": "secret-pw", "accept_terms": true}`

	t.Run("storage_root and max_tokens", func(t *testing.T) {
		g := startSite(t, site{api: "max_tokens 2", storageRoot: true})
		g.file("legacy/noarch/repodata.json", `{"packages": {}}`)
		calls := []call{
			{"operator creates mallory", "POST", "/api/users", op, newUser, 201, ""},
			{"mallory takes a served channel", "POST", "/api/orgs", mallory, `{"login": "legacy"}`, 403,
				`\"legacy\" is a channel the storage already serves: only a site administrator can create an account for it`},
			{"mallory creates a fresh org", "POST", "/api/orgs", mallory, `{"login": "fresh"}`, 201, ""},
			{"the operator adopts the channel for mallory", "POST", "/api/orgs", op, `{"login": "legacy", "owner": "mallory"}`, 201, ""},
		}
		for i := range 3 {
			want, msg := 200, ""
			if i == 2 {
				want, msg = 403, "mallory already holds 2 tokens"
			}
			calls = append(calls, call{fmt.Sprintf("token %d", i+1), "POST", "/api/authentications", mallory,
				fmt.Sprintf(`{"note": "t%d", "scopes": ["conda:download"]}`, i), want, msg})
		}
		run(t, g, calls)
		g.file("legacy2/noarch/repodata.json", `{"packages": {}}`)
		run(t, g, []call{{"a channel added later", "POST", "/api/orgs", mallory, `{"login": "legacy2"}`, 403, "already serves"}})
	})

	t.Run("no storage_root fails closed", func(t *testing.T) {
		g := startSite(t, site{})
		run(t, g, []call{
			{"operator creates mallory", "POST", "/api/users", op, newUser, 201, ""},
			{"mallory creates any org", "POST", "/api/orgs", mallory, `{"login": "fresh"}`, 403, "only a site administrator"},
			{"the operator does", "POST", "/api/orgs", op, `{"login": "fresh", "owner": "mallory"}`, 201, ""},
		})
		if !strings.Contains(g.logs(), "channelgate_api has no storage_root") {
			t.Error("no warning about the missing storage_root in Caddy's log")
		}
	})
}
