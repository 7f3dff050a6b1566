package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// twine upload posts each file to the repository URL,
// http://HOST/<channel>/ or http://HOST/<channel>/simple/ (the same with
// /t/<token>/ in front), in PyPI's legacy multipart form. The site
// rewrites those POSTs to /pypi/upload and gives the path the client
// posted to with WithUploadPath (see Caddyfile.example): so the token of
// a /t/ path is never in a rewritten URL, which Caddy logs.

// uploadPathKey carries the path twine posted to in a request's context.
type uploadPathKey struct{}

// WithUploadPath gives POST /pypi/upload the path the client posted to,
// "/[t/<token>/]<channel>/[simple/]".
func WithUploadPath(r *http.Request, path string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), uploadPathKey{}, path))
}

// twineUpload is POST /pypi/upload. Success is 200; a file the project
// has is 409, which twine --skip-existing skips.
func (a *api) twineUpload(w http.ResponseWriter, r *http.Request) {
	size, err := a.receiveTwine(r)
	a.observe(tokenstore.PyPI, err, size)
	if err != nil {
		var he *httpError
		if errors.Is(err, tokenstore.ErrAuth) || errors.As(err, &he) && he.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="channelgate"`)
		}
		a.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "uploaded"})
}

func (a *api) receiveTwine(r *http.Request) (int64, error) {
	posted, _ := r.Context().Value(uploadPathKey{}).(string)
	st, err := a.storage()
	if err != nil {
		return 0, err
	}
	pathToken, channel, err := twineTarget(strings.TrimPrefix(posted, "/"))
	if err != nil {
		return 0, err
	}
	c, err := a.uploader(r, pathToken)
	if err != nil {
		return 0, err
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return 0, errorf(http.StatusBadRequest, "expected a multipart/form-data upload (PyPI's legacy API)")
	}
	f, part, err := formUntil(mr, "content", ":action", "name", "version", "filetype", "sha256_digest")
	if err != nil {
		return 0, err
	}
	filename := part.FileName()
	switch {
	case f[":action"] != "file_upload":
		return 0, errorf(http.StatusBadRequest, ":action must be file_upload")
	case f["protocol_version"] != "" && f["protocol_version"] != "1":
		return 0, errorf(http.StatusBadRequest, "protocol_version must be 1")
	case f["filetype"] != "sdist" && f["filetype"] != "bdist_wheel":
		return 0, errorf(http.StatusBadRequest, "filetype must be sdist or bdist_wheel, not %q", f["filetype"])
	case !isSHA256(strings.ToLower(f["sha256_digest"])):
		return 0, errorf(http.StatusBadRequest, "sha256_digest must be 64 hexadecimal digits")
	case filename == "" || strings.ContainsAny(filename, `/\`) || strings.HasPrefix(filename, "."):
		return 0, errorf(http.StatusBadRequest, "invalid file name %q", filename)
	}
	project := tokenstore.NormalizeName(tokenstore.PyPI, f["name"])
	if err := tokenstore.ValidatePackageName(f["name"]); err != nil {
		return 0, err
	}
	if err := a.mayPublish(c, channel, tokenstore.PyPI, project); err != nil {
		return 0, err
	}
	private, err := a.admitUpload(channel, tokenstore.PyPI, project)
	if err != nil {
		return 0, err
	}
	files, err := st.Files(r.Context(), channel, tokenstore.PyPI, project)
	if err != nil {
		return 0, err
	}
	for _, d := range files {
		if d.Basename == filename {
			return 0, errorf(http.StatusConflict, "File already exists: %s", filename)
		}
	}
	want := Dist{Kind: tokenstore.PyPI, Name: project, Version: f["version"], Basename: filename}
	d, err := a.publish(r.Context(), c.actor(), channel, want, private, part,
		digests{sha256: strings.ToLower(f["sha256_digest"]), md5hex: f["md5_digest"], blake2: f["blake2_256_digest"]})
	return d.Size, err
}

// twineTarget parses "[t/<token>/]<channel>/[simple/]".
func twineTarget(p string) (token, channel string, err error) {
	if rest, ok := strings.CutPrefix(p, "t/"); ok {
		token, p, ok = strings.Cut(rest, "/")
		if !ok || token == "" {
			return "", "", errorf(http.StatusNotFound, "no upload endpoint here: post to /<channel>/ or /<channel>/simple/")
		}
	}
	channel, rest, _ := strings.Cut(p, "/")
	if tokenstore.ValidateAccountName(channel) != nil || (rest != "" && rest != "simple" && rest != "simple/") {
		return "", "", errorf(http.StatusNotFound, "no upload endpoint here: post to /<channel>/ or /<channel>/simple/")
	}
	return token, channel, nil
}

// uploader authenticates a twine upload: the token of a /t/<token>/ path,
// HTTP Basic with the token as password (user __token__, as on PyPI) or
// as user name, a user's password, or "Authorization: token|Bearer".
// Anonymous uploads are refused with 401.
func (a *api) uploader(r *http.Request, pathToken string) (*caller, error) {
	c := &caller{remote: a.cfg.ClientAddress(r)}
	var err error
	user, pass, basic := r.BasicAuth()
	switch {
	case pathToken != "":
		err = a.bearer(r, c, "token", pathToken)
	case basic && (user == "__token__" || strings.HasPrefix(pass, tokenstore.TokenPrefix)):
		err = a.bearer(r, c, "token", pass)
	case basic && strings.HasPrefix(user, tokenstore.TokenPrefix):
		err = a.bearer(r, c, "token", user)
	case basic:
		err = a.password(c, user, pass)
	default:
		return a.identify(r, policy{login: true})
	}
	if err == nil && c.anonymous() {
		err = errorf(http.StatusUnauthorized, "authentication required")
	}
	return c, err
}
