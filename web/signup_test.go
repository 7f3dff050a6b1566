package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/channelgate/channelgate/internal/mailtest"
)

// TestSignup sends the sign-up form with each kind of mistake: the page
// answers 400 with the reason next to the field, keeps what was typed
// (never the password) and creates nothing.
func TestSignup(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(v url.Values)
		status int
		want   string // text on the page
	}{
		{"valid", func(url.Values) {}, http.StatusCreated, "We have sent a link to"},
		{"bad username", func(v url.Values) { v.Set("username", "Bad Name") }, http.StatusBadRequest, "must be lowercase letters"},
		{"reserved username", func(v url.Values) { v.Set("username", "settings") }, http.StatusBadRequest, "is reserved"},
		{"taken username", func(v url.Values) { v.Set("username", "alice") }, http.StatusBadRequest, "is taken"},
		{"bad email", func(v url.Values) { v.Set("email", "not-an-address") }, http.StatusBadRequest, "is not a valid address"},
		{"short password", func(v url.Values) { v.Set("password", "short"); v.Set("confirm", "short") }, http.StatusBadRequest, "at least 7 characters"},
		{"passwords differ", func(v url.Values) { v.Set("confirm", "something else") }, http.StatusBadRequest, "do not match"},
		{"terms not accepted", func(v url.Values) { v.Del("terms") }, http.StatusBadRequest, "Accept the terms"},
		{"honeypot filled", func(v url.Values) { v.Set(honeypotField, "http://spam.example") }, http.StatusBadRequest, "filled in by a robot"},
		{"no proof of work, too quick", func(v url.Values) { v.Del(powField) }, http.StatusBadRequest, "sent too quickly"},
		{"wrong proof of work, too quick", func(v url.Values) { v.Set(powField, "1") }, http.StatusBadRequest, "sent too quickly"},
		{"no form token", func(v url.Values) { v.Set(csrfField, "") }, http.StatusForbidden, "has expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.addUser(t, "alice")
			b := e.browser(t)
			b.get("/signup").want(t, http.StatusOK, "Register")
			v := b.signupValues("erin")
			tc.edit(v)
			p := b.post("/signup", v)
			p.want(t, tc.status, tc.want)
			if strings.Contains(p.body, testPassword) {
				t.Fatal("the page sends the password back")
			}
			_, err := e.store.Account(v.Get("username"))
			created := err == nil && v.Get("username") != "alice"
			if created != (tc.status == http.StatusCreated) {
				t.Fatalf("account created = %v (%v)", created, err)
			}
			if tc.status == http.StatusBadRequest && v.Get("email") != "" && !strings.Contains(p.body, `value="`+v.Get("email")+`"`) {
				t.Fatal("the form lost the typed email")
			}
		})
	}
}

// TestSignupNoScript proves the no-script fallback: without a proof of
// work, the form passes once it was open MinFillTime.
func TestSignupNoScript(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	b.get("/signup")
	v := b.signupValues("erin")
	v.Del(powField)
	e.clock.advance(DefaultMinFillTime)
	b.post("/signup", v).want(t, http.StatusCreated)
}

// TestSignupRobotCheckOff: robot_check off takes the form at once.
func TestSignupRobotCheckOff(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RobotCheckOff = true })
	b := e.browser(t)
	b.get("/signup")
	v := b.signupValues("erin")
	v.Del(powField)
	b.post("/signup", v).want(t, http.StatusCreated)
}

func TestSignupClosed(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Signup = false })
	b := e.browser(t)
	b.get("/signup").want(t, http.StatusForbidden, "Sign-up is closed")
	b.get("/login")
	b.post("/signup", b.signupValues("erin")).want(t, http.StatusForbidden, "Sign-up is closed")
}

// TestSignupVerify follows the mailed link: before it, log-in is refused
// (and a new link is mailed); the link works once.
func TestSignupVerify(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	b.get("/signup")
	b.post("/signup", b.signupValues("erin")).want(t, http.StatusCreated, "erin@example.org")
	first := e.mail.Wait(t, 0, 10*time.Second)
	if first.To[0] != "erin@example.org" || first.From != "channelgate@example.org" || !strings.Contains(first.Data, "Subject: Verify your email address") {
		t.Fatalf("mail: %+v", first)
	}

	b.get("/login")
	b.post("/login", form("username", "erin", "password", testPassword)).want(t, http.StatusForbidden, "not verified yet")
	second := e.mail.Wait(t, 1, 10*time.Second)
	old := mailtest.Link(t, first, "/verify/")
	link := mailtest.Link(t, second, "/verify/")
	if old == link {
		t.Fatal("the second mail has the same link")
	}
	code := link[strings.LastIndex(link, "/")+1:]
	oldCode := old[strings.LastIndex(old, "/")+1:]

	b.get("/verify/"+code).want(t, http.StatusOK, "Verify my address")
	b.post("/verify", form("code", oldCode)).want(t, http.StatusBadRequest, "not valid") // replaced
	b.post("/verify", form("code", code)).want(t, http.StatusOK, "Your email address is verified")
	b.post("/verify", form("code", code)).want(t, http.StatusBadRequest, "not valid") // used
	b.login("erin")
}

// TestSignupWithoutMail: the account waits for an administrator.
func TestSignupWithoutMail(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Mail = nil })
	b := e.browser(t)
	b.get("/signup")
	b.post("/signup", b.signupValues("erin")).want(t, http.StatusCreated, "An administrator of this server verifies new accounts")
	b.get("/login")
	b.post("/login", form("username", "erin", "password", testPassword)).want(t, http.StatusForbidden, "waits for an administrator")
	if err := e.store.VerifyUser(e.actor(), "erin"); err != nil {
		t.Fatal(err)
	}
	b.login("erin")
	if e.mail.Count() != 0 {
		t.Fatal("mail was sent without mail set up")
	}
}

// TestSignupLimit: an address gets DefaultLimit sign-up attempts per
// window, then 429 with Retry-After.
func TestSignupLimit(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	for i := range 5 {
		b.get("/signup")
		b.post("/signup", b.signupValues("user"+strconv.Itoa(i))).want(t, http.StatusCreated)
	}
	b.get("/signup")
	p := b.post("/signup", b.signupValues("user9"))
	p.want(t, http.StatusTooManyRequests, "Too many attempts")
	if p.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}
