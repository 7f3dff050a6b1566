package web

import (
	"net/http"

	"github.com/channelgate/channelgate/tokenstore"
)

// dashboardPage is the data of /dashboard.
type dashboardPage struct {
	Base     string
	Avatar   string
	Channel  string
	Packages []*tokenstore.Package
	Orgs     []string
	// Plan is the user's plan and Used the bytes of package files kept.
	Plan tokenstore.Plan
	Used int64
}

// dashboard is the user's home: picture, channel and its packages,
// organizations, and how to use them with a token.
func (h *Handler) dashboard(q *request) {
	pkgs, err := h.store.Packages(q.user.Name)
	if err != nil {
		h.storeFailure(q.w, q.r, err)
		return
	}
	orgs, err := h.store.Memberships(q.user.Name)
	if err != nil {
		h.storeFailure(q.w, q.r, err)
		return
	}
	used, err := h.store.Usage(q.user.Name)
	if err != nil {
		h.storeFailure(q.w, q.r, err)
		return
	}
	q.render(http.StatusOK, "dashboard", "Dashboard", dashboardPage{Base: q.base(), Avatar: "/avatar/" + avatarHash(q.user.Email),
		Channel: q.user.Name, Packages: pkgs, Orgs: orgs, Plan: h.cfg.Plans().For(q.user), Used: used})
}
