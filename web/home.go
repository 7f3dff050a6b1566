package web

import (
	"net/http"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// maxHomeChannels is how many public channels the home page lists.
const maxHomeChannels = 100

// homePage is the data of /.
type homePage struct {
	Base     string
	Signup   bool
	Channels []homeChannel
}

type homeChannel struct {
	Name     string
	Packages []string // public registered packages
}

// home is /: what this server is, how to use it, its public channels.
func (h *Handler) home(q *request) {
	accts, err := h.store.Accounts()
	if err != nil {
		h.storeFailure(q.w, q.r, err)
		return
	}
	page := homePage{Base: q.base(), Signup: h.cfg.Signup}
	for _, a := range accts {
		if a.PrivateByDefault || len(page.Channels) == maxHomeChannels {
			continue
		}
		pkgs, err := h.store.Packages(a.Name)
		if err != nil {
			h.storeFailure(q.w, q.r, err)
			return
		}
		page.Channels = append(page.Channels, homeChannel{Name: a.Name, Packages: publicNames(pkgs)})
	}
	q.render(http.StatusOK, "home", "Packages", page)
}

// publicNames lists the names of the public packages, each once.
func publicNames(pkgs []*tokenstore.Package) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range pkgs {
		if p.Public && !seen[p.Name] {
			seen[p.Name] = true
			out = append(out, p.Name)
		}
	}
	return out
}

// base is the site's address for the conda and pip lines and links:
// Config.BaseURL, else the request's scheme and host.
func (q *request) base() string {
	if b := q.h.cfg.BaseURL; b != "" {
		return strings.TrimSuffix(b, "/")
	}
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + q.r.Host
}
