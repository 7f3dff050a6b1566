package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/internal/etcdtest"
	"github.com/channelgate/channelgate/tokenstore"
)

// TestMigrate copies a bbolt store into a real etcd cluster and back into
// a new bbolt file with `channelgate migrate`: the report lists the
// counts, the token made before still authenticates after the round
// trip, and a destination that is not empty, a bad store spec and missing flags are refused with one line.
func TestMigrate(t *testing.T) {
	c := etcdtest.Start(t, 3)
	dir := t.TempDir()
	src, back := filepath.Join(dir, "src.db"), filepath.Join(dir, "back.db")
	s, err := tokenstore.OpenFile(src, tokenstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	actor := tokenstore.Actor{Name: "test"}
	pw := "correct horse battery"
	if _, err := s.CreateUser(actor, tokenstore.NewUser{Name: "alice", Email: "alice@example.org",
		Password: pw, PasswordConfirmation: pw, AcceptTerms: true}); err != nil {
		t.Fatal(err)
	}
	secret, _, err := s.CreateToken(actor, tokenstore.TokenSpec{Owner: "alice", Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	e := newCLIEnv(t, map[string]string{})
	etcd := "etcd:" + strings.Join(c.Endpoints(), ",")
	out := e.ok("", "migrate", "--from", "bbolt:"+src, "--to", etcd, "--prefix", "/migrated/")
	for _, want := range []string{"accounts", "tokens", "copied and verified"} {
		if !strings.Contains(out, want) {
			t.Fatalf("bbolt → etcd report lacks %q:\n%s", want, out)
		}
	}
	e.fails("destination store is not empty", "", "migrate", "--from", "bbolt:"+src, "--to", etcd, "--prefix", "/migrated/")
	e.ok("", "migrate", "--from", etcd, "--prefix", "/migrated/", "--to", "bbolt:"+back)
	e.fails("give bbolt:PATH or etcd:URL[,URL...], not \"mysql:x\"", "", "migrate", "--from", "mysql:x", "--to", "bbolt:"+back)
	e.fails("give --from and --to", "", "migrate", "--from", "bbolt:"+src)

	s, err = tokenstore.OpenFile(back, tokenstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AuthenticateToken(secret); err != nil {
		t.Fatalf("token after bbolt → etcd → bbolt: %v", err)
	}
	if _, err := s.Authenticate("alice", pw); err != nil {
		t.Fatalf("password after the round trip: %v", err)
	}
}
