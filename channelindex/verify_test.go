package channelindex

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// TestRepodataReadByCondaPackageStreaming reads what the Publisher wrote
// with Debian's python3-conda-package-streaming (installed by .ci/run):
// every record matches its file's hashes and its own info/index.json,
// for both formats, in two labels and two subdirs.
func TestRepodataReadByCondaPackageStreaming(t *testing.T) {
	tp := newTestPublisher(t)
	pkgs := []indextest.Conda{
		{Name: "tool", Version: "1.0", Build: "py_0", Subdir: "linux-64", Depends: []string{"python >=3.8"},
			Index: map[string]any{"arch": "x86_64", "platform": "linux", "timestamp": 1700000000123, "track_features": "", "constrains": []string{"x <2"}}},
		{Name: "tool", Version: "1.1", Build: "0", Subdir: "linux-64", Format: ".tar.bz2"},
		{Name: "data", Version: "2024.1", Build: "0", Format: ".tar.bz2", Index: map[string]any{"license": "CC0 <&> \u00e9"}},
	}
	for _, c := range pkgs {
		tp.addConda(c, "main", "dev")
	}
	out, err := exec.Command("/usr/bin/python3", filepath.Join("testdata", "check_repodata.py"), filepath.Join(tp.root, "acme")).CombinedOutput()
	if err != nil {
		t.Fatalf("python3-conda-package-streaming refused the channel (install it with bash .ci/run): %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "ok "); n != 2*len(pkgs) {
		t.Fatalf("checked %d files, want %d:\n%s", n, 2*len(pkgs), out)
	}
}
