package caddymodule

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/tokenstore"
)

// TestExampleChannel serves the repository's example/storage as
// Caddyfile.example does and runs the README's lines against it: rattler
// solves and downloads demo-tool and pip downloads demo-lib anonymously
// (hashes checked against the indexes); once the operator registers the
// channel and demo-secret as private, anonymous callers no longer see
// demo-secret while a token holder solves and downloads it.
func TestExampleChannel(t *testing.T) {
	requireClient(t, "pip")
	g := startGateway(t, "")
	if err := os.CopyFS(g.storage, os.DirFS(filepath.Join("..", "example", "storage"))); err != nil {
		t.Fatal(err)
	}
	if got := rattlerSolve(t, g.base+"/demo", "linux-64", "demo-tool"); len(got) != 1 || got["demo-tool-1.0-0.conda"] == "" {
		t.Errorf("anonymous rattler solve of demo-tool: %v", got)
	}
	out, err := runPython(t, "-m", "pip", "download", "--isolated", "--disable-pip-version-check", "--no-input",
		"--no-deps", "--no-cache-dir", "--index-url", g.base+"/demo/simple/", "demo-lib", "-d", t.TempDir())
	if err != nil || !strings.Contains(out, "demo_lib-1.0") {
		t.Errorf("anonymous pip download of demo-lib: %v\n%s", err, out)
	}

	tok := g.seed() // users alice and bob
	if _, err := g.store.CreateOrg(testActor, "demo", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.store.PutPackage(testActor, "demo", tokenstore.Conda, "demo-secret", false, ""); err != nil {
		t.Fatal(err)
	}
	if files := g.condaIndex(t, "", "demo", "noarch"); len(files) != 1 || files["demo-tool-1.0-0.conda"] == "" {
		t.Errorf("anonymous demo/noarch lists %v, want demo-tool only", files)
	}
	if status, _, _ := g.do("GET", "/demo/noarch/demo-secret-1.0-0.conda", nil); status != 404 {
		t.Errorf("anonymous download of demo-secret: %d, want 404", status)
	}
	if got := rattlerSolve(t, g.base+"/t/"+tok["alice/all"]+"/demo", "linux-64", "demo-secret"); len(got) != 1 {
		t.Errorf("rattler solve of demo-secret with alice's token: %v", got)
	}
}
