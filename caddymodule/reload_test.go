package caddymodule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/channelgate/channelgate/admin"
)

// Reload test settings.
const (
	reloadCount   = 5 // configuration reloads under load
	reloadClients = 4 // goroutines downloading in a loop
	// reloadMinRequests is how many requests the clients complete between
	// two reloads (waited for, boundedly).
	reloadMinRequests = 200
	reloadPrivate     = "/alice/noarch/secret-1.0-0.conda"
	reloadPublic      = "/alice/noarch/open-1.0-0.conda"
)

// reloadGen is configuration generation i: each changes the cache size,
// the X-Config-Gen header and the storage path (every other one asks the
// storage for a copy of the same files under /mirror).
func reloadGen(base processConfig, i int) processConfig {
	c := base
	c.CacheSize = 1000 + 7*i
	c.Header = fmt.Sprintf("gen-%d", i)
	if i%2 == 1 {
		c.StoragePath = "/mirror/{channel}{label_path}/{rest}"
	}
	return c
}

// reloadStats counts the load clients' requests and what went wrong.
type reloadStats struct {
	requests, failed, wronglyAllowed atomic.Int64
	// handoverResets counts fresh connections reset before any answer
	// while a reload was under way, which were retried (see
	// reloadHandoverReset).
	handoverResets atomic.Int64
	mu             sync.Mutex
	examples       []string
}

func (s *reloadStats) fail(wrongAllow bool, format string, args ...any) {
	if wrongAllow {
		s.wronglyAllowed.Add(1)
	} else {
		s.failed.Add(1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.examples) < 10 {
		s.examples = append(s.examples, fmt.Sprintf(format, args...))
	}
}

// reloadRequest is one kind of request the load clients send, with the
// answer it must get: 200 with want, or the refusal status with a body
// containing refusal.
type reloadRequest struct {
	name    string
	path    string
	header  http.Header
	want    []byte
	status  int // of the refusal; 0 for 200
	refusal string
}

// reloadEpoch is odd while a reload is under way: it is incremented when
// `caddy reload` starts and again once the new configuration answers.
var reloadEpoch atomic.Int64

// reloadHandoverReset reports whether a failed request is the one kind of
// connection loss a reload may cause below channelgate, in Caddy and
// Linux: on Linux Caddy opens each configuration's listener anew with
// SO_REUSEPORT and closes the old one once the new one serves, and the
// kernel resets the connections still queued, unaccepted, on the closed
// socket (unless net.ipv4.tcp_migrate_req=1 moves them to the new one).
// Such a request went out on a new connection, got not one byte back,
// failed with a reset or EOF, and overlapped a reload. Anything else is a
// failure.
func reloadHandoverReset(err error, fresh, answered bool, epochStart, epochEnd int64) bool {
	reloading := epochStart%2 == 1 || epochEnd != epochStart
	reset := errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	return reloading && fresh && !answered && reset && !reloadStrict
}

// reloadStrict is set when the kernel migrates queued connections of a
// closed SO_REUSEPORT listener (net.ipv4.tcp_migrate_req=1): then a reload
// must lose no connection at all.
var reloadStrict = func() bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_migrate_req")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}()

// reloadLoad sends the requests in turn until ctx ends. A request lost to
// a listener handover (reloadHandoverReset) is counted and sent again, at
// most 3 times; everything else is judged as answered.
func reloadLoad(ctx context.Context, base string, reqs []reloadRequest, s *reloadStats) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	for i := 0; ctx.Err() == nil; i++ {
		r := reqs[i%len(reqs)]
		var status int
		var body string
		var err error
		var fresh, answered atomic.Bool
		for attempt := 0; ; attempt++ {
			fresh.Store(false)
			answered.Store(false)
			trace := &httptrace.ClientTrace{
				GotConn:              func(ci httptrace.GotConnInfo) { fresh.Store(!ci.Reused) },
				GotFirstResponseByte: func() { answered.Store(true) },
			}
			epoch := reloadEpoch.Load()
			status, body, err = procGet(client, base, r.path, r.header, trace)
			s.requests.Add(1)
			if attempt == 3 || err == nil || !reloadHandoverReset(err, fresh.Load(), answered.Load(), epoch, reloadEpoch.Load()) {
				break
			}
			s.handoverResets.Add(1)
		}
		switch {
		case err != nil:
			s.fail(false, "%s: %v (new connection: %v, answer started: %v)", r.name, err, fresh.Load(), answered.Load())
		case r.status == 0 && (status != http.StatusOK || !bytes.Equal([]byte(body), r.want)):
			s.fail(false, "%s: %d, %d bytes", r.name, status, len(body))
		case r.status != 0 && status == http.StatusOK:
			s.fail(true, "%s: allowed", r.name)
		case r.status != 0 && (status != r.status || !strings.Contains(body, r.refusal)):
			s.fail(false, "%s: %d %.80q", r.name, status, body)
		}
	}
}

// TestReloadUnderLoad reloads a changed configuration several times while
// clients download public and private packages and get refused with a
// revoked token or none: no request may fail or be wrongly allowed, and
// the one open database must stay open throughout.
func TestReloadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Caddy processes")
	}
	reloadEpoch.Store(0)
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	secret, public := procRandomBytes(t, 64<<10), procRandomBytes(t, 32<<10)
	for _, root := range []string{storage, filepath.Join(storage, "mirror")} {
		procWriteFile(t, filepath.Join(root, filepath.FromSlash(reloadPrivate)), secret)
		procWriteFile(t, filepath.Join(root, filepath.FromSlash(reloadPublic)), public)
	}
	db := filepath.Join(dir, "cg.db")
	base := processConfig{AdminPort: procFreePort(t), SitePort: procFreePort(t), DB: db, Storage: storage}
	config := func(i int) string {
		path := filepath.Join(dir, fmt.Sprintf("Caddyfile.%d", i))
		procWriteFile(t, path, []byte(processCaddyfile(reloadGen(base, i))))
		return path
	}

	p := startCaddy(t, dir, "caddy", config(0), base.AdminPort, base.SitePort)
	p.waitReady()
	ctx := context.Background()
	op := &admin.Client{BaseURL: p.base + "/api", Token: operatorSecret, HTTP: &http.Client{Timeout: 30 * time.Second}}
	if _, err := op.CreateUser(ctx, admin.NewUserRequest{Login: "alice", Email: "alice@example.com",
		Password: "alice-pw1", PasswordConfirmation: "alice-pw1", AcceptTerms: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := op.CreatePackage(ctx, "alice", "secret", admin.PackageRequest{Public: new(bool)}); err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := op.CreatePackage(ctx, "alice", "open", admin.PackageRequest{Public: &yes}); err != nil {
		t.Fatal(err)
	}
	newToken := func(name string) string {
		t.Helper()
		tok, err := op.CreateToken(ctx, admin.TokenRequest{Note: name, User: "alice",
			Scopes: admin.Scopes{"conda:download"}, FailIfExists: true})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	valid, revoked := newToken("valid"), newToken("revoked")
	if err := op.RevokeToken(ctx, "alice", "revoked"); err != nil {
		t.Fatal(err)
	}

	fds, err := p.dbDescriptors(db)
	if err != nil || len(fds) != 1 {
		t.Fatalf("open descriptors on the database at start: %v %v", fds, err)
	}
	dbFD := fds[0]

	reqs := []reloadRequest{
		{name: "public, anonymous", path: reloadPublic, want: public},
		{name: "private, token in path", path: "/t/" + valid + reloadPrivate, want: secret},
		{name: "private, token header", path: reloadPrivate, header: http.Header{"Authorization": {"token " + valid}}, want: secret},
		{name: "private, revoked token", path: "/t/" + revoked + reloadPrivate, status: http.StatusUnauthorized, refusal: "token revoked"},
		{name: "private, anonymous (hidden as missing)", path: reloadPrivate, status: http.StatusNotFound},
	}
	var stats reloadStats
	loadCtx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	var wg sync.WaitGroup
	for range reloadClients {
		wg.Go(func() { reloadLoad(loadCtx, p.base, reqs, &stats) })
	}
	// Sample the database descriptors all along: exactly one, always the
	// same.
	var fdSamples, fdBad atomic.Int64
	var fdMu sync.Mutex
	var fdExample string
	wg.Go(func() {
		for loadCtx.Err() == nil {
			fds, err := p.dbDescriptors(db)
			fdSamples.Add(1)
			if err != nil || len(fds) != 1 || fds[0] != dbFD {
				fdBad.Add(1)
				fdMu.Lock()
				fdExample = fmt.Sprintf("%v %v", fds, err)
				fdMu.Unlock()
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	waitRequests := func(n int64) {
		t.Helper()
		target := stats.requests.Load() + n
		for i := 0; i < 3000 && stats.requests.Load() < target; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if stats.requests.Load() < target {
			t.Fatalf("load clients stalled at %d requests", stats.requests.Load())
		}
	}

	waitRequests(reloadMinRequests)
	check := &http.Client{Timeout: 30 * time.Second}
	for i := 1; i <= reloadCount; i++ {
		reloadEpoch.Add(1) // a reload starts
		out, err := runCaddyCommand(t, dir, 60*time.Second, "reload", "--config", config(i),
			"--adapter", "caddyfile", "--address", fmt.Sprintf("localhost:%d", base.AdminPort))
		if err != nil {
			t.Fatalf("reload %d: %v\n%s", i, err, out)
		}
		// The new configuration serves (caddy reload returns once it is
		// loaded; poll, boundedly, all the same).
		gen := fmt.Sprintf("gen-%d", i)
		for a := 0; ; a++ {
			req, _ := http.NewRequest(http.MethodHead, p.base+reloadPublic, nil)
			resp, err := check.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.Header.Get("X-Config-Gen") == gen {
					break
				}
			}
			if a == 100 {
				t.Fatalf("reload %d: configuration %s not serving: %v", i, gen, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		reloadEpoch.Add(1) // the new configuration serves
		// The API and the gateway still share one open store: a token
		// created now downloads, and is refused the moment it is revoked.
		name := fmt.Sprintf("after-reload-%d", i)
		tok := newToken(name)
		if status, body, err := procGet(check, p.base, "/t/"+tok+reloadPrivate, nil, nil); err != nil || status != 200 || body != string(secret) {
			t.Fatalf("reload %d: new token: %d %v", i, status, err)
		}
		if err := op.RevokeToken(ctx, "alice", name); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		if status, body, err := procGet(check, p.base, "/t/"+tok+reloadPrivate, nil, nil); err != nil || status != 401 || !strings.Contains(body, "token revoked") {
			t.Fatalf("reload %d: revoked new token: %d %.80q %v", i, status, body, err)
		}
		list, err := op.Tokens(ctx, "alice")
		if err != nil || len(list) != 1 || list[0].Application != "valid" {
			t.Fatalf("reload %d: token list %+v %v", i, list, err)
		}
		if fds, err := p.dbDescriptors(db); err != nil || len(fds) != 1 || fds[0] != dbFD {
			t.Fatalf("reload %d: open descriptors on the database: %v %v (was %s)", i, fds, err, dbFD)
		}
		waitRequests(reloadMinRequests)
	}
	stopLoad()
	wg.Wait()

	t.Logf("%d reloads; %d requests, %d failed, %d wrongly allowed; %d fresh connections reset by the listener handover and retried (tcp_migrate_req=1: %v); %d descriptor samples, %d not exactly the one database descriptor",
		reloadCount, stats.requests.Load(), stats.failed.Load(), stats.wronglyAllowed.Load(), stats.handoverResets.Load(), reloadStrict, fdSamples.Load(), fdBad.Load())
	if stats.failed.Load() != 0 || stats.wronglyAllowed.Load() != 0 {
		t.Errorf("requests failed or wrongly allowed, e.g.:\n%s", strings.Join(stats.examples, "\n"))
	}
	if fdBad.Load() != 0 {
		t.Errorf("database descriptors not exactly one, e.g. %s", fdExample)
	}

	// A clean stop closes the store; the file is consistent.
	code, err := p.stop()
	if err != nil || code != 0 {
		t.Fatalf("stop: %d %v\n%s", code, err, p.output())
	}
	if out := p.output(); strings.Contains(out, "DATA RACE") || strings.Contains(out, "panic") {
		t.Errorf("caddy output:\n%s", out)
	}
	crashCheckBoltFile(t, db, &crashModel{})
}

// TestCrashRecoveryRefusesCorruptDatabase starts the server on a database
// file of random bytes (what a disk fault could leave): it must exit with
// an error naming the database and never serve.
func TestCrashRecoveryRefusesCorruptDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Caddy process")
	}
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	procWriteFile(t, filepath.Join(storage, filepath.FromSlash(reloadPublic)), []byte("OPEN"))
	db := filepath.Join(dir, "cg.db")
	procWriteFile(t, db, procRandomBytes(t, 64<<10))
	c := processConfig{AdminPort: procFreePort(t), SitePort: procFreePort(t), DB: db, Storage: storage}
	config := filepath.Join(dir, "Caddyfile")
	procWriteFile(t, config, []byte(processCaddyfile(c)))

	p := startCaddy(t, dir, "caddy", config, c.AdminPort, c.SitePort)
	site := fmt.Sprintf("127.0.0.1:%d", c.SitePort)
	dials := 0
	for i := 0; !p.exited(); i++ {
		if i == 600 {
			t.Fatalf("still running after %d checks:\n%s", i, p.output())
		}
		conn, err := net.DialTimeout("tcp", site, time.Second)
		dials++
		if err == nil {
			conn.Close()
			t.Fatalf("the site port accepts connections with a corrupt database:\n%s", p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, err := p.exitCode(0)
	out := p.output()
	if err != nil || code == 0 {
		t.Fatalf("exit code %d %v:\n%s", code, err, out)
	}
	if !strings.Contains(out, "channelgate database") || !strings.Contains(out, db) {
		t.Fatalf("the error does not name the database %s:\n%s", db, out)
	}
	var lastErr string
	for _, line := range strings.Split(out, "\n") {
		if _, msg, ok := strings.Cut(line, "channelgate database"); ok {
			lastErr = "channelgate database" + strings.TrimSuffix(msg, `"}`)
		}
	}
	t.Logf("exit code %d after %d refused connection attempts: %s", code, dials, lastErr)
	// The file was not "repaired" into an empty database either.
	if bdb, err := bolt.Open(db, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second}); err == nil {
		bdb.Close()
		t.Errorf("the corrupt file opens as a database after the failed start")
	}
}
