package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/tokenstore"
)

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

var tokenLine = regexp.MustCompile(`^cgt-[A-Za-z0-9]+\n$`)

// TestCLIWalkThrough is the README's walk-through: the operator creates a
// user and an organization, the user logs in, creates an organization
// token, lists it and revokes it. (The gateway's own tests download with
// such tokens.)
func TestCLIWalkThrough(t *testing.T) {
	s := startSite(t)
	site := s.api
	user := newCLIEnv(t, map[string]string{"CHANNELGATE_SITE": site})
	op := user.with("CHANNELGATE_TOKEN", operatorSecret)

	op.ok("carol-pw-1\n", "user", "create", "--login", "carol", "--email", "carol@example.com")
	// A signed-up user (web pages, no mail) waits for an administrator.
	if _, err := s.store.SignUp(testActor, tokenstore.NewUser{Name: "dan", Email: "dan@example.com", Password: "dan-pw-12",
		PasswordConfirmation: "dan-pw-12", AcceptTerms: true}, false); err != nil {
		t.Fatal(err)
	}
	user.fails("authentication required", "", "user", "verify", "--login", "dan")
	op.fails("no account named", "", "user", "verify", "--login", "nobody")
	if out := op.ok("", "user", "verify", "--login", "dan"); out != "dan is verified\n" {
		t.Fatalf("user verify printed %q", out)
	}
	if ok, err := s.store.Verified("dan"); err != nil || !ok {
		t.Fatalf("dan verified = %v, %v", ok, err)
	}
	op.ok("", "org", "create", "--login", "labs", "--owner", "carol")
	op.ok("", "package", "add", "labs/model", "--private")

	// The user logs in with --site (not the environment): the site is
	// kept with the token.
	user = newCLIEnv(t, map[string]string{})
	user.fails("no site", "", "whoami")
	user.fails("invalid user name or password", "wrong-password\n", "--site", site, "login", "--username", "carol")
	out := user.ok("carol-pw-1\n", "--site", site, "login", "--username", "carol", "--hostname", "laptop")
	if !strings.Contains(out, "carol") || strings.Contains(out, "carol-pw-1") {
		t.Fatalf("login printed %q", out)
	}
	cfgPath := user.env["CHANNELGATE_CONFIG"]
	if m := fileMode(t, cfgPath); m != 0o600 {
		t.Errorf("config file mode %o, want 600", m)
	}
	if m := fileMode(t, filepath.Dir(cfgPath)); m != 0o700 {
		t.Errorf("config directory mode %o, want 700", m)
	}
	if out := user.ok("", "whoami"); !strings.Contains(out, "carol") {
		t.Fatalf("whoami: %q", out)
	}

	out = user.ok("carol-pw-1\n", "auth", "--create", "--name", "ci", "--org", "labs", "--scopes", "conda:download api:read")
	if !tokenLine.MatchString(out) {
		t.Fatalf("auth --create printed %q, want the token alone", out)
	}
	tok := strings.TrimSpace(out)
	outFile := filepath.Join(t.TempDir(), "token")
	out, errOut, err := user.run("carol-pw-1\n", "auth", "-c", "-n", "ci2", "-o", "labs", "-s", "conda:download", "--out", outFile)
	if err != nil || out != "" || !strings.Contains(errOut, "Wrote token ci2 to "+outFile+" (mode 0600)") {
		t.Fatalf("auth --create --out: %v, stdout %q, stderr %q", err, out, errOut)
	}
	user.fails("already exists: give --out a new file", "", "auth", "-c", "-n", "ci3", "-o", "labs", "--out", outFile)
	if b, err := os.ReadFile(outFile); err != nil || !tokenLine.Match(b) {
		t.Fatalf("token file %q, %v", b, err)
	}
	if m := fileMode(t, outFile); m != 0o600 {
		t.Errorf("token file mode %o, want 600", m)
	}
	user.fails("already exists", "carol-pw-1\n", "auth", "--create", "--name", "ci", "--org", "labs")

	table := user.ok("", "auth", "--list", "--org", "labs")
	if !strings.Contains(table, "ci2") || !strings.Contains(table, "conda:download,api:read") || strings.Contains(table, tok) {
		t.Fatalf("auth --list:\n%s", table)
	}
	var listed []map[string]any
	if err := json.Unmarshal([]byte(user.ok("", "--json", "auth", "--list", "--org", "labs")), &listed); err != nil || len(listed) != 2 {
		t.Fatalf("auth --list --json: %v %v", listed, err)
	}
	if raw, _ := json.Marshal(listed); bytes.Contains(raw, []byte(tok)) {
		t.Fatal("the JSON listing holds the secret")
	}
	if info := user.with("CHANNELGATE_TOKEN", tok).ok("", "auth", "--info"); !strings.Contains(info, "labs") {
		t.Fatalf("auth --info with the org token: %q", info)
	}

	if out := user.ok("", "auth", "-r", "ci", "--org", "labs"); !strings.Contains(out, "ci") {
		t.Fatalf("auth -r printed %q", out)
	}
	user.with("CHANNELGATE_TOKEN", tok).fails("revoked", "", "auth", "--info")
	user.fails("no token named", "", "auth", "--remove", "ci", "--org", "labs")

	user.ok("", "logout")
	if out := user.ok("", "whoami"); !strings.Contains(out, "Anonymous User") {
		t.Fatalf("whoami after logout: %q", out)
	}
	user.fails("not logged in", "", "logout")
	if b, err := os.ReadFile(cfgPath); err != nil || strings.Contains(string(b), `"token"`) {
		t.Fatalf("config after logout: %s %v", b, err)
	}
}

// TestCLIManage drives the group and package commands and their errors.
func TestCLIManage(t *testing.T) {
	s := startSite(t)
	s.seed() // alice owns acme; bob reads acme/shared
	op := newCLIEnv(t, map[string]string{"CHANNELGATE_SITE": s.api, "CHANNELGATE_TOKEN": operatorSecret})
	bob := op.with("CHANNELGATE_TOKEN", "")
	bob.ok("secret-pw\n", "login", "--username", "bob")

	op.ok("", "group", "add", "acme/devs", "--perms", "write", "--member", "bob", "--package", "tools")
	groups := op.ok("", "group", "list", "acme")
	if !regexp.MustCompile(`devs\s+write\s+bob\s+tools`).MatchString(groups) || !strings.Contains(groups, "(all)") {
		t.Fatalf("group list:\n%s", groups)
	}
	op.ok("", "package", "add", "acme/tools", "--type", "conda", "--type", "pypi", "--private", "--summary", "the tools")
	out := op.ok("", "package", "update", "acme/tools", "--collaborator", "alice")
	if !regexp.MustCompile(`types\s+conda,pypi`).MatchString(out) || !regexp.MustCompile(`collaborators\s+alice`).MatchString(out) {
		t.Fatalf("package update:\n%s", out)
	}
	op.ok("", "package", "update", "acme/tools", "--public")

	// bob sees what he may read: open (public), shared (group readers),
	// tools (public); not secret nor the private pypi acme-tools.
	var pkgs []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(bob.ok("", "--json", "package", "list", "acme")), &pkgs); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pkgs {
		names = append(names, p.Name)
	}
	if strings.Join(names, " ") != "open shared tools" {
		t.Fatalf("bob's packages: %v", names)
	}
	if scopes := bob.ok("", "auth", "--list-scopes"); !strings.Contains(scopes, "conda:download") {
		t.Fatalf("list-scopes:\n%s", scopes)
	}

	for _, tc := range []struct {
		name string
		env  *cliEnv
		msg  string
		args []string
	}{
		{"not an admin", bob, "bob may not administer acme", []string{"group", "add", "acme/x"}},
		{"bad perms", op, "permission must be", []string{"group", "add", "acme/x", "--perms", "owner"}},
		{"bad group spec", op, "ORG/GROUP", []string{"group", "add", "acme"}},
		{"bad package spec", op, "OWNER/NAME", []string{"package", "add", "tools"}},
		{"exists", op, "already exists", []string{"package", "add", "acme/tools", "--type", "pypi"}},
		{"public and private", op, "none of the others can be", []string{"package", "update", "acme/tools", "--public", "--private"}},
		{"nothing to change", op, "nothing to change", []string{"package", "update", "acme/tools"}},
		{"no action", op, "at least one of the flags", []string{"auth"}},
		{"create without a name", bob, "--name is required", []string{"auth", "--create"}},
		{"user without login", op, `"login" not set`, []string{"user", "create", "--email", "x@example.com"}},
		{"password from empty stdin", op, "no password on standard input", []string{"user", "create", "--login", "dave", "--email", "d@example.com"}},
		{"last owner", op, "last member of owners", []string{"group", "remove", "acme/owners", "--member", "alice"}},
		{"bad site", op, "must be an http or https URL", []string{"--site", "ftp://x", "whoami"}},
		// First-try items of issue 9: say what was expected, and refuse
		// what the site would refuse before asking for a password (stdin
		// is empty: a prompt would fail with "no password").
		{"site without /api", op, "no channelgate API at the site; give the API's URL", []string{"--site", strings.TrimSuffix(s.api, "/api"), "whoami"}},
		{"unknown scope, before the password", bob, "unknown scope", []string{"auth", "--create", "--name", "x", "--scopes", "conda:dowload"}},
		{"bad token name, before the password", bob, "token name may not contain", []string{"auth", "--create", "--name", "a/b"}},
		{"bad strength, before the password", bob, "strength", []string{"auth", "--create", "--name", "x", "--strength", "medium"}},
		{"bad user name, before the password", bob, "account name", []string{"login", "--username", "Bob Smith"}},
		{"bad login, before the password", op, "account name", []string{"user", "create", "--login", "Dave", "--email", "d@example.com"}},
		{"short password", op, "at least 7 characters", []string{"user", "create", "--login", "dave", "--email", "d@example.com", "--password", "abc"}},
		{"revoke without --org", bob, "an organization's token needs --org ORG", []string{"auth", "-r", "ci"}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.env.fails(tc.msg, "", tc.args...) })
	}

	op.ok("", "package", "remove", "acme/tools", "--collaborator", "alice")
	op.ok("", "package", "remove", "acme/tools")
	op.ok("", "group", "remove", "acme/devs", "--member", "bob")
	op.ok("", "group", "remove", "acme/devs")
	if groups := op.ok("", "group", "list", "acme"); strings.Contains(groups, "devs") {
		t.Fatalf("group list after remove:\n%s", groups)
	}
	op.fails("no package acme/tools", "", "package", "update", "acme/tools", "--public")
	bob.fails("bob may not administer acme/tools", "", "package", "add", "acme/tools")
}
