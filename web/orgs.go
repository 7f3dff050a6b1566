package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// Organization pages: /orgs/new, and /orgs/{org} with its groups,
// packages and tokens. Every action makes the store call the API makes,
// after the same decision (tokenstore.Store.Require): groups, members
// and tokens need admin on the organization, packages and collaborators
// write, the page itself read. The page shows a form only to those the
// decision allows; a form sent anyway is refused with 403.

// newOrgForm is /orgs/new's form.
type newOrgForm struct {
	Name   string
	Errors fieldErrors
}

func (h *Handler) newOrgPage(q *request) {
	q.render(http.StatusOK, "org_new", "New organization", &newOrgForm{Errors: fieldErrors{}})
}

// createOrg is POST /orgs/new: the user creates an organization and joins
// its owners group (the API's POST /orgs).
func (h *Handler) createOrg(q *request) {
	f := &newOrgForm{Name: strings.TrimSpace(q.r.PostForm.Get("org")), Errors: fieldErrors{}}
	_ = f.Errors.check("org", tokenstore.ValidateAccountName(f.Name))
	if len(f.Errors) == 0 {
		_, err := h.store.CreateOrg(q.actor(), f.Name, q.user.Name)
		if errors.Is(err, tokenstore.ErrExists) || errors.Is(err, tokenstore.ErrForbidden) {
			f.Errors.add("org", err.Error())
		} else if err = f.Errors.check("org", err); err != nil {
			h.storeFailure(q.w, q.r, err)
			return
		}
	}
	if len(f.Errors) > 0 {
		q.render(http.StatusBadRequest, "org_new", "New organization", f)
		return
	}
	q.redirect("/orgs/" + f.Name)
}

// orgPage is the data of /orgs/{org}.
type orgPage struct {
	Name     string
	Admin    bool
	Groups   []*tokenstore.Group
	Packages []orgPackage
	// Tokens is the token section, for administrators only.
	Tokens *accessPage
	// Done is a notice; Problem says why the last form was refused.
	Done, Problem string
}

func (p orgPage) notice() string { return p.Done }

// orgPackage is a package the user may see, and whether the user may
// change it (its access and collaborators).
type orgPackage struct {
	*tokenstore.Package
	CanEdit bool
}

// orgPerms is the page's organization and whether the user administers
// it.
type orgPerms struct {
	name  string
	admin bool
}

// orgAccess reads {org} and checks that the user may see it; it answers
// itself (404, 403, 503) and returns false otherwise.
func (q *request) orgAccess() (orgPerms, bool) {
	o := orgPerms{name: q.r.PathValue("org")}
	if err := q.h.store.Require(q.viewer(), o.name, tokenstore.PermRead); err != nil {
		q.refuse(err)
		return o, false
	}
	acct, err := q.h.store.Account(o.name)
	if err != nil {
		q.refuse(err)
		return o, false
	}
	if acct.Type != tokenstore.Org {
		q.h.fail(q.w, q.r, http.StatusNotFound, o.name+" is a user, not an organization.")
		return o, false
	}
	o.admin = q.h.store.Require(q.viewer(), o.name, tokenstore.PermAdmin) == nil
	return o, true
}

// refuse answers a store error: 404, 403 and 400 with its message, 503 for
// a store failure.
func (q *request) refuse(err error) {
	for kind, status := range map[error]int{tokenstore.ErrNotFound: http.StatusNotFound,
		tokenstore.ErrForbidden: http.StatusForbidden, tokenstore.ErrInvalid: http.StatusBadRequest} {
		if errors.Is(err, kind) {
			q.h.fail(q.w, q.r, status, err.Error())
			return
		}
	}
	q.h.storeFailure(q.w, q.r, err)
}

func (h *Handler) orgPage(q *request) {
	if o, ok := q.orgAccess(); ok {
		q.showOrg(o, tokenResult{form: h.newTokenForm(), status: http.StatusOK}, "")
	}
}

// showOrg renders the organization page after an action: res is the
// token section's state, problem why the action was refused.
func (q *request) showOrg(o orgPerms, res tokenResult, problem string) {
	p := &orgPage{Name: o.name, Admin: o.admin, Done: res.done, Problem: problem}
	var err error
	if p.Groups, err = q.visibleGroups(o.name); err == nil {
		p.Packages, err = q.visiblePackages(o.name)
	}
	if err == nil && o.admin {
		p.Tokens, err = q.accessView(o.name, res, "/orgs/"+o.name+"/tokens")
	}
	if err != nil {
		q.h.storeFailure(q.w, q.r, err)
		return
	}
	q.render(res.status, "org", "Organization "+o.name, p)
}

// orgAction is one form of the organization page: the permission it
// needs and the store call it makes, returning the notice.
type orgAction struct {
	need tokenstore.Perm
	act  func(q *request, org string) (string, error)
}

// serveOrgAction runs an action after the same decision as the API's
// and shows the page with its notice, or with why it was refused (400,
// 403, 404).
func (h *Handler) serveOrgAction(a orgAction) func(*request) {
	return func(q *request) {
		o, ok := q.orgAccess()
		if !ok {
			return
		}
		res := tokenResult{form: h.newTokenForm(), status: http.StatusOK}
		err := h.store.Require(q.viewer(), o.name, a.need)
		if err == nil {
			res.done, err = a.act(q, o.name)
		}
		problem := ""
		switch {
		case errors.Is(err, tokenstore.ErrForbidden):
			res.status, problem = http.StatusForbidden, err.Error()
		case errors.Is(err, tokenstore.ErrNotFound):
			res.status, problem = http.StatusNotFound, err.Error()
		case errors.Is(err, tokenstore.ErrInvalid), errors.Is(err, tokenstore.ErrExists):
			res.status, problem = http.StatusBadRequest, err.Error()
		case err != nil:
			h.storeFailure(q.w, q.r, err)
			return
		}
		q.showOrg(o, res, problem)
	}
}

// field is a trimmed form value.
func (q *request) field(name string) string { return strings.TrimSpace(q.r.PostForm.Get(name)) }

// adding reads the form's "action": add (true) or remove.
func (q *request) adding() (bool, error) {
	switch q.field("action") {
	case "add":
		return true, nil
	case "remove":
		return false, nil
	}
	return false, errInvalidForm
}

// errInvalidForm is a form whose hidden fields were tampered with.
var errInvalidForm = fmt.Errorf("%w: the form is not one this page sent", tokenstore.ErrInvalid)

// visibleGroups lists the organization's groups with only the package
// names the user may read (as the API's group listings do).
func (q *request) visibleGroups(org string) ([]*tokenstore.Group, error) {
	groups, err := q.h.store.Groups(org)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if g.Packages, err = q.h.store.ReadableNames(q.viewer(), org, g.Packages); err != nil {
			return nil, err
		}
	}
	return groups, nil
}

// visiblePackages lists the registered packages the user may read, each
// with whether the user may change it (tokenstore.Store.RequirePackage).
func (q *request) visiblePackages(org string) ([]orgPackage, error) {
	pkgs, err := q.h.store.Packages(org)
	if err != nil {
		return nil, err
	}
	var out []orgPackage
	for _, p := range pkgs {
		ok, err := q.h.store.Readable(q.viewer(), org, p.Kind, p.Name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		err = q.h.store.RequirePackage(q.viewer(), org, p.Name, []tokenstore.Kind{p.Kind})
		if err != nil && !errors.Is(err, tokenstore.ErrForbidden) {
			return nil, err
		}
		out = append(out, orgPackage{Package: p, CanEdit: err == nil})
	}
	return out, nil
}
