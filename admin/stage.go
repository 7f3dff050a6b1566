package admin

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/channelgate/channelgate/channelindex"
	"github.com/channelgate/channelgate/tokenstore"
)

// anaconda upload, after the package and the release: POST /stage answers
// where to post the file and a grant for it; the client posts the file
// there with no Authorization header (it expects an S3 bucket), so the
// grant in the form authorizes it; then POST /commit confirms.

// StageRequest is the body of POST /stage/{owner}/{name}/{ver}/{basename}.
type StageRequest struct {
	DistributionType string   `json:"distribution_type"`
	Channels         []string `json:"channels"`
	SHA256           string   `json:"sha256"`
}

// StageAnswer tells the client where to post the file.
type StageAnswer struct {
	PostURL  string            `json:"post_url"`
	FormData map[string]string `json:"form_data"`
	DistID   string            `json:"dist_id"`
}

// grantField is the form field that carries the grant.
const grantField = "grant"

// stage is POST /stage/{owner}/{name}/{ver}/{basename...}: checks that the
// caller may upload this file now (scope, permission, plan, no such file
// yet) and answers a grant bound to it.
func (a *api) stage(r *http.Request, c *caller) (int, any, error) {
	var req StageRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	st, err := a.storage()
	if err != nil {
		return 0, nil, err
	}
	owner, name, ver, base := r.PathValue("owner"), r.PathValue("name"), r.PathValue("ver"), r.PathValue("basename")
	if req.DistributionType != string(tokenstore.Conda) {
		return 0, nil, errorf(http.StatusBadRequest, "distribution type %q is not taken here: upload conda packages with anaconda upload, Python packages with twine", req.DistributionType)
	}
	if err := checkCondaBasename(base, name, ver); err != nil {
		return 0, nil, err
	}
	if !isSHA256(req.SHA256) {
		return 0, nil, errorf(http.StatusBadRequest, "sha256 must be 64 lowercase hexadecimal digits")
	}
	labels, err := labelsOf(req.Channels)
	if err != nil {
		return 0, nil, err
	}
	if err := a.mayPublish(c, owner, tokenstore.Conda, name); err != nil {
		return 0, nil, err
	}
	private, err := a.admitUpload(owner, tokenstore.Conda, name)
	if err != nil {
		return 0, nil, err
	}
	files, err := st.Files(r.Context(), owner, tokenstore.Conda, name)
	if err != nil {
		return 0, nil, err
	}
	for _, d := range files {
		if d.Basename == base {
			return 0, nil, errorf(http.StatusConflict, "file %s already exists for package %s version %s", base, name, d.Version)
		}
	}
	grant, err := a.store.IssueGrant(tokenstore.Grant{Owner: owner, Package: tokenstore.NormalizeName(tokenstore.Conda, name),
		Version: ver, Basename: base, Kind: tokenstore.Conda, Labels: labels, SHA256: req.SHA256, Private: private,
		Actor: c.actor().Name}, a.cfg.GrantTTL)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, StageAnswer{PostURL: siteURL(r, "/upload"), FormData: map[string]string{grantField: grant},
		DistID: req.SHA256}, nil
}

// admitUpload checks what can be checked before the bytes arrive: the
// package's access against the owner's plan, and that the owner has
// storage left. It returns whether the package is private.
func (a *api) admitUpload(owner string, kind tokenstore.Kind, name string) (bool, error) {
	private, err := a.privatePackage(owner, kind, tokenstore.NormalizeName(kind, name))
	if err != nil {
		return false, err
	}
	plan, err := a.planOf(owner)
	if err != nil {
		return false, err
	}
	if err := plan.Admits(0, private); err != nil {
		return false, err
	}
	used, err := a.store.Usage(owner)
	if err != nil {
		return false, err
	}
	if plan.StorageBytes > 0 && used >= plan.StorageBytes {
		return false, errorf(http.StatusForbidden, "storage quota exceeded: %s keeps %d bytes, plan %s allows %d", owner, used, plan.Name, plan.StorageBytes)
	}
	return private, nil
}

// receive is POST /upload, the staging answer's post_url: a multipart
// form of the grant (first), the client's Content-Length and Content-MD5
// and the file. Success is exactly 201; errors are S3's XML, which is what
// anaconda-client parses.
func (a *api) receive(w http.ResponseWriter, r *http.Request) {
	kind, size, err := a.receiveUpload(r)
	a.observe(kind, err, size)
	if err != nil {
		status, msg := a.statusOf(err)
		writeS3Error(w, status, msg)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, xml.Header+"<PostResponse></PostResponse>\n")
}

func (a *api) receiveUpload(r *http.Request) (tokenstore.Kind, int64, error) {
	if _, err := a.storage(); err != nil {
		return tokenstore.Conda, 0, err
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return tokenstore.Conda, 0, errorf(http.StatusBadRequest, "expected a multipart/form-data upload")
	}
	fields, file, err := formUntil(mr, "file", grantField)
	if err != nil {
		return tokenstore.Conda, 0, err
	}
	g, err := a.store.RedeemGrant(fields[grantField])
	if err != nil {
		return tokenstore.Conda, 0, err
	}
	actor := tokenstore.Actor{Name: g.Actor, Remote: a.cfg.ClientAddress(r)}
	want := Dist{Kind: g.Kind, Name: g.Package, Version: g.Version, Basename: g.Basename, Labels: g.Labels}
	d, err := a.publish(r.Context(), actor, g.Owner, want, g.Private, file, digests{sha256: g.SHA256, md5b64: fields["Content-MD5"]})
	return g.Kind, d.Size, err
}

// Limits of the form fields before an upload's file part (twine sends
// the whole core metadata, the description included, as fields).
const (
	maxFormFields     = 512
	maxFormFieldBytes = 1 << 20
	maxFormBytes      = 8 << 20
)

// formUntil reads form fields up to the file part named file and returns
// them with that part; a repeated field keeps its first value. Fields in
// need must come before the file.
func formUntil(mr *multipart.Reader, file string, need ...string) (map[string]string, *multipart.Part, error) {
	fields := map[string]string{}
	total := 0
	for range maxFormFields {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, errorf(http.StatusBadRequest, "malformed multipart body: %v", err)
		}
		if p.FormName() == file {
			for _, n := range need {
				if fields[n] == "" {
					return nil, nil, errorf(http.StatusBadRequest, "form field %q must come before the file", n)
				}
			}
			return fields, p, nil
		}
		b, err := io.ReadAll(io.LimitReader(p, maxFormFieldBytes+1))
		if err != nil {
			return nil, nil, errorf(http.StatusBadRequest, "malformed multipart body: %v", err)
		}
		if total += len(b); len(b) > maxFormFieldBytes || total > maxFormBytes {
			return nil, nil, errorf(http.StatusRequestEntityTooLarge, "form fields are larger than %d bytes each or %d in all", maxFormFieldBytes, maxFormBytes)
		}
		if _, ok := fields[p.FormName()]; !ok {
			fields[p.FormName()] = string(b)
		}
	}
	return nil, nil, errorf(http.StatusBadRequest, "no %q part in the form (at most %d fields before it)", file, maxFormFields)
}

// writeS3Error answers an error as S3's XML.
func writeS3Error(w http.ResponseWriter, status int, msg string) {
	code := map[int]string{http.StatusBadRequest: "InvalidArgument", http.StatusForbidden: "AccessDenied",
		http.StatusNotFound: "NoSuchUpload", http.StatusConflict: "OperationAborted",
		http.StatusRequestEntityTooLarge: "EntityTooLarge"}[status]
	if code == "" {
		code = "ServiceUnavailable"
	}
	if strings.Contains(msg, "Content-MD5") {
		code = "InvalidDigest"
	}
	var b strings.Builder
	b.WriteString(xml.Header + "<Error><Code>" + code + "</Code><Message>")
	_ = xml.EscapeText(&b, []byte(oneLine(msg)))
	b.WriteString("</Message></Error>\n")
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
}

// commit is POST /commit/{owner}/{name}/{ver}/{basename...} {"dist_id"}:
// the file was published when it was received; this confirms it is there
// and answers where.
func (a *api) commit(r *http.Request, c *caller) (int, any, error) {
	var req struct {
		DistID string `json:"dist_id"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	d, err := a.findDist(r, c)
	if err != nil {
		return 0, nil, err
	}
	if req.DistID != d.SHA256 {
		return 0, nil, errorf(http.StatusConflict, "dist_id does not match the stored file %s", d.Basename)
	}
	info := distInfo(r.PathValue("owner"), r.PathValue("name"), d)
	return http.StatusOK, map[string]any{"url": siteRoot(r) + "/" + r.PathValue("owner") + "/" + d.Basename,
		"basename": d.Basename, "sha256": d.SHA256, "size": d.Size, "full_name": info.FullName, "labels": d.Labels}, nil
}

// checkCondaBasename checks "<subdir>/<name>-<version>-<build>.conda" (or
// .tar.bz2) against the package name and version of the path.
func checkCondaBasename(base, name, ver string) error {
	subdir, file, ok := strings.Cut(base, "/")
	if !ok || channelindex.ValidateSubdir(subdir) != nil || strings.Contains(file, "/") {
		return errorf(http.StatusBadRequest, "file name %q must be <subdir>/<name>-<version>-<build>.conda or .tar.bz2", base)
	}
	stem, ok := strings.CutSuffix(file, ".conda")
	if !ok {
		if stem, ok = strings.CutSuffix(file, ".tar.bz2"); !ok {
			return errorf(http.StatusBadRequest, "file name %q must end in .conda or .tar.bz2", base)
		}
	}
	i := strings.LastIndexByte(stem, '-')
	j := strings.LastIndexByte(stem[:max(i, 0)], '-')
	if i <= 0 || j <= 0 || i == len(stem)-1 {
		return errorf(http.StatusBadRequest, "file name %q must be <name>-<version>-<build>", file)
	}
	if !strings.EqualFold(stem[:j], name) || stem[j+1:i] != ver {
		return errorf(http.StatusBadRequest, "file %q is not version %s of %s", file, ver, name)
	}
	return nil
}

// isSHA256 accepts 64 lowercase hexadecimal digits.
func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size && strings.ToLower(s) == s
}

// digests are what a received file must hash to: sha256 as lowercase hex
// (required), md5 as hex or base64 (optional), blake2b-256 as hex
// (optional).
type digests struct {
	sha256, md5hex, md5b64, blake2 string
}

// check compares the digests of a received file with the expected ones.
func (want digests) check(sha256hex, md5sum, blake2 []byte) error {
	switch {
	case string(sha256hex) != want.sha256:
		return errorf(http.StatusBadRequest, "sha256 of the file is %s, not %s", sha256hex, want.sha256)
	case want.md5b64 != "" && want.md5b64 != base64.StdEncoding.EncodeToString(md5sum):
		return errorf(http.StatusBadRequest, "Content-MD5 does not match the file")
	case want.md5hex != "" && !strings.EqualFold(want.md5hex, hex.EncodeToString(md5sum)):
		return errorf(http.StatusBadRequest, "md5_digest does not match the file")
	case want.blake2 != "" && !strings.EqualFold(want.blake2, hex.EncodeToString(blake2)):
		return errorf(http.StatusBadRequest, "blake2_256_digest does not match the file")
	}
	return nil
}
