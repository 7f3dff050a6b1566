package caddymodule

// Tests of the API's limits and of the operator secret through a real
// Caddy process: trusted_proxies and X-Forwarded-For, the admin
// endpoint's /config/, and the process's memory under a login storm.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// limitsSite is a Caddy process with the API at /api and the gateway in
// front of file_server, whose client_ip comes from X-Forwarded-For sent
// by 127.0.0.1 (trusted_proxies).
type limitsSite struct {
	*caddyProcess
	adminURL string
	client   *http.Client
}

// startLimitsSite starts Caddy (binary, a build of this test binary) with
// apiOptions in the channelgate_api block, waits until it serves (when
// ready) and returns it. The storage holds a public index,
// /open/noarch/repodata.json.
func startLimitsSite(t *testing.T, binary, apiOptions string, ready bool) *limitsSite {
	t.Helper()
	home := t.TempDir()
	adminPort, sitePort := procFreePort(t), procFreePort(t)
	storage := filepath.Join(home, "storage")
	procWriteFile(t, filepath.Join(storage, "open", "noarch", "repodata.json"), []byte(`{"packages": {}}`))
	config := fmt.Sprintf(`{
	admin localhost:%d
	default_bind 127.0.0.1
	auto_https off
	skip_install_trust
	servers {
		trusted_proxies static 127.0.0.1/32
		client_ip_headers X-Forwarded-For
	}
}
http://:%d {
	handle /metrics {
		metrics
	}
	@api path /api /api/*
	handle @api {
		uri strip_prefix /api
		channelgate_api {
			db %s
			%s
		}
	}
	handle {
		channelgate {
			db %s
		}
		root * %s
		file_server
	}
}
`, adminPort, sitePort, filepath.Join(home, "db"), apiOptions, filepath.Join(home, "db"), storage)
	path := filepath.Join(home, "Caddyfile")
	procWriteFile(t, path, []byte(config))
	p := startBinary(t, binary, home, "caddy", path, adminPort, sitePort)
	s := &limitsSite{caddyProcess: p, adminURL: fmt.Sprintf("http://localhost:%d", adminPort),
		client: &http.Client{Timeout: time.Minute}}
	if ready {
		p.waitReady()
	}
	return s
}

// call sends a request to the site from client address from (as
// X-Forwarded-For) with an Authorization header (auth "basic user:pass"
// for Basic, else the header's value) and returns the status, the
// Retry-After header and the body.
func (s *limitsSite) call(t testing.TB, method, path, from, auth string, body any) (int, string, string) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", from)
	if up, ok := strings.CutPrefix(auth, "basic "); ok {
		user, pass, _ := strings.Cut(up, ":")
		req.SetBasicAuth(user, pass)
	} else if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Error(err)
		return 0, "", ""
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), b.String()
}

// createUser creates a user with the operator secret.
func (s *limitsSite) createUser(t *testing.T, name, password string) {
	t.Helper()
	status, _, body := s.call(t, "POST", "/api/users", "192.0.2.1", "token "+operatorSecret,
		map[string]any{"login": name, "email": name + "@example.org", "password": password,
			"password_confirmation": password, "accept_terms": true})
	if status != http.StatusCreated {
		t.Fatalf("creating %s: %d %s", name, status, body)
	}
}

// TestAPILimitsBehindProxy proves findings 4 and 9 through a real Caddy
// behind a trusted proxy: the API counts failures by Caddy's client_ip
// (X-Forwarded-For from 127.0.0.1), not by the proxy's address; wrong
// passwords from one client stop that client's guesses at the account,
// even with the right password, while the owner logs in from another
// client; wrong operator secrets and unknown tokens from one client get
// it 429 (the right secret included) while other clients are served.
// (Before, the API keyed its limit by the proxy's address and by the
// account alone, so the owner was locked out everywhere, and secrets and
// tokens were never limited.)
func TestAPILimitsBehindProxy(t *testing.T) {
	const pass = "correct horse battery"
	s := startLimitsSite(t, testBinary, "operator_secret "+operatorSecret, true)
	s.createUser(t, "alice", pass)

	for i := range 5 {
		if status, _, body := s.call(t, "GET", "/api/user", "203.0.113.1", "basic alice:wrong-password", nil); status != 401 {
			t.Fatalf("wrong password %d: %d %s", i+1, status, body)
		}
	}
	if status, retry, body := s.call(t, "GET", "/api/user", "203.0.113.1", "basic alice:"+pass, nil); status != 429 || retry == "" {
		t.Fatalf("right password from the failing client: %d Retry-After %q %s, want 429", status, retry, body)
	}
	if status, _, body := s.call(t, "GET", "/api/user", "203.0.113.2", "basic alice:"+pass, nil); status != 200 {
		t.Fatalf("the owner from another client: %d %s", status, body)
	}
	// Seven hashes ran: alice's creation, five wrong passwords, the
	// right one from the other client; the refused one ran none.
	if _, _, metrics := s.call(t, "GET", "/metrics", "192.0.2.1", "", nil); !strings.Contains(metrics, "channelgate_password_check_seconds_count 7\n") {
		t.Errorf("password hashes not counted as 7 in /metrics:\n%s", metrics)
	}

	for i := range defaultFailureLimit {
		auth := "token wrong-operator-secret-" + strconv.Itoa(i)
		if i%2 == 1 {
			auth = "token cgt-" + strings.Repeat("A", 40) // malformed: its checksum is wrong
		}
		if status, _, body := s.call(t, "GET", "/api/user", "203.0.113.9", auth, nil); status != 401 {
			t.Fatalf("wrong secret %d: %d %s", i+1, status, body)
		}
	}
	if status, retry, body := s.call(t, "GET", "/api/user", "203.0.113.9", "token "+operatorSecret, nil); status != 429 || retry == "" {
		t.Fatalf("operator secret from the guessing client: %d Retry-After %q %s, want 429", status, retry, body)
	}
	if status, _, body := s.call(t, "GET", "/api/user", "203.0.113.10", "token "+operatorSecret, nil); status != 200 {
		t.Fatalf("operator secret from another client: %d %s", status, body)
	}
}

// TestOperatorSecretAtProvision proves finding 10: given as
// {env.NAME} or operator_secret_file, the operator secret is read when
// the API is provisioned, so Caddy's configuration (GET /config/ on the
// admin endpoint, what autosave writes) does not contain it, and it
// works; a short secret stops Caddy at start; no secret starts with a
// warning.
func TestOperatorSecretAtProvision(t *testing.T) {
	file := filepath.Join(t.TempDir(), "operator-secret")
	procWriteFile(t, file, []byte(operatorSecret+"\n"))
	t.Setenv("CHANNELGATE_TEST_OPERATOR", operatorSecret)
	for _, tc := range []struct{ name, options string }{
		{"env placeholder", "operator_secret {env.CHANNELGATE_TEST_OPERATOR}"},
		{"file", "operator_secret_file " + file},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startLimitsSite(t, testBinary, tc.options, true)
			status, config, err := procGet(s.client, s.adminURL, "/config/", nil, nil)
			if err != nil || status != 200 {
				t.Fatalf("GET /config/: %d %v", status, err)
			}
			if strings.Contains(config, operatorSecret) {
				t.Fatalf("Caddy's configuration holds the operator secret: %s", config)
			}
			if status, _, body := s.call(t, "GET", "/api/user", "192.0.2.1", "token "+operatorSecret, nil); status != 200 {
				t.Fatalf("operator secret: %d %s", status, body)
			}
			status, _, body := s.call(t, "GET", "/api/user", "192.0.2.1", "token not-the-secret", nil)
			if status != 401 || !strings.Contains(body, "wrong operator secret") || strings.Contains(body, operatorSecret) {
				t.Fatalf("wrong secret: %d %s, want 401 naming the wrong operator secret", status, body)
			}
		})
	}

	t.Run("short secret", func(t *testing.T) {
		t.Setenv("CHANNELGATE_TEST_OPERATOR", "hunter2")
		s := startLimitsSite(t, testBinary, "operator_secret {env.CHANNELGATE_TEST_OPERATOR}", false)
		if code, err := s.exitCode(time.Minute); err != nil || code == 0 {
			t.Fatalf("caddy with a 7-character operator secret: exit %d %v", code, err)
		}
		if out := s.output(); !strings.Contains(out, "at least 32 characters") || strings.Contains(out, "hunter2") {
			t.Fatalf("start-up error does not say why, or shows the secret:\n%s", out)
		}
	})
	t.Run("no operator", func(t *testing.T) {
		s := startLimitsSite(t, testBinary, "", true)
		if out := s.output(); !strings.Contains(out, "no operator secret configured") {
			t.Fatalf("no warning about the missing operator:\n%s", out)
		}
	})
}

// TestLoginStormMemory proves finding 2: 300 concurrent logins with
// unknown names, each from its own client address (so that no guess
// limit stops them: only the bound on concurrent password hashes does),
// keep Caddy's peak resident memory (VmHWM) under 300 MB above its idle
// memory, and public downloads keep being served meanwhile. The peak,
// the answers and the downloads' latency are logged for RELIABILITY.md;
// latency is not asserted (the machine is shared). Caddy runs without
// the race detector, whose shadow memory would be measured too.
func TestLoginStormMemory(t *testing.T) {
	const logins = 300
	const bound = 300 << 20
	s := startLimitsSite(t, withoutRace(t), "", true)
	for range 20 { // warm up the download path
		s.call(t, "GET", "/open/noarch/repodata.json", "192.0.2.1", "", nil)
	}
	idle := procMemory(t, s.pid(), "VmRSS")

	stop := make(chan struct{})
	var latencies []time.Duration
	var downloads sync.WaitGroup
	downloads.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			if status, _, _ := s.call(t, "GET", "/open/noarch/repodata.json", "192.0.2.1", "", nil); status != 200 {
				t.Errorf("public download during the storm: %d", status)
			}
			latencies = append(latencies, time.Since(start))
		}
	})

	answers := make(chan int, logins)
	start := make(chan struct{})
	var storm sync.WaitGroup
	began := time.Now()
	for i := range logins {
		storm.Go(func() {
			<-start
			status, _, _ := s.call(t, "GET", "/api/user", fmt.Sprintf("198.51.%d.%d", i/250, i%250+1),
				fmt.Sprintf("basic nobody%d:some-password", i), nil)
			answers <- status
		})
	}
	close(start)
	storm.Wait()
	took := time.Since(began)
	close(stop)
	downloads.Wait()
	close(answers)

	peak := procMemory(t, s.pid(), "VmHWM")
	count := map[int]int{}
	for a := range answers {
		count[a]++
	}
	slices.Sort(latencies)
	p50 := time.Duration(0)
	if len(latencies) > 0 {
		p50 = latencies[len(latencies)/2]
	}
	t.Logf("%d concurrent unknown-user logins in %v: answers %v; RSS idle %d MB, peak %d MB (+%d MB); "+
		"%d public downloads meanwhile, p50 %v, max %v",
		logins, took.Round(time.Millisecond), count, idle>>20, peak>>20, (peak-idle)>>20,
		len(latencies), p50, latencies[len(latencies)-1])
	if count[401]+count[429] != logins {
		t.Errorf("answers %v, want only 401 (checked) and 429 (no hashing slot in time)", count)
	}
	if peak-idle > bound {
		t.Fatalf("peak RSS %d MB above idle, bound %d MB", (peak-idle)>>20, bound>>20)
	}
}

// withoutRace returns this test binary, rebuilt without the race
// detector if it has it.
func withoutRace(t *testing.T) string {
	t.Helper()
	info, ok := debug.ReadBuildInfo()
	if !ok || !slices.Contains(info.Settings, debug.BuildSetting{Key: "-race", Value: "true"}) {
		return testBinary
	}
	binary := filepath.Join(t.TempDir(), "caddymodule.test")
	if out, err := exec.Command("go", "test", "-c", "-o", binary, ".").CombinedOutput(); err != nil {
		t.Fatalf("building the tests without -race: %v\n%s", err, out)
	}
	return binary
}

// procMemory reads a size field (VmRSS, VmHWM) of /proc/<pid>/status, in
// bytes.
func procMemory(t *testing.T, pid int, field string) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q", field, line)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
