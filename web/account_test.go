package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/channelgate/channelgate/internal/mailtest"
)

// TestChangePassword sends "Change Password" right and wrong; a change
// ends the user's other sessions but not this one.
func TestChangePassword(t *testing.T) {
	const newPass = "a new password"
	tests := []struct {
		name, old, new, confirm string
		status                  int
		want                    string
	}{
		{"right", testPassword, newPass, newPass, http.StatusOK, "Your password is changed"},
		{"wrong old", "wrong password", newPass, newPass, http.StatusBadRequest, "The old password is wrong"},
		{"no old", "", newPass, newPass, http.StatusBadRequest, "Enter your current password"},
		{"short", testPassword, "short", "short", http.StatusBadRequest, "too short"},
		{"mismatch", testPassword, newPass, newPass + "x", http.StatusBadRequest, "do not match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.addUser(t, "alice")
			other := e.browser(t)
			other.login("alice")
			b := e.browser(t)
			b.login("alice")
			b.get("/settings/account").want(t, http.StatusOK, "Change Password", "Old password", "Confirm new password")
			p := b.post("/settings/account/password", form("old_password", tc.old, "new_password", tc.new, "confirm_password", tc.confirm))
			p.want(t, tc.status, tc.want)
			if strings.Contains(p.body, newPass) || strings.Contains(p.body, testPassword) {
				t.Fatal("the page sends a password back")
			}
			_, err := e.store.Authenticate("alice", newPass)
			changed := err == nil
			if changed != (tc.status == http.StatusOK) {
				t.Fatalf("changed = %v", changed)
			}
			b.get("/dashboard").want(t, http.StatusOK)
			if p := other.get("/dashboard"); (p.status == http.StatusOK) == changed {
				t.Fatalf("the other session: %d after change %v", p.status, changed)
			}
		})
	}
}

// TestChangeEmail: a link to the new address; the address changes when it
// is followed.
func TestChangeEmail(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser(t, "alice")
	b := e.browser(t)
	b.login("alice")
	b.get("/settings/account")
	b.post("/settings/account/email", form("email", "bad")).want(t, http.StatusBadRequest, "is not a valid address")
	b.post("/settings/account/email", form("email", "ALICE@example.org")).want(t, http.StatusBadRequest, "already your address")
	b.post("/settings/account/email", form("email", "alice@new.example")).want(t, http.StatusOK, "We have mailed a link to alice@new.example")
	m := e.mail.Wait(t, 0, 10*time.Second)
	if m.To[0] != "alice@new.example" {
		t.Fatalf("mail to %v", m.To)
	}
	if a, _ := e.store.Account("alice"); a.Email != "alice@example.org" {
		t.Fatal("the address changed before the link was followed")
	}
	link := mailtest.Link(t, m, "/verify/")
	b.get(strings.TrimPrefix(link, e.h.cfg.BaseURL))
	b.post("/verify", form("code", link[strings.LastIndex(link, "/")+1:])).want(t, http.StatusOK, "verified")
	if a, _ := e.store.Account("alice"); a.Email != "alice@new.example" {
		t.Fatalf("email %q", a.Email)
	}
}

func TestChangeEmailWithoutMail(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Mail = nil })
	e.addUser(t, "alice")
	b := e.browser(t)
	b.login("alice")
	b.get("/settings/account")
	b.post("/settings/account/email", form("email", "alice@new.example")).want(t, http.StatusBadRequest, "sends no mail")
}

// TestResetPassword: a reset link by mail, the same answer for unknown
// addresses, single use, and every session ends.
func TestResetPassword(t *testing.T) {
	const newPass = "a new password"
	e := newEnv(t, nil)
	e.addUser(t, "alice")
	logged := e.browser(t)
	logged.login("alice")
	b := e.browser(t)
	b.get("/reset-password").want(t, http.StatusOK, "Send reset link")
	b.post("/reset-password", form("email", "not an address")).want(t, http.StatusBadRequest, "is not a valid address")
	unknown := b.post("/reset-password", form("email", "nobody@example.org"))
	unknown.want(t, http.StatusOK, "If an account has the address")
	known := b.post("/reset-password", form("email", "Alice@Example.org"))
	known.want(t, http.StatusOK, "If an account has the address")
	m := e.mail.Wait(t, 0, 10*time.Second)
	if e.mail.Count() != 1 || m.To[0] != "alice@example.org" {
		t.Fatalf("mail: %d, to %v", e.mail.Count(), m.To)
	}
	link := mailtest.Link(t, m, "/reset-password/")
	code := link[strings.LastIndex(link, "/")+1:]
	p := b.get("/reset-password/" + code)
	p.want(t, http.StatusOK, "New password", "Confirm new password")
	if p.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("the link's page has Referrer-Policy %q", p.header.Get("Referrer-Policy"))
	}
	b.get("/reset-password/"+code+"x").want(t, http.StatusBadRequest, "not valid")
	b.get("/reset-password/" + code)
	b.post("/reset-password/new", form("code", code, "new_password", "short", "confirm_password", "short")).want(t, http.StatusBadRequest, "at least")
	b.post("/reset-password/new", form("code", code, "new_password", newPass, "confirm_password", newPass)).want(t, http.StatusOK, "Your password is changed")
	b.post("/reset-password/new", form("code", code, "new_password", newPass, "confirm_password", newPass)).want(t, http.StatusBadRequest, "not valid")
	if _, err := e.store.Authenticate("alice", newPass); err != nil {
		t.Fatal(err)
	}
	if p := logged.get("/dashboard"); p.status != http.StatusSeeOther {
		t.Fatalf("a session survived the reset: %d", p.status)
	}
}

func TestResetWithoutMail(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Mail = nil })
	b := e.browser(t)
	b.get("/reset-password").want(t, http.StatusNotFound, "sends no mail")
	b.get("/login")
	b.post("/reset-password", form("email", "alice@example.org")).want(t, http.StatusNotFound, "sends no mail")
}
