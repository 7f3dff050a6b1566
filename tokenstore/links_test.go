package tokenstore

import (
	"fmt"
	"testing"
	"time"
)

// TestSignUpVerify proves the life of a signed-up account: unverified, it
// can neither log in nor own tokens; its mailed link verifies it once.
func TestSignUpVerify(t *testing.T) {
	s, _ := openStore(t, Options{})
	u := NewUser{Name: "erin", Email: "erin@example.org", Password: testPassword, PasswordConfirmation: testPassword, AcceptTerms: true}
	_, err := s.SignUp(testActor, u, false)
	must(t, err)
	_, err = s.SignUp(testActor, u, false)
	wantErr(t, err, ErrExists, "taken")
	bad := u
	bad.Name, bad.AcceptTerms = "frank", false
	_, err = s.SignUp(testActor, bad, false)
	wantErr(t, err, ErrInvalid, "terms")

	_, err = s.Authenticate("erin", testPassword)
	wantErr(t, err, ErrForbidden, "not verified")
	_, err = s.Authenticate("erin", "wrong password")
	wantErr(t, err, ErrAuth, "invalid user name or password")
	_, _, err = s.CreateToken(testActor, TokenSpec{Owner: "erin", Name: "x", CreatedBy: "erin"})
	wantErr(t, err, ErrForbidden, "not verified")

	old, err := s.CreateLink(testActor, LinkVerify, "erin", "erin@example.org", time.Hour)
	must(t, err)
	link, err := s.CreateLink(testActor, LinkVerify, "erin", "erin@example.org", time.Hour)
	must(t, err)
	_, err = s.ConfirmEmail(testActor, old)
	wantErr(t, err, ErrInvalid, "not valid")
	_, err = s.ConfirmEmail(testActor, link+"x")
	wantErr(t, err, ErrInvalid, "not valid")
	user, err := s.ConfirmEmail(testActor, link)
	must(t, err)
	if user != "erin" {
		t.Fatalf("user %q", user)
	}
	_, err = s.ConfirmEmail(testActor, link)
	wantErr(t, err, ErrInvalid, "not valid")
	_, err = s.Authenticate("erin", testPassword)
	must(t, err)
	ok, err := s.Verified("erin")
	must(t, err)
	if !ok {
		t.Fatal("not verified after the link")
	}
}

func TestVerifyUser(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	addOrg(t, s, "acme", "alice")
	_, err := s.SignUp(testActor, NewUser{Name: "erin", Email: "erin@example.org", Password: testPassword,
		PasswordConfirmation: testPassword, AcceptTerms: true}, false)
	must(t, err)
	for _, tc := range []struct {
		user string
		kind error
	}{{"erin", nil}, {"erin", nil}, {"alice", nil}, {"acme", ErrInvalid}, {"nobody", ErrNotFound}} {
		wantErr(t, s.VerifyUser(testActor, tc.user), tc.kind, "")
	}
	_, err = s.Authenticate("erin", testPassword)
	must(t, err)
}

// TestLinks covers every way a link is refused and what each purpose does.
func TestLinks(t *testing.T) {
	clock := newTestClock()
	s, _ := openStore(t, Options{Now: clock.Now})
	addUser(t, s, "alice", false)
	addUser(t, s, "bob", false)
	mk := func(p LinkPurpose, user, email string, ttl time.Duration) string {
		l, err := s.CreateLink(testActor, p, user, email, ttl)
		must(t, err)
		return l
	}
	_, err := s.CreateLink(testActor, LinkReset, "nobody", "", time.Hour)
	wantErr(t, err, ErrNotFound, "")

	expired := mk(LinkEmail, "bob", "bob@new.example", time.Minute)
	clock.Advance(time.Minute)
	_, err = s.ConfirmEmail(testActor, expired)
	wantErr(t, err, ErrInvalid, "not valid")

	reset := mk(LinkReset, "alice", "alice@example.org", time.Hour)
	_, err = s.ConfirmEmail(testActor, reset) // wrong purpose
	wantErr(t, err, ErrInvalid, "not valid")
	if u, err := s.CheckLink(reset, LinkReset); err != nil || u != "alice" {
		t.Fatalf("CheckLink = %q, %v", u, err)
	}
	sess, err := s.CreateSession(testActor, "alice", testLimits)
	must(t, err)
	_, err = s.ResetPassword(testActor, reset, "short", "short")
	wantErr(t, err, ErrInvalid, "at least")
	_, err = s.ResetPassword(testActor, reset, "new password 1", "new password 2")
	wantErr(t, err, ErrInvalid, "do not match")
	u, err := s.ResetPassword(testActor, reset, "new password 1", "new password 1")
	must(t, err)
	if u != "alice" {
		t.Fatalf("reset user %q", u)
	}
	_, err = s.ResetPassword(testActor, reset, "new password 2", "new password 2")
	wantErr(t, err, ErrInvalid, "not valid")
	_, err = s.Authenticate("alice", "new password 1")
	must(t, err)
	_, err = s.LookupSession(sess.ID)
	wantErr(t, err, ErrAuth, "") // the reset ended alice's sessions

	change := mk(LinkEmail, "bob", "bob@new.example", time.Hour)
	_, err = s.ConfirmEmail(testActor, change)
	must(t, err)
	a, err := s.Account("bob")
	must(t, err)
	if a.Email != "bob@new.example" {
		t.Fatalf("email %q", a.Email)
	}
	if got, err := s.UserByEmail("BOB@new.example"); err != nil || got.Name != "bob" {
		t.Fatalf("UserByEmail = %v, %v", got, err)
	}
	_, err = s.UserByEmail("bob@example.org")
	wantErr(t, err, ErrNotFound, "")
}

func TestMemberships(t *testing.T) {
	w := newWorld(t)
	for user, want := range map[string]string{"alice": "[acme vault]", "bob": "[acme vault]", "dave": "[]"} {
		got, err := w.s.Memberships(user)
		must(t, err)
		if s := fmt.Sprint(got); s != want {
			t.Errorf("%s: %s, want %s", user, s, want)
		}
	}
}
