package admin_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/channelindex/indextest"
	"github.com/channelgate/channelgate/tokenstore"
)

// newPublishEnv is newEnv with publishing into a fresh storage folder,
// returned with the env.
func newPublishEnv(t testing.TB, cfg admin.Config) (*env, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := admin.OpenStorage(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Storage = st
	return newEnv(t, cfg), dir
}

// condaFile is a built conda package and where anaconda upload stages it.
type condaFile struct {
	spec  indextest.Conda
	bytes []byte
}

func newConda(t testing.TB, name, version, build string) condaFile {
	s := indextest.Conda{Name: name, Version: version, Build: build, Subdir: "noarch"}
	return condaFile{spec: s, bytes: indextest.CondaPackage(t, s)}
}

func (f condaFile) basename() string { return "noarch/" + f.spec.FileName() }

func (f condaFile) sha256() string {
	s := sha256.Sum256(f.bytes)
	return hex.EncodeToString(s[:])
}

// stage is POST /stage for f into owner's package with labels.
func (e *env) stage(auth, owner string, f condaFile, labels ...string) reply {
	e.t.Helper()
	return e.do("POST", fmt.Sprintf("/stage/%s/%s/%s/%s", owner, f.spec.Name, f.spec.Version, f.basename()), auth,
		map[string]any{"distribution_type": "conda", "channels": labels, "sha256": f.sha256(), "attrs": map[string]any{}})
}

// post sends body to the staging answer's post_url as anaconda-client
// does: the form fields, Content-Length, Content-MD5, then the file, with
// no Authorization header.
func (e *env) post(t testing.TB, staged reply, body []byte) reply {
	t.Helper()
	var ans admin.StageAnswer
	staged.json(t, &ans)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range ans.FormData {
		mw.WriteField(k, v)
	}
	sum := md5.Sum(body)
	mw.WriteField("Content-Length", fmt.Sprint(len(body)))
	mw.WriteField("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	fw, _ := mw.CreateFormFile("file", "upload")
	fw.Write(body)
	mw.Close()
	resp, err := http.Post(ans.PostURL, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}
}

// repodata returns the file names a subdir's repodata.json lists, with
// their sha256.
func repodata(t *testing.T, storage, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(storage, filepath.FromSlash(path), "repodata.json"))
	if os.IsNotExist(err) {
		return map[string]string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	var rd struct {
		Packages      map[string]struct{ SHA256 string } `json:"packages"`
		PackagesConda map[string]struct{ SHA256 string } `json:"packages.conda"`
	}
	if err := json.Unmarshal(raw, &rd); err != nil {
		t.Fatalf("%s/repodata.json: %v", path, err)
	}
	out := map[string]string{}
	for _, sec := range []map[string]struct{ SHA256 string }{rd.Packages, rd.PackagesConda} {
		for f, r := range sec {
			out[f] = r.SHA256
		}
	}
	return out
}

// TestUploadGrant follows anaconda upload's stage, post and commit and
// proves the grant: the file is published only by a post that carries
// the grant of its staging, whole and with the staged sha256; a replayed,
// altered or foreign grant is refused with S3's XML (what the client
// parses) and changes nothing.
func TestUploadGrant(t *testing.T) {
	e, storage := newPublishEnv(t, admin.Config{})
	alice := "token " + e.token("alice", "up", "conda")
	tool, other := newConda(t, "tool", "1.0", "0"), newConda(t, "tool", "1.1", "0")

	staged := e.stage(alice, "alice", tool, "main", "dev")
	if staged.status != 200 {
		t.Fatalf("stage: %d %s", staged.status, staged.body)
	}
	var ans admin.StageAnswer
	staged.json(t, &ans)
	if !strings.HasSuffix(ans.PostURL, "/upload") || ans.DistID != tool.sha256() || ans.FormData["grant"] == "" {
		t.Fatalf("staging answer %s", staged.body)
	}
	if strings.Contains(ans.PostURL, ans.FormData["grant"]) {
		t.Fatalf("post_url carries the grant")
	}

	wrongBytes := e.post(t, staged, other.bytes)
	if wrongBytes.status != 400 || !bytes.Contains(wrongBytes.body, []byte("<Code>")) {
		t.Errorf("post of other bytes: %d %s, want 400 in XML", wrongBytes.status, wrongBytes.body)
	}
	// The grant was used up by the failed post: stage again.
	staged = e.stage(alice, "alice", tool, "main", "dev")
	if r := e.post(t, staged, tool.bytes); r.status != 201 {
		t.Fatalf("post: %d %s, want exactly 201", r.status, r.body)
	}
	want := map[string]string{tool.spec.FileName(): tool.sha256()}
	for _, p := range []string{"alice/noarch", "alice/label/dev/noarch"} {
		if got := repodata(t, storage, p); !jsonEqual(got, want) {
			t.Errorf("%s lists %v, want %v", p, got, want)
		}
	}
	if r := e.post(t, staged, tool.bytes); r.status != 403 || !bytes.Contains(r.body, []byte("AccessDenied")) {
		t.Errorf("replayed grant: %d %s, want 403 AccessDenied", r.status, r.body)
	}

	altered := e.stage(alice, "alice", other)
	var alt admin.StageAnswer
	altered.json(t, &alt)
	body, mac, _ := strings.Cut(alt.FormData["grant"], ".")
	raw, _ := base64.RawURLEncoding.DecodeString(body)
	raw = bytes.Replace(raw, []byte(`"v":"1.1"`), []byte(`"v":"1.2"`), 1)
	alt.FormData["grant"] = base64.RawURLEncoding.EncodeToString(raw) + "." + mac
	forged, _ := json.Marshal(alt)
	if r := e.post(t, reply{status: 200, body: forged}, other.bytes); r.status != 403 {
		t.Errorf("altered grant: %d %s, want 403", r.status, r.body)
	}
	if got := repodata(t, storage, "alice/noarch"); !jsonEqual(got, want) {
		t.Errorf("after refused posts alice/noarch lists %v, want %v", got, want)
	}

	e.run(t, []apiCase{
		{name: "commit", method: "POST", path: "/commit/alice/tool/1.0/" + tool.basename(), auth: alice,
			body: map[string]any{"dist_id": tool.sha256()}, status: 200},
		{name: "dist exists", method: "GET", path: "/dist/alice/tool/1.0/" + tool.basename(), auth: alice, status: 200,
			fields: map[string]any{"sha256": tool.sha256(), "size": len(tool.bytes), "labels": []string{"dev", "main"}}},
		{name: "staging it again", method: "POST", path: "/stage/alice/tool/1.0/" + tool.basename(), auth: alice,
			body: map[string]any{"distribution_type": "conda", "sha256": tool.sha256()}, status: 409, errContains: "already exists"},
		{name: "download token cannot stage", method: "POST", path: "/stage/alice/tool/1.1/" + other.basename(),
			auth: "token " + e.token("alice", "dl", "conda:download"),
			body: map[string]any{"distribution_type": "conda", "sha256": other.sha256()}, status: 403, errContains: "token lacks scope conda"},
		{name: "stranger cannot stage", method: "POST", path: "/stage/alice/tool/1.1/" + other.basename(),
			auth: "token " + e.token("bob", "up", "conda"),
			body: map[string]any{"distribution_type": "conda", "sha256": other.sha256()}, status: 403, errContains: "bob may not write to alice/tool"},
		{name: "misnamed file", method: "POST", path: "/stage/alice/tool/1.1/noarch/other-1.1-0.conda", auth: alice,
			body: map[string]any{"distribution_type": "conda", "sha256": other.sha256()}, status: 400, errContains: "is not version 1.1 of tool"},
		{name: "whoami shows usage", method: "GET", path: "/user", auth: alice, status: 200,
			fields: map[string]any{"usage_bytes": len(tool.bytes)}},
		{name: "remove the file", method: "DELETE", path: "/dist/alice/tool/1.0/" + tool.basename(), auth: alice, status: 200},
		{name: "usage given back", method: "GET", path: "/user", auth: alice, status: 200, fields: map[string]any{"usage_bytes": 0}},
	})
	if got := repodata(t, storage, "alice/noarch"); len(got) != 0 {
		t.Errorf("after removal alice/noarch lists %v", got)
	}
}

// TestUploadPlans proves the plan checks: a plan without private packages
// refuses uploads into private packages (403, at staging), a file over
// the plan's largest file is refused with 413, and storage over the
// plan's bytes with 403; none of them writes anything.
func TestUploadPlans(t *testing.T) {
	plans := tokenstore.DefaultPlans()
	plans.ByName["tiny"] = tokenstore.Plan{Name: "tiny", StorageBytes: 1 << 20, MaxFileBytes: 1 << 20}
	plans.ByName["small"] = tokenstore.Plan{Name: "small", PrivatePackages: true, MaxFileBytes: 100}
	e, storage := newPublishEnv(t, admin.Config{Plans: plans})
	root := "token " + e.token("root", "all")
	alice := "token " + e.token("alice", "up", "conda")
	tool := newConda(t, "tool", "1.0", "0")
	e.run(t, []apiCase{
		{name: "operator gives alice the tiny plan", method: "PATCH", path: "/user/alice", auth: root,
			body: map[string]any{"plan": "tiny"}, status: 200, fields: map[string]any{"plan": map[string]any{"name": "tiny", "private_packages": false,
				"storage_bytes": 1 << 20, "max_file_bytes": 1 << 20}}},
		{name: "only site administrators set plans", method: "PATCH", path: "/user/alice", auth: alice,
			body: map[string]any{"plan": "standard"}, status: 403},
		{name: "unknown plan", method: "PATCH", path: "/user/alice", auth: root, body: map[string]any{"plan": "gold"},
			status: 400, errContains: `no plan "gold"`},
		{name: "private package", method: "POST", path: "/package/alice/tool", auth: alice, body: map[string]any{"public": false}, status: 200},
		{name: "tiny plan keeps no private packages", method: "POST", path: "/stage/alice/tool/1.0/" + tool.basename(), auth: alice,
			body: map[string]any{"distribution_type": "conda", "sha256": tool.sha256()}, status: 403,
			errContains: "plan tiny does not allow private packages"},
		{name: "small plan", method: "PATCH", path: "/user/alice", auth: root, body: map[string]any{"plan": "small"}, status: 200},
	})
	if r := e.post(t, e.stage(alice, "alice", tool), tool.bytes); r.status != 413 {
		t.Errorf("file over the plan's largest: %d %s, want 413", r.status, r.body)
	}
	if got := repodata(t, storage, "alice/noarch"); len(got) != 0 {
		t.Errorf("refused uploads left %v", got)
	}
	if u, _ := e.store.Usage("alice"); u != 0 {
		t.Errorf("usage after refused uploads: %d", u)
	}
}

// TestParallelUploads sends 16 uploads into one subdir at once: every one
// is acknowledged with 201 and the subdir's index lists all 16.
func TestParallelUploads(t *testing.T) {
	e, storage := newPublishEnv(t, admin.Config{})
	alice := "token " + e.token("alice", "up", "conda")
	files := make([]condaFile, 16)
	for i := range files {
		files[i] = newConda(t, fmt.Sprintf("pkg%02d", i), "1.0", "0")
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(files))
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.post(t, e.stage(alice, "alice", f), f.bytes).status
		}()
	}
	wg.Wait()
	want := map[string]string{}
	for i, f := range files {
		if statuses[i] != 201 {
			t.Errorf("upload %d: %d", i, statuses[i])
		}
		want[f.spec.FileName()] = f.sha256()
	}
	if got := repodata(t, storage, "alice/noarch"); !jsonEqual(got, want) {
		t.Errorf("alice/noarch lists %d files, want %d: %v", len(got), len(want), got)
	}
}

// TestPublishingOff: without a storage every publishing endpoint answers
// 404 with the reason, never a 5xx.
func TestPublishingOff(t *testing.T) {
	e := newEnv(t, admin.Config{})
	alice := "token " + e.token("alice", "all")
	tool := newConda(t, "tool", "1.0", "0")
	e.run(t, []apiCase{
		{name: "stage", method: "POST", path: "/stage/alice/tool/1.0/" + tool.basename(), auth: alice,
			body: map[string]any{"distribution_type": "conda", "sha256": tool.sha256()}, status: 404, errContains: "publishing is not configured"},
		{name: "twine", method: "POST", path: "/pypi/upload", auth: basic("__token__", "x"), body: "", status: 404,
			errContains: "publishing is not configured"},
		{name: "labels", method: "GET", path: "/channels/alice", auth: alice, status: 404, errContains: "publishing is not configured"},
	})
	r := e.post(t, reply{status: 200, body: []byte(`{"post_url":"` + e.srv.URL + `/upload","form_data":{"grant":"x"}}`)}, tool.bytes)
	if r.status != 404 {
		t.Errorf("post: %d %s, want 404", r.status, r.body)
	}
}

// TestLabelRemovalRefunds: removing a label removes its files from it;
// a file in no other label is gone and its bytes leave the owner's
// usage, a file still in another label stays counted.
func TestLabelRemovalRefunds(t *testing.T) {
	e, storage := newPublishEnv(t, admin.Config{})
	alice := "token " + e.token("alice", "up", "conda")
	only, both := newConda(t, "tool", "1.0", "0"), newConda(t, "tool", "2.0", "0")
	for _, up := range []struct {
		f      condaFile
		labels []string
	}{{only, []string{"dev"}}, {both, []string{"dev", "main"}}} {
		if r := e.post(t, e.stage(alice, "alice", up.f, up.labels...), up.f.bytes); r.status != 201 {
			t.Fatalf("upload: %d %s", r.status, r.body)
		}
	}
	e.run(t, []apiCase{
		{name: "labels", method: "GET", path: "/channels/alice", auth: alice, status: 200},
		{name: "remove label dev", method: "DELETE", path: "/channels/alice/dev", auth: alice, status: 201},
		{name: "usage keeps the file still in main", method: "GET", path: "/user", auth: alice, status: 200,
			fields: map[string]any{"usage_bytes": len(both.bytes)}},
	})
	if got := repodata(t, storage, "alice/label/dev/noarch"); len(got) != 0 {
		t.Errorf("dev still lists %v", got)
	}
	if got := repodata(t, storage, "alice/noarch"); !jsonEqual(got, map[string]string{both.spec.FileName(): both.sha256()}) {
		t.Errorf("main lists %v", got)
	}
}
