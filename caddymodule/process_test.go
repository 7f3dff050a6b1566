package caddymodule

// Helpers to run Caddy (with channelgate) as a separate process, for the
// tests that kill it, restart it or reload it: the test binary re-executes
// itself as Caddy (see TestMain), so no ./caddy build is needed.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
)

// Environment of a test binary re-executed as Caddy: asCaddyEnv=1 and
// caddyArgsEnv holding Caddy's command-line arguments as a JSON list.
const (
	asCaddyEnv   = "CHANNELGATE_AS_CADDY"
	caddyArgsEnv = "CHANNELGATE_CADDY_ARGS"
)

// testBinary is this test binary, re-executed as Caddy. It is taken at
// start: caddytest overwrites os.Args.
var testBinary string

// TestMain runs the tests, or, in a child started by caddyCommand, Caddy's
// own main with the arguments given in the environment.
func TestMain(m *testing.M) {
	testBinary = os.Args[0]
	if exe, err := os.Executable(); err == nil {
		testBinary = exe
	}
	if os.Getenv(asCaddyEnv) == "1" {
		var args []string
		if err := json.Unmarshal([]byte(os.Getenv(caddyArgsEnv)), &args); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", caddyArgsEnv, err)
			os.Exit(2)
		}
		os.Args = append([]string{"caddy"}, args...)
		caddycmd.Main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// procFreePort asks the OS for a free port on 127.0.0.1 and returns its number
// once the listener is closed.
func procFreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// caddyCommand returns the command running this test binary as Caddy with
// args, in its own process group, with HOME and the XDG folders under
// home so that it writes nothing outside the test's folder.
func caddyCommand(t testing.TB, home string, args ...string) *exec.Cmd {
	t.Helper()
	return binaryCommand(t, testBinary, home, args...)
}

// binaryCommand is caddyCommand with another build of this test binary.
func binaryCommand(t testing.TB, binary, home string, args ...string) *exec.Cmd {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(),
		asCaddyEnv+"=1",
		caddyArgsEnv+"="+string(raw),
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_DATA_HOME="+filepath.Join(home, "data"),
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// processConfig is what processCaddyfile writes.
type processConfig struct {
	AdminPort, SitePort int
	DB, Storage         string
	// Store, when set, is a store option used instead of db.
	Store string
	// CacheSize, StoragePath and Header (the value of an X-Config-Gen
	// response header) are left out when empty.
	CacheSize   int
	StoragePath string
	Header      string
	// Publish makes the API publish into Storage (storage_root).
	Publish bool
}

// processGatewayOptions are more channelgate options for every process
// test's gateway: the bad-token limit per client address is turned off
// where the handler has it (failure_limit), since these tests send
// refused tokens from 127.0.0.1 on purpose and expect 401, never 429.
var processGatewayOptions = func() string {
	const off = "failure_limit off"
	var h Handler
	if h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("channelgate {\n"+off+"\n}")) == nil {
		return off
	}
	return ""
}()

// processCaddyfile is the Caddyfile of a process test: the API at /api
// with the operator secret, the gateway in front of file_server, all on
// 127.0.0.1.
func processCaddyfile(c processConfig) string {
	var opts strings.Builder
	if c.Store != "" {
		fmt.Fprintf(&opts, "%s\n", c.Store)
	} else {
		fmt.Fprintf(&opts, "db %s\n", c.DB)
	}
	if c.CacheSize > 0 {
		fmt.Fprintf(&opts, "\t\t\tcache_size %d\n", c.CacheSize)
	}
	apiOpts := opts.String()
	if c.Publish {
		apiOpts += fmt.Sprintf("\t\t\tstorage_root %s\n", c.Storage)
	}
	if c.StoragePath != "" {
		fmt.Fprintf(&opts, "\t\t\tstorage_path %s\n", c.StoragePath)
	}
	if processGatewayOptions != "" {
		fmt.Fprintf(&opts, "\t\t\t%s\n", processGatewayOptions)
	}
	header := ""
	if c.Header != "" {
		header = "header X-Config-Gen " + strconv.Quote(c.Header)
	}
	return fmt.Sprintf(`{
	admin localhost:%d
	default_bind 127.0.0.1
	auto_https off
	persist_config off
	skip_install_trust
}
http://:%d {
	@api path /api /api/*
	handle @api {
		uri strip_prefix /api
		channelgate_api {
			%s
			operator_secret %s
		}
	}
	handle {
		%s
		channelgate {
			%s
		}
		root * %s
		file_server
	}
}
`, c.AdminPort, c.SitePort, apiOpts, operatorSecret, header, opts.String(), c.Storage)
}

// writeFile writes content to path, creating its folder.
func procWriteFile(t testing.TB, path string, content []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

// caddyProcess is one run of Caddy as a child process.
type caddyProcess struct {
	t         testing.TB
	cmd       *exec.Cmd
	logPath   string
	adminPort int
	base      string // http://127.0.0.1:<site port>
	done      chan struct{}
	waitErr   error // set when done is closed
}

// startCaddy starts `caddy run --config <config> --adapter caddyfile`
// without waiting for it to serve; its output goes to <home>/<name>.log.
// t.Cleanup kills it if it still runs.
func startCaddy(t testing.TB, home, name, config string, adminPort, sitePort int) *caddyProcess {
	t.Helper()
	return startBinary(t, testBinary, home, name, config, adminPort, sitePort)
}

// startBinary is startCaddy with another build of this test binary.
func startBinary(t testing.TB, binary, home, name, config string, adminPort, sitePort int) *caddyProcess {
	t.Helper()
	logPath := filepath.Join(home, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := binaryCommand(t, binary, home, "run", "--config", config, "--adapter", "caddyfile")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &caddyProcess{t: t, cmd: cmd, logPath: logPath, adminPort: adminPort,
		base: fmt.Sprintf("http://127.0.0.1:%d", sitePort), done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.kill)
	return p
}

// pid is the Caddy process's id.
func (p *caddyProcess) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *caddyProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitCode waits up to timeout for the process to end and returns its
// exit code (-1 when killed by a signal).
func (p *caddyProcess) exitCode(timeout time.Duration) (int, error) {
	if !p.exited() {
		select {
		case <-p.done:
		case <-time.After(timeout):
			return 0, fmt.Errorf("process %d still running after %v", p.pid(), timeout)
		}
	}
	return p.cmd.ProcessState.ExitCode(), nil
}

// output is everything the process wrote so far.
func (p *caddyProcess) output() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// waitReady polls the API's root until it answers 200, at most attempts
// times, 100 ms apart. It fails the test if the process exits or never
// answers.
func (p *caddyProcess) waitReady() {
	p.t.Helper()
	const attempts = 300
	client := &http.Client{Timeout: 2 * time.Second}
	for range attempts {
		if p.exited() {
			p.t.Fatalf("caddy exited before serving (%v):\n%s", p.waitErr, p.output())
		}
		resp, err := client.Get(p.base + "/api/")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("caddy not serving after %d attempts:\n%s", attempts, p.output())
}

// kill sends SIGKILL to the process group and waits for the process to
// end. It does nothing if the process has already ended.
func (p *caddyProcess) kill() {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Errorf("process %d did not end after SIGKILL", p.pid())
	}
}

// stop asks Caddy to shut down through its admin API and returns its exit
// code.
func (p *caddyProcess) stop() (int, error) {
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/stop", p.adminPort), nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("POST /stop: %s", resp.Status)
	}
	return p.exitCode(30 * time.Second)
}

// dbDescriptors lists the process's open file descriptors that point to
// the file at path.
func (p *caddyProcess) dbDescriptors(path string) ([]string, error) {
	dir := fmt.Sprintf("/proc/%d/fd", p.pid())
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	want, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	var fds []string
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if target == want {
			fds = append(fds, e.Name())
		}
	}
	return fds, nil
}

// runCaddyCommand runs a short Caddy subcommand (reload, adapt, ...) as a
// child and returns its combined output, failing after timeout.
func runCaddyCommand(t testing.TB, home string, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := caddyCommand(t, home, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return out.String(), errors.New("caddy " + args[0] + " timed out")
	}
}

// procGet sends a GET and returns status and body; trace may be nil.
func procGet(client *http.Client, base, path string, hdr http.Header, trace *httptrace.ClientTrace) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		return 0, "", err
	}
	if trace != nil {
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// procRandomBytes returns n random bytes.
func procRandomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
