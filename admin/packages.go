package admin

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// A package name may be registered once per kind (conda, pypi), each
// normalized by its kind's rules; the API shows the records of one name as
// a single package with several package_types, named as its first record.

// PackageInfo describes a package, merged over its kinds, with the fields
// anaconda-client's show and listings read.
type PackageInfo struct {
	Name         string       `json:"name"`
	Owner        PackageOwner `json:"owner"`
	FullName     string       `json:"full_name"`
	Public       bool         `json:"public"` // true if any kind is public
	PackageTypes []string     `json:"package_types"`
	Summary      string       `json:"summary"`
	// Collaborators may read and upload every kind they are listed on.
	Collaborators []string `json:"collaborators"`
	CreatedAt     string   `json:"created_at"`
	// Releases, LatestVersion, CondaPlatforms and Files are read from
	// the storage by GET /package; listings leave them empty.
	Releases       []ReleaseSummary `json:"releases"`
	LatestVersion  string           `json:"latest_version"`
	CondaPlatforms []string         `json:"conda_platforms"`
	Files          []DistInfo       `json:"files"`
}

// ReleaseSummary is one version in PackageInfo.
type ReleaseSummary struct {
	Version string `json:"version"`
}

// PackageOwner is the account a package belongs to, as anaconda.org
// nests it.
type PackageOwner struct {
	Login string `json:"login"`
}

// PackageRequest is the body of POST and PATCH /package/{owner}/{name}.
// Unset fields keep their value (PATCH) or take the default (POST: the
// channel's default visibility, kind conda). anaconda-client sends the
// summary and types inside public_attrs; a top-level value wins.
type PackageRequest struct {
	Public       *bool        `json:"public,omitempty"`
	PackageTypes []string     `json:"package_types,omitempty"`
	Summary      *string      `json:"summary,omitempty"`
	PublicAttrs  *PublicAttrs `json:"public_attrs,omitempty"`
}

// PublicAttrs is the part of anaconda-client's package body the registry
// keeps.
type PublicAttrs struct {
	PackageTypes []string `json:"package_types,omitempty"`
	Summary      *string  `json:"summary,omitempty"`
}

// decodePackageRequest reads a PackageRequest and folds public_attrs into
// the top-level fields they leave unset.
func decodePackageRequest(r *http.Request) (PackageRequest, error) {
	var req PackageRequest
	if err := decode(r, &req); err != nil {
		return req, err
	}
	if at := req.PublicAttrs; at != nil {
		if len(req.PackageTypes) == 0 {
			req.PackageTypes = at.PackageTypes
		}
		if req.Summary == nil {
			req.Summary = at.Summary
		}
		req.PublicAttrs = nil
	}
	return req, nil
}

var kinds = []tokenstore.Kind{tokenstore.Conda, tokenstore.PyPI}

// records returns the registered records of one package, one per kind,
// or a 404 if there are none.
func (a *api) records(owner, name string) ([]*tokenstore.Package, error) {
	var out []*tokenstore.Package
	for _, k := range kinds {
		p, err := a.store.Package(owner, k, name)
		if errors.Is(err, tokenstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		if _, err := a.store.Account(owner); err != nil {
			return nil, err
		}
		return nil, errorf(http.StatusNotFound, "no package %s/%s", owner, name)
	}
	return out, nil
}

func packageInfo(recs []*tokenstore.Package) PackageInfo {
	first := recs[0]
	info := PackageInfo{Name: first.Name, Owner: PackageOwner{Login: first.Channel}, FullName: first.Channel + "/" + first.Name,
		Summary: first.Summary, Collaborators: []string{}, CreatedAt: *rfc3339(first.Created),
		Releases: []ReleaseSummary{}, CondaPlatforms: []string{}, Files: []DistInfo{}}
	for _, p := range recs {
		info.Public = info.Public || p.Public
		info.PackageTypes = append(info.PackageTypes, string(p.Kind))
		for _, u := range p.Collaborators {
			if !slices.Contains(info.Collaborators, u) {
				info.Collaborators = append(info.Collaborators, u)
			}
		}
	}
	return info
}

// visible reports whether c may see a package: one of its kinds is
// public or readable by c.
func (a *api) visible(c *caller, recs []*tokenstore.Package) (bool, error) {
	for _, p := range recs {
		if ok, err := a.readable(c, p.Channel, p.Kind, p.Name); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// readable reports whether c may read a package name of one kind,
// registered or not (tokenstore.Store.Readable; the operator reads all).
func (a *api) readable(c *caller, channel string, kind tokenstore.Kind, name string) (bool, error) {
	if c.operator() {
		return true, nil
	}
	return a.store.Readable(c.viewer(), channel, kind, name)
}

// readableNames keeps the package names c may read, so that listings
// never show a private name to a caller who may not read it
// (tokenstore.Store.ReadableNames, which the web pages call too).
func (a *api) readableNames(c *caller, channel string, names []string) ([]string, error) {
	if c.operator() {
		return names, nil
	}
	return a.store.ReadableNames(c.viewer(), channel, names)
}

// readPackage returns the package in the path if c may see it; a hidden
// package is a 404, as if it did not exist.
func (a *api) readPackage(r *http.Request, c *caller) ([]*tokenstore.Package, error) {
	owner, name := r.PathValue("owner"), r.PathValue("name")
	recs, err := a.records(owner, name)
	if err != nil {
		return nil, err
	}
	ok, err := a.visible(c, recs)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(http.StatusNotFound, "no package %s/%s", owner, name)
	}
	return recs, nil
}

// writablePackage returns the package in the path if c administers it
// (requirePackage). A package c may not read is a 404, as if it did not
// exist.
func (a *api) writablePackage(r *http.Request, c *caller) ([]*tokenstore.Package, error) {
	recs, err := a.readPackage(r, c)
	if err != nil {
		return nil, err
	}
	kinds := make([]tokenstore.Kind, len(recs))
	for i, p := range recs {
		kinds[i] = p.Kind
	}
	return recs, a.requirePackage(c, r.PathValue("owner"), r.PathValue("name"), kinds)
}

// getPackage is GET /package/{owner}/{name}, with its versions and files.
func (a *api) getPackage(r *http.Request, c *caller) (int, any, error) {
	recs, files, err := a.visibleFiles(r, c)
	if err != nil {
		return 0, nil, err
	}
	info := packageInfo(recs)
	for _, d := range files {
		info.Files = append(info.Files, distInfo(info.Owner.Login, info.Name, d))
		if !slices.ContainsFunc(info.Releases, func(rs ReleaseSummary) bool { return rs.Version == d.Version }) {
			info.Releases = append(info.Releases, ReleaseSummary{Version: d.Version})
		}
		info.LatestVersion = d.Version
		if sub, _, ok := strings.Cut(d.Basename, "/"); ok && d.Kind == tokenstore.Conda && !slices.Contains(info.CondaPlatforms, sub) {
			info.CondaPlatforms = append(info.CondaPlatforms, sub)
		}
	}
	return http.StatusOK, info, nil
}

// createPackage is POST /package/{owner}/{name}: registers the package for
// each of package_types (default conda). 200 with the package (the only
// success anaconda-client accepts); 409 if one of the kinds is already
// registered.
func (a *api) createPackage(r *http.Request, c *caller) (int, any, error) {
	req, err := decodePackageRequest(r)
	if err != nil {
		return 0, nil, err
	}
	owner, name := r.PathValue("owner"), r.PathValue("name")
	if len(req.PackageTypes) == 0 {
		req.PackageTypes = []string{string(tokenstore.Conda)}
	}
	var want []tokenstore.Kind
	for _, t := range req.PackageTypes {
		k, err := tokenstore.ParseKind(t)
		if err != nil {
			return 0, nil, err
		}
		if !slices.Contains(want, k) {
			want = append(want, k)
		}
	}
	if err := a.requirePackage(c, owner, name, want); err != nil {
		return 0, nil, err
	}
	for _, k := range want {
		switch _, err := a.store.Package(owner, k, name); {
		case err == nil:
			return 0, nil, errorf(http.StatusConflict, "%s package %s/%s already exists", k, owner, name)
		case !errors.Is(err, tokenstore.ErrNotFound):
			return 0, nil, err
		}
	}
	// In a channel private by default, packages are created private
	// whatever the body says: anaconda upload asks for a public package
	// unless given --private, and must not publish into such a channel.
	acct, err := a.store.Account(owner)
	if err != nil {
		return 0, nil, err
	}
	public := !acct.PrivateByDefault && (req.Public == nil || *req.Public)
	req.Public = &public
	summary := ""
	if req.Summary != nil {
		summary = *req.Summary
	}
	recs, err := a.store.PutPackages(c.actor(), owner, want, name, *req.Public, summary)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, packageInfo(recs), nil
}

// patchPackage is PATCH /package/{owner}/{name}: changes public and
// summary on every registered kind.
func (a *api) patchPackage(r *http.Request, c *caller) (int, any, error) {
	req, err := decodePackageRequest(r)
	if err != nil {
		return 0, nil, err
	}
	recs, err := a.writablePackage(r, c)
	if err != nil {
		return 0, nil, err
	}
	kinds := make([]tokenstore.Kind, len(recs))
	for i, p := range recs {
		kinds[i] = p.Kind
	}
	if recs, err = a.store.UpdatePackages(c.actor(), r.PathValue("owner"), kinds, r.PathValue("name"), req.Public, req.Summary); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, packageInfo(recs), nil
}

// deletePackage is DELETE /package/{owner}/{name} (anaconda remove
// OWNER/PKG): removes the package's files and every kind's registration.
// 201 is success.
func (a *api) deletePackage(r *http.Request, c *caller) (int, any, error) {
	recs, err := a.writablePackage(r, c)
	if err != nil {
		return 0, nil, err
	}
	files, err := a.packageFiles(r, recs)
	if err != nil {
		return 0, nil, err
	}
	if err := a.removeFiles(r, c, files); err != nil {
		return 0, nil, err
	}
	for _, p := range recs {
		if err := a.store.DeletePackage(c.actor(), p.Channel, p.Kind, p.Name); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusCreated, nil, nil
}

// listPackages is GET /packages/{owner}: the packages c may see.
func (a *api) listPackages(r *http.Request, c *caller) (int, any, error) {
	all, err := a.store.Packages(r.PathValue("owner"))
	if err != nil {
		return 0, nil, err
	}
	out, err := a.visiblePackages(c, all)
	return http.StatusOK, out, err
}

// visiblePackages groups records of one name as GET /package finds them
// (conda "my_tool" and pypi "my-tool" are one package; two records of the
// same kind that only PyPI's rules would join stay apart) and keeps the
// packages c may see.
func (a *api) visiblePackages(c *caller, all []*tokenstore.Package) ([]PackageInfo, error) {
	var keys []string
	groups := map[string][]*tokenstore.Package{}
	for _, p := range all {
		key := p.Channel + "/" + tokenstore.NormalizeName(tokenstore.PyPI, p.Name)
		if slices.ContainsFunc(groups[key], func(q *tokenstore.Package) bool { return q.Kind == p.Kind }) {
			key = p.Channel + "/" + string(p.Kind) + "/" + p.Name
		}
		if groups[key] == nil {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], p)
	}
	out := make([]PackageInfo, 0, len(keys))
	for _, k := range keys {
		ok, err := a.visible(c, groups[k])
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, packageInfo(groups[k]))
		}
	}
	return out, nil
}

// search is GET /search?name=Q[&type=conda|pypi] (anaconda search): the
// packages of every channel whose name contains Q that c may see.
func (a *api) search(r *http.Request, c *caller) (int, any, error) {
	q := strings.ToLower(r.URL.Query().Get("name"))
	kind := r.URL.Query().Get("type")
	accts, err := a.store.Accounts()
	if err != nil {
		return 0, nil, err
	}
	var hits []*tokenstore.Package
	for _, acct := range accts {
		pkgs, err := a.store.Packages(acct.Name)
		if err != nil {
			return 0, nil, err
		}
		for _, p := range pkgs {
			if strings.Contains(p.Name, q) && (kind == "" || string(p.Kind) == kind) {
				hits = append(hits, p)
			}
		}
	}
	out, err := a.visiblePackages(c, hits)
	return http.StatusOK, out, err
}

// listCollaborators is GET /packages/{owner}/{name}/collaborators.
func (a *api) listCollaborators(r *http.Request, c *caller) (int, any, error) {
	recs, err := a.readPackage(r, c)
	if err != nil {
		return 0, nil, err
	}
	users := packageInfo(recs).Collaborators
	out := make([]map[string]string, 0, len(users))
	for _, u := range users {
		out = append(out, map[string]string{"login": u})
	}
	return http.StatusOK, out, nil
}

// setCollaborator is PUT (add) and DELETE (remove)
// /packages/{owner}/{name}/collaborators/{user}, on every kind of the
// package. 201 is success, as for anaconda.org's other package changes.
func (a *api) setCollaborator(r *http.Request, c *caller) (int, any, error) {
	recs, err := a.writablePackage(r, c)
	if err != nil {
		return 0, nil, err
	}
	user, add := r.PathValue("user"), r.Method == http.MethodPut
	changed := false
	for _, p := range recs {
		if !add && !slices.Contains(p.Collaborators, user) {
			continue
		}
		if err := a.store.SetCollaborator(c.actor(), p.Channel, p.Kind, p.Name, user, add); err != nil {
			return 0, nil, err
		}
		changed = true
	}
	if !changed {
		return 0, nil, errorf(http.StatusNotFound, "%s is not a collaborator on %s/%s", user, recs[0].Channel, recs[0].Name)
	}
	return http.StatusCreated, nil, nil
}
