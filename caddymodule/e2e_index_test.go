package caddymodule

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// condaProbes are the files conda and rattler ask for per subdir, in
// rattler's order, then conda's current_repodata.json.
var condaProbes = []string{"repodata_shards.msgpack.zst", "repodata.json.zst", "repodata.json.bz2",
	"repodata.json", "current_repodata.json"}

// TestE2ECondaProbes replays the requests conda and rattler make for a
// channel, for every channel URL form (plain, label/main, label/dev) and
// viewer: a viewer who may read the channel gets what the storage has
// (200, with the stored bytes for viewers of every package; 304 for a matching If-None-Match or
// If-Modified-Since) and 404 for every missing probe, never 401, 403 or
// 500, which abort rattler's solve; a viewer who may not read the channel
// is refused on every probe.
func TestE2ECondaProbes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *e2e) {
		tokenHdr := func(tok string) map[string]string { return map[string]string{"Authorization": "token " + e.tok[tok]} }
		viewers := []struct {
			name    string
			channel string
			prefix  string
			hdr     map[string]string
			refusal int  // 0 when the viewer may read the channel
			all     bool // the viewer may read every package: indexes come whole
		}{
			{"anonymous", "acme", "", nil, 0, false},
			{"owner /t/ token", "acme", "/t/" + e.tok["alice/all"], nil, 0, true},
			{"owner token header", "acme", "", tokenHdr("alice/all"), 0, true},
			{"group member /t/ token", "acme", "/t/" + e.tok["bob/conda"], nil, 0, false},
			{"pypi-only token", "acme", "/t/" + e.tok["alice/pypi-only"], nil, 0, false},
			{"anonymous on private channel", "bob", "", nil, 401, false},
			{"owner on private channel", "bob", "/t/" + e.tok["bob/conda"], nil, 0, true},
			{"other user on private channel", "bob", "", tokenHdr("alice/all"), 403, false},
		}
		labels := []struct{ url, storage string }{{"", ""}, {"/label/main", ""}, {"/label/dev", "label/dev/"}}
		var files []string
		for _, subdir := range []string{"noarch", "linux-64"} {
			for _, p := range condaProbes {
				files = append(files, subdir+"/"+p)
			}
		}
		files = append(files, "channeldata.json", "notices.json")

		for _, v := range viewers {
			for _, l := range labels {
				for _, f := range files {
					methods := []string{"GET"}
					if strings.HasSuffix(f, "repodata_shards.msgpack.zst") {
						methods = append(methods, "HEAD") // conda checks for shards with HEAD
					}
					for _, m := range methods {
						url := v.prefix + "/" + v.channel + l.url + "/" + f
						t.Run(v.name+" "+m+" "+v.channel+l.url+"/"+f, func(t *testing.T) {
							stored, exists := e.fx.files[l.storage+f]
							want := 404
							switch {
							case v.refusal != 0:
								want = v.refusal
							case exists:
								want = 200
							}
							status, body, hdr := e.g.do(m, url, v.hdr)
							if status != want {
								t.Fatalf("%s %s: %d %q, want %d", m, e.maskTokens(url), status, body, want)
							}
							if status != 200 || m != "GET" {
								return
							}
							// Viewers who may not read every package are
							// not pinned to the whole stored index: it
							// may be filtered for them.
							if v.all && body != string(stored) {
								t.Fatalf("body differs from the stored %s", l.storage+f)
							}
							assertRevalidates(t, e, url, v.hdr, hdr, v.all)
						})
					}
				}
			}
		}
	})
}

// assertRevalidates checks that conda's conditional requests with the
// validators of a 200 answer get 304. A filtered view (whole false) has
// an ETag of its own and no Last-Modified: two views of one stored file
// share its time, so a date could match the wrong view.
func assertRevalidates(t *testing.T, e *e2e, url string, auth map[string]string, first map[string][]string, whole bool) {
	t.Helper()
	validators := map[string]string{"If-None-Match": "Etag", "If-Modified-Since": "Last-Modified"}
	if !whole {
		if lm := first["Last-Modified"]; len(lm) != 0 {
			t.Errorf("filtered view with Last-Modified %q", lm[0])
		}
		delete(validators, "If-Modified-Since")
	}
	for cond, from := range validators {
		vals := first[from]
		if len(vals) == 0 || vals[0] == "" {
			t.Errorf("200 without %s", from)
			continue
		}
		hdr := map[string]string{cond: vals[0]}
		for k, v := range auth {
			hdr[k] = v
		}
		if status, body, _ := e.g.do("GET", url, hdr); status != 304 {
			t.Errorf("%s %s: %d %q, want 304", cond, vals[0], status, body)
		}
	}
}

// twineUploadBody is the multipart/form-data body twine posts for one
// wheel: the metadata fields and the file part "content".
func twineUploadBody(t *testing.T, w wheelSpec, whl []byte) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	sum := sha256.Sum256(whl)
	for _, kv := range [][2]string{{":action", "file_upload"}, {"protocol_version", "1"}, {"name", w.project},
		{"version", w.version}, {"filetype", "bdist_wheel"}, {"pyversion", "py3"}, {"metadata_version", "2.1"},
		{"sha256_digest", hex.EncodeToString(sum[:])}} {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("content", w.fileName())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(whl); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// TestE2ETwineStyleUploadRefused posts what twine posts for a new version
// of acme-tools: without a token the answer is 401, with a token lacking
// pypi:upload 403 naming the scope, and such refusals write nothing and
// never reach the storage; a token that may upload publishes the file
// through the API (posted to the index URL), while a post to a project's
// URL is not an upload and gets no 2xx.
func TestE2ETwineStyleUploadRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *e2e) {
		w := wheelSpec{"acme-tools", "9.9.9"}
		body, ctype := twineUploadBody(t, w, wheel(t, w))
		twine := func(tok string) map[string]string {
			h := map[string]string{"Content-Type": ctype}
			if tok != "" {
				h["Authorization"] = basic("__token__", e.tok[tok])
			}
			return h
		}
		tests := []struct {
			name   string
			path   string
			hdr    map[string]string
			status int // 0: anything but 2xx (the request reaches the storage)
			msg    string
		}{
			{"no token", "/acme/simple/", twine(""), 401, "authentication required"},
			{"no token, project URL", "/acme/simple/acme-tools/", twine(""), 401, "authentication required"},
			{"revoked token", "/acme/simple/", twine("alice/revoked"), 401, "token revoked"},
			{"download-only token", "/acme/simple/", twine("alice/pypi-only"), 403, "token lacks scope pypi:upload"},
			{"download-only token in path", "/t/" + e.tok["alice/pypi-only"] + "/acme/simple/", twine(""), 403, "token lacks scope pypi:upload"},
			{"conda-only token", "/acme/simple/acme-tools/", twine("bob/conda"), 403, "token lacks scope pypi:upload"},
			{"upload-capable token, project URL", "/acme/simple/acme-tools/", twine("alice/all"), 0, ""},
			{"upload-capable token", "/acme/simple/", twine("alice/all"), 200, "uploaded"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var before int
				if e.g.upstream != nil {
					before = len(e.g.upstream.requests())
				}
				status, got, _ := e.g.doBody("POST", tc.path, tc.hdr, bytes.NewReader(body))
				if tc.status == 0 && status >= 200 && status < 300 {
					t.Fatalf("post to a project URL answered %d %q", status, got)
				}
				if tc.status != 0 && (status != tc.status || !strings.Contains(got, tc.msg)) {
					t.Fatalf("got %d %q, want %d containing %q", status, got, tc.status, tc.msg)
				}
				_, err := os.Stat(filepath.Join(e.g.storage, "acme", "simple", "acme-tools", w.fileName()))
				if published := err == nil; published != (tc.status == 200) {
					t.Fatalf("%s published: %v, want %v", w.fileName(), published, tc.status == 200)
				}
				if tc.status != 0 && e.g.upstream != nil && len(e.g.upstream.requests()) != before {
					t.Errorf("a refused upload reached the storage: %+v", e.g.upstream.requests()[before:])
				}
			})
		}
	})
}
