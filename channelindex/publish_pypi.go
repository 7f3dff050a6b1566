package channelindex

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/channelgate/channelgate/tokenstore"
)

// PythonAdd asks to publish one Python distribution.
type PythonAdd struct {
	Channel string
	File    string // base name: a wheel or an sdist
	// SHA256, if set, must be the file's (twine's sha256_digest).
	SHA256 string
	// Force replaces a file already published; without it that is
	// ErrExists and nothing is written.
	Force bool
}

// PythonFile is one published Python distribution.
type PythonFile struct {
	Channel        string
	Project        string // normalized (PEP 503)
	File           string
	Version        string // as the file name spells it
	Size           int64
	SHA256         string
	RequiresPython string
	// MetadataSHA256 is the sha256 of <file>.metadata (PEP 658), "" if
	// none is served.
	MetadataSHA256 string
	UploadTime     string // RFC 3339, UTC
}

// Path is the file's storage path.
func (f PythonFile) Path() string { return projectDir(f.Channel, f.Project) + "/" + f.File }

// PythonQuery selects published Python files of a channel; empty
// fields match everything.
type PythonQuery struct {
	Project string // any spelling; normalized
	Version string
	File    string
}

func simpleDir(channel string) string           { return channel + "/simple" }
func projectDir(channel, project string) string { return simpleDir(channel) + "/" + project }
func pypiLockKey(dir string) string             { return "pypi:" + dir }

// AddPython checks a Python distribution (ReadPythonDist) and publishes
// it: the file, then (wheels) <file>.metadata, then the project's
// index.json and index.html, then the channel's simple/ root. An invalid
// file (*InvalidPackageError), a bad request (ErrInvalidRequest) or an
// existing file without Force (ErrExists) is refused before anything is
// written.
func (p *Publisher) AddPython(ctx context.Context, req PythonAdd, r io.ReaderAt, size int64) (*PythonDist, error) {
	if err := validChannel(req.Channel); err != nil {
		return nil, err
	}
	d, err := ReadPythonDist(r, size, req.File, p.limits)
	if err != nil {
		return nil, err
	}
	if req.SHA256 != "" && !strings.EqualFold(req.SHA256, d.SHA256) {
		return nil, badRequestf("sha256 %s does not match the file's %s", req.SHA256, d.SHA256)
	}
	err = p.changeProject(ctx, req.Channel, d.Project, func(page *simpleProject) (func() error, error) {
		return nil, p.storeDist(page, projectDir(req.Channel, d.Project), d, r, req.Force)
	})
	if err != nil {
		return nil, err
	}
	return d, p.changeRoot(ctx, req.Channel, func(root *simpleRoot) { root.add(d.Project) })
}

// storeDist writes a distribution and its metadata, and lists it on the
// page.
func (p *Publisher) storeDist(page *simpleProject, dir string, d *PythonDist, r io.ReaderAt, force bool) error {
	listed := slices.IndexFunc(page.Files, func(f simpleFile) bool { return f.Filename == d.File })
	if !force {
		if _, err := p.store.Stat(dir + "/" + d.File); listed >= 0 || err == nil {
			return fmt.Errorf("%w: %s", ErrExists, d.File)
		}
	}
	if err := p.store.WriteAtomic(dir+"/"+d.File, io.NewSectionReader(r, 0, d.Size)); err != nil {
		return err
	}
	entry := simpleFile{Filename: d.File, URL: d.File, Hashes: map[string]string{"sha256": d.SHA256},
		RequiresPython: d.RequiresPython, CoreMetadata: false, Size: d.Size,
		UploadTime: p.now().UTC().Format(time.RFC3339)}
	if d.Format == FormatWheel {
		if err := p.store.WriteAtomic(dir+"/"+d.File+".metadata", bytes.NewReader(d.Metadata)); err != nil {
			return err
		}
		sum := sha256.Sum256(d.Metadata)
		meta := map[string]any{"sha256": hex.EncodeToString(sum[:])}
		entry.CoreMetadata = meta
	}
	if listed >= 0 {
		page.Files[listed] = entry
	} else {
		page.Files = append(page.Files, entry)
	}
	return nil
}

// changeProject runs change on a project page under its lock and
// writes the page; a page left without files is unlisted from the
// simple/ root and deleted instead. change may return a function to run
// after that (deleting files), still under the lock.
func (p *Publisher) changeProject(ctx context.Context, channel, project string, change func(*simpleProject) (func() error, error)) error {
	dir := projectDir(channel, project)
	unlock, err := p.lock(ctx, pypiLockKey(dir))
	if err != nil {
		return err
	}
	defer unlock()
	page, err := p.loadProject(dir, project)
	if err != nil {
		return err
	}
	after, err := change(page)
	if err != nil {
		return err
	}
	if len(page.Files) > 0 {
		page.sort()
		err = p.writeSimple(dir, page, renderProjectHTML(page))
	} else {
		err = p.dropProject(ctx, channel, project)
	}
	if err == nil && after != nil {
		err = after()
	}
	return err
}

// dropProject unlists a project from the simple/ root, then deletes its
// pages. Called holding the project's lock.
func (p *Publisher) dropProject(ctx context.Context, channel, project string) error {
	if err := p.changeRoot(ctx, channel, func(root *simpleRoot) { root.drop(project) }); err != nil {
		return err
	}
	for _, name := range []string{SimpleHTMLFile, SimpleJSONFile} {
		if err := p.store.Remove(projectDir(channel, project) + "/" + name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// loadProject reads a project page's index.json; absent is empty.
func (p *Publisher) loadProject(dir, project string) (*simpleProject, error) {
	page := &simpleProject{Name: project}
	b, err := readAll(p.store, dir+"/"+SimpleJSONFile)
	if errors.Is(err, fs.ErrNotExist) {
		return page, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, page); err != nil {
		return nil, fmt.Errorf("%s/%s: %w", dir, SimpleJSONFile, err)
	}
	return page, nil
}

// sort orders files by name and derives the version list.
func (page *simpleProject) sort() {
	page.Meta = map[string]string{"api-version": simpleAPIVersion}
	slices.SortFunc(page.Files, func(a, b simpleFile) int { return strings.Compare(a.Filename, b.Filename) })
	page.Versions = page.Versions[:0]
	for _, f := range page.Files {
		if v := distVersion(f.Filename); v != "" && !slices.Contains(page.Versions, v) {
			page.Versions = append(page.Versions, v)
		}
	}
	if page.Files == nil {
		page.Files = []simpleFile{}
	}
	if page.Versions == nil {
		page.Versions = []string{}
	}
}

// distVersion reads the version field of a wheel or sdist file name.
func distVersion(file string) string {
	f, stem := FormatOf(file)
	switch f {
	case FormatWheel:
		if parts := strings.Split(stem, "-"); len(parts) >= 5 {
			return parts[1]
		}
	case FormatSdist:
		if i := strings.LastIndexByte(stem, '-'); i > 0 {
			return stem[i+1:]
		}
	}
	return ""
}

// writeSimple writes a simple folder's two forms, JSON first.
func (p *Publisher) writeSimple(dir string, page any, htmlForm []byte) error {
	j, err := renderJSON(page)
	if err != nil {
		return err
	}
	if err := p.store.WriteAtomic(dir+"/"+SimpleJSONFile, bytes.NewReader(j)); err != nil {
		return err
	}
	return p.store.WriteAtomic(dir+"/"+SimpleHTMLFile, bytes.NewReader(htmlForm))
}

// changeRoot changes a channel's project list under its lock.
func (p *Publisher) changeRoot(ctx context.Context, channel string, change func(*simpleRoot)) error {
	dir := simpleDir(channel)
	unlock, err := p.lock(ctx, pypiLockKey(dir+"/"))
	if err != nil {
		return err
	}
	defer unlock()
	root := &simpleRoot{}
	b, err := readAll(p.store, dir+"/"+SimpleJSONFile)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, root); err != nil {
			return fmt.Errorf("%s/%s: %w", dir, SimpleJSONFile, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	change(root)
	root.Meta = map[string]string{"api-version": simpleAPIVersion}
	if root.Projects == nil {
		root.Projects = []map[string]string{}
	}
	return p.writeSimple(dir, root, renderRootHTML(root))
}

// add lists a project, keeping the list sorted.
func (r *simpleRoot) add(project string) {
	if slices.ContainsFunc(r.Projects, func(m map[string]string) bool { return m["name"] == project }) {
		return
	}
	r.Projects = append(r.Projects, map[string]string{"name": project})
	slices.SortFunc(r.Projects, func(a, b map[string]string) int { return strings.Compare(a["name"], b["name"]) })
}

// drop unlists a project.
func (r *simpleRoot) drop(project string) {
	r.Projects = slices.DeleteFunc(r.Projects, func(m map[string]string) bool { return m["name"] == project })
}

// PythonFiles lists the published Python files of a channel that q
// selects, from the project pages, sorted by project and file.
func (p *Publisher) PythonFiles(ctx context.Context, channel string, q PythonQuery) ([]PythonFile, error) {
	if err := validChannel(channel); err != nil {
		return nil, err
	}
	projects, err := p.projects(channel, q.Project)
	if err != nil {
		return nil, err
	}
	var out []PythonFile
	for _, project := range projects {
		page, err := p.loadProject(projectDir(channel, project), project)
		if err != nil {
			return nil, err
		}
		for _, f := range page.Files {
			if pf := f.toPythonFile(channel, project); q.matches(pf) {
				out = append(out, pf)
			}
		}
	}
	return out, nil
}

// projects lists the project folders to look at: one, or all.
func (p *Publisher) projects(channel, project string) ([]string, error) {
	if project != "" {
		if err := tokenstore.ValidatePackageName(project); err != nil {
			return nil, badRequestf("project: %s", err)
		}
		return []string{tokenstore.NormalizeName(tokenstore.PyPI, project)}, nil
	}
	entries, err := p.store.List(simpleDir(channel))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func (f simpleFile) toPythonFile(channel, project string) PythonFile {
	return PythonFile{Channel: channel, Project: project, File: f.Filename, Version: distVersion(f.Filename),
		Size: f.Size, SHA256: f.Hashes["sha256"], RequiresPython: f.RequiresPython,
		MetadataSHA256: f.metadataSHA256(), UploadTime: f.UploadTime}
}

func (q PythonQuery) matches(f PythonFile) bool {
	return (q.File == "" || q.File == f.File) && (q.Version == "" || sameVersion(f.Version, q.Version))
}

// RemovePython unpublishes the Python files of a channel that q
// selects: a file, a version or a whole project. Each project page is
// rewritten before its files (and their .metadata) are deleted; a
// project left without files leaves the simple/ root, then loses its
// pages. It returns what it removed, or ErrNotFound if q selects
// nothing.
func (p *Publisher) RemovePython(ctx context.Context, channel string, q PythonQuery) ([]PythonFile, error) {
	files, err := nonEmpty(p.PythonFiles(ctx, channel, q))
	if err != nil {
		return nil, err
	}
	byProject := map[string][]PythonFile{}
	for _, f := range files {
		byProject[f.Project] = append(byProject[f.Project], f)
	}
	for project, group := range byProject {
		if err := p.unpublishPython(ctx, channel, project, group); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// unpublishPython removes files of one project.
func (p *Publisher) unpublishPython(ctx context.Context, channel, project string, files []PythonFile) error {
	return p.changeProject(ctx, channel, project, func(page *simpleProject) (func() error, error) {
		page.Files = slices.DeleteFunc(page.Files, func(f simpleFile) bool {
			return slices.ContainsFunc(files, func(r PythonFile) bool { return r.File == f.Filename })
		})
		return func() error { return p.removeFiles(projectDir(channel, project), files) }, nil
	})
}

// removeFiles deletes distributions and their .metadata.
func (p *Publisher) removeFiles(dir string, files []PythonFile) error {
	for _, f := range files {
		for _, name := range []string{f.File, f.File + ".metadata"} {
			if err := p.store.Remove(dir + "/" + name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
