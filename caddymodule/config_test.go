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
		{"store", "wrong argument count"},
		{"store nosuch", "channelgate.stores.nosuch"},
		{"store bbolt a.db b.db", "wrong argument count"},
		{"store bbolt a.db {\n\t\t\tpath b.db\n\t\t}", "bbolt takes no block"},
		{"store etcd", "etcd store: no endpoints"},
		{"store etcd http://127.0.0.1:1 /p/ extra", "wrong argument count"},
		{"store etcd http://127.0.0.1:1 {\n\t\t\tstale_after soon\n\t\t}", `stale_after must be a positive duration such as 5s, not "soon"`},
		{"store etcd http://127.0.0.1:1 {\n\t\t\tcolour blue\n\t\t}", `unknown etcd store option "colour"`},
		{"store etcd http://127.0.0.1:1 {\n\t\t\ttls_cert c.pem\n\t\t}", "a client certificate and its key go together"},
		// Nothing listens on port 1: the gateway does not start.
		{"store http://127.0.0.1:1 {\n\t\t\trequest_timeout 200ms\n\t\t}", "etcd http://127.0.0.1:1"},
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

// TestAPIConfigErrors is TestConfigErrors for channelgate_api: each bad
// option, and an operator secret too short or given twice, is refused at
// start with a line that says why (and never shows the secret).
func TestAPIConfigErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cg.db")
	file := filepath.Join(t.TempDir(), "secret")
	procWriteFile(t, file, []byte(operatorSecret))
	badSeed := filepath.Join(t.TempDir(), "seed.json")
	procWriteFile(t, badSeed, []byte(`{"organizations":[{"name":"acme","packages":[{"name":"x","kinds":["conda"],"visibility":"hidden"}]}]}`))
	for _, tc := range []struct{ option, want string }{
		{"seed /nonexistent/seed.json", "channelgate_api seed: open /nonexistent/seed.json"},
		{"seed " + badSeed, "seed " + badSeed + `: organizations[0] (acme).packages[0]: visibility must be public or private, not "hidden"`},
		{"seed a b", "wrong argument count"},
		{"operator_secret hunter2", "at least 32 characters"},
		{"operator_secret_file " + file + "\n\t\toperator_secret " + operatorSecret, "exclude each other"},
		{"operator_secret_file /nonexistent/secret", "operator_secret_file"},
		{"max_password_checks 0", `max_password_checks must be a positive number, not "0"`},
		{"failure_limit 0 1m", `failure_limit count must be a positive number, not "0"`},
		{"failure_delay soon", `failure_delay must be a positive duration or off, not "soon"`},
		{"no_such_option", `unknown channelgate_api option "no_such_option"`},
	} {
		t.Run(tc.option, func(t *testing.T) {
			caddyfile := fmt.Sprintf("{\n\tadmin off\n}\nhttp://localhost:9 {\n\tchannelgate_api {\n\t\tdb %s\n\t\t%s\n\t}\n}\n", db, tc.option)
			err := validateCaddyfile(caddyfile)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") ||
				strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	valid := fmt.Sprintf("http://localhost:9 {\n\tchannelgate_api {\n\t\tdb %s\n\t\toperator_secret_file %s\n"+
		"\t\tmax_password_checks 4\n\t\tfailure_limit 10 5m\n\t\tfailure_delay off\n\t\tseed ../example/seed.json\n\t}\n}\n", db, file)
	if err := validateCaddyfile(valid); err != nil {
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

// TestStoreCaddyfile checks the JSON of the store option's forms.
func TestStoreCaddyfile(t *testing.T) {
	for _, tc := range []struct{ option, want string }{
		{"store bbolt /var/lib/cg.db", `"store":{"backend":"bbolt","path":"/var/lib/cg.db"}`},
		{"store http://10.0.0.1:2379,http://10.0.0.2:2379", `"store":{"backend":"etcd","endpoints":["http://10.0.0.1:2379","http://10.0.0.2:2379"]}`},
		{"store http://10.0.0.1:2379 /cg/", `"store":{"backend":"etcd","endpoints":["http://10.0.0.1:2379"],"prefix":"/cg/"}`},
		{"store etcd {\n\t\t\tendpoints https://a:2379 https://b:2379,https://c:2379\n\t\t\tprefix /x/\n\t\t\ttls_cert c.pem\n\t\t\ttls_key k.pem\n\t\t\ttls_ca ca.pem\n\t\t\tusername gw\n\t\t\tpassword {env.ETCD_PW}\n\t\t\tstale_after 2s\n\t\t\tlock_ttl 3s\n\t\t}",
			`"store":{"backend":"etcd","endpoints":["https://a:2379","https://b:2379","https://c:2379"],"lock_ttl":3000000000,"password":"{env.ETCD_PW}","prefix":"/x/","stale_after":2000000000,"tls_ca":"ca.pem","tls_cert":"c.pem","tls_key":"k.pem","username":"gw"}`},
	} {
		t.Run(tc.option, func(t *testing.T) {
			caddyfile := fmt.Sprintf("http://localhost:9 {\n\tchannelgate {\n\t\t%s\n\t}\n\trespond ok\n}\n", tc.option)
			raw, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(raw), tc.want) {
				t.Fatalf("JSON %s\nwant it to contain %s", raw, tc.want)
			}
		})
	}
}

// TestWebConfigErrors: every bad channelgate_web option is refused with
// its reason when the configuration is loaded.
func TestWebConfigErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cg.db")
	for _, tc := range []struct{ options, want string }{
		{"signup maybe", `signup must be closed or open, not "maybe"`},
		{"robot_check sometimes", `robot_check must be on or off, not "sometimes"`},
		{"gravatar yes", `gravatar must be off or on, not "yes"`},
		{"smtp mail.example:25", "smtp needs mail_from and base_url"},
		{"smtp mail.example:25\n\t\tmail_from a@example.org", "smtp needs mail_from and base_url"},
		{"terms /nonexistent/terms.txt", "terms:"},
		{"signup open closed", "wrong argument count"},
		{"no_such_option 1", `unknown channelgate_web option "no_such_option"`},
	} {
		t.Run(tc.options, func(t *testing.T) {
			caddyfile := fmt.Sprintf("{\n\tadmin off\n}\nhttp://localhost:9 {\n\tchannelgate_web {\n\t\tdb %s\n\t\t%s\n\t}\n\trespond ok\n}\n", db, tc.options)
			err := validateCaddyfile(caddyfile)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	valid := "signup open\n\t\tbase_url https://example.org\n\t\tsmtp mail.example:25\n\t\tmail_from a@example.org\n\t\tgravatar on\n\t\trobot_check off\n\t\tsmtp_user"
	if err := validateCaddyfile(fmt.Sprintf("http://localhost:9 {\n\tchannelgate_web {\n\t\tdb %s\n\t\t%s\n\t}\n\trespond ok\n}\n", db, valid)); err != nil {
		t.Fatalf("valid configuration refused: %v", err)
	}
}
