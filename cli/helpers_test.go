package cli_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/cli"
	"github.com/channelgate/channelgate/tokenstore"
)

// operatorSecret is the API's operator secret in these tests.
const operatorSecret = "operator-secret-for-the-cli-tests-0123456789"

var testActor = tokenstore.Actor{Name: "test"}

// site is a running API on a real bbolt store, mounted at /api of a real
// HTTP server as the channelgate_api directive mounts it.
type site struct {
	t     *testing.T
	store *tokenstore.Store
	api   string // the API URL, e.g. http://127.0.0.1:1234/api
}

func startSite(t *testing.T) *site {
	t.Helper()
	be, err := tokenstore.OpenBolt(filepath.Join(t.TempDir(), "db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st, err := tokenstore.Open(be, tokenstore.Options{})
	if err != nil {
		be.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := admin.New(st, admin.Config{OperatorSecret: operatorSecret, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &site{t: t, store: st, api: srv.URL + "/api"}
}

// seed creates users alice and bob (password "secret-pw"), organization
// acme (owner alice) whose group readers (bob) reads the private package
// shared, and packages secret (private), open (public) and the private
// PyPI project acme-tools.
func (s *site) seed() {
	s.t.Helper()
	must := func(err error) {
		s.t.Helper()
		if err != nil {
			s.t.Fatal(err)
		}
	}
	for _, u := range []string{"alice", "bob"} {
		_, err := s.store.CreateUser(testActor, tokenstore.NewUser{Name: u, Email: u + "@example.com",
			Password: "secret-pw", PasswordConfirmation: "secret-pw", AcceptTerms: true})
		must(err)
	}
	_, err := s.store.CreateOrg(testActor, "acme", "alice")
	must(err)
	_, err = s.store.PutGroup(testActor, "acme", "readers", tokenstore.PermRead)
	must(err)
	must(s.store.SetMember(testActor, "acme", "readers", "bob", true))
	must(s.store.SetGroupPackage(testActor, "acme", "readers", "shared", true))
	for _, p := range []struct {
		kind   tokenstore.Kind
		name   string
		public bool
	}{{tokenstore.Conda, "secret", false}, {tokenstore.Conda, "shared", false}, {tokenstore.Conda, "open", true},
		{tokenstore.PyPI, "acme-tools", false}} {
		_, err := s.store.PutPackage(testActor, "acme", p.kind, p.name, p.public, "")
		must(err)
	}
}

// cliEnv runs channelgate commands in this process, as `caddy channelgate
// ...` would, with an environment of its own.
type cliEnv struct {
	t   *testing.T
	env map[string]string
}

func newCLIEnv(t *testing.T, env map[string]string) *cliEnv {
	if env["CHANNELGATE_CONFIG"] == "" {
		env["CHANNELGATE_CONFIG"] = filepath.Join(t.TempDir(), "channelgate", "config.json")
	}
	return &cliEnv{t: t, env: env}
}

// with returns a copy of e with more environment.
func (e *cliEnv) with(kv ...string) *cliEnv {
	env := map[string]string{}
	for k, v := range e.env {
		env[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return &cliEnv{t: e.t, env: env}
}

// run executes one command line with stdin and returns its outputs.
func (e *cliEnv) run(stdin string, args ...string) (stdout, stderr string, err error) {
	root := &cobra.Command{Use: "channelgate"}
	cli.Build(root, func(k string) string { return e.env[k] }, nil)
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// ok runs a command that must succeed and returns its standard output.
func (e *cliEnv) ok(stdin string, args ...string) string {
	e.t.Helper()
	out, errOut, err := e.run(stdin, args...)
	if err != nil {
		e.t.Fatalf("channelgate %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// fails runs a command that must fail with an error containing msg.
func (e *cliEnv) fails(msg, stdin string, args ...string) {
	e.t.Helper()
	_, _, err := e.run(stdin, args...)
	if err == nil || !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "\n") {
		e.t.Fatalf("channelgate %s: error %v, want one line containing %q", strings.Join(args, " "), err, msg)
	}
}
