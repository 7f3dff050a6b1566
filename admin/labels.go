package admin

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/channelgate/channelgate/channelindex"
	"github.com/channelgate/channelgate/tokenstore"
)

// Labels, as anaconda-client calls them (its API still says channels):
// anaconda label --list/--show/--copy/--remove and anaconda move. A file
// is in one or more labels; "main" is the default.

// LabelInfo is GET /channels/{owner}/{label}.
type LabelInfo struct {
	IsLocked bool                `json:"is_locked"`
	Files    []map[string]string `json:"files"`
}

// labelRequest is the body of POST and DELETE /channels/{owner}/{label}.
type labelRequest struct {
	Package  *string `json:"package"`
	Version  *string `json:"version"`
	Basename *string `json:"basename"`
}

func (l labelRequest) selection() Selection {
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return Selection{Package: deref(l.Package), Version: deref(l.Version), Basename: deref(l.Basename)}
}

// listLabels is GET /channels/{owner}: each label and its file count.
func (a *api) listLabels(r *http.Request, c *caller) (int, any, error) {
	owner := r.PathValue("owner")
	if err := a.require(c, owner, tokenstore.PermRead); err != nil {
		return 0, nil, err
	}
	st, err := a.storage()
	if err != nil {
		return 0, nil, err
	}
	labels, err := st.Labels(r.Context(), owner)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, labels, nil
}

// showLabel is GET /channels/{owner}/{label}: the files in a label.
func (a *api) showLabel(r *http.Request, c *caller) (int, any, error) {
	owner, label := r.PathValue("owner"), r.PathValue("label")
	if err := a.require(c, owner, tokenstore.PermRead); err != nil {
		return 0, nil, err
	}
	st, err := a.storage()
	if err != nil {
		return 0, nil, err
	}
	files, err := st.LabelFiles(r.Context(), owner, label)
	if err != nil {
		return 0, nil, err
	}
	info := LabelInfo{Files: []map[string]string{}}
	for _, d := range files {
		info.Files = append(info.Files, map[string]string{"full_name": owner + "/" + d.Name + "/" + d.Version + "/" + d.Basename,
			"basename": d.Basename, "version": d.Version})
	}
	return http.StatusOK, info, nil
}

// addToLabel is POST /channels/{owner}/{label} {package, version,
// basename}: puts the selected files (from any label) into the label
// too (anaconda move adds, then removes from the old label). 201.
func (a *api) addToLabel(r *http.Request, c *caller) (int, any, error) {
	var req labelRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	return a.relabel(r, c, "", r.PathValue("label"), req.selection(), "label.add")
}

// copyLabel is POST /channels/{owner}/{label}/copy/{to} (anaconda label
// --copy FROM TO): every file of one label also in another. 201.
func (a *api) copyLabel(r *http.Request, c *caller) (int, any, error) {
	return a.relabel(r, c, r.PathValue("label"), r.PathValue("to"), Selection{}, "label.copy")
}

// removeFromLabel is DELETE /channels/{owner}/{label} (anaconda label
// --remove L with no body: the whole label; anaconda move: the selected
// files). Files stay in their other labels. 201.
func (a *api) removeFromLabel(r *http.Request, c *caller) (int, any, error) {
	var req labelRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	return a.relabel(r, c, r.PathValue("label"), "", req.selection(), "label.remove")
}

// relabel checks and makes one label change: to "" removes the selection
// from the label from; otherwise the selection of from ("" for every
// label) is added to to. It needs the conda upload scope and write
// permission on the selected package, or on the whole channel when no
// package is selected. It is audited with how many files changed.
func (a *api) relabel(r *http.Request, c *caller, from, to string, sel Selection, action string) (int, any, error) {
	owner := r.PathValue("owner")
	for _, l := range []string{from, to} {
		if l != "" && !channelindex.ValidLabel(l) {
			return 0, nil, errorf(http.StatusBadRequest, "invalid label %q", l)
		}
	}
	if sel.Package != "" {
		if err := a.mayPublish(c, owner, tokenstore.Conda, sel.Package); err != nil {
			return 0, nil, err
		}
	} else {
		if !c.caps().Has(tokenstore.CapCondaUpload) {
			return 0, nil, errorf(http.StatusForbidden, "token lacks scope %s", tokenstore.ScopeConda)
		}
		if err := a.require(c, owner, tokenstore.PermWrite); err != nil {
			return 0, nil, err
		}
	}
	st, err := a.storage()
	if err != nil {
		return 0, nil, err
	}
	var n int
	if to == "" {
		n, err = a.unlabel(r, st, owner, from, sel)
	} else {
		n, err = st.Label(r.Context(), owner, from, to, sel)
	}
	if err != nil {
		return 0, nil, err
	}
	if n == 0 {
		return 0, nil, errorf(http.StatusNotFound, "no files selected in %s", owner)
	}
	detail := fmt.Sprintf("%d files from label %s to label %s", n, cmp.Or(from, "(any)"), cmp.Or(to, "(none)"))
	if err := a.store.Record(c.actor(), action, strings.TrimRight(owner+"/"+sel.Package+"/"+sel.Version+"/"+sel.Basename, "/"), detail); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, nil, nil
}

// unlabel removes the selected files from a label and gives the owner
// back the bytes of those that were in no other label (they are gone).
func (a *api) unlabel(r *http.Request, st Storage, owner, label string, sel Selection) (int, error) {
	before, err := st.LabelFiles(r.Context(), owner, label)
	if err != nil {
		return 0, err
	}
	n, err := st.Unlabel(r.Context(), owner, label, sel)
	if err != nil {
		return n, err
	}
	for _, d := range before {
		if !sel.Matches(d) {
			continue
		}
		left, err := st.Files(r.Context(), owner, d.Kind, d.Name)
		if err != nil {
			return n, err
		}
		if !slices.ContainsFunc(left, func(l Dist) bool { return l.Basename == d.Basename }) {
			if err := a.store.Refund(owner, d.Size); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
