package channelindex

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// TestReadTarBz2FromRealTools reads .tar.bz2 packages written by GNU tar
// and by Python's tarfile (PAX, as conda-build's tools write them), with
// folders, a relative symlink, a hard link and a name longer than 100
// bytes: all accepted.
func TestReadTarBz2FromRealTools(t *testing.T) {
	src := t.TempDir()
	c := indextest.Conda{Name: "x", Version: "1", Build: "0"}
	long := "lib/" + strings.Repeat("d", 120) + "/libx.so.1"
	for name, data := range map[string][]byte{"info/index.json": c.IndexJSON(), "info/about.json": c.AboutJSON(), long: []byte("ELF")} {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("libx.so.1", filepath.Join(src, filepath.Dir(filepath.FromSlash(long)), "libx.so")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(src, filepath.FromSlash(long)), filepath.Join(src, "lib", "hard")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "x-1-0.tar.bz2")
	tools := map[string][]string{
		"GNU tar": {"tar", "-cjf", out, "-C", src, "info", "lib"},
		"Python tarfile": {"/usr/bin/python3", "-c", `import sys, tarfile
with tarfile.open(sys.argv[1], "w:bz2", format=tarfile.PAX_FORMAT, pax_headers={"comment": "x"}) as t:
    t.add(sys.argv[2] + "/info", "info"); t.add(sys.argv[2] + "/lib", "lib")`, out, src},
	}
	for name, cmd := range tools {
		t.Run(name, func(t *testing.T) {
			if b, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, b)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ReadCondaPackage(strings.NewReader(string(b)), int64(len(b)), "x-1-0.tar.bz2", Limits{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
