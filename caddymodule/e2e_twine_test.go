package caddymodule

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/channelgate/channelgate/channelindex/indextest"
	"github.com/channelgate/channelgate/tokenstore"
)

// TestTwineUpload drives Debian's twine and pip against a real Caddy whose
// API publishes into the storage: twine uploads a wheel and an sdist of a
// new project to http://HOST/<channel>/ with __token__ and a pypi:upload
// token, and a second version to .../<channel>/simple/ with a /t/ token;
// the same file again is refused with 409 and skipped with
// --skip-existing; pip then downloads and installs the wheel through
// /t/<token>/<channel>/simple/ and with Basic __token__; tokens with only
// a download scope, a stranger's token and an expired one are refused
// (403, 403, 401) and write nothing; the upload metrics count each
// outcome and the bytes published.
func TestTwineUpload(t *testing.T) {
	requireClient(t, "twine", "pip")
	g := startSite(t, site{storageRoot: true, routes: "handle /metrics {\n\t\tmetrics\n\t}"})
	tok := g.seed()
	before := scrape(t, g)
	for _, spec := range []tokenstore.TokenSpec{
		{Owner: "alice", CreatedBy: "alice", Name: "expired", Scopes: []string{"pypi"}, MaxAge: time.Second},
		{Owner: "alice", CreatedBy: "alice", Name: "pypi-up", Scopes: []string{"pypi:upload", "pypi:download"}},
		{Owner: "alice", CreatedBy: "alice", Name: "conda-dl", Scopes: []string{"conda:download"}},
		{Owner: "bob", CreatedBy: "bob", Name: "all"},
	} {
		secret, _, err := g.store.CreateToken(testActor, spec)
		if err != nil {
			t.Fatal(err)
		}
		tok[spec.Owner+"/"+spec.Name] = secret
	}
	upload := tok["alice/pypi-up"]

	dir := t.TempDir()
	v1 := indextest.Python{Project: "team-tools", Version: "1.0", RequiresPython: ">=3.8"}
	v2 := indextest.Python{Project: "team-tools", Version: "2.0"}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	whl1, sdist1 := write(v1.WheelName(), indextest.Wheel(t, v1)), write(v1.SdistName(), indextest.Sdist(t, v1))
	whl2 := write(v2.WheelName(), indextest.Wheel(t, v2))
	host := strings.TrimPrefix(g.base, "http://")
	stored := func() []string { return storedFiles(t, filepath.Join(g.storage, "alice")) }

	twine := func(t *testing.T, url, password string, extra ...string) (string, error) {
		t.Helper()
		args := append([]string{"-m", "twine", "upload", "--non-interactive", "--disable-progress-bar",
			"--repository-url", url, "-u", "__token__", "-p", password}, extra...)
		out, err := runPython(t, args...)
		return maskSecrets(out, tok), err
	}

	time.Sleep(1100 * time.Millisecond) // the expired token's second passes while the rest is set up
	for _, tc := range []struct {
		name, token, want string
	}{
		{"download-only token", "alice/pypi-only", "403"},
		{"conda:download token", "alice/conda-dl", "403"},
		{"stranger's token", "bob/all", "403"},
		{"expired token", "alice/expired", "401"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			before := stored()
			out, err := twine(t, g.base+"/alice/", tok[tc.token], whl1)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("twine with %s: %v, want a %s failure:\n%s", tc.name, err, tc.want, out)
			}
			if after := stored(); !sameJSON(after, before) {
				t.Errorf("a refused upload wrote %v (before: %v)", after, before)
			}
		})
	}
	t.Run("wheel and sdist with __token__", func(t *testing.T) {
		if out, err := twine(t, g.base+"/alice/", upload, whl1, sdist1); err != nil {
			t.Fatalf("twine upload: %v\n%s", err, out)
		}
		status, page, _ := g.do("GET", "/t/"+upload+"/alice/simple/team-tools/", nil)
		for _, f := range []string{v1.WheelName(), v1.SdistName()} {
			if status != 200 || !strings.Contains(page, f+"#sha256=") {
				t.Errorf("project page (%d) lacks %s:\n%s", status, f, page)
			}
		}
		if !strings.Contains(page, `data-requires-python="&gt;=3.8"`) {
			t.Errorf("project page lacks data-requires-python:\n%s", page)
		}
	})
	t.Run("second version to /simple/ with a /t/ token", func(t *testing.T) {
		if out, err := twine(t, g.base+"/t/"+upload+"/alice/simple/", "unused", whl2); err != nil {
			t.Fatalf("twine upload: %v\n%s", err, out)
		}
	})
	t.Run("existing file: 409, skipped with --skip-existing", func(t *testing.T) {
		out, err := twine(t, g.base+"/alice/", upload, whl1)
		if err == nil || !strings.Contains(out, "409") {
			t.Errorf("second upload of the same wheel: %v, want 409:\n%s", err, out)
		}
		if out, err := twine(t, g.base+"/alice/", upload, "--skip-existing", whl1); err != nil {
			t.Errorf("--skip-existing: %v\n%s", err, out)
		}
	})
	for _, index := range []struct{ name, url string }{
		{"/t/ token", g.base + "/t/" + upload + "/alice/simple/"},
		{"Basic __token__", "http://__token__:" + upload + "@" + host + "/alice/simple/"},
	} {
		t.Run("pip installs it back with "+index.name, func(t *testing.T) {
			out := t.TempDir()
			log, err := runPython(t, "-m", "pip", "download", "--isolated", "--disable-pip-version-check", "--no-input",
				"--no-deps", "--no-cache-dir", "--index-url", index.url, "team-tools==1.0", "-d", out)
			if err != nil {
				t.Fatalf("pip download: %v\n%s", err, maskSecrets(log, tok))
			}
			got, err := os.ReadFile(filepath.Join(out, v1.WheelName()))
			if want := indextest.Wheel(t, v1); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("downloaded wheel: %v (%d bytes, want %d)", err, len(got), len(want))
			}
			assertPipInstalls(t, filepath.Join(out, v1.WheelName()), wheelSpec{v1.Project, v1.Version})
		})
	}
	after := scrape(t, g)
	published := float64(len(indextest.Wheel(t, v1)) + len(indextest.Sdist(t, v1)) + len(indextest.Wheel(t, v2)))
	for series, want := range map[string]float64{
		`channelgate_uploads_total{kind="pypi",outcome="ok"}`: 3,
		// four refused tokens, the same wheel twice (409, the second
		// time skipped by twine)
		`channelgate_uploads_total{kind="pypi",outcome="refused"}`: 6,
		`channelgate_upload_bytes_total{kind="pypi"}`:              published,
	} {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s moved by %v, want %v", series, got, want)
		}
	}
	for _, leak := range tokenLeaks(g.logs(), nil, tok) {
		t.Error(leak)
	}
}

// storedFiles lists the files under dir, relative to it, sorted.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	out := []string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
