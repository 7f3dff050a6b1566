package caddymodule

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EPip drives Debian's pip (`pip download`, then an offline
// `pip install` of what it downloaded) through the gateway: private
// projects download with a /t/ token or Basic __token__ credentials in
// the index URL, byte for byte and installable; anonymous, revoked and
// wrong-scope requests make pip fail; public projects need no token; the
// name is normalized; and pip's own output shows Basic tokens masked.
func TestE2EPip(t *testing.T) {
	requireClient(t, "pip")
	forEachBackend(t, func(t *testing.T, e *e2e) {
		host := strings.TrimPrefix(e.g.base, "http://")
		pathIndex := func(tok string) string { return e.g.base + "/t/" + e.tok[tok] + "/acme/simple/" }
		basicIndex := func(tok string) string { return "http://__token__:" + e.tok[tok] + "@" + host + "/acme/simple/" }
		anonymous := e.g.base + "/acme/simple/"
		tools, open := fixtureWheels[0], fixtureWheels[1]

		tests := []struct {
			name    string
			index   string
			ask     string    // project name as typed
			want    wheelSpec // downloaded wheel when ok
			ok      bool
			storage string // storage path of the project page pip must (not) reach, reverse_proxy only
		}{
			{"private via /t/ token", pathIndex("alice/all"), "acme-tools", tools, true, "/acme/simple/acme-tools/"},
			{"private via Basic __token__", basicIndex("alice/all"), "acme-tools", tools, true, "/acme/simple/acme-tools/"},
			{"private via organization token", basicIndex("acme/ci"), "acme-tools", tools, true, "/acme/simple/acme-tools/"},
			{"private spelled Acme_Tools", pathIndex("alice/pypi-only"), "Acme_Tools", tools, true, "/acme/simple/acme-tools/"},
			{"private anonymous fails", anonymous, "acme-tools", tools, false, ""},
			{"private with revoked /t/ token fails", pathIndex("alice/revoked"), "acme-tools", tools, false, ""},
			{"private with revoked Basic token fails", basicIndex("alice/revoked"), "acme-tools", tools, false, ""},
			{"private with conda-only token fails", basicIndex("bob/conda"), "acme-tools", tools, false, ""},
			{"public anonymous", anonymous, "acme-open", open, true, "/acme/simple/acme-open/"},
			{"public with token", pathIndex("bob/conda"), "acme-open", open, true, "/acme/simple/acme-open/"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				dir := t.TempDir()
				out, err := runPython(t, "-m", "pip", "download", "--isolated", "--disable-pip-version-check",
					"--no-input", "--no-deps", "--no-cache-dir", "--index-url", tc.index, tc.ask, "-d", dir)
				shown := e.maskTokens(out)
				assertPipMasksBasicTokens(t, out, e.tok)
				if !tc.ok {
					if err == nil {
						t.Fatalf("pip succeeded, want failure:\n%s", shown)
					}
					if !strings.Contains(out, "No matching distribution found for "+tc.ask) {
						t.Errorf("pip failed for another reason than the refused index:\n%s", shown)
					}
					if files := readDir(t, dir); len(files) != 0 {
						t.Errorf("pip failed but downloaded %v", files)
					}
					return
				}
				if err != nil {
					t.Fatalf("pip download: %v\n%s", err, shown)
				}
				got, err := os.ReadFile(filepath.Join(dir, tc.want.fileName()))
				if err != nil {
					t.Fatalf("pip did not save %s (dir has %v):\n%s", tc.want.fileName(), readDir(t, dir), shown)
				}
				if want := e.fx.file(t, "simple/"+tc.want.project+"/"+tc.want.fileName()); !bytes.Equal(got, want) {
					t.Fatalf("downloaded wheel differs from the stored one (%d vs %d bytes)", len(got), len(want))
				}
				assertPipInstalls(t, filepath.Join(dir, tc.want.fileName()), tc.want)
				if e.g.upstream != nil && len(e.storageSaw(tc.storage)) == 0 {
					t.Errorf("storage never received %s; pip was served from elsewhere?", tc.storage)
				}
			})
		}
	})
}

// assertPipMasksBasicTokens checks what pip printed: a token given as the
// Basic password of the index URL must never show (pip prints it as
// ****); a token given in the path shows only inside that path, /t/<token>/
// (pip masks only URL passwords, so a /t/ index URL is printed as is).
func assertPipMasksBasicTokens(t *testing.T, out string, tokens map[string]string) {
	t.Helper()
	for name, secret := range tokens {
		if n, inPath := strings.Count(out, secret), strings.Count(out, "/t/"+secret+"/"); n != inPath {
			t.Errorf("pip printed token %s outside a /t/ URL path (%d times, %d in paths):\n%s", name, n, inPath,
				grepLines(out, secret))
		}
	}
}

// assertPipInstalls installs a downloaded wheel offline into a folder and
// checks the module arrived intact (pip verifies the wheel's RECORD).
func assertPipInstalls(t *testing.T, whl string, w wheelSpec) {
	t.Helper()
	target := t.TempDir()
	out, err := runPython(t, "-m", "pip", "install", "--isolated", "--disable-pip-version-check", "--no-input",
		"--no-index", "--no-deps", "--no-cache-dir", "--target", target, whl)
	if err != nil {
		t.Fatalf("pip install %s: %v\n%s", filepath.Base(whl), err, out)
	}
	got, err := os.ReadFile(filepath.Join(target, w.dist(), "__init__.py"))
	if err != nil || !bytes.Equal(got, w.initPy()) {
		t.Fatalf("installed module: %q, %v; want %q", got, err, w.initPy())
	}
}
