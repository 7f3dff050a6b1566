package caddymodule

import (
	"fmt"
	"strings"
	"testing"
)

// condaInfoScript reads info/index.json of the package at argv[1] with
// conda-package-streaming's URL API (HTTP range requests for .conda, one
// streamed GET for .tar.bz2) and prints "<name> <version> <subdir>".
const condaInfoScript = `
import json, sys
from conda_package_streaming.url import stream_conda_info
for tar, member in stream_conda_info(sys.argv[1]):
    if member.name == "info/index.json":
        info = json.load(tar.extractfile(member))
        print(info["name"], info["version"], info["subdir"])
        break
else:
    sys.exit("no info/index.json")
`

// TestE2ECondaPackageStreaming reads package metadata through the gateway
// with Debian's conda-package-streaming 0.7, which fetches a .conda by
// ranges (first "Range: bytes=-10240", then the info member) and fails
// unless it gets 206 with Content-Range: private packages with a token
// that may read them, public ones anonymously, labels, and .tar.bz2;
// anonymous and unpermitted reads fail with the gateway's status.
func TestE2ECondaPackageStreaming(t *testing.T) {
	requireClient(t, "conda_package_streaming.url", "zstandard")
	forEachBackend(t, func(t *testing.T, e *e2e) {
		pathTok := func(tok string) string { return "/t/" + e.tok[tok] }
		tests := []struct {
			name    string
			prefix  string // "" or /t/<token>
			file    string // channel-relative
			want    string // printed line, or the HTTP error on failure
			ok      bool
			storage string // storage path (reverse_proxy only)
		}{
			{"private .conda with owner token", pathTok("alice/all"), "noarch/secret-1.0-0.conda", "secret 1.0 noarch", true, "/acme/noarch/secret-1.0-0.conda"},
			{"private .conda with organization token", pathTok("acme/ci"), "noarch/secret-1.0-0.conda", "secret 1.0 noarch", true, "/acme/noarch/secret-1.0-0.conda"},
			{"private .conda in label dev", pathTok("alice/all"), "label/dev/noarch/secret-1.0-0.conda", "secret 1.0 noarch", true, "/acme/label/dev/noarch/secret-1.0-0.conda"},
			{"private .conda in label main", pathTok("alice/all"), "label/main/noarch/secret-1.0-0.conda", "secret 1.0 noarch", true, "/acme/noarch/secret-1.0-0.conda"},
			{"public .conda anonymous", "", "noarch/open-1.0-0.conda", "open 1.0 noarch", true, "/acme/noarch/open-1.0-0.conda"},
			{"group .tar.bz2 with member token", pathTok("bob/conda"), "noarch/shared-1.0-0.tar.bz2", "shared 1.0 noarch", true, "/acme/noarch/shared-1.0-0.tar.bz2"},
			{"private .conda anonymous, hidden as missing", "", "noarch/secret-1.0-0.conda", "404 Client Error", false, ""},
			{"private .conda with revoked token", pathTok("alice/revoked"), "noarch/secret-1.0-0.conda", "401 Client Error", false, ""},
			{"private .conda outside the member's group", pathTok("bob/conda"), "noarch/secret-1.0-0.conda", "404 Client Error", false, ""},
			{"private .conda with pypi-only token", pathTok("alice/pypi-only"), "noarch/secret-1.0-0.conda", "404 Client Error", false, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				out, err := runPython(t, "-c", condaInfoScript, e.g.base+tc.prefix+"/acme/"+tc.file)
				shown := e.maskTokens(out)
				if tc.ok != (err == nil) {
					t.Fatalf("success %v, want %v:\n%s", err == nil, tc.ok, shown)
				}
				if tc.ok && strings.TrimSpace(out) != tc.want || !tc.ok && !strings.Contains(out, tc.want) {
					t.Fatalf("output %q, want %q", shown, tc.want)
				}
				if !tc.ok || e.g.upstream == nil {
					return
				}
				// Behind reverse_proxy: the storage saw the reads the
				// client made, ranges for .conda.
				reqs := e.storageSaw(tc.storage)
				if len(reqs) == 0 {
					t.Fatalf("storage never received %s", tc.storage)
				}
				if strings.HasSuffix(tc.file, ".conda") && reqs[0].Header.Get("Range") != "bytes=-10240" {
					t.Errorf("first storage read of %s has Range %q, want bytes=-10240", tc.storage, reqs[0].Header.Get("Range"))
				}
			})
		}
	})
}

// TestE2ERanges proves the gateway passes byte ranges through for private
// and public packages: conda-package-streaming's suffix range and conda's
// resume range get 206 with the right Content-Range and bytes.
func TestE2ERanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *e2e) {
		for _, pkg := range []struct{ prefix, file string }{
			{"/t/" + e.tok["alice/all"], "noarch/secret-1.0-0.conda"},
			{"", "noarch/open-1.0-0.conda"},
		} {
			content := e.fx.file(t, pkg.file)
			size := len(content)
			for _, r := range []struct {
				name  string
				rng   string
				start int
			}{
				{"suffix", "bytes=-10240", size - 10240},
				{"resume", fmt.Sprintf("bytes=%d-", size/3), size / 3},
			} {
				t.Run(pkg.file+" "+r.name, func(t *testing.T) {
					status, body, hdr := e.g.do("GET", pkg.prefix+"/acme/"+pkg.file,
						map[string]string{"Range": r.rng, "Accept-Encoding": "identity"})
					if status != 206 {
						t.Fatalf("%s: status %d %q", r.rng, status, body)
					}
					if got, want := hdr.Get("Content-Range"), fmt.Sprintf("bytes %d-%d/%d", r.start, size-1, size); got != want {
						t.Errorf("Content-Range %q, want %q", got, want)
					}
					if body != string(content[r.start:]) {
						t.Errorf("range body (%d bytes) is not bytes %d- of the file", len(body), r.start)
					}
				})
			}
		}
	})
}
