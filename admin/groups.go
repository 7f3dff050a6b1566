package admin

import (
	"net/http"
	"slices"

	"github.com/channelgate/channelgate/tokenstore"
)

// GroupInfo describes an organization's group.
type GroupInfo struct {
	Name string `json:"name"`
	Org  string `json:"org"`
	// Permission and Perm both hold "read", "write" or "admin" (clients
	// read either name).
	Permission  string   `json:"permission"`
	Perm        string   `json:"perm"`
	Members     []string `json:"members"`
	Packages    []string `json:"packages"`
	AllPackages bool     `json:"all_packages"`
}

// groupInfo describes g to c, listing only the packages c may read.
func (a *api) groupInfo(c *caller, g *tokenstore.Group) (GroupInfo, error) {
	pkgs, err := a.readableNames(c, g.Org, g.Packages)
	if err != nil {
		return GroupInfo{}, err
	}
	return GroupInfo{Name: g.Name, Org: g.Org, Permission: g.Perm.String(), Perm: g.Perm.String(),
		Members: nonNil(g.Members), Packages: pkgs, AllPackages: g.AllPackages}, nil
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// listGroups is GET /groups/{org}, for members of the organization.
func (a *api) listGroups(r *http.Request, c *caller) (int, any, error) {
	org := r.PathValue("org")
	if err := a.require(c, org, tokenstore.PermRead); err != nil {
		return 0, nil, err
	}
	groups, err := a.store.Groups(org)
	if err != nil {
		return 0, nil, err
	}
	out := make([]GroupInfo, 0, len(groups))
	for _, g := range groups {
		info, err := a.groupInfo(c, g)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, info)
	}
	return http.StatusOK, out, nil
}

// putGroup is POST /group/{org}/{group} {"perms": "read"|"write"|"admin"}:
// creates the group or changes its permission. 204 is success.
func (a *api) putGroup(r *http.Request, c *caller) (int, any, error) {
	var req struct {
		Perms string `json:"perms"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	org := r.PathValue("org")
	if err := a.require(c, org, tokenstore.PermAdmin); err != nil {
		return 0, nil, err
	}
	perm, err := tokenstore.ParsePerm(req.Perms)
	if err != nil {
		return 0, nil, err
	}
	_, err = a.store.PutGroup(c.actor(), org, r.PathValue("group"), perm)
	return http.StatusNoContent, nil, err
}

// deleteGroup is DELETE /group/{org}/{group}. 204 is success.
func (a *api) deleteGroup(r *http.Request, c *caller) (int, any, error) {
	org := r.PathValue("org")
	if err := a.require(c, org, tokenstore.PermAdmin); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, a.store.DeleteGroup(c.actor(), org, r.PathValue("group"))
}

// readGroup returns the group named in the path, for members of its
// organization.
func (a *api) readGroup(r *http.Request, c *caller) (*tokenstore.Group, error) {
	org := r.PathValue("org")
	if err := a.require(c, org, tokenstore.PermRead); err != nil {
		return nil, err
	}
	return a.store.Group(org, r.PathValue("group"))
}

// isMember is GET /group/{org}/{group}/members/{user}: 204 if the user is
// a member, 404 if not.
func (a *api) isMember(r *http.Request, c *caller) (int, any, error) {
	g, err := a.readGroup(r, c)
	if err != nil {
		return 0, nil, err
	}
	user := r.PathValue("user")
	if !slices.Contains(g.Members, user) {
		return 0, nil, errorf(http.StatusNotFound, "%s is not a member of %s/%s", user, g.Org, g.Name)
	}
	return http.StatusNoContent, nil, nil
}

// setMember is PUT (add) and DELETE (remove)
// /group/{org}/{group}/members/{user}. 204 is success.
func (a *api) setMember(r *http.Request, c *caller) (int, any, error) {
	org := r.PathValue("org")
	if err := a.require(c, org, tokenstore.PermAdmin); err != nil {
		return 0, nil, err
	}
	err := a.store.SetMember(c.actor(), org, r.PathValue("group"), r.PathValue("user"), r.Method == http.MethodPut)
	return http.StatusNoContent, nil, err
}

// PackageRef names a package in listings of a group's packages, with its
// summary ("" for a name the organization has not registered), which
// anaconda-client prints.
type PackageRef struct {
	Name     string `json:"name"`
	Owner    string `json:"owner"`
	FullName string `json:"full_name"`
	Summary  string `json:"summary"`
}

// groupPackages is GET /group/{org}/{group}/packages: the packages the
// group covers (every registered package of the organization for groups
// over all packages) that c may read.
func (a *api) groupPackages(r *http.Request, c *caller) (int, any, error) {
	g, err := a.readGroup(r, c)
	if err != nil {
		return 0, nil, err
	}
	pkgs, err := a.store.Packages(g.Org)
	if err != nil {
		return 0, nil, err
	}
	summaries := map[string]string{} // of the first kind that has one
	var all []string
	for _, p := range pkgs {
		s, seen := summaries[p.Name]
		if !seen {
			all = append(all, p.Name)
		}
		if s == "" {
			summaries[p.Name] = p.Summary
		}
	}
	names := g.Packages
	if g.AllPackages {
		names = all
	}
	if names, err = a.readableNames(c, g.Org, names); err != nil {
		return 0, nil, err
	}
	out := make([]PackageRef, 0, len(names))
	for _, n := range names {
		out = append(out, PackageRef{Name: n, Owner: g.Org, FullName: g.Org + "/" + n, Summary: summaries[n]})
	}
	return http.StatusOK, out, nil
}

// getGroup is GET /group/{org}/{group} (anaconda groups show ORG/GROUP).
func (a *api) getGroup(r *http.Request, c *caller) (int, any, error) {
	g, err := a.readGroup(r, c)
	if err != nil {
		return 0, nil, err
	}
	info, err := a.groupInfo(c, g)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, info, nil
}

// MemberInfo is a member in GET /group/{org}/{group}/members.
type MemberInfo struct {
	Login string `json:"login"`
	Name  string `json:"name"`
}

// groupMembers is GET /group/{org}/{group}/members (anaconda groups
// members ORG/GROUP).
func (a *api) groupMembers(r *http.Request, c *caller) (int, any, error) {
	g, err := a.readGroup(r, c)
	if err != nil {
		return 0, nil, err
	}
	out := make([]MemberInfo, 0, len(g.Members))
	for _, m := range g.Members {
		out = append(out, MemberInfo{Login: m, Name: m})
	}
	return http.StatusOK, out, nil
}

// setGroupPackage is PUT (add) and DELETE (remove)
// /group/{org}/{group}/packages/{pkg}. 204 is success.
func (a *api) setGroupPackage(r *http.Request, c *caller) (int, any, error) {
	org := r.PathValue("org")
	if err := a.require(c, org, tokenstore.PermAdmin); err != nil {
		return 0, nil, err
	}
	err := a.store.SetGroupPackage(c.actor(), org, r.PathValue("group"), r.PathValue("pkg"), r.Method == http.MethodPut)
	return http.StatusNoContent, nil, err
}
