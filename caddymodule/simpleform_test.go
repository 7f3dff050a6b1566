package caddymodule

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/channelindex"
	"github.com/channelgate/channelgate/channelindex/indextest"
)

// pipAccept is what pip sends for a simple page.
const pipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"

// TestSimpleForms proves the gateway serves the PEP 691 JSON form of a
// simple folder to clients that ask for it, the HTML form to the others,
// HTML when a folder has no JSON form, and filters the JSON root list
// per viewer like the HTML one.
func TestSimpleForms(t *testing.T) {
	g := startGateway(t, "")
	tok := g.seed()
	dir, err := channelindex.OpenDir(g.storage)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	pub, err := channelindex.NewPublisher(dir, channelindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for _, project := range []string{"acme-tools", "acme-open"} {
		py := indextest.Python{Project: project, Version: "1.0"}
		whl := indextest.Wheel(t, py)
		if _, err := pub.AddPython(context.Background(), channelindex.PythonAdd{Channel: "acme", File: py.WheelName()}, bytes.NewReader(whl), int64(len(whl))); err != nil {
			t.Fatal(err)
		}
	}
	g.file("acme/simple/legacy/index.html", `<a href="legacy-1.0.tar.gz">legacy-1.0.tar.gz</a>`)

	tests := []struct {
		name, path, accept      string
		wantType, want, without string
	}{
		{"pip gets JSON", "/acme/simple/acme-open/", pipAccept, channelindex.SimpleJSONContentType, `"name":"acme-open"`, ""},
		{"browser gets HTML", "/acme/simple/acme-open/", "text/html,*/*;q=0.8", "text/html", "Links for acme-open", ""},
		{"no Accept gets HTML", "/acme/simple/acme-open/", "", "text/html", "Links for acme-open", ""},
		{"HTML only folder", "/acme/simple/legacy/", pipAccept, "text/html", "legacy-1.0.tar.gz", ""},
		{"JSON root filtered", "/acme/simple/", pipAccept, channelindex.SimpleJSONContentType, `{"name":"acme-open"}`, "acme-tools"},
		{"HTML root filtered", "/acme/simple/", "text/html", "text/html", "acme-open/", "acme-tools"},
		{"JSON root for the owner", "/t/" + tok["alice/all"] + "/acme/simple/", pipAccept, channelindex.SimpleJSONContentType, `{"name":"acme-tools"}`, ""},
		{"private project JSON for the owner", "/t/" + tok["alice/all"] + "/acme/simple/acme-tools/", pipAccept, channelindex.SimpleJSONContentType, `"name":"acme-tools"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.accept != "" {
				hdr["Accept"] = tt.accept
			}
			status, body, h := g.do("GET", tt.path, hdr)
			if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), tt.wantType) || !strings.Contains(body, tt.want) ||
				tt.without != "" && strings.Contains(body, tt.without) {
				t.Fatalf("%d %s: %s\nwant %s containing %q without %q", status, h.Get("Content-Type"), body, tt.wantType, tt.want, tt.without)
			}
			if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Accept") {
				t.Errorf("no Vary: Accept in %v", h)
			}
		})
	}
}
