package admin

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/channelgate/channelgate/channelindex"
	"github.com/channelgate/channelgate/tokenstore"
)

// Dist is one package file in a channel, as the API shows it
// (anaconda.org calls files distributions).
type Dist struct {
	Kind tokenstore.Kind `json:"-"`
	// Basename is "<subdir>/<file>" for conda, "<file>" for PyPI.
	Basename string `json:"basename"`
	Name     string `json:"-"`
	Version  string `json:"version"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	MD5      string `json:"md5"`
	// Labels holds the file's conda labels ("main" included); empty for
	// PyPI files.
	Labels   []string       `json:"labels"`
	Uploaded time.Time      `json:"upload_time"`
	Attrs    map[string]any `json:"attrs"`
}

// Selection names the files of a channel a label change applies to: all,
// one package's, one version's or one file ("" leaves a part open).
type Selection struct {
	Package, Version, Basename string
}

// Matches reports whether d is selected.
func (s Selection) Matches(d Dist) bool {
	return (s.Package == "" || tokenstore.NormalizeName(d.Kind, s.Package) == tokenstore.NormalizeName(d.Kind, d.Name)) &&
		(s.Version == "" || s.Version == d.Version) && (s.Basename == "" || s.Basename == d.Basename)
}

// Storage keeps package files and their channels' indexes: the API
// publishes through it. Every change is atomic for readers of the
// indexes: a file is whole before any index lists it.
type Storage interface {
	// Files lists the files of one package of a channel (every version,
	// every label).
	Files(ctx context.Context, channel string, kind tokenstore.Kind, name string) ([]Dist, error)
	// Inspect reads a received file's metadata into a Dist (name,
	// version, basename, attrs, hashes, size), failing with a 400 if the
	// file is damaged, hostile or not what filename says.
	Inspect(ctx context.Context, kind tokenstore.Kind, filename, path string) (Dist, error)
	// Add publishes the file at path (which it may move) as d into its
	// labels (conda) or its project (PyPI), failing with an error
	// with a 409 if the channel has it already.
	Add(ctx context.Context, channel string, d Dist, path string) error
	// Remove deletes a file from every label.
	Remove(ctx context.Context, channel string, d Dist) error
	// Labels counts the files in each label of a channel.
	Labels(ctx context.Context, channel string) (map[string]int, error)
	// LabelFiles lists the files in one label.
	LabelFiles(ctx context.Context, channel, label string) ([]Dist, error)
	// Label adds (add) or removes the selected files of the label from to
	// another label, returning how many changed.
	Label(ctx context.Context, channel, from, to string, sel Selection) (int, error)
	// Unlabel removes the selected files from a label (the files stay in
	// their other labels), returning how many changed.
	Unlabel(ctx context.Context, channel, label string, sel Selection) (int, error)
	// TempDir is where uploads are received before they are verified:
	// on the same file system as the storage, so publishing renames.
	TempDir() string
}

// UploadEvent is one finished upload attempt, for metrics.
type UploadEvent struct {
	Kind tokenstore.Kind
	// Outcome is "ok", "refused" (authorization, quota, existing file)
	// or "invalid" (bad request or package) or "failed" (storage).
	Outcome string
	Bytes   int64
}

// storage returns the configured storage or a 404 saying publishing is
// off.
func (a *api) storage() (Storage, error) {
	if a.cfg.Storage == nil {
		return nil, errorf(http.StatusNotFound, "publishing is not configured on this server (no storage)")
	}
	return a.cfg.Storage, nil
}

// observe reports an upload's outcome to Config.OnUpload: "ok",
// "refused" (401, 403, 409, 413), "invalid" (other 4xx) or "failed".
func (a *api) observe(kind tokenstore.Kind, err error, bytes int64) {
	if a.cfg.OnUpload == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		bytes = 0
		switch status, _ := classify(err); {
		case status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusConflict,
			status == http.StatusRequestEntityTooLarge:
			outcome = "refused"
		case status >= 400 && status < 500:
			outcome = "invalid"
		default:
			outcome = "failed"
		}
	}
	a.cfg.OnUpload(UploadEvent{Kind: kind, Outcome: outcome, Bytes: bytes})
}

// labelsOf validates labels and returns them deduplicated; none means
// "main".
func labelsOf(in []string) ([]string, error) {
	var out []string
	for _, l := range in {
		l = strings.TrimSpace(l)
		if !channelindex.ValidLabel(l) {
			return nil, errorf(http.StatusBadRequest, "invalid label %q: use letters, digits, '.', '_' and '-'", l)
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		out = []string{"main"}
	}
	return out, nil
}

// planOf returns the plan of an account under the configured policy.
func (a *api) planOf(account string) (tokenstore.Plan, error) {
	acct, err := a.store.Account(account)
	if err != nil {
		return tokenstore.Plan{}, err
	}
	return a.cfg.Plans.For(acct), nil
}

// privatePackage reports whether files of a package are private: its
// registration's access, else the channel's default.
func (a *api) privatePackage(owner string, kind tokenstore.Kind, name string) (bool, error) {
	p, err := a.store.Package(owner, kind, name)
	if err == nil {
		return !p.Public, nil
	}
	if !errors.Is(err, tokenstore.ErrNotFound) {
		return false, err
	}
	acct, err := a.store.Account(owner)
	if err != nil {
		return false, err
	}
	return acct.PrivateByDefault, nil
}

// prefixKey carries the API's mount prefix in a request's context.
type prefixKey struct{}

// WithPrefix tells the API the path prefix it is mounted under ("/api"
// behind uri strip_prefix /api), which it needs for the absolute URLs it
// answers (the staging answer's post_url). Default "".
func WithPrefix(r *http.Request, prefix string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), prefixKey{}, prefix))
}

// siteRoot is the scheme and host the client reached.
func siteRoot(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// siteURL is the absolute URL of an API path.
func siteURL(r *http.Request, path string) string {
	prefix, _ := r.Context().Value(prefixKey{}).(string)
	return siteRoot(r) + prefix + path
}
