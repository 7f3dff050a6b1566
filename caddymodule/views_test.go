package caddymodule

import (
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// viewRepodata is a conda index with one file of each seeded package:
// open (public), secret and shared (private; bob's group has shared).
func viewRepodata() string {
	rec := func(name string) map[string]any {
		return map[string]any{"name": name, "version": "1.0", "build": "0", "build_number": 0, "depends": []string{}}
	}
	b, _ := json.Marshal(map[string]any{
		"info":             map[string]any{"subdir": "noarch"},
		"packages":         map[string]any{"shared-1.0-0.tar.bz2": rec("shared"), "open-1.0-0.tar.bz2": rec("open")},
		"packages.conda":   map[string]any{"secret-1.0-0.conda": rec("secret"), "open-1.0-0.conda": rec("open")},
		"removed":          []string{"secret-0.9-0.conda", "open-0.9-0.conda"},
		"repodata_version": 1,
	})
	return string(b)
}

// listed returns the file names an index lists, sorted.
func listed(t *testing.T, body string) []string {
	t.Helper()
	var idx struct {
		Packages      map[string]json.RawMessage `json:"packages"`
		PackagesConda map[string]json.RawMessage `json:"packages.conda"`
		Removed       []string                   `json:"removed"`
	}
	if err := json.Unmarshal([]byte(body), &idx); err != nil {
		t.Fatalf("index is not JSON: %v\n%s", err, body)
	}
	var out []string
	for k := range idx.Packages {
		out = append(out, k)
	}
	for k := range idx.PackagesConda {
		out = append(out, k)
	}
	out = append(out, idx.Removed...)
	sort.Strings(out)
	return out
}

// TestIndexViews proves each viewer reads only what it may see, in every
// index form, with ETags per view and untouched bytes for full views.
func TestIndexViews(t *testing.T) {
	g := startGateway(t, "")
	tok := g.seed()
	alice, bob := tok["alice/all"], tok["bob/conda"]
	repodata := viewRepodata()
	g.file("acme/noarch/repodata.json", repodata)
	g.file("acme/noarch/repodata.json.zst", string(indextest.Zstd(t, []byte(repodata))))
	g.file("acme/noarch/repodata.json.bz2", "BZ2")
	g.file("acme/noarch/index.html", "<a>secret-1.0-0.conda</a>")
	g.file("acme/channeldata.json", `{"channeldata_version":1,"packages":{"open":{},"secret":{},"shared":{}},"subdirs":["noarch"]}`)
	g.file("acme/noarch/repodata_shards.msgpack.zst", string(indextest.Zstd(t, indextest.ShardsIndex([]string{"open", "secret", "shared"}, 0x80))))
	for _, n := range []string{"open", "secret", "shared"} {
		g.file("acme/noarch/shards/"+hex.EncodeToString(indextest.ShardDigest(n))+".msgpack.zst", "SHARD-"+n)
	}
	g.file("acme/simple/index.html", `<html><body><a href="acme-tools/">Acme_Tools</a><a href="pub/">pub</a></body></html>`)

	viewers := []struct {
		name   string
		prefix string
		want   []string
	}{
		{"anonymous", "", []string{"open-0.9-0.conda", "open-1.0-0.conda", "open-1.0-0.tar.bz2"}},
		{"group member", "/t/" + bob, []string{"open-0.9-0.conda", "open-1.0-0.conda", "open-1.0-0.tar.bz2", "shared-1.0-0.tar.bz2"}},
		{"owner", "/t/" + alice, []string{"open-0.9-0.conda", "open-1.0-0.conda", "open-1.0-0.tar.bz2", "secret-0.9-0.conda", "secret-1.0-0.conda", "shared-1.0-0.tar.bz2"}},
	}
	etags := map[string]string{}
	for _, v := range viewers {
		t.Run(v.name, func(t *testing.T) {
			status, body, hdr := g.do("GET", v.prefix+"/acme/noarch/repodata.json", nil)
			if status != 200 || strings.Join(listed(t, body), " ") != strings.Join(v.want, " ") {
				t.Fatalf("repodata.json: %d lists %v, want %v", status, listed(t, body), v.want)
			}
			etag := hdr.Get("ETag")
			etags[v.name] = etag
			if status, _, _ := g.do("GET", v.prefix+"/acme/noarch/repodata.json", map[string]string{"If-None-Match": etag}); status != 304 {
				t.Errorf("If-None-Match with this view's ETag: %d, want 304", status)
			}
			if !strings.Contains(hdr.Get("Vary"), "Authorization") {
				t.Errorf("Vary %q lacks Authorization", hdr.Get("Vary"))
			}

			status, zst, _ := g.do("GET", v.prefix+"/acme/noarch/repodata.json.zst", nil)
			if status != 200 || strings.Join(listed(t, string(indextest.Unzstd(t, []byte(zst)))), " ") != strings.Join(v.want, " ") {
				t.Errorf("repodata.json.zst: %d, lists differ from %v", status, v.want)
			}

			_, cd, _ := g.do("GET", v.prefix+"/acme/channeldata.json", nil)
			for _, n := range []string{"open", "secret", "shared"} {
				seen := strings.Contains(cd, `"`+n+`"`)
				wantSeen := strings.Contains(strings.Join(v.want, " "), n+"-")
				if seen != wantSeen {
					t.Errorf("channeldata.json shows %s: %v, want %v", n, seen, wantSeen)
				}
				shard := "/acme/noarch/shards/" + hex.EncodeToString(indextest.ShardDigest(n)) + ".msgpack.zst"
				status, _, _ := g.do("GET", v.prefix+shard, nil)
				if wantSeen && status != 200 || !wantSeen && status != 404 {
					t.Errorf("shard of %s: %d", n, status)
				}
			}
		})
	}
	if etags["anonymous"] == etags["group member"] || etags["group member"] == etags["owner"] {
		t.Errorf("views share an ETag: %v", etags)
	}

	t.Run("full view passes the stored bytes", func(t *testing.T) {
		_, body, _ := g.do("GET", "/t/"+alice+"/acme/noarch/repodata.json", nil)
		if body != repodata {
			t.Errorf("owner's repodata.json differs from storage")
		}
		if status, body, _ := g.do("GET", "/t/"+alice+"/acme/noarch/repodata.json.bz2", nil); status != 200 || body != "BZ2" {
			t.Errorf("owner's bz2: %d %q", status, body)
		}
	})

	t.Run("unfilterable files are 404 to partial views", func(t *testing.T) {
		for _, p := range []string{"/acme/noarch/repodata.json.bz2", "/acme/noarch/index.html", "/t/" + bob + "/acme/noarch/repodata.json.bz2"} {
			if status, _, _ := g.do("GET", p, nil); status != 404 {
				t.Errorf("%s: %d, want 404", p, status)
			}
		}
	})

	t.Run("pypi root", func(t *testing.T) {
		_, anon, _ := g.do("GET", "/acme/simple/", nil)
		if strings.Contains(anon, "Acme_Tools") || !strings.Contains(anon, "pub") {
			t.Errorf("anonymous simple root: %s", anon)
		}
		_, owner, _ := g.do("GET", "/t/"+alice+"/acme/simple/", nil)
		if !strings.Contains(owner, "Acme_Tools") {
			t.Errorf("owner's simple root lacks the private project: %s", owner)
		}
	})

	t.Run("malformed stored index is 502, never served", func(t *testing.T) {
		g.file("acme/noarch/repodata.json", `{"packages": {"secret-1.0-0.conda": {"name": "secret"}`)
		status, body, _ := g.do("GET", "/acme/noarch/repodata.json", nil)
		if status != 502 || strings.Contains(body, "secret") {
			t.Errorf("malformed index: %d %q", status, body)
		}
	})
}
