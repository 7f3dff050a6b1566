package admin

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// Releases and distributions are not records of their own: a release is
// the files of one version of a package, read from the storage, so they
// can never disagree with what the channel serves.

// DistInfo is a file as GET /dist answers it (anaconda show OWNER/PKG/VER/FILE).
type DistInfo struct {
	Dist
	FullName    string `json:"full_name"`
	Description string `json:"description"`
	Type        string `json:"distribution_type"`
}

// ReleaseInfo is a version as GET /release answers it.
type ReleaseInfo struct {
	Version       string     `json:"version"`
	FullName      string     `json:"full_name"`
	Distributions []DistInfo `json:"distributions"`
	PublicAttrs   struct{}   `json:"public_attrs"`
}

func distInfo(owner, name string, d Dist) DistInfo {
	return DistInfo{Dist: d, FullName: owner + "/" + name + "/" + d.Version + "/" + d.Basename, Type: string(d.Kind)}
}

// packageFiles returns every file of every kind of a package the caller
// may see (readPackage decides), oldest version first.
func (a *api) packageFiles(r *http.Request, recs []*tokenstore.Package) ([]Dist, error) {
	st, err := a.storage()
	if err != nil {
		return nil, nil // no storage: a registry without files
	}
	var out []Dist
	for _, p := range recs {
		files, err := st.Files(r.Context(), p.Channel, p.Kind, p.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Uploaded.Before(out[j].Uploaded) })
	return out, nil
}

// visibleFiles is readPackage plus its files.
func (a *api) visibleFiles(r *http.Request, c *caller) ([]*tokenstore.Package, []Dist, error) {
	recs, err := a.readPackage(r, c)
	if err != nil {
		return nil, nil, err
	}
	files, err := a.packageFiles(r, recs)
	return recs, files, err
}

// findDist returns the file {basename} of version {ver} of the package
// in the path, or a 404.
func (a *api) findDist(r *http.Request, c *caller) (Dist, error) {
	_, files, err := a.visibleFiles(r, c)
	if err != nil {
		return Dist{}, err
	}
	ver, base := r.PathValue("ver"), r.PathValue("basename")
	for _, d := range files {
		if d.Version == ver && d.Basename == base {
			return d, nil
		}
	}
	return Dist{}, errorf(http.StatusNotFound, "no file %s/%s/%s/%s", r.PathValue("owner"), r.PathValue("name"), ver, base)
}

// getDist is GET /dist/{owner}/{name}/{ver}/{basename...}: 200 if the
// file exists (anaconda upload then stops, skips or deletes it), 404 if
// not.
func (a *api) getDist(r *http.Request, c *caller) (int, any, error) {
	d, err := a.findDist(r, c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, distInfo(r.PathValue("owner"), r.PathValue("name"), d), nil
}

// deleteDist is DELETE /dist/{owner}/{name}/{ver}/{basename...}
// (anaconda upload --force, anaconda remove OWNER/PKG/VER/FILE): removes
// the file from every label. 200 with the file is success, as the client
// expects here.
func (a *api) deleteDist(r *http.Request, c *caller) (int, any, error) {
	d, err := a.findDist(r, c)
	if err != nil {
		return 0, nil, err
	}
	if err := a.removeFiles(r, c, []Dist{d}); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, distInfo(r.PathValue("owner"), r.PathValue("name"), d), nil
}

// removeFiles deletes files of the package in the path after checking
// that c may write to it and may publish its kind, gives their bytes back
// to the owner's usage and audits each.
func (a *api) removeFiles(r *http.Request, c *caller, files []Dist) error {
	if len(files) == 0 {
		return nil
	}
	owner, name := r.PathValue("owner"), r.PathValue("name")
	st, err := a.storage()
	if err != nil {
		return err
	}
	for _, d := range files {
		if err := a.mayPublish(c, owner, d.Kind, name); err != nil {
			return err
		}
	}
	for _, d := range files {
		if err := st.Remove(r.Context(), owner, d); err != nil {
			return err
		}
		if err := a.store.Refund(owner, d.Size); err != nil {
			return err
		}
		if err := a.store.Record(c.actor(), "dist.remove", owner+"/"+name+"/"+d.Version+"/"+d.Basename, fileDetail(d)); err != nil {
			return err
		}
	}
	return nil
}

// mayPublish fails unless c may upload and remove files of a package: a
// token needs the kind's upload scope, and the caller write permission
// on the package (owner, group with write, collaborator).
func (a *api) mayPublish(c *caller, owner string, kind tokenstore.Kind, name string) error {
	need := tokenstore.CapCondaUpload
	if kind == tokenstore.PyPI {
		need = tokenstore.CapPyPIUpload
	}
	if !c.caps().Has(need) {
		return errorf(http.StatusForbidden, "token lacks scope %s", tokenstore.ScopeFor(need))
	}
	perm, err := a.perm(c, owner, kind, tokenstore.NormalizeName(kind, name))
	if err != nil {
		return err
	}
	if perm < tokenstore.PermWrite {
		if _, err := a.store.Account(owner); err != nil {
			return err
		}
		return errorf(http.StatusForbidden, "%s may not write to %s/%s", c.actor().Name, owner, name)
	}
	return nil
}

// getRelease is GET /release/{owner}/{name}/{ver}: the version's files,
// 404 if it has none.
func (a *api) getRelease(r *http.Request, c *caller) (int, any, error) {
	_, files, err := a.visibleFiles(r, c)
	if err != nil {
		return 0, nil, err
	}
	rel := a.release(r, files)
	if len(rel.Distributions) == 0 {
		return 0, nil, errorf(http.StatusNotFound, "no release %s/%s/%s", r.PathValue("owner"), r.PathValue("name"), r.PathValue("ver"))
	}
	return http.StatusOK, rel, nil
}

func (a *api) release(r *http.Request, files []Dist) ReleaseInfo {
	owner, name, ver := r.PathValue("owner"), r.PathValue("name"), r.PathValue("ver")
	rel := ReleaseInfo{Version: ver, FullName: owner + "/" + name + "/" + ver, Distributions: []DistInfo{}}
	for _, d := range files {
		if d.Version == ver {
			rel.Distributions = append(rel.Distributions, distInfo(owner, name, d))
		}
	}
	return rel
}

// putRelease is POST and PATCH /release/{owner}/{name}/{ver}: a release
// exists once it has a file, so this only checks that the caller may
// write to the package and answers the release as it stands (200).
func (a *api) putRelease(r *http.Request, c *caller) (int, any, error) {
	var body map[string]any
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	recs, files, err := a.visibleFiles(r, c)
	if err != nil {
		return 0, nil, err
	}
	if err := a.mayWriteAny(c, recs); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.release(r, files), nil
}

// mayWriteAny fails unless c may publish at least one kind of a package.
func (a *api) mayWriteAny(c *caller, recs []*tokenstore.Package) error {
	var err error
	for _, p := range recs {
		if err = a.mayPublish(c, p.Channel, p.Kind, p.Name); err == nil {
			return nil
		}
	}
	return err
}

// deleteRelease is DELETE /release/{owner}/{name}/{ver} (anaconda remove
// OWNER/PKG/VER): removes the version's files. 201 is success.
func (a *api) deleteRelease(r *http.Request, c *caller) (int, any, error) {
	recs, files, err := a.visibleFiles(r, c)
	if err != nil {
		return 0, nil, err
	}
	if err := a.mayWriteAny(c, recs); err != nil {
		return 0, nil, err
	}
	files = slices.DeleteFunc(files, func(d Dist) bool { return d.Version != r.PathValue("ver") })
	return http.StatusCreated, nil, a.removeFiles(r, c, files)
}

// fileDetail is the audit detail of a file: size, sha256 and labels.
func fileDetail(d Dist) string {
	s := "size " + strconv.FormatInt(d.Size, 10) + " sha256 " + d.SHA256
	if len(d.Labels) > 0 {
		s += " labels " + strings.Join(d.Labels, ",")
	}
	return s
}
