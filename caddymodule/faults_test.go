package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

// load posts a Caddyfile to the admin API and returns the answer.
func (g *gateway) load(config string) (int, string) {
	g.t.Helper()
	resp, err := http.Post(fmt.Sprintf("http://localhost:%d/load", adminPort), "text/caddyfile", strings.NewReader(config))
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// stop loads a configuration with no sites: the handlers release the
// store, which closes its bbolt file.
func (g *gateway) stop() {
	g.t.Helper()
	if status, body := g.load(fmt.Sprintf("{\n\tadmin localhost:%d\n}\n", adminPort)); status != 200 {
		g.t.Fatalf("stopping the gateway: %d %s", status, body)
	}
	abs, _ := filepath.Abs(g.db)
	if _, open := openStores.Load(abs); open {
		g.t.Fatal("store still open after the gateway stopped")
	}
}

// start loads the gateway's configuration again and picks up its store.
func (g *gateway) start() {
	g.t.Helper()
	if status, body := g.load(g.config); status != 200 {
		g.t.Fatalf("starting the gateway: %d %s", status, body)
	}
	abs, _ := filepath.Abs(g.db)
	s, ok := openStores.Load(abs)
	if !ok {
		g.t.Fatal("store not open after start")
	}
	g.store = s.(*tokenstore.Store)
}

// corrupt writes invalid JSON over a record with a raw bbolt handle; the
// gateway must be stopped.
func (g *gateway) corrupt(bucket string, key []byte) {
	g.t.Helper()
	db, err := bolt.Open(g.db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		g.t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if key == nil {
			key, _ = b.Cursor().First()
		}
		if b.Get(key) == nil {
			return fmt.Errorf("no record %q in %s", key, bucket)
		}
		return b.Put(key, []byte("{not json"))
	})
	if err != nil {
		g.t.Fatal(err)
	}
}

// TestStoreFaults proves how the gateway fails on a damaged database,
// through real Caddy configuration loads:
//   - a corrupt token record fails only that token: its requests get 503
//     (even on public packages) with an error log line naming the
//     corrupt record, while anonymous downloads and other tokens keep
//     working;
//   - a corrupt access record (a group) makes the configuration load fail
//     with a message naming it, and nothing is served.
func TestStoreFaults(t *testing.T) {
	g := startGateway(t, "")
	tok := g.seed()
	bob, alice := tok["bob/conda"], tok["alice/all"]
	bobHash, err := tokenstore.ParseToken(bob)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("corrupt token record", func(t *testing.T) {
		g.stop()
		g.corrupt("tokens", bobHash[:])
		g.start()
		for _, tc := range []struct {
			name   string
			path   string
			status int
			body   string
		}{
			{"corrupt token on a group package", "/t/" + bob + "/acme/noarch/shared-1.0-0.tar.bz2", 503, "access store unavailable"},
			{"corrupt token on a public package", "/t/" + bob + "/acme/noarch/open-1.0-0.conda", 503, "access store unavailable"},
			{"anonymous public download", "/acme/noarch/open-1.0-0.conda", 200, "OPEN"},
			{"anonymous private download, hidden as missing", "/acme/noarch/secret-1.0-0.conda", 404, ""},
			{"healthy token", "/t/" + alice + "/acme/noarch/secret-1.0-0.conda", 200, "SECRET"},
		} {
			if status, body, _ := g.do("GET", tc.path, nil); status != tc.status || !strings.Contains(body, tc.body) {
				t.Errorf("%s: %d %q, want %d %q", tc.name, status, body, tc.status, tc.body)
			}
		}
		logs := g.logs()
		line := grepLines(logs, "access store unavailable; refusing request")
		if !strings.Contains(line, "store corrupt") || !strings.Contains(line, `"level":"error"`) {
			t.Errorf("no error log line naming the corrupt record:\n%s", line)
		}
		if strings.Contains(logs, bob) {
			t.Error("the corrupt token's secret is in the logs")
		}
	})

	t.Run("corrupt group record", func(t *testing.T) {
		g.stop()
		g.corrupt("groups", nil)
		status, body := g.load(g.config)
		if status == 200 || !strings.Contains(body, "channelgate database") || !strings.Contains(body, "store corrupt") {
			t.Fatalf("load with a corrupt group: %d %s", status, body)
		}
		if _, err := http.Get(g.base + "/acme/noarch/open-1.0-0.conda"); err == nil {
			t.Fatal("the gateway serves after a failed load")
		}
	})
}

// TestFullDisk puts the database on a 512 KB tmpfs, fills it, and proves
// that API writes then fail with 503 "store unavailable" (and a log line
// naming the cause) while downloads, decisions and API reads keep
// working. It needs root (mount); elsewhere it is skipped.
func TestFullDisk(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=512k"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	// Lazy: the store stays open until the next configuration load.
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	g := startSite(t, site{options: "failure_limit off", db: filepath.Join(dir, "cg.db")})
	tok := g.seed()
	ctx := context.Background()
	op := &admin.Client{BaseURL: g.base + "/api", Token: operatorSecret}

	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := filler.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	filler.Close()

	var apiErr *admin.Error
	for i := 0; ; i++ {
		_, err := op.CreateUser(ctx, admin.NewUserRequest{Login: fmt.Sprintf("user%d", i), Email: fmt.Sprintf("u%d@example.com", i),
			Password: "password-1", PasswordConfirmation: "password-1", AcceptTerms: true})
		if err == nil {
			if i == 100 {
				t.Fatal("100 users created on a full disk")
			}
			continue // bbolt reused pages it had already written
		}
		if !errors.As(err, &apiErr) || apiErr.Status != 503 || apiErr.Message != "store unavailable" {
			t.Fatalf("write on a full disk: %v, want 503 store unavailable", err)
		}
		break
	}
	if line := grepLines(g.logs(), "store failure"); !strings.Contains(line, "no space left on device") {
		t.Errorf("no log line naming the full disk:\n%s", line)
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/t/" + tok["alice/all"] + "/acme/noarch/secret-1.0-0.conda", 200},
		{"/t/" + tok["bob/conda"] + "/acme/noarch/shared-1.0-0.tar.bz2", 200},
		{"/t/" + tok["bob/conda"] + "/acme/noarch/secret-1.0-0.conda", 404},
		{"/acme/noarch/open-1.0-0.conda", 200},
		{"/acme/noarch/secret-1.0-0.conda", 404},
	} {
		if status, body, _ := g.do("GET", tc.path, nil); status != tc.status {
			t.Errorf("GET %s on a full disk: %d %q, want %d", tc.path, status, body, tc.status)
		}
	}
	if _, err := op.Groups(ctx, "acme"); err != nil {
		t.Errorf("API read on a full disk: %v", err)
	}
}
