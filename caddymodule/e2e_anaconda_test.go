package caddymodule

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/channelgate/channelgate/tokenstore"
)

// anacondaEnv names the anaconda-client command TestAnacondaClient drives:
// a path to an executable that runs the `anaconda` CLI (for instance a
// wrapper that runs anaconda-client 1.14.1 from its source tree).
const anacondaEnv = "CHANNELGATE_ANACONDA"

// TestAnacondaClient drives the real anaconda-client CLI against a real
// Caddy serving channelgate's API at /api: it proves that a user seeded in
// the store logs in with a password, sees itself with whoami, creates a
// private organization package, manages an organization group (members,
// packages, show), shows a package and a user, creates a download token
// whose secret works on the gateway's /t/ paths, lists and inspects it,
// revokes it (the very next download is refused as revoked), and logs out
// (which revokes the login token); and that no token reached the
// gateway's logs. Each step checks the exit status and stable substrings
// of what the client printed.
//
// It needs the client and fails without it (.ci/run installs 1.12.3):
//
//	bash ../shared/clients/install-anaconda-client.sh /tmp/ac
//	CHANNELGATE_ANACONDA=/tmp/ac/anaconda go test -run TestAnacondaClient ./caddymodule/
//
// The client runs with a fresh HOME (its config and token files land
// there) and ANACONDA_CLIENT_LEGACY_INTERACTIVE_LOGIN=1, without which
// anaconda-client 1.14 logs in through anaconda.com instead of the API.
func TestAnacondaClient(t *testing.T) {
	bin := anacondaBin(t)
	g := startGateway(t, "")
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
	const file, content = "acme/noarch/tool-1.0-0.conda", "TOOL"
	g.file(file, content)
	download := "/" + file

	ac := &anacondaCLI{bin: bin, home: t.TempDir()}
	// tokens holds every secret the client got (login and ci), for
	// the log check at the end.
	tokens := map[string]string{}
	var ciToken, loginToken string

	steps := []struct {
		name  string
		args  []string
		stdin string
		want  []string // substrings of stdout and stderr together
		// then checks more once the command succeeded.
		then func(t *testing.T, stdout string)
	}{
		// On a fresh HOME, anaconda-client 1.14.1 logs a FileNotFoundError
		// traceback for the missing config.yaml but exits 0 and writes
		// it; the next step checks what it wrote and where.
		{name: "point at the API", args: []string{"config", "--set", "url", g.base + "/api"}},
		{name: "config is in the test's HOME", args: []string{"config", "--show-sources"},
			want: []string{ac.home, "url: " + g.base + "/api"}},
		{name: "login", args: []string{"login", "--username", "alice", "--password", pw},
			want: []string{"Using Anaconda API: " + g.base + "/api", "login successful"},
			then: func(t *testing.T, _ string) {
				loginToken = ac.storedToken(t)
				tokens["alice/login"] = loginToken
				if status, body, _ := g.do("GET", "/t/"+loginToken+download, nil); status != 200 || body != content {
					t.Fatalf("download with the login token: %d %q, want 200 %q", status, body, content)
				}
			}},
		{name: "whoami", args: []string{"whoami"}, want: []string{"Username: alice"}},
		{name: "create a private package", args: []string{"package", "--create", "acme/tool", "--summary", "a tool", "--private"},
			want: []string{"Package created!"},
			then: func(t *testing.T, _ string) {
				p, err := g.store.Package("acme", tokenstore.Conda, "tool")
				if err != nil {
					t.Fatalf("acme's conda package tool: %v", err)
				}
				if p.Public || p.Summary != "a tool" {
					t.Fatalf("acme/tool: public %v, summary %q; want private, %q", p.Public, p.Summary, "a tool")
				}
			}},
		{name: "groups add", args: []string{"groups", "add", "acme/devs", "--perms", "read"},
			want: []string{"Created the group acme/devs"}},
		{name: "groups add_member", args: []string{"groups", "add_member", "acme/devs/bob"},
			want: []string{`Added the user "bob" to the group "acme/devs"`}},
		{name: "groups add_package", args: []string{"groups", "add_package", "acme/devs/tool"},
			want: []string{`Added the package "tool" to the group "acme/devs"`}},
		{name: "groups members", args: []string{"groups", "members", "acme/devs"}, want: []string{"bob"}},
		{name: "groups packages", args: []string{"groups", "packages", "acme/devs"}, want: []string{"acme/tool", "a tool"}},
		{name: "groups show", args: []string{"groups", "show", "acme/devs"}, want: []string{"'members': ['bob']", "'packages': ['tool']", "'perm': 'read'"}},
		{name: "show package", args: []string{"show", "acme/tool"}, want: []string{"Summary: a tool", "Access:  private"}},
		{name: "show user", args: []string{"show", "alice"}, want: []string{"Organizations", "acme"}},
		{name: "auth --create", args: []string{"auth", "--create", "--name", "ci", "--scopes", "conda:download"},
			stdin: pw + "\n",
			want:  []string{"Password:"}, // the prompt, on stderr
			then: func(t *testing.T, stdout string) {
				lines := strings.Split(strings.TrimSpace(stdout), "\n")
				ciToken = strings.TrimSpace(lines[len(lines)-1])
				if !strings.HasPrefix(ciToken, "cgt-") {
					t.Fatalf("last line of stdout %q is not a cgt- token:\n%s", ciToken, stdout)
				}
				tokens["alice/ci"] = ciToken
				if status, body, _ := g.do("GET", "/t/"+ciToken+download, nil); status != 200 || body != content {
					t.Fatalf("download with the ci token: %d %q, want 200 %q", status, body, content)
				}
				if status, _, _ := g.do("GET", download, nil); status != 404 {
					t.Fatalf("anonymous download of the private package: %d, want 404 (hidden as missing)", status)
				}
			}},
		{name: "auth --list", args: []string{"auth", "--list"}, want: []string{"| ci ", "conda:download"}},
		{name: "auth --info with the ci token", args: []string{"-t", "<ci>", "auth", "--info"}, want: []string{"Name: ci"}},
		{name: "auth -r", args: []string{"auth", "-r", "ci"}, want: []string{"Removed token ci"},
			then: func(t *testing.T, _ string) {
				status, body, _ := g.do("GET", "/t/"+ciToken+download, nil)
				if status != 401 || !strings.Contains(body, "revoked") {
					t.Fatalf("download with the revoked ci token: %d %q, want 401 revoked", status, body)
				}
			}},
		{name: "logout", args: []string{"logout"}, want: []string{"logout successful"},
			then: func(t *testing.T, _ string) {
				status, body, _ := g.do("GET", "/t/"+loginToken+download, nil)
				if status != 401 || !strings.Contains(body, "revoked") {
					t.Fatalf("download with the login token after logout: %d %q, want 401 revoked", status, body)
				}
			}},
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			args := make([]string, len(st.args))
			for i, a := range st.args {
				args[i] = strings.ReplaceAll(a, "<ci>", ciToken)
			}
			stdout, all, err := ac.run(t, st.stdin, args...)
			shown := maskSecrets(all, tokens)
			if err != nil {
				t.Fatalf("anaconda %s: %v\n%s", strings.Join(st.args, " "), err, shown)
			}
			for _, w := range st.want {
				if !strings.Contains(all, w) {
					t.Errorf("anaconda %s: output lacks %q:\n%s", strings.Join(st.args, " "), w, shown)
				}
			}
			if st.then != nil && !t.Failed() {
				st.then(t, stdout)
			}
		})
		if !ok {
			t.Fatalf("step %q failed; the later steps depend on it", st.name)
		}
	}

	if len(tokens) != 2 {
		t.Fatalf("tokens to check in the logs: %d, want 2 (login and ci)", len(tokens))
	}
	logs := g.logs()
	if !strings.Contains(logs, `"uri"`) {
		t.Errorf("no access log lines to check")
	}
	for _, leak := range tokenLeaks(logs, nil, tokens) {
		t.Error(leak)
	}
	if strings.Contains(logs, pw) {
		t.Errorf("alice's password found in the gateway's logs:\n%s", grepLines(logs, pw))
	}
}

// anacondaBin returns the anaconda-client command CHANNELGATE_ANACONDA
// names, failing the test if there is none.
func anacondaBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(anacondaEnv)
	if bin == "" {
		t.Fatal(anacondaEnv + " is not set: install anaconda-client with " +
			"bash ../shared/clients/install-anaconda-client.sh DIR and set it to DIR/anaconda (.ci/run does)")
	}
	if _, err := exec.LookPath(bin); err != nil {
		t.Fatalf("%s=%s is not an executable: %v", anacondaEnv, bin, err)
	}
	return homeWrapper(t, bin)
}

// homeWrapper adapts the wrapper install-anaconda-client.sh writes, which
// fixes HOME (and the client's config folders) to DIR/home, so that each
// test's client keeps its config and tokens in its own HOME: a copy of
// it in a temporary folder reads them from $ACHOME instead. Other
// commands are returned as they are.
func homeWrapper(t *testing.T, bin string) string {
	t.Helper()
	script, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(filepath.Dir(bin), "home")
	if !bytes.Contains(script, []byte(`export HOME="`+home+`"`)) {
		return bin
	}
	copied := filepath.Join(t.TempDir(), "anaconda")
	if err := os.WriteFile(copied, bytes.ReplaceAll(script, []byte(home), []byte("${ACHOME}")), 0o755); err != nil {
		t.Fatal(err)
	}
	return copied
}

// anacondaCLI runs one anaconda-client command with its own HOME.
type anacondaCLI struct {
	bin  string
	home string
}

// run runs the client with args and stdin, in an environment of only
// PATH, HOME (also as ACHOME: /tmp/acrun sets HOME from ACHOME, default
// /tmp/achome, rather than keeping it), LANG, PYTHONDONTWRITEBYTECODE=1,
// no proxy and ANACONDA_CLIENT_LEGACY_INTERACTIVE_LOGIN=1, and returns
// its stdout, stdout and stderr together, and its exit error. The timeout
// only stops a hung client.
func (a *anacondaCLI) run(t *testing.T, stdin string, args ...string) (stdout, all string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + a.home, "ACHOME=" + a.home, "LANG=C.UTF-8",
		"ANACONDA_CLIENT_LEGACY_INTERACTIVE_LOGIN=1", "PYTHONDONTWRITEBYTECODE=1", "NO_PROXY=*", "no_proxy=*"}
	cmd.Stdin = strings.NewReader(stdin)
	// os/exec copies stdout and stderr in two goroutines: both is
	// written by each.
	var out bytes.Buffer
	both := &lockedBuffer{}
	cmd.Stdout = io.MultiWriter(&out, both)
	cmd.Stderr = both
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("anaconda %s: stopped after hanging:\n%s", strings.Join(args, " "), both.String())
	}
	return out.String(), both.String(), err
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// storedToken returns the login token the client saved under its HOME:
// anaconda-client 1.14 writes the same <url>.token file in each of its
// token folders (~/.config/binstar and ~/.continuum/anaconda-client/tokens).
func (a *anacondaCLI) storedToken(t *testing.T) string {
	t.Helper()
	var tok string
	var files []string
	err := filepath.WalkDir(a.home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".token") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, p)
		if s := strings.TrimSpace(string(b)); tok == "" {
			tok = s
		} else if s != tok {
			t.Fatalf("token files under %s differ: %v", a.home, files)
		}
		return nil
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no login token file under %s: %v", a.home, err)
	}
	if !strings.HasPrefix(tok, "cgt-") {
		t.Fatalf("login token in %v does not start with cgt-", files)
	}
	return tok
}

// maskSecrets replaces every token in s, for failure messages.
func maskSecrets(s string, tokens map[string]string) string {
	for name, secret := range tokens {
		s = strings.ReplaceAll(s, secret, "<TOKEN "+name+">")
	}
	return s
}
