package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

// orgEnv is acme, owned by alice, with bob in group readers (read on
// tool), erin in group writers (write on tool), carol outside, the
// private package tool and the private package secret that only group
// vault (no members) covers.
func orgEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, nil)
	for _, u := range []string{"alice", "bob", "carol", "erin"} {
		e.addUser(t, u)
	}
	s, a := e.store, e.actor()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.CreateOrg(a, "acme", "alice")
	must(err)
	_, err = s.PutPackage(a, "acme", tokenstore.Conda, "tool", false, "")
	must(err)
	for group, perm := range map[string]tokenstore.Perm{"readers": tokenstore.PermRead, "writers": tokenstore.PermWrite} {
		_, err = s.PutGroup(a, "acme", group, perm)
		must(err)
		must(s.SetGroupPackage(a, "acme", group, "tool", true))
	}
	must(s.SetMember(a, "acme", "readers", "bob", true))
	// secret is private, in a group of its own without bob or erin.
	_, err = s.PutPackage(a, "acme", tokenstore.Conda, "secret", false, "")
	must(err)
	_, err = s.PutGroup(a, "acme", "vault", tokenstore.PermRead)
	must(err)
	must(s.SetGroupPackage(a, "acme", "vault", "secret", true))
	must(s.SetMember(a, "acme", "writers", "erin", true))
	return e
}

// TestOrgPage: who sees the page, and which forms it offers.
func TestOrgPage(t *testing.T) {
	e := orgEnv(t)
	tests := []struct {
		user, path string
		status     int
		want, not  []string
	}{
		{"alice", "/orgs/acme", http.StatusOK, []string{"Create group", "Add member", "Make public", "Organization tokens", "readers", "tool", "secret"}, nil},
		{"bob", "/orgs/acme", http.StatusOK, []string{"readers", "tool", "vault"}, []string{"Create group", "Add member", "Make public", "Organization tokens", "secret"}},
		{"erin", "/orgs/acme", http.StatusOK, []string{"writers"}, []string{"Create group", "Make public", "Organization tokens"}},
		{"carol", "/orgs/acme", http.StatusForbidden, []string{"carol may not read acme"}, nil},
		{"alice", "/orgs/nobody", http.StatusNotFound, []string{"no account named"}, nil},
		{"alice", "/orgs/alice", http.StatusNotFound, []string{"is a user, not an organization"}, nil},
		{"alice", "/orgs/new", http.StatusOK, []string{"Organization name", "Create organization"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.user+tc.path, func(t *testing.T) {
			b := e.browser(t)
			b.login(tc.user)
			p := b.get(tc.path)
			p.want(t, tc.status, tc.want...)
			for _, s := range tc.not {
				if strings.Contains(p.body, s) {
					t.Errorf("%s sees %q", tc.user, s)
				}
			}
		})
	}
}

// TestOrgNew creates organizations from /orgs/new.
func TestOrgNew(t *testing.T) {
	e := orgEnv(t)
	b := e.browser(t)
	b.login("carol")
	b.get("/orgs/new")
	for name, want := range map[string]string{"acme": "is taken", "Bad Name": "must be lowercase", "settings": "is reserved", "": "1 to 64"} {
		b.post("/orgs/new", form("org", name)).want(t, http.StatusBadRequest, want)
	}
	p := b.post("/orgs/new", form("org", "labs"))
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/orgs/labs" {
		t.Fatalf("create: %d %q", p.status, p.header.Get("Location"))
	}
	b.get("/orgs/labs").want(t, http.StatusOK, "owners", "carol", "Create group")
	b.get("/dashboard").want(t, http.StatusOK, `href="/orgs/labs"`)
}

// orgCase is one form of the organization page and the API call that
// makes the same change.
type orgCase struct {
	name      string
	path      string
	form      []string
	apiMethod string
	apiPath   string
	apiBody   string
}

var orgCases = []orgCase{
	{"create group", "/orgs/acme/groups", []string{"group", "ml", "perm", "read"}, "POST", "/group/acme/ml", `{"perms":"read"}`},
	{"add member", "/orgs/acme/members", []string{"group", "readers", "user", "carol", "action", "add"}, "PUT", "/group/acme/readers/members/carol", ""},
	{"add group package", "/orgs/acme/group-packages", []string{"group", "readers", "package", "other", "action", "add"}, "PUT", "/group/acme/readers/packages/other", ""},
	{"make public", "/orgs/acme/visibility", []string{"package", "tool", "visibility", "public"}, "PATCH", "/package/acme/tool", `{"public":true}`},
	{"add collaborator", "/orgs/acme/collaborators", []string{"package", "tool", "user", "carol", "action", "add"}, "PUT", "/packages/acme/tool/collaborators/carol", ""},
	{"create token", "/orgs/acme/tokens", []string{"name", "ci-page", "scope", "conda:download", "expires", "2030-06-01"}, "POST", "/authentications", `{"note":"ci","user":"acme","scopes":["conda:download"]}`},
}

// TestOrgActionsMatchAPI: each form is allowed exactly when the API allows
// the same change to the same user, and refused with 403 otherwise.
func TestOrgActionsMatchAPI(t *testing.T) {
	e := orgEnv(t)
	api := admin.New(e.store, admin.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, user := range []string{"alice", "bob", "erin", "carol"} {
		b := e.browser(t)
		b.login(user)
		for _, tc := range orgCases {
			t.Run(user+"/"+tc.name, func(t *testing.T) {
				req := httptest.NewRequest(tc.apiMethod, tc.apiPath, strings.NewReader(tc.apiBody))
				req.SetBasicAuth(user, testPassword)
				rec := httptest.NewRecorder()
				api.ServeHTTP(rec, req)
				apiOK := rec.Code < 300
				if !apiOK && rec.Code != http.StatusForbidden {
					t.Fatalf("API %s %s: %d %s", tc.apiMethod, tc.apiPath, rec.Code, rec.Body)
				}
				b.get("/orgs/acme")
				p := b.post(tc.path, form(tc.form...))
				pageOK := p.status == http.StatusOK
				if pageOK != apiOK || (!pageOK && p.status != http.StatusForbidden) {
					t.Fatalf("page %d, API %d (%s)", p.status, rec.Code, rec.Body)
				}
				if tc.name == "create token" && apiOK {
					b.post("/orgs/acme/tokens/revoke", form("name", "ci-page")).want(t, http.StatusOK, "is revoked")
					b.post("/orgs/acme/tokens/revoke", form("name", "ci")).want(t, http.StatusOK, "is revoked")
				}
			})
		}
	}
}

// TestOrgActionErrors: refused changes say why, with 400, 403 or 404.
func TestOrgActionErrors(t *testing.T) {
	e := orgEnv(t)
	b := e.browser(t)
	b.login("alice")
	b.get("/orgs/acme")
	tests := []struct {
		path   string
		form   []string
		status int
		want   string
	}{
		{"/orgs/acme/groups", []string{"group", "ml", "perm", "owner"}, http.StatusBadRequest, "perm"},
		{"/orgs/acme/groups", []string{"group", "Bad Name", "perm", "read"}, http.StatusBadRequest, ""},
		{"/orgs/acme/groups/delete", []string{"group", "owners"}, http.StatusForbidden, "owners"},
		{"/orgs/acme/groups/delete", []string{"group", "nothing"}, http.StatusNotFound, ""},
		{"/orgs/acme/members", []string{"group", "readers", "user", "nobody", "action", "add"}, http.StatusNotFound, "nobody"},
		{"/orgs/acme/members", []string{"group", "readers", "user", "acme", "action", "add"}, http.StatusBadRequest, "only users can be members"},
		{"/orgs/acme/members", []string{"group", "owners", "user", "alice", "action", "remove"}, http.StatusForbidden, "last member of owners"},
		{"/orgs/acme/members", []string{"group", "readers", "user", "bob", "action", "promote"}, http.StatusBadRequest, "not one this page sent"},
		{"/orgs/acme/visibility", []string{"package", "tool", "visibility", "secret"}, http.StatusBadRequest, "not one this page sent"},
		{"/orgs/acme/visibility", []string{"package", "nothing", "visibility", "public"}, http.StatusNotFound, "no package acme/nothing"},
		{"/orgs/acme/collaborators", []string{"package", "tool", "user", "carol", "action", "remove"}, http.StatusNotFound, "not a collaborator"},
		{"/orgs/acme/tokens", []string{"name", "", "scope", "all", "expires", "2030-06-01"}, http.StatusBadRequest, "token name must be"},
		{"/orgs/acme/tokens/revoke", []string{"name", "nothing"}, http.StatusNotFound, "There is no token named nothing"},
		{"/orgs/nobody/groups", []string{"group", "ml", "perm", "read"}, http.StatusNotFound, "no account named"},
	}
	for _, tc := range tests {
		t.Run(tc.path+strings.Join(tc.form, ","), func(t *testing.T) {
			b.post(tc.path, form(tc.form...)).want(t, tc.status, tc.want)
		})
	}
}

// TestOrgTokens: an administrator's organization token is shown once and
// acts for the organization.
func TestOrgTokens(t *testing.T) {
	e := orgEnv(t)
	b := e.browser(t)
	b.login("alice")
	b.get("/orgs/acme")
	p := b.post("/orgs/acme/tokens", form("name", "ci", "scope", "conda:download", "expires", "2030-06-01"))
	p.want(t, http.StatusOK, "Your new token", "/t/")
	m := newTokenRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatal("no token")
	}
	tok, err := e.store.AuthenticateToken(m[1])
	if err != nil || tok.Owner != "acme" {
		t.Fatalf("token %+v %v", tok, err)
	}
	if strings.Contains(b.get("/orgs/acme").body, m[1]) {
		t.Fatal("the token is shown again")
	}
}
