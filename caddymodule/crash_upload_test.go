package caddymodule

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/channelindex/indextest"
)

// Shape of TestUploadCrashSafety: kills, concurrent uploaders, packages
// each uploader has ready per cycle.
const (
	uploadCrashCycles  = 3
	uploadCrashWorkers = 8
	uploadCrashBatch   = 40
)

// TestUploadCrashSafety publishes conda packages through the API of a
// Caddy process, with uploadCrashWorkers uploaders (anaconda upload's
// stage and post) into one subdir, and kills it with SIGKILL at a random
// moment, uploadCrashCycles times. After every kill (the process dead)
// and every restart, the subdir's repodata.json and current_repodata.json
// list only whole files (each exists with the listed size and sha256)
// and repodata.json lists every upload that was acknowledged with 201.
func TestUploadCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills Caddy processes")
	}
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	adminPort, sitePort := procFreePort(t), procFreePort(t)
	config := filepath.Join(dir, "Caddyfile")
	procWriteFile(t, config, []byte(processCaddyfile(processConfig{AdminPort: adminPort, SitePort: sitePort,
		DB: filepath.Join(dir, "cg.db"), Storage: storage, Publish: true})))

	var mu sync.Mutex
	acked := map[string]string{} // file name → sha256
	for cycle := 1; cycle <= uploadCrashCycles+1; cycle++ {
		p := startCaddy(t, dir, fmt.Sprintf("caddy-%d", cycle), config, adminPort, sitePort)
		p.waitReady()
		if cycle == 1 {
			op := &admin.Client{BaseURL: p.base + "/api", Token: operatorSecret, HTTP: &http.Client{Timeout: 30 * time.Second}}
			if _, err := op.CreateUser(context.Background(), admin.NewUserRequest{Login: "alice", Email: "alice@example.com",
				Password: "alice-pw1", PasswordConfirmation: "alice-pw1", AcceptTerms: true}); err != nil {
				t.Fatal(err)
			}
		}
		checkUploadIndex(t, storage, acked)
		if t.Failed() || cycle > uploadCrashCycles {
			p.kill()
			break
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range uploadCrashWorkers {
			pkgs := make([][]byte, uploadCrashBatch)
			names := make([]string, uploadCrashBatch)
			for i := range pkgs {
				c := indextest.Conda{Name: fmt.Sprintf("c%d-w%d-p%d", cycle, w, i), Version: "1.0", Build: "0", Subdir: "noarch"}
				pkgs[i], names[i] = indextest.CondaPackage(t, c), c.FileName()
			}
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
			wg.Go(func() {
				for i := range pkgs {
					if ctx.Err() != nil {
						return
					}
					if uploadOnce(ctx, client, p.base, names[i], pkgs[i]) == http.StatusCreated {
						sum := sha256.Sum256(pkgs[i])
						mu.Lock()
						acked[names[i]] = hex.EncodeToString(sum[:])
						mu.Unlock()
					}
				}
			})
		}
		time.Sleep(100*time.Millisecond + time.Duration(rng.Int64N(int64(400*time.Millisecond))))
		p.kill()
		cancel()
		wg.Wait()
		mu.Lock()
		t.Logf("cycle %d: killed with %d uploads acknowledged so far", cycle, len(acked))
		mu.Unlock()
		checkUploadIndex(t, storage, acked)
	}
	if len(acked) == 0 {
		t.Fatalf("no upload was acknowledged (seed %d)", seed)
	}
}

// uploadOnce stages and posts one package into alice's channel as the
// operator, as anaconda upload does, and returns the post's status (0
// when there was no answer).
func uploadOnce(ctx context.Context, client *http.Client, base, file string, pkg []byte) int {
	sum := sha256.Sum256(pkg)
	name, version := file[:len(file)-len("-1.0-0.conda")], "1.0"
	body, _ := json.Marshal(map[string]any{"distribution_type": "conda", "sha256": hex.EncodeToString(sum[:])})
	req, _ := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("%s/api/stage/alice/%s/%s/noarch/%s", base, name, version, file),
		bytes.NewReader(body))
	req.Header.Set("Authorization", "token "+operatorSecret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	var ans admin.StageAnswer
	err = json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range ans.FormData {
		mw.WriteField(k, v)
	}
	m := md5.Sum(pkg)
	mw.WriteField("Content-MD5", base64.StdEncoding.EncodeToString(m[:]))
	fw, _ := mw.CreateFormFile("file", file)
	fw.Write(pkg)
	mw.Close()
	req, _ = http.NewRequestWithContext(ctx, "POST", ans.PostURL, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err = client.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// checkUploadIndex checks alice's noarch indexes in the storage: every
// file listed is there, whole (size and sha256), and every acknowledged
// upload is listed.
func checkUploadIndex(t *testing.T, storage string, acked map[string]string) {
	t.Helper()
	sub := filepath.Join(storage, "alice", "noarch")
	listed := map[string]string{}
	for _, index := range []string{"repodata.json", "current_repodata.json"} {
		raw, err := os.ReadFile(filepath.Join(sub, index))
		if os.IsNotExist(err) && len(acked) == 0 {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", index, err)
		}
		var rd struct {
			PackagesConda map[string]struct {
				SHA256 string `json:"sha256"`
				Size   int64  `json:"size"`
			} `json:"packages.conda"`
		}
		if err := json.Unmarshal(raw, &rd); err != nil {
			t.Fatalf("%s is not whole JSON: %v", index, err)
		}
		for file, rec := range rd.PackagesConda {
			b, err := os.ReadFile(filepath.Join(sub, file))
			sum := sha256.Sum256(b)
			if err != nil || int64(len(b)) != rec.Size || hex.EncodeToString(sum[:]) != rec.SHA256 {
				t.Errorf("%s lists %s (%d bytes, %s), the storage has %d bytes, %x (%v)", index, file, rec.Size, rec.SHA256, len(b), sum, err)
			}
			if index == "repodata.json" {
				listed[file] = rec.SHA256
			}
		}
	}
	for file, sum := range acked {
		if listed[file] != sum {
			t.Errorf("acknowledged upload %s is not listed in repodata.json", file)
		}
	}
}
