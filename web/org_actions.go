package web

import (
	"fmt"
	"slices"

	"github.com/channelgate/channelgate/tokenstore"
)

// The organization page's forms, each with the permission the API's
// route for the same change needs.
var (
	createGroup = orgAction{tokenstore.PermAdmin, func(q *request, org string) (string, error) {
		perm, err := tokenstore.ParsePerm(q.field("perm"))
		if err != nil {
			return "", err
		}
		g, err := q.h.store.PutGroup(q.actor(), org, q.field("group"), perm)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Group %s grants %s.", g.Name, g.Perm), nil
	}}
	deleteGroup = orgAction{tokenstore.PermAdmin, func(q *request, org string) (string, error) {
		group := q.field("group")
		return "Group " + group + " is deleted.", q.h.store.DeleteGroup(q.actor(), org, group)
	}}
	setMember = orgAction{tokenstore.PermAdmin, func(q *request, org string) (string, error) {
		add, err := q.adding()
		if err != nil {
			return "", err
		}
		group, user := q.field("group"), q.field("user")
		if err := q.h.store.SetMember(q.actor(), org, group, user, add); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s is %s group %s.", user, map[bool]string{true: "in", false: "no longer in"}[add], group), nil
	}}
	setGroupPackage = orgAction{tokenstore.PermAdmin, func(q *request, org string) (string, error) {
		add, err := q.adding()
		if err != nil {
			return "", err
		}
		group, pkg := q.field("group"), q.field("package")
		if err := q.h.store.SetGroupPackage(q.actor(), org, group, pkg, add); err != nil {
			return "", err
		}
		return fmt.Sprintf("Group %s %s package %s.", group, map[bool]string{true: "covers", false: "no longer covers"}[add], pkg), nil
	}}
	setVisibility = orgAction{tokenstore.PermRead, func(q *request, org string) (string, error) {
		name, vis := q.field("package"), q.field("visibility")
		if vis != "public" && vis != "private" {
			return "", errInvalidForm
		}
		kinds, err := q.packageKinds(org, name)
		if err != nil {
			return "", err
		}
		public := vis == "public"
		if _, err := q.h.store.UpdatePackages(q.actor(), org, kinds, name, &public, nil); err != nil {
			return "", err
		}
		return "Package " + name + " is " + vis + ".", nil
	}}
	setCollaborator = orgAction{tokenstore.PermRead, func(q *request, org string) (string, error) {
		add, err := q.adding()
		if err != nil {
			return "", err
		}
		name, user := q.field("package"), q.field("user")
		kinds, err := q.packageKinds(org, name)
		if err != nil {
			return "", err
		}
		for _, k := range kinds {
			if err := q.h.store.SetCollaborator(q.actor(), org, k, name, user, add); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("%s %s a collaborator on %s.", user, map[bool]string{true: "is", false: "is no longer"}[add], name), nil
	}}
)

// packageKinds lists the kinds of a package the user may change, as the
// API's package changes decide: a package the user may not read is not
// found (ErrNotFound), one the user may not administer is ErrForbidden.
func (q *request) packageKinds(channel, name string) ([]tokenstore.Kind, error) {
	pkgs, err := q.h.store.Packages(channel)
	if err != nil {
		return nil, err
	}
	var kinds []tokenstore.Kind
	visible := false
	for _, p := range pkgs {
		if p.Name != tokenstore.NormalizeName(p.Kind, name) || slices.Contains(kinds, p.Kind) {
			continue
		}
		kinds = append(kinds, p.Kind)
		ok, err := q.h.store.Readable(q.viewer(), channel, p.Kind, p.Name)
		if err != nil {
			return nil, err
		}
		visible = visible || ok
	}
	if !visible {
		return nil, fmt.Errorf("%w: no package %s/%s", tokenstore.ErrNotFound, channel, name)
	}
	return kinds, q.h.store.RequirePackage(q.viewer(), channel, name, kinds)
}

// orgCreateToken is POST /orgs/{org}/tokens: a token for the organization,
// by an administrator of it.
func (h *Handler) orgCreateToken(q *request) { q.orgTokens(q.createTokenFor) }

// orgRevokeToken is POST /orgs/{org}/tokens/revoke.
func (h *Handler) orgRevokeToken(q *request) { q.orgTokens(q.revokeTokenFor) }

// orgTokens runs a token action for the organization after the API's
// decision (admin), and shows the page.
func (q *request) orgTokens(act func(owner string) (tokenResult, error)) {
	o, ok := q.orgAccess()
	if !ok {
		return
	}
	if err := q.h.store.Require(q.viewer(), o.name, tokenstore.PermAdmin); err != nil {
		q.refuse(err)
		return
	}
	res, err := act(o.name)
	if err != nil {
		q.h.storeFailure(q.w, q.r, err)
		return
	}
	q.showOrg(o, res, "")
}
