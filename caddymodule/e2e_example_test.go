package caddymodule

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExampleChannel starts the shipped Caddyfile.example (its seed
// example/seed.json registering org demo with demo-secret private) on the
// repository's example/storage and runs the README's lines against it,
// with no manual step: rattler solves and downloads demo-tool and pip
// downloads demo-lib anonymously (hashes checked against the indexes)
// while anonymous repodata hides demo-secret; once the operator gives
// the org an owner through the API, the owner's token solves and
// downloads demo-secret.
func TestExampleChannel(t *testing.T) {
	requireClient(t, "pip")
	g, _ := startExample(t)
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

	if files := g.condaIndex(t, "", "demo", "noarch"); len(files) != 1 || files["demo-tool-1.0-0.conda"] == "" {
		t.Errorf("anonymous demo/noarch lists %v, want demo-tool only", files)
	}
	if status, _, _ := g.do("GET", "/demo/noarch/demo-secret-1.0-0.conda", nil); status != 404 {
		t.Errorf("anonymous download of demo-secret: %d, want 404", status)
	}

	tok := g.seed() // users alice and bob
	if status, body, _ := g.do("PUT", "/api/group/demo/owners/members/alice",
		map[string]string{"Authorization": "token " + operatorSecret}); status != 204 {
		t.Fatalf("operator adds alice to demo/owners: %d %s", status, body)
	}
	if got := rattlerSolve(t, g.base+"/t/"+tok["alice/all"]+"/demo", "linux-64", "demo-secret"); len(got) != 1 {
		t.Errorf("rattler solve of demo-secret with alice's token: %v", got)
	}
}
