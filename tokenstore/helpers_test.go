package tokenstore

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testActor makes every change in the tests, so audit events can be
// checked for it.
var testActor = Actor{Name: "tester", Remote: "192.0.2.7"}

// testPassword is the password of every fixture user.
const testPassword = "correct horse battery"

// fixtureHash is testPassword hashed once per process: argon2 costs tens of
// milliseconds (far more under -race), so fixture users share it instead of
// going through CreateUser.
var fixtureHash = sync.OnceValues(func() (string, error) { return hashPassword(testPassword) })

// testClock is a settable clock for Options.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// openStore opens a Store on a fresh bbolt file in t.TempDir and closes it
// when the test ends. It returns the file's path for tests that reopen it.
func openStore(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := OpenFile(path, opts)
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr checks that err wraps kind (nil: no error) and, if substr is not
// empty, that its message contains substr.
func wantErr(t testing.TB, err, kind error, substr string) {
	t.Helper()
	switch {
	case kind == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case kind != nil && !errors.Is(err, kind):
		t.Fatalf("error = %v, want kind %v", err, kind)
	case err != nil && !strings.Contains(err.Error(), substr):
		t.Fatalf("error %q does not mention %q", err, substr)
	}
}

// addUser stores a user whose password is testPassword without hashing it
// again.
func addUser(t testing.TB, s *Store, name string, siteAdmin bool) {
	t.Helper()
	hash, err := fixtureHash()
	must(t, err)
	a := &Account{Name: name, Type: User, Email: name + "@example.org", PasswordHash: hash,
		Created: s.now().UTC(), SiteAdmin: siteAdmin}
	must(t, s.write(testActor, func(w *writeTx) error { return w.insertAccount(a, false) }))
}

func addOrg(t testing.TB, s *Store, name, creator string) {
	t.Helper()
	_, err := s.CreateOrg(testActor, name, creator)
	must(t, err)
}

func addPackage(t testing.TB, s *Store, channel string, kind Kind, name string, public bool) {
	t.Helper()
	_, err := s.PutPackage(testActor, channel, kind, name, public, "")
	must(t, err)
}

// addGroup creates a group with members and packages (none: all packages
// is not settable through the API, so none means none).
func addGroup(t testing.TB, s *Store, org, name string, perm Perm, members, pkgs []string) {
	t.Helper()
	_, err := s.PutGroup(testActor, org, name, perm)
	must(t, err)
	for _, m := range members {
		must(t, s.SetMember(testActor, org, name, m, true))
	}
	for _, p := range pkgs {
		must(t, s.SetGroupPackage(testActor, org, name, p, true))
	}
}

// addToken creates a token for owner (created by owner) with scopes.
func addToken(t testing.TB, s *Store, owner, name string, scopes ...string) string {
	t.Helper()
	secret, _, err := s.CreateToken(testActor, TokenSpec{Owner: owner, Name: name, CreatedBy: owner, Scopes: scopes})
	must(t, err)
	return secret
}

// world is the fixture of the access tests:
//
//	users   alice (owns org acme and org vault), bob (acme group devs),
//	        carol (collaborator on alice/priv), dave (nobody), root (site admin)
//	alice   conda pub (public), conda priv (private, collaborator carol)
//	acme    conda acme-public (public), conda acme-private (private),
//	        pypi acme-tools (private); group devs: write on acme-private
//	        and Acme_Tools, member bob
//	vault   private by default; conda open (public), conda closed (private);
//	        group auditors: read on hidden (unregistered), member bob
type world struct {
	s      *Store
	path   string
	clock  *testClock
	tokens map[string]string // fixture token name → secret
}

func newWorld(t testing.TB) *world {
	t.Helper()
	clock := newTestClock()
	s, path := openStore(t, Options{Now: clock.Now})
	w := &world{s: s, path: path, clock: clock, tokens: map[string]string{}}
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		addUser(t, s, u, false)
	}
	addUser(t, s, "root", true)
	addOrg(t, s, "acme", "alice")
	addOrg(t, s, "vault", "alice")
	must(t, s.SetChannelDefault(testActor, "vault", true))

	addPackage(t, s, "alice", Conda, "pub", true)
	addPackage(t, s, "alice", Conda, "priv", false)
	must(t, s.SetCollaborator(testActor, "alice", Conda, "priv", "carol", true))
	addPackage(t, s, "acme", Conda, "acme-public", true)
	addPackage(t, s, "acme", Conda, "acme-private", false)
	addPackage(t, s, "acme", PyPI, "acme-tools", false)
	addGroup(t, s, "acme", "devs", PermWrite, []string{"bob"}, []string{"acme-private", "Acme_Tools"})
	addPackage(t, s, "vault", Conda, "open", true)
	addPackage(t, s, "vault", Conda, "closed", false)
	addGroup(t, s, "vault", "auditors", PermRead, []string{"bob"}, []string{"hidden"})

	for _, tk := range []struct{ owner, name string }{
		{"alice", "all"}, {"bob", "all"}, {"carol", "all"}, {"dave", "all"}, {"root", "all"},
	} {
		w.tokens[tk.owner] = addToken(t, s, tk.owner, tk.name)
	}
	w.tokens["alice-api"] = addToken(t, s, "alice", "api", "api")
	w.tokens["alice-conda-dl"] = addToken(t, s, "alice", "conda-dl", "conda:download")
	w.tokens["bob-pypi-dl"] = addToken(t, s, "bob", "pypi-dl", "pypi:download")
	w.tokens["bob-repos"] = addToken(t, s, "bob", "repos", "repos")
	w.tokens["acme-org"] = addToken(t, s, "acme", "ci", "conda")
	return w
}
