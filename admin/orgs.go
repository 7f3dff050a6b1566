package admin

import (
	"net/http"
	"slices"

	"github.com/channelgate/channelgate/tokenstore"
)

// NewOrgRequest is the body of POST /orgs.
type NewOrgRequest struct {
	Login string `json:"login"`
	// Owner is the user who becomes the first owner. Only the operator
	// and site administrators may name someone else; the default is the
	// calling user.
	Owner string `json:"owner,omitempty"`
}

// userOrgs is GET /users/{login}/orgs (anaconda show USER): the
// organizations the user is a member of, among those the caller may read
// (all of them for the user and site administrators).
func (a *api) userOrgs(r *http.Request, c *caller) (int, any, error) {
	login := r.PathValue("login")
	if _, err := a.store.Account(login); err != nil {
		return 0, nil, err
	}
	accts, err := a.store.Accounts()
	if err != nil {
		return 0, nil, err
	}
	out := []UserInfo{}
	for _, acct := range accts {
		if acct.Type != tokenstore.Org {
			continue
		}
		groups, err := a.store.Groups(acct.Name)
		if err != nil {
			return 0, nil, err
		}
		if !slices.ContainsFunc(groups, func(g *tokenstore.Group) bool { return slices.Contains(g.Members, login) }) {
			continue
		}
		if c.name != login && !c.siteAdmin() {
			p, err := a.perm(c, acct.Name, tokenstore.Conda, "")
			if err != nil {
				return 0, nil, err
			}
			if p < tokenstore.PermRead {
				continue
			}
		}
		u, err := a.userInfo(acct, c)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, u)
	}
	return http.StatusOK, out, nil
}

// createOrg is POST /orgs: a new organization whose creator joins its
// owners group.
func (a *api) createOrg(r *http.Request, c *caller) (int, any, error) {
	var req NewOrgRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	owner := req.Owner
	switch {
	case owner != "" && owner != c.name && !c.siteAdmin():
		return 0, nil, errorf(http.StatusForbidden, "only site administrators can create an organization for someone else")
	case owner == "":
		u, err := c.user(`create an organization (the operator must give "owner")`)
		if err != nil {
			return 0, nil, err
		}
		owner = u.Name
	}
	acct, err := a.store.CreateOrg(c.actor(), req.Login, owner)
	if err != nil {
		return 0, nil, err
	}
	u, err := a.userInfo(acct, c)
	return http.StatusCreated, u, err
}
