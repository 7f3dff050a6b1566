package admin

import (
	"net/http"
)

// NewOrgRequest is the body of POST /orgs.
type NewOrgRequest struct {
	Login string `json:"login"`
	// Owner is the user who becomes the first owner. Only the operator
	// and site administrators may name someone else; the default is the
	// calling user.
	Owner string `json:"owner,omitempty"`
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
	return http.StatusCreated, userInfo(acct, c), nil
}
