package tokenstore

import (
	"os"
	"path/filepath"
	"testing"
)

// TestAccountNameClaims proves finding 1 of issue 9 closed: a user can no
// longer take over a channel the storage serves, or the name of an
// account that was deleted, by creating a user or an organization of that
// name; a site administrator can (that is how an operator adopts one).
func TestAccountNameClaims(t *testing.T) {
	root := t.TempDir()
	must(t, os.Mkdir(filepath.Join(root, "served"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "served-file"), nil, 0o644))
	s, _ := openStore(t, Options{Channels: ChannelDir(root)})
	addUser(t, s, "alice", false)
	addOrg(t, s, "gone", "alice")
	// No API deletes accounts yet: delete one behind the store's back,
	// as a future deletion (or an operator's repair) would.
	must(t, s.be.Update(func(tx Tx) error { return tx.Delete(bucketAccounts, []byte("gone")) }))
	s.aclGen.Add(1)

	user := Actor{Name: "alice"}
	admin := Actor{Name: "operator", SiteAdmin: true}
	for _, tc := range []struct {
		name  string
		org   bool // CreateOrg (by alice), else CreateUser
		login string
		actor Actor
		kind  error
		msg   string
	}{
		{"user takes a served channel as an org", true, "served", user, ErrForbidden, `"served" is a channel the storage already serves: only a site administrator`},
		{"user takes a served channel as a user", false, "served", user, ErrForbidden, "only a site administrator"},
		{"a file of the storage counts", true, "served-file", user, ErrForbidden, "already serves"},
		{"user takes a deleted account's name", true, "gone", user, ErrForbidden, `"gone" was an account before: only a site administrator`},
		{"user takes a deleted account's name as a user", false, "gone", user, ErrForbidden, "was an account before"},
		{"user takes a fresh name", true, "fresh", user, nil, ""},
		{"fresh name, then taken", true, "fresh", user, ErrExists, "taken"},
		{"operator adopts a served channel", true, "served", admin, nil, ""},
		{"operator recreates a deleted account", false, "gone", admin, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.org {
				_, err = s.CreateOrg(tc.actor, tc.login, "alice")
			} else {
				_, err = s.CreateUser(tc.actor, NewUser{Name: tc.login, Email: "x@example.org",
					Password: "a password", PasswordConfirmation: "a password", AcceptTerms: true})
			}
			wantErr(t, err, tc.kind, tc.msg)
		})
	}
}

// TestServedChannelsFailClosed checks that a storage that cannot be asked
// refuses the account rather than allowing it.
func TestServedChannelsFailClosed(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(notDir, nil, 0o644))
	for _, tc := range []struct {
		name     string
		channels ServedChannels
		kind     error
	}{
		{"every channel", EveryChannel{}, ErrForbidden},
		{"unreadable storage", ChannelDir(notDir), nil}, // ENOTDIR: stat fails, not "absent"
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openStore(t, Options{Channels: tc.channels})
			addUser(t, s, "alice", false)
			_, err := s.CreateOrg(Actor{Name: "alice"}, "acme", "alice")
			if err == nil {
				t.Fatal("the account was created")
			}
			if tc.kind != nil {
				wantErr(t, err, tc.kind, "")
			}
		})
	}
}

// TestAccountNamesIndexedOnOpen checks that a database written before the
// tombstones existed gets one for every account when opened.
func TestAccountNamesIndexedOnOpen(t *testing.T) {
	s, path := openStore(t, Options{})
	addUser(t, s, "alice", false)
	must(t, s.be.Update(func(tx Tx) error {
		if err := tx.Delete(bucketMeta, metaNamesIndexed); err != nil {
			return err
		}
		return tx.Delete(bucketAccountNames, []byte("alice"))
	}))
	must(t, s.Close())
	s, err := OpenFile(path, Options{})
	must(t, err)
	defer s.Close()
	must(t, s.be.View(func(tx Tx) error {
		if tx.Get(bucketAccountNames, []byte("alice")) == nil || tx.Get(bucketMeta, metaNamesIndexed) == nil {
			t.Fatal("alice has no tombstone after Open")
		}
		return nil
	}))
}
