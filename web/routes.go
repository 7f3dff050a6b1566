package web

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// access is who may open a route.
type access int

const (
	// anyone: logged in or not.
	anyone access = iota
	// member: a logged-in user; others are sent to /login.
	member
	// confirmed: a logged-in user who typed the password within
	// Config.ConfirmAfter; others are asked for it (/confirm-password).
	confirmed
)

// route is one page or form action with its access rule.
type route struct {
	pattern string
	access  access
	serve   func(*request)
}

// segment is the route's first path segment ("" for the root).
func (rt route) segment() string {
	_, path, _ := strings.Cut(rt.pattern, " ")
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return strings.TrimSuffix(first, "{$}")
}

// routes is the one table of the pages. Every first segment is a reserved
// account name in tokenstore (TestRoutesReserved), so no page shadows a
// channel. Every POST also needs the form token (guard).
func (h *Handler) routes() []route {
	return []route{
		{"GET /{$}", anyone, h.home},
		{"GET /static/{file}", anyone, h.static},

		{"GET /signup", anyone, h.signupPage},
		{"POST /signup", anyone, h.signup},
		{"GET /verify/{code}", anyone, h.verifyPage},
		{"POST /verify", anyone, h.verify},
		{"GET /login", anyone, h.loginPage},
		{"POST /login", anyone, h.login},
		{"POST /logout", member, h.logout},
		{"GET /reset-password", anyone, h.resetPage},
		{"POST /reset-password", anyone, h.resetRequest},
		{"GET /reset-password/{code}", anyone, h.newPasswordPage},
		{"POST /reset-password/new", anyone, h.newPassword},
		{"GET /confirm-password", member, h.confirmPage},
		{"POST /confirm-password", member, h.confirm},

		{"GET /dashboard", member, h.dashboard},
		{"GET /avatar/{hash}", member, h.avatar},

		{"GET /settings/account", confirmed, h.accountPage},
		{"POST /settings/account/email", confirmed, h.changeEmail},
		{"POST /settings/account/password", confirmed, h.changePassword},
		{"GET /settings/access", confirmed, h.accessPage},
		{"POST /settings/access", confirmed, h.createToken},
		{"POST /settings/access/revoke", confirmed, h.revokeToken},

		{"GET /orgs/new", member, h.newOrgPage},
		{"POST /orgs/new", member, h.createOrg},
		{"GET /orgs/{org}", member, h.orgPage},
		{"POST /orgs/{org}/groups", member, h.serveOrgAction(createGroup)},
		{"POST /orgs/{org}/groups/delete", member, h.serveOrgAction(deleteGroup)},
		{"POST /orgs/{org}/members", member, h.serveOrgAction(setMember)},
		{"POST /orgs/{org}/group-packages", member, h.serveOrgAction(setGroupPackage)},
		{"POST /orgs/{org}/visibility", member, h.serveOrgAction(setVisibility)},
		{"POST /orgs/{org}/collaborators", member, h.serveOrgAction(setCollaborator)},
		{"POST /orgs/{org}/tokens", confirmed, h.orgCreateToken},
		{"POST /orgs/{org}/tokens/revoke", confirmed, h.orgRevokeToken},
	}
}

// guard wraps a route: the session, the access rule, and for POST the
// form token, before the page runs.
func (h *Handler) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := h.newRequest(w, r)
		if err != nil {
			h.storeFailure(w, r, err)
			return
		}
		switch {
		case rt.access >= member && q.sess == nil:
			q.redirect("/login?next=" + url.QueryEscape(r.URL.Path))
			return
		case rt.access == confirmed && h.cfg.Now().Sub(q.sess.Confirmed) >= h.cfg.ConfirmAfter:
			q.redirect("/confirm-password?next=" + url.QueryEscape(h.pageOf(r)))
			return
		}
		if r.Method == http.MethodPost && !q.checkFormToken(rt.access == anyone) {
			h.fail(w, r, http.StatusForbidden, "This form has expired or was not sent from this site. Reload the page and send it again.")
			return
		}
		rt.serve(q)
	})
}

// pageOf is the page to come back to after confirming the password: the
// request's path if it can be opened (GET), else the nearest parent that
// can (a form's action, such as /settings/account/password, is not a
// page).
func (h *Handler) pageOf(r *http.Request) string {
	for p := r.URL.Path; p != "/" && p != "."; p = path.Dir(p) {
		get, _ := http.NewRequest(http.MethodGet, p, nil)
		if _, pattern := h.mux.Handler(get); pattern != "" {
			return p
		}
	}
	return "/dashboard"
}
