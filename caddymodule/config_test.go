package caddymodule

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// TestConfigErrors loads Caddyfiles with a bad channelgate option through
// Caddy's own adapter and validation (which provisions the handler, as a
// reload does) and checks each is refused with a line naming the option.
func TestConfigErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cg.db")
	for _, tc := range []struct{ option, want string }{
		{"unregistered_channels secret", `unregistered_channels must be public or private, not "secret"`},
		{"private_packages maybe", `private_packages must be hide or refuse, not "maybe"`},
		{"failure_delay -1s", `failure_delay must be a positive duration or off, not "-1s"`},
		{"failure_delay", "wrong argument count"},
		{"failure_limit 0 1m", `failure_limit count must be a positive number, not "0"`},
		{"cache_size lots", "cache_size"},
		{"storage_path /{nope}", "{nope}"},
		{"no_such_option 1", `unknown channelgate option "no_such_option"`},
	} {
		t.Run(tc.option, func(t *testing.T) {
			caddyfile := fmt.Sprintf("{\n\tadmin off\n}\nhttp://localhost:9 {\n\tchannelgate {\n\t\tdb %s\n\t\t%s\n\t}\n\trespond ok\n}\n", db, tc.option)
			err := validateCaddyfile(caddyfile)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if err := validateCaddyfile(fmt.Sprintf("http://localhost:9 {\n\tchannelgate {\n\t\tdb %s\n\t\tprivate_packages refuse\n\t\tfailure_delay off\n\t}\n\trespond ok\n}\n", db)); err != nil {
		t.Fatalf("valid configuration refused: %v", err)
	}
}

// validateCaddyfile adapts a Caddyfile and provisions it without running.
func validateCaddyfile(text string) error {
	raw, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(text), nil)
	if err != nil {
		return err
	}
	var cfg caddy.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	return caddy.Validate(&cfg)
}
