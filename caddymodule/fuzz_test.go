package caddymodule

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/channelgate/channelgate/tokenstore"
)

// Fuzz targets. Each runs its seed corpus in every `go test`; CI fuzzes
// one at a time for a few seconds:
//
//	go test -run='^$' -fuzz='^FuzzParsePath$' -fuzztime=15s ./caddymodule/

const fuzzToken = "cgt-0gkh3h1R2UvJX4rl3ga3U9KvbSETnttE8yHFDjhs9bp4MSPDt"

// FuzzParsePath proves, for any decoded path: parsePath does not panic;
// an accepted path renders (default storage template) to a path inside
// its channel's folder with no dot segment, empty segment or backslash;
// and parsing the rendered path (tokenless) names the same channel,
// label, kind, class and package: what the storage is asked for is what
// was decided.
func FuzzParsePath(f *testing.F) {
	for _, p := range []string{
		"/acme/noarch/repodata.json", "/acme/noarch/secret-1.0-0.conda", "/acme/linux-64/shared-1.0-0.tar.bz2",
		"/t/" + fuzzToken + "/acme/label/dev/noarch/secret-2.0-0.conda", "/acme/label/main/noarch/x-1-0.conda",
		"/acme/simple/", "/acme/simple/Acme_Tools/", "/acme/simple/acme-tools/acme_tools-1.0-py3-none-any.whl",
		"/acme/noarch/repodata_shards.msgpack.zst", "/acme/noarch/shards/abc.msgpack.zst", "/acme/notices.json",
		"/acme", "/acme/label/dev", "/acme/noarch/../secret-1.0-0.conda", "//acme", "/t//acme/", "/acme/noarch/x.CONDA",
		"/acme/label/noarch/secret-1.0-0.conda", "/acme/t/" + fuzzToken + "/noarch/", "/acme\\noarch", "/acme/noarch/a;b",
	} {
		f.Add(p)
	}
	layout, err := parseStorageTemplate("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tg, err := parsePath(p)
		if err != nil {
			return
		}
		out := layout.render(&tg)
		if !strings.HasPrefix(out, "/"+tg.channel+"/") {
			t.Fatalf("%q renders %q, outside channel %q", p, out, tg.channel)
		}
		if strings.Contains(out, "//") || strings.Contains(out, `\`) {
			t.Fatalf("%q renders %q with an empty segment or backslash", p, out)
		}
		for _, s := range strings.Split(out, "/") {
			if s == ".." || s == "." {
				t.Fatalf("%q renders %q with a dot segment", p, out)
			}
		}
		again, err := parsePath(out)
		if err != nil {
			t.Fatalf("%q renders %q, which does not parse: %v", p, out, err)
		}
		if again.token != "" || again.channel != tg.channel || again.label != tg.label || again.kind != tg.kind ||
			again.class != tg.class || again.pkg != tg.pkg || again.rest != tg.rest {
			t.Fatalf("%q → %q: parsed %+v, then %+v", p, out, tg, again)
		}
	})
}

// FuzzRequestToken proves that reading credentials from any
// Authorization header values and path token does not panic and never
// returns a token that was not in the input (as given or inside Basic's
// base64).
func FuzzRequestToken(f *testing.F) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, s := range []struct{ h1, h2, path string }{
		{"token " + fuzzToken, "", ""}, {"Bearer " + fuzzToken, "", fuzzToken}, {"Basic " + b64("__token__:"+fuzzToken), "", ""},
		{"Basic " + b64(fuzzToken+":"), "", ""}, {"Basic " + b64("alice:pw"), "", ""}, {"Basic !!", "", ""},
		{"token a", "token b", ""}, {"Digest x", "", ""}, {"", "", fuzzToken}, {"token  " + fuzzToken + " ", "", "x"},
	} {
		f.Add(s.h1, s.h2, s.path)
	}
	f.Fuzz(func(t *testing.T, h1, h2, path string) {
		h := http.Header{}
		var decoded []string
		for _, v := range []string{h1, h2} {
			if v == "" {
				continue
			}
			h.Add("Authorization", v)
			for _, field := range strings.Fields(v) {
				if raw, err := base64.StdEncoding.DecodeString(field); err == nil {
					decoded = append(decoded, string(raw))
				}
			}
		}
		tok, err := requestToken(h, path)
		if err != nil || tok == "" {
			return
		}
		if strings.Contains(h1, tok) || strings.Contains(h2, tok) || tok == path {
			return
		}
		for _, d := range decoded {
			if strings.Contains(d, tok) {
				return
			}
		}
		t.Fatalf("requestToken(%q, %q, %q) = %q, which is not in the input", h1, h2, path, tok)
	})
}

// FuzzParseToken proves that tokenstore.ParseToken does not panic and
// accepts only cgt- followed by letters and digits.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{fuzzToken, flip(fuzzToken), "cgt-", "cgt_" + fuzzToken[4:], strings.ToUpper(fuzzToken),
		fuzzToken + "x", fuzzToken[:32], "cgt-0123456789abcdefghijklmnopqrstuv", "cgt-ä" + fuzzToken[6:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := tokenstore.ParseToken(s); err != nil {
			return
		}
		if !strings.HasPrefix(s, tokenstore.TokenPrefix) || len(s) > tokenstore.MaxTokenLen {
			t.Fatalf("accepted %q", s)
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-') {
				t.Fatalf("accepted %q with byte %q", s, c)
			}
		}
	})
}

// FuzzCaddyfile proves that parsing any channelgate and channelgate_api
// directive body returns (a value or an error) without panicking, and
// that a parsed failure_limit is either off or positive.
func FuzzCaddyfile(f *testing.F) {
	for _, s := range []string{
		"db /tmp/x.db\ncache_size 100", "storage_path /{channel}/{label}/{rest}", "unregistered_channels private",
		"failure_limit 20 1m", "failure_limit off", "failure_delay 1s", "failure_delay off", "failure_delay -1s", "failure_limit 0 1m", "failure_limit 3", "cache_size -1",
		"operator_secret {$X}", "open_signup", "private_packages refuse", "private_packages", "unknown thing", "db", "storage_path {", "}", "{\n}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		// caddyfile.NewTestDispenser exits the process on a lexer error,
		// so the fuzz target tokenizes itself; Caddy rejects such input
		// before any directive sees it.
		dispenser := func(directive string) *caddyfile.Dispenser {
			tokens, err := caddyfile.Tokenize([]byte(directive+" {\n"+body+"\n}\n"), "Caddyfile")
			if err != nil {
				return nil
			}
			return caddyfile.NewDispenser(tokens)
		}
		d := dispenser("channelgate")
		if d == nil {
			return
		}
		var h Handler
		if err := h.UnmarshalCaddyfile(d); err == nil {
			if h.FailureLimit == 0 && h.FailureWindow != 0 || h.FailureLimit < -1 || h.FailureWindow < 0 || h.FailureDelay < -1 {
				t.Fatalf("%q parsed to failure_limit %d %v", body, h.FailureLimit, h.FailureWindow)
			}
		}
		var a APIHandler
		_ = a.UnmarshalCaddyfile(dispenser("channelgate_api"))
	})
}
