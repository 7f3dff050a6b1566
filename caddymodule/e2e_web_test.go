package caddymodule

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/chromedp"

	"github.com/channelgate/channelgate/internal/mailtest"
	"github.com/channelgate/channelgate/limiter"
	"github.com/channelgate/channelgate/tokenstore"
)

// The web pages end to end: Debian's chromium, driven through the
// DevTools protocol, against a real Caddy serving the pages in front of
// the gateway, with a real SMTP server for the mail. The browser is
// headless, sandbox-less and starts from a fresh profile; it reaches
// nothing but this Caddy (the pages load nothing from elsewhere).
//
// CHANNELGATE_SCREENSHOTS=<dir> saves a PNG of each page on the way (the
// README's screenshots come from docs/screenshots).

// browserFlags are the flags the issue asks the browser to run with.
var browserFlags = []chromedp.ExecAllocatorOption{
	chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.WindowSize(1000, 760),
}

// tab is one browser tab on the test site.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	shot string // screenshot folder, "" for none
}

// startBrowser starts chromium with a fresh profile. A missing chromium
// fails the test: CI installs it (.ci/run).
func startBrowser(t *testing.T, base string) *tab {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is missing (apt-get install chromium): %v", err)
	}
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir())}, browserFlags...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	return &tab{t: t, ctx: ctx, base: base, shot: os.Getenv("CHANNELGATE_SCREENSHOTS")}
}

func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *tab) open(path string) { b.t.Helper(); b.do("open "+path, chromedp.Navigate(b.base+path)) }

// keys types into the focused element: text, "\t" moves on, " " ticks a
// checkbox, "\r" presses a button or sends a form.
func (b *tab) keys(k string) { b.t.Helper(); b.do("keys", chromedp.KeyEvent(k)) }

// eval runs a script expression and returns its string value.
func (b *tab) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

// waitHeading waits until the page's h1 is want.
func (b *tab) waitHeading(want string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf(`(document.querySelector("h1") || {}).textContent === %q`, want), "heading "+want)
}

// waitShown waits until an element matches css (after a form sent to the
// same page: the heading is the same before and after).
func (b *tab) waitShown(css string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf(`document.querySelector(%q) !== null`, css), css)
}

// waitFor polls a script condition for up to a minute.
func (b *tab) waitFor(cond, what string) {
	b.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for b.eval(`String(`+cond+`)`) != "true" {
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s; page %s (%s):\n%s", what, b.eval("location.pathname"), b.eval("document.readyState"),
				b.eval(`document.documentElement.outerHTML`))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// text returns an element's text.
func (b *tab) text(css string) string {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, css))
}

func (b *tab) click(css string) { b.t.Helper(); b.do("click "+css, chromedp.Click(chromedp.CSS(css))) }

// screenshot saves the viewport as <name>.png when screenshots are on.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	if b.shot == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shot, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// axControl is a form control or heading as the accessibility tree has
// it.
type axControl struct{ role, name string }

// accessibility returns the page's headings, text boxes, check boxes,
// combo boxes and buttons with their accessible names (what a screen
// reader announces: from the <label>, the legend, the button text).
func (b *tab) accessibility() []axControl {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		b.t.Fatal(err)
	}
	var out []axControl
	for _, n := range res.Nodes {
		if n.Ignored || n.Role == nil {
			continue
		}
		role := strings.Trim(string(n.Role.Value), `"`)
		if !slices.Contains([]string{"heading", "textbox", "checkbox", "combobox", "button", "Date"}, role) {
			continue
		}
		name := ""
		if n.Name != nil {
			name = strings.Trim(string(n.Name.Value), `"`)
		}
		out = append(out, axControl{role, name})
	}
	return out
}

// wantControls checks that the page has each control, and that no control
// lacks a name.
func (b *tab) wantControls(want ...axControl) {
	b.t.Helper()
	got := b.accessibility()
	for _, c := range got {
		if c.name == "" {
			b.t.Errorf("%s has no accessible name (no label) on %s: %v", c.role, b.eval("location.pathname"), got)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			b.t.Errorf("no %s named %q on %s; the tree has %v", w.role, w.name, b.eval("location.pathname"), got)
		}
	}
}

// TestWebBrowser walks a new user through the pages in a real browser,
// with the keyboard alone where a form is filled: sign up, read the mail,
// verify, log in, create a token on the Access page, download a private
// package with it, revoke it, change the password, log out.
func TestWebBrowser(t *testing.T) {
	mail := mailtest.Start(t, mailtest.Options{})
	base := fmt.Sprintf("http://localhost:%d", gatewayPort)
	g := startSite(t, site{storageRoot: true, web: fmt.Sprintf("signup open\n\t\t\tbase_url %s\n\t\t\tsmtp %s\n\t\t\tmail_from channelgate@example.org",
		base, mail.Addr)})
	b := startBrowser(t, base)
	const password, newPassword = "erin's password", "erin's new password"

	b.open("/")
	b.waitHeading("Packages")
	b.screenshot("home")

	// Sign up with the keyboard: Tab from field to field, Space ticks the
	// terms, Enter sends; the proof of work runs meanwhile.
	b.open("/signup")
	b.wantControls(axControl{"heading", "Sign up"}, axControl{"textbox", "Username"}, axControl{"textbox", "Email"},
		axControl{"textbox", "Password"}, axControl{"textbox", "Confirm password"},
		axControl{"checkbox", "I accept the Terms and Conditions"}, axControl{"button", "Register"})
	b.do("focus", chromedp.Focus(chromedp.ID("username")))
	b.keys("erin\terin@example.org\t" + password + "\t" + password + "\t \t")
	b.screenshot("signup")
	b.keys("\r")
	b.waitHeading("Check your mail")

	// The account exists, unverified: it cannot log in yet.
	if ok, err := g.store.Verified("erin"); err != nil || ok {
		t.Fatalf("erin verified = %v, %v before the link", ok, err)
	}
	link := mailtest.Link(t, mail.Wait(t, 0, 30*time.Second), "/verify/")
	b.open(strings.TrimPrefix(link, base))
	b.do("focus", chromedp.Focus(chromedp.CSS("main form button")))
	b.keys("\r")
	b.waitHeading("Address verified")

	// The private package the user publishes (publishing is not a page;
	// before sign-up, a channel the storage serves could not be claimed).
	if _, err := g.store.PutPackage(testActor, "erin", tokenstore.Conda, "erin-tool", false, "erin's tool"); err != nil {
		t.Fatal(err)
	}
	g.file("erin/noarch/repodata.json", `{"packages":{"erin-tool-1.0-0.tar.bz2":{"name":"erin-tool","version":"1.0","build":"0","build_number":0,"depends":[]}}}`)
	g.file("erin/noarch/erin-tool-1.0-0.tar.bz2", "private bytes")
	if status, _, _ := g.do("GET", "/erin/noarch/erin-tool-1.0-0.tar.bz2", nil); status != http.StatusNotFound {
		t.Fatalf("anonymous download of the private package: %d", status)
	}

	b.open("/login")
	b.wantControls(axControl{"heading", "Log in"}, axControl{"textbox", "Username"}, axControl{"textbox", "Password"},
		axControl{"button", "Log in"})
	b.do("focus", chromedp.Focus(chromedp.ID("username")))
	b.keys("erin\t" + password + "\r")
	b.waitHeading("Dashboard")
	if got := b.text("main table tbody"); !strings.Contains(got, "erin-tool") || !strings.Contains(got, "private") {
		t.Errorf("dashboard packages: %q", got)
	}
	b.screenshot("dashboard")

	// A token on the Access page, with the keyboard.
	b.open("/settings/access")
	b.waitHeading("Access")
	b.wantControls(axControl{"textbox", "Token name"}, axControl{"combobox", "Strength"},
		axControl{"checkbox", "conda:download"}, axControl{"checkbox", "api:modify-group"},
		axControl{"Date", "Expiration date"}, axControl{"button", "Create"})
	b.do("focus", chromedp.Focus(chromedp.ID("name")))
	b.keys("laptop")
	b.do("focus", chromedp.Focus(chromedp.CSS(`[id="scope-conda:download"]`)))
	b.keys(" ")
	b.do("focus", chromedp.Focus(chromedp.CSS(`form[action="/settings/access"] button`)))
	b.keys("\r")
	b.waitShown("#new-token")
	token := b.text("#new-token")
	if _, err := tokenstore.ParseToken(token); err != nil {
		t.Fatalf("the page shows %q, not a token", token)
	}
	if got := b.text(".new-token pre"); !strings.Contains(got, "conda config --add channels "+base+"/t/"+token+"/erin") {
		t.Errorf("conda line: %q", got)
	}
	b.screenshot("access")

	path := "/t/" + token + "/erin/noarch/erin-tool-1.0-0.tar.bz2"
	if status, body, _ := g.do("GET", path, nil); status != http.StatusOK || body != "private bytes" {
		t.Fatalf("download with the new token: %d %q", status, body)
	}
	b.open("/settings/access")
	if strings.Contains(b.eval("document.body.innerHTML"), token) {
		t.Fatal("the token is shown again after its one notice")
	}
	b.click(`button[aria-label="Revoke laptop"]`)
	b.waitShown(".notice")
	if got := b.text(".notice"); !strings.Contains(got, "revoked") {
		t.Fatalf("notice after revoke: %q", got)
	}
	if status, body, _ := g.do("GET", path, nil); status != http.StatusUnauthorized || !strings.Contains(body, "revoked") {
		t.Fatalf("download after revoking: %d %q", status, body)
	}

	// Change Password on My Account.
	b.open("/settings/account")
	b.waitHeading("My Account")
	b.wantControls(axControl{"textbox", "Old password"}, axControl{"textbox", "New password"},
		axControl{"textbox", "Confirm new password"}, axControl{"button", "Change Password"})
	b.do("focus", chromedp.Focus(chromedp.ID("old_password")))
	b.keys(password + "\t" + newPassword + "\t" + newPassword + "\r")
	b.waitShown(".notice")
	if got := b.text(".notice"); !strings.Contains(got, "password is changed") {
		t.Fatalf("notice after the password change: %q", got)
	}
	b.screenshot("account")
	if _, err := g.store.Authenticate("erin", newPassword); err != nil {
		t.Fatalf("the new password: %v", err)
	}

	b.click(`form[action="/logout"] button`)
	b.waitHeading("Packages")
	b.open("/dashboard")
	b.waitHeading("Log in")
}

// TestWebSharesLoginLimit: wrong passwords sent to the API count against
// the web log-in of the same account from the same address (one limiter
// per store), so a guesser cannot double the tries by alternating.
func TestWebSharesLoginLimit(t *testing.T) {
	g := startSite(t, site{web: "signup closed"})
	g.seed()
	for range limiter.DefaultPerPair {
		req, _ := http.NewRequest(http.MethodGet, g.base+"/api/user", nil)
		req.SetBasicAuth("alice", "wrong password")
		resp, err := g.tester.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("API with a wrong password: %d", resp.StatusCode)
		}
	}
	_, body, _ := g.do("GET", "/login", nil)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form token on /login:\n%s", body)
	}
	form := url.Values{"username": {"alice"}, "password": {"secret-pw"}, "csrf": {html.UnescapeString(m[1])}}
	status, body, _ := g.doBody("POST", "/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		strings.NewReader(form.Encode()))
	if status != http.StatusTooManyRequests {
		t.Fatalf("web log-in after the API's failures: %d\n%s", status, body)
	}
}

// TestWebBrowserOrg: an organization owner, in the browser and with the
// keyboard, creates a group and gives a member access to one private
// package; the member's token then downloads that package and no other.
func TestWebBrowserOrg(t *testing.T) {
	base := fmt.Sprintf("http://localhost:%d", gatewayPort)
	g := startSite(t, site{web: "signup closed"})
	s := g.store
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"olivia", "mike"} {
		_, err := s.CreateUser(testActor, tokenstore.NewUser{Name: u, Email: u + "@example.com",
			Password: u + "-password", PasswordConfirmation: u + "-password", AcceptTerms: true})
		must(err)
	}
	_, err := s.CreateOrg(testActor, "labs", "olivia")
	must(err)
	for _, p := range []string{"model", "other"} {
		_, err := s.PutPackage(testActor, "labs", tokenstore.Conda, p, false, "")
		must(err)
		g.file("labs/noarch/"+p+"-1.0-0.tar.bz2", p+" bytes")
	}
	mike, _, err := s.CreateToken(testActor, tokenstore.TokenSpec{Owner: "mike", CreatedBy: "mike", Name: "dl", Scopes: []string{"conda:download"}})
	must(err)
	download := func(p string) int {
		status, _, _ := g.do("GET", "/t/"+mike+"/labs/noarch/"+p+"-1.0-0.tar.bz2", nil)
		return status
	}
	if got := download("model"); got != http.StatusNotFound {
		t.Fatalf("mike downloads model before the group: %d", got)
	}

	b := startBrowser(t, base)
	b.open("/login")
	b.do("focus", chromedp.Focus(chromedp.ID("username")))
	b.keys("olivia\tolivia-password\r")
	b.waitHeading("Dashboard")
	b.open("/orgs/labs")
	b.waitHeading("Organization labs")
	b.wantControls(axControl{"textbox", "Group name"}, axControl{"combobox", "Permission"}, axControl{"button", "Create group"})
	b.do("focus", chromedp.Focus(chromedp.ID("group")))
	b.keys("ml\r") // read, the first permission
	b.waitShown("#group-ml")
	b.do("focus", chromedp.Focus(chromedp.ID("member-ml")))
	b.keys("mike\r")
	b.waitFor(`(document.querySelector(".notice") || {}).textContent === "mike is in group ml."`, "member added")
	b.do("focus", chromedp.Focus(chromedp.ID("package-ml")))
	b.keys("model\r")
	b.waitFor(`(document.querySelector(".notice") || {}).textContent === "Group ml covers package model."`, "package added")
	b.wantControls(axControl{"textbox", "Add member to ml"}, axControl{"textbox", "Add package to ml"},
		axControl{"button", "Remove mike from ml"}, axControl{"button", "Remove model from ml"})
	b.screenshot("org")

	if got := download("model"); got != http.StatusOK {
		t.Fatalf("mike downloads model after the group: %d", got)
	}
	if got := download("other"); got != http.StatusNotFound {
		t.Fatalf("mike downloads other: %d", got)
	}
}

// TestWebDashboardPlans: the dashboard shows the plans the API on the
// same store was configured with, not the built-in ones.
func TestWebDashboardPlans(t *testing.T) {
	g := startSite(t, site{web: "signup closed", api: "plan standard {\n\t\t\t\tstorage 5GiB\n\t\t\t}"})
	g.seed()
	_, body, _ := g.do("GET", "/login", nil)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form token on /login:\n%s", body)
	}
	form := url.Values{"username": {"alice"}, "password": {"secret-pw"}, "csrf": {html.UnescapeString(m[1])}}
	// The test client follows the redirect to /dashboard with its cookie.
	status, body, _ := g.doBody("POST", "/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		strings.NewReader(form.Encode()))
	if status != http.StatusOK || !strings.Contains(body, "of 5.0 GiB") {
		t.Fatalf("dashboard %d without the API's plan:\n%s", status, body)
	}
}
