package tokenstore

import (
	"strings"
	"testing"
)

func TestValidateAccountName(t *testing.T) {
	for _, tc := range []struct {
		name   string
		errSub string
	}{
		{"alice", ""},
		{"a", ""},
		{"0day", ""},
		{"my.org_x-1", ""},
		{strings.Repeat("a", 64), ""},
		{"", "1 to 64"},
		{strings.Repeat("a", 65), "1 to 64"},
		{"Alice", "lowercase"},
		{"-lead", "lowercase"},
		{".lead", "lowercase"},
		{"_lead", "lowercase"},
		{"a/b", "lowercase"},
		{"a b", "lowercase"},
		{"a\x00b", "lowercase"},
		{"ünï", "lowercase"},
		{"t", "reserved"},
		{"api", "reserved"},
		{"label", "reserved"},
		{"simple", "reserved"},
		{"admin", "reserved"},
		{"login", "reserved"},
		{"logout", "reserved"},
		{"static", "reserved"},
		{"metrics", "reserved"},
		{"operator", "reserved"},
	} {
		err := ValidateAccountName(tc.name)
		if tc.errSub == "" {
			wantErr(t, err, nil, "")
		} else {
			wantErr(t, err, ErrInvalid, tc.errSub)
		}
	}
}

// TestCreateUserValidation covers every refusal of CreateUser; all of them
// come before the password is hashed, so they are cheap.
func TestCreateUserValidation(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "taken", false)
	addOrg(t, s, "takenorg", "taken")
	ok := NewUser{Name: "newbie", Email: "n@example.org", Password: "1234567", PasswordConfirmation: "1234567", AcceptTerms: true}
	for _, tc := range []struct {
		name   string
		edit   func(*NewUser)
		kind   error
		errSub string
	}{
		{"bad name", func(u *NewUser) { u.Name = "New" }, ErrInvalid, "lowercase"},
		{"reserved", func(u *NewUser) { u.Name = "api" }, ErrInvalid, "reserved"},
		{"email empty", func(u *NewUser) { u.Email = "" }, ErrInvalid, "not a valid address"},
		{"email no at", func(u *NewUser) { u.Email = "nobody" }, ErrInvalid, "not a valid address"},
		{"email with name", func(u *NewUser) { u.Email = "N <n@example.org>" }, ErrInvalid, "not a valid address"},
		{"email space", func(u *NewUser) { u.Email = "n @example.org" }, ErrInvalid, "not a valid address"},
		{"password short", func(u *NewUser) { u.Password, u.PasswordConfirmation = "123456", "123456" }, ErrInvalid, "at least 7 characters"},
		{"password mismatch", func(u *NewUser) { u.PasswordConfirmation = "7654321" }, ErrInvalid, "do not match"},
		{"terms", func(u *NewUser) { u.AcceptTerms = false }, ErrInvalid, "terms of service"},
		{"user name taken", func(u *NewUser) { u.Name = "taken" }, ErrExists, `"taken" is taken`},
		{"org name taken", func(u *NewUser) { u.Name = "takenorg" }, ErrExists, `"takenorg" is taken`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := ok
			tc.edit(&u)
			_, err := s.CreateUser(testActor, u)
			wantErr(t, err, tc.kind, tc.errSub)
		})
	}
}

func TestOrgNameConflict(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	addOrg(t, s, "acme", "alice")
	for _, tc := range []struct {
		name, org, creator string
		kind               error
		errSub             string
	}{
		{"same as user", "alice", "alice", ErrExists, "taken"},
		{"same as org", "acme", "alice", ErrExists, "taken"},
		{"reserved", "admin", "alice", ErrInvalid, "reserved"},
		{"unknown creator", "neworg", "nobody", ErrNotFound, "nobody"},
		{"org creates org", "neworg", "acme", ErrInvalid, "only users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateOrg(testActor, tc.org, tc.creator)
			wantErr(t, err, tc.kind, tc.errSub)
		})
	}
}

// TestUserPasswords runs the argon2 paths once each: create, authenticate
// right, wrong and unknown, change password.
func TestUserPasswords(t *testing.T) {
	s, _ := openStore(t, Options{MinPasswordLen: 3}) // below the floor: 7 applies
	a, err := s.CreateUser(testActor, NewUser{Name: "alice", Email: "alice@example.org",
		Password: "first-pass", PasswordConfirmation: "first-pass", AcceptTerms: true})
	must(t, err)
	if a.Type != User || a.PasswordHash == "" || strings.Contains(a.PasswordHash, "first-pass") {
		t.Fatalf("created account %+v", a)
	}
	addOrg(t, s, "acme", "alice")

	for _, tc := range []struct {
		name, user, pass string
		ok               bool
	}{
		{"right", "alice", "first-pass", true},
		{"wrong", "alice", "first-pasS", false},
		{"unknown", "nobody", "first-pass", false},
		{"organization", "acme", "first-pass", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Authenticate(tc.user, tc.pass)
			if tc.ok {
				must(t, err)
				if got.Name != tc.user {
					t.Fatalf("authenticated %q", got.Name)
				}
				return
			}
			// Same error for every failure: no account enumeration.
			wantErr(t, err, ErrAuth, "invalid user name or password")
		})
	}

	for _, tc := range []struct {
		name, old, newPass, confirm string
		kind                        error
		errSub                      string
	}{
		{"wrong old", "nope", "second-pass", "second-pass", ErrAuth, "old password is wrong"},
		{"too short", "first-pass", "short", "short", ErrInvalid, "at least 7"},
		{"mismatch", "first-pass", "second-pass", "second-pasz", ErrInvalid, "do not match"},
		{"ok", "first-pass", "second-pass", "second-pass", nil, ""},
	} {
		t.Run("change "+tc.name, func(t *testing.T) {
			wantErr(t, s.ChangePassword(testActor, "alice", tc.old, tc.newPass, tc.confirm), tc.kind, tc.errSub)
		})
	}
	if _, err := s.Authenticate("alice", "second-pass"); err != nil {
		t.Fatalf("new password refused: %v", err)
	}
	if _, err := s.Authenticate("alice", "first-pass"); err == nil {
		t.Fatal("old password still accepted")
	}
}

func TestAccountsAndChannelDefault(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	addOrg(t, s, "acme", "alice")
	must(t, s.SetChannelDefault(testActor, "acme", true))
	wantErr(t, s.SetChannelDefault(testActor, "ghost", true), ErrNotFound, "ghost")
	acme, err := s.Account("acme")
	must(t, err)
	if acme.Type != Org || !acme.PrivateByDefault {
		t.Fatalf("acme = %+v", acme)
	}
	all, err := s.Accounts()
	must(t, err)
	if len(all) != 2 || all[0].Name != "acme" || all[1].Name != "alice" {
		t.Fatalf("Accounts() = %v", all)
	}
	_, err = s.Account("ghost")
	wantErr(t, err, ErrNotFound, `"ghost"`)
}
