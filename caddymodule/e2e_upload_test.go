package caddymodule

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/channelgate/channelgate/channelindex/indextest"
	"github.com/channelgate/channelgate/tokenstore"
)

// uploadFixture is a conda package file the upload tests build and send.
type uploadFixture struct {
	spec  indextest.Conda
	bytes []byte
	path  string // where the test wrote it for the client
}

func (f uploadFixture) basename() string { return f.spec.Subdir + "/" + f.spec.FileName() }

func (f uploadFixture) sha256() string {
	sum := sha256.Sum256(f.bytes)
	return hex.EncodeToString(sum[:])
}

// buildUploads writes the conda packages of the upload tests into dir,
// each in a folder of its own (two may share a file name; the client
// names uploads after their contents, not their path).
func buildUploads(t *testing.T, dir string, specs ...indextest.Conda) []uploadFixture {
	t.Helper()
	out := make([]uploadFixture, len(specs))
	for i, s := range specs {
		if s.Subdir == "" {
			s.Subdir = "noarch"
		}
		b := indextest.CondaPackage(t, s)
		p := filepath.Join(dir, strconv.Itoa(i), s.FileName())
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out[i] = uploadFixture{spec: s, bytes: b, path: p}
	}
	return out
}

// condaIndex reads a subdir's repodata.json through the gateway (with the
// token, if any) and returns its file names mapped to their sha256.
func (g *gateway) condaIndex(t *testing.T, token, channelPath, subdir string) map[string]string {
	t.Helper()
	path := "/" + channelPath + "/" + subdir + "/repodata.json"
	if token != "" {
		path = "/t/" + token + path
	}
	status, body, _ := g.do("GET", path, nil)
	if status == 404 {
		return map[string]string{}
	}
	if status != 200 {
		t.Fatalf("GET %s/%s/repodata.json: %d %s", channelPath, subdir, status, body)
	}
	var rd struct {
		Packages      map[string]struct{ SHA256 string } `json:"packages"`
		PackagesConda map[string]struct{ SHA256 string } `json:"packages.conda"`
	}
	if err := json.Unmarshal([]byte(body), &rd); err != nil {
		t.Fatalf("%s/%s/repodata.json: %v", channelPath, subdir, err)
	}
	out := map[string]string{}
	for f, r := range rd.Packages {
		out[f] = r.SHA256
	}
	for f, r := range rd.PackagesConda {
		out[f] = r.SHA256
	}
	return out
}

// TestAnacondaUpload drives the real anaconda-client (1.12.3 in CI) through
// uploads into a real Caddy whose API publishes into the storage
// file_server serves: a .conda and a .tar.bz2 into main, into a label
// (-l), into an organization (-u), into a new private package
// (--private); an existing file is refused, skipped (--skip-existing) or
// replaced (--force); label --copy/--remove, move, show, search and
// remove work on what was uploaded; a token with only conda:download
// cannot upload. After each step the subdir's repodata.json, read through
// the gateway, lists exactly the files uploaded, with their sha256, and
// anonymous readers see the public ones only. Then rattler (the WASM
// build of the solver pixi and mamba use) and Debian's
// conda-package-streaming read the channel through /t/<token>/ and
// download what was uploaded, hashes checked; the audit log holds every
// upload, removal and label change; and no token reached the logs.
func TestAnacondaUpload(t *testing.T) {
	ac := &anacondaCLI{bin: anacondaBin(t), home: t.TempDir()}
	g := startSite(t, site{storageRoot: true})
	const pw = "alice-pw-7431"
	for _, u := range []string{"alice", "bob"} {
		if _, err := g.store.CreateUser(testActor, tokenstore.NewUser{Name: u, Email: u + "@example.com",
			Password: pw, PasswordConfirmation: pw, AcceptTerms: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.store.CreateOrg(testActor, "acme", "alice"); err != nil {
		t.Fatal(err)
	}
	dl, _, err := g.store.CreateToken(testActor, tokenstore.TokenSpec{Owner: "alice", Name: "dl", CreatedBy: "alice",
		Scopes: []string{"conda:download"}})
	if err != nil {
		t.Fatal(err)
	}
	fx := buildUploads(t, t.TempDir(),
		indextest.Conda{Name: "tool", Version: "1.0", Build: "0"},
		indextest.Conda{Name: "tool", Version: "1.0", Build: "0", Subdir: "linux-64", Format: ".tar.bz2"},
		indextest.Conda{Name: "tool", Version: "2.0", Build: "0"},
		indextest.Conda{Name: "secret", Version: "1.0", Build: "0"},
		indextest.Conda{Name: "tool", Version: "1.0", Build: "0", Files: []indextest.File{{Name: "share/tool/v2", Data: []byte("second build")}}},
	)
	// rebuilt has tool10's file name and other contents.
	tool10, toolBz2, tool20, secret, rebuilt := fx[0], fx[1], fx[2], fx[3], fx[4]

	tokens := map[string]string{"alice/dl": dl}
	var login string
	// index checks that the repodata of a channel path and subdir, as
	// alice (with her login token) and as anonymous, lists exactly want
	// (file → sha256) and wantAnon.
	index := func(t *testing.T, channelPath, subdir string, want, wantAnon map[string]string) {
		t.Helper()
		if got := g.condaIndex(t, login, channelPath, subdir); !sameJSON(got, want) {
			t.Errorf("%s/%s as alice lists %v, want %v", channelPath, subdir, got, want)
		}
		if wantAnon == nil {
			wantAnon = want
		}
		if got := g.condaIndex(t, "", channelPath, subdir); !sameJSON(got, wantAnon) {
			t.Errorf("%s/%s anonymously lists %v, want %v", channelPath, subdir, got, wantAnon)
		}
	}
	file := func(f uploadFixture) string { return f.spec.FileName() }

	steps := []struct {
		name  string
		args  []string
		fails bool     // the client must exit non-zero
		want  []string // substrings of its output
		then  func(t *testing.T)
	}{
		{name: "point at the API", args: []string{"config", "--set", "url", g.base + "/api"}},
		{name: "login", args: []string{"login", "--username", "alice", "--password", pw}, want: []string{"login successful"},
			then: func(t *testing.T) { login = ac.storedToken(t); tokens["alice/login"] = login }},
		{name: "upload a .conda", args: []string{"upload", tool10.path}, want: []string{"Upload complete"},
			then: func(t *testing.T) {
				index(t, "alice", "noarch", map[string]string{file(tool10): tool10.sha256()}, nil)
				if status, body, _ := g.do("GET", "/alice/noarch/"+file(tool10), nil); status != 200 || body != string(tool10.bytes) {
					t.Errorf("anonymous download of the public upload: %d, %d bytes", status, len(body))
				}
			}},
		{name: "upload a .tar.bz2", args: []string{"upload", toolBz2.path}, want: []string{"Upload complete"},
			then: func(t *testing.T) {
				index(t, "alice", "linux-64", map[string]string{file(toolBz2): toolBz2.sha256()}, nil)
			}},
		{name: "existing file is refused", args: []string{"upload", tool10.path}, fails: true, want: []string{"already exists"}},
		{name: "existing file skipped", args: []string{"upload", "--skip-existing", tool10.path}, want: []string{"Distribution already exists"}},
		{name: "existing file replaced", args: []string{"upload", "--force", rebuilt.path}, want: []string{"Upload complete"},
			then: func(t *testing.T) {
				index(t, "alice", "noarch", map[string]string{file(rebuilt): rebuilt.sha256()}, nil)
			}},
		{name: "upload into a label", args: []string{"upload", "-l", "dev", tool20.path}, want: []string{"Upload complete"},
			then: func(t *testing.T) {
				index(t, "alice/label/dev", "noarch", map[string]string{file(tool20): tool20.sha256()}, nil)
				index(t, "alice", "noarch", map[string]string{file(rebuilt): rebuilt.sha256()}, nil)
			}},
		{name: "upload a private package", args: []string{"upload", "--private", secret.path}, want: []string{"Upload complete"},
			then: func(t *testing.T) {
				index(t, "alice", "noarch", map[string]string{file(rebuilt): rebuilt.sha256(), file(secret): secret.sha256()},
					map[string]string{file(rebuilt): rebuilt.sha256()})
				if status, _, _ := g.do("GET", "/alice/noarch/"+file(secret), nil); status != 404 {
					t.Errorf("anonymous download of the private upload: %d, want 404", status)
				}
				if status, body, _ := g.do("GET", "/t/"+dl+"/alice/noarch/"+file(secret), nil); status != 200 || body != string(secret.bytes) {
					t.Errorf("download of the private upload with a download token: %d", status)
				}
			}},
		{name: "upload into an organization", args: []string{"upload", "-u", "acme", tool20.path}, want: []string{"Upload complete"},
			then: func(t *testing.T) {
				index(t, "acme", "noarch", map[string]string{file(tool20): tool20.sha256()}, nil)
			}},
		{name: "download-only token cannot upload", args: []string{"-t", dl, "upload", "-u", "acme", tool10.path}, fails: true,
			want: []string{"token lacks scope conda"},
			then: func(t *testing.T) {
				index(t, "acme", "noarch", map[string]string{file(tool20): tool20.sha256()}, nil)
			}},
		{name: "label copy", args: []string{"label", "--copy", "dev", "stable"}, want: []string{"Copied label dev to stable"},
			then: func(t *testing.T) {
				index(t, "alice/label/stable", "noarch", map[string]string{file(tool20): tool20.sha256()}, nil)
			}},
		{name: "label list", args: []string{"label", "--list"}, want: []string{"+ dev", "+ stable", "+ main"}},
		{name: "label remove", args: []string{"label", "--remove", "stable"}, want: []string{"Removed label stable"},
			then: func(t *testing.T) { index(t, "alice/label/stable", "noarch", map[string]string{}, nil) }},
		{name: "move from dev to main", args: []string{"move", "--from-label", "dev", "--to-label", "main", "alice/tool/2.0"},
			then: func(t *testing.T) {
				index(t, "alice", "noarch", map[string]string{file(rebuilt): rebuilt.sha256(), file(secret): secret.sha256(),
					file(tool20): tool20.sha256()}, map[string]string{file(rebuilt): rebuilt.sha256(), file(tool20): tool20.sha256()})
				index(t, "alice/label/dev", "noarch", map[string]string{}, nil)
			}},
		{name: "show package", args: []string{"show", "alice/tool"}, want: []string{"+ 1.0", "+ 2.0", "Access:  public"}},
		{name: "show file", args: []string{"show", "alice/tool/1.0/linux-64/" + file(toolBz2)}, want: []string{toolBz2.sha256()}},
		{name: "search", args: []string{"search", "tool"}, want: []string{"alice/tool", "acme/tool"}},
		{name: "remove a file", args: []string{"remove", "-f", "alice/tool/1.0/linux-64/" + file(toolBz2)},
			then: func(t *testing.T) {
				index(t, "alice", "linux-64", map[string]string{}, nil)
				if _, err := os.Stat(filepath.Join(g.storage, "alice", "linux-64", file(toolBz2))); !os.IsNotExist(err) {
					t.Errorf("removed file still in the storage: %v", err)
				}
			}},
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			_, all, err := ac.run(t, "", st.args...)
			shown := maskSecrets(all, tokens)
			if (err != nil) != st.fails {
				t.Fatalf("anaconda %s: exit %v, want failure %v\n%s", strings.Join(st.args, " "), err, st.fails, shown)
			}
			for _, w := range st.want {
				if !strings.Contains(all, w) {
					t.Errorf("anaconda %s: output lacks %q:\n%s", maskSecrets(strings.Join(st.args, " "), tokens), w, shown)
				}
			}
			if st.then != nil && !t.Failed() {
				st.then(t)
			}
		})
		if !ok {
			t.Fatalf("step %q failed; the later steps depend on it", st.name)
		}
	}

	t.Run("rattler solves and downloads through /t/", func(t *testing.T) {
		got := rattlerSolve(t, g.base+"/t/"+login+"/alice", "linux-64", "tool", "secret")
		want := map[string]string{file(tool20): tool20.sha256(), file(secret): secret.sha256()}
		if !sameJSON(got, want) {
			t.Errorf("rattler solved and downloaded %v, want %v", got, want)
		}
	})
	t.Run("conda-package-streaming reads an upload over HTTP", func(t *testing.T) {
		requireClient(t, "conda_package_streaming")
		url := g.base + "/t/" + login + "/alice/noarch/" + file(secret)
		out, err := runPython(t, "-c", `import json, sys
from conda_package_streaming.url import stream_conda_info
for tar, member in stream_conda_info(sys.argv[1]):
    if member.name == "info/index.json":
        print(json.load(tar.extractfile(member))["name"])
`, url)
		if err != nil || strings.TrimSpace(out) != "secret" {
			t.Errorf("conda-package-streaming: %v\n%s", err, maskSecrets(out, tokens))
		}
	})
	t.Run("audit", func(t *testing.T) {
		events, err := g.store.Audit(0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, ev := range events {
			if strings.HasPrefix(ev.Action, "dist.") || strings.HasPrefix(ev.Action, "label.") {
				seen[ev.Action]++
				if ev.Actor != "alice" {
					t.Errorf("%s by %q, want alice", ev.Action, ev.Actor)
				}
			}
		}
		// Uploads: tool-1.0 .conda and .tar.bz2, the forced one, tool-2.0
		// twice, secret; removals: the forced one's predecessor and the
		// .tar.bz2.
		want := map[string]int{"dist.upload": 6, "dist.remove": 2, "label.copy": 1, "label.remove": 2, "label.add": 1}
		if !sameJSON(seen, want) {
			t.Errorf("audited %v, want %v", seen, want)
		}
	})
	for _, leak := range tokenLeaks(g.logs(), nil, tokens) {
		t.Error(leak)
	}
}

// sameJSON reports whether a and b encode to the same JSON (maps in key
// order).
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// rattlerEnv names the node_modules folder that holds @conda-org/rattler
// (.ci/run installs it with npm).
const rattlerEnv = "CHANNELGATE_RATTLER"

// rattlerSolve solves specs with rattler against one channel URL for a
// platform (and noarch), downloads every package of the solution and
// returns their file names mapped to the sha256 of what was downloaded,
// after checking that it matches the sha256 and size the channel's
// repodata gives.
func rattlerSolve(t *testing.T, channel, platform string, specs ...string) map[string]string {
	t.Helper()
	modules := os.Getenv(rattlerEnv)
	if modules == "" {
		t.Fatal(rattlerEnv + " is not set: install rattler with npm install --prefix DIR @conda-org/rattler@0.3.5 " +
			"and set it to DIR/node_modules (.ci/run does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{filepath.Join("testdata", "rattler_solve.cjs"), channel, platform}, specs...)
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NODE_PATH=" + modules, "HOME=" + t.TempDir(), "NO_PROXY=*", "no_proxy=*"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("rattler: %v\n%s", err, redactPathTokens(stderr.String()))
	}
	var solved []struct {
		Filename         string `json:"filename"`
		SHA256           string `json:"sha256"`
		Size             int64  `json:"size"`
		DownloadedSHA256 string `json:"downloaded_sha256"`
		DownloadedSize   int64  `json:"downloaded_size"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &solved); err != nil {
		t.Fatalf("rattler's answer: %v\n%s", err, redactPathTokens(stdout.String()))
	}
	out := map[string]string{}
	for _, p := range solved {
		if p.SHA256 != p.DownloadedSHA256 || p.Size != p.DownloadedSize {
			t.Errorf("%s: repodata says sha256 %s, %d bytes; downloaded %s, %d bytes", p.Filename, p.SHA256, p.Size,
				p.DownloadedSHA256, p.DownloadedSize)
		}
		out[p.Filename] = p.DownloadedSHA256
	}
	return out
}

// redactPathTokens masks /t/<token>/ segments, for failure messages.
func redactPathTokens(s string) string {
	return regexp.MustCompile(`/t/[^/\s]+/`).ReplaceAllString(s, "/t/<TOKEN>/")
}
