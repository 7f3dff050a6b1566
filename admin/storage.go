package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"slices"

	"github.com/channelgate/channelgate/channelindex"
	"github.com/channelgate/channelgate/tokenstore"
)

// dirStorage is the Storage on a local directory: channelindex's
// Publisher over channelindex.Dir.
type dirStorage struct {
	dir *channelindex.Dir
	pub *channelindex.Publisher
}

// OpenStorage returns the Storage that publishes into dir (the root
// file_server serves), with index updates serialized by locker: nil
// serializes them in this process only; gateways sharing dir pass a
// Locker they share (etcd's). Close releases it.
func OpenStorage(dir string, locker channelindex.Locker) (interface {
	Storage
	Close() error
}, error) {
	d, err := channelindex.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	pub, err := channelindex.NewPublisher(d, channelindex.Options{Locker: locker})
	if err != nil {
		d.Close()
		return nil, err
	}
	return &dirStorage{dir: d, pub: pub}, nil
}

// Close releases the publisher and the directory.
func (s *dirStorage) Close() error {
	s.pub.Close()
	return s.dir.Close()
}

// TempDir is the system's: channelindex copies a verified file into the
// storage atomically, so it need not share its file system.
func (s *dirStorage) TempDir() string { return "" }

// Files implements Storage.
func (s *dirStorage) Files(ctx context.Context, channel string, kind tokenstore.Kind, name string) ([]Dist, error) {
	if kind == tokenstore.PyPI {
		files, err := s.pub.PythonFiles(ctx, channel, channelindex.PythonQuery{Project: name})
		return pythonDists(files), storageErr(err)
	}
	files, err := s.pub.CondaFiles(ctx, channel, channelindex.CondaQuery{Name: name})
	return condaDists(files), storageErr(err)
}

// condaDists merges the per-label entries of conda files into one Dist
// per file, with its labels.
func condaDists(files []channelindex.CondaFile) []Dist {
	var out []Dist
	at := map[string]int{}
	for _, f := range files {
		base := f.Subdir + "/" + f.File
		if i, ok := at[base]; ok {
			out[i].Labels = append(out[i].Labels, f.Label)
			continue
		}
		var attrs map[string]any
		_ = json.Unmarshal(f.Record, &attrs) // a record the index holds is JSON
		at[base] = len(out)
		out = append(out, Dist{Kind: tokenstore.Conda, Basename: base, Name: f.Name, Version: f.Version, Size: f.Size,
			SHA256: f.SHA256, MD5: f.MD5, Labels: []string{f.Label}, Attrs: attrs})
	}
	for i := range out {
		slices.Sort(out[i].Labels)
	}
	return out
}

func pythonDists(files []channelindex.PythonFile) []Dist {
	out := make([]Dist, 0, len(files))
	for _, f := range files {
		out = append(out, Dist{Kind: tokenstore.PyPI, Basename: f.File, Name: f.Project, Version: f.Version, Size: f.Size,
			SHA256: f.SHA256, Labels: []string{}, Attrs: map[string]any{"requires_python": f.RequiresPython}})
	}
	return out
}

// Inspect implements Storage: the package is read and checked whole.
func (s *dirStorage) Inspect(_ context.Context, kind tokenstore.Kind, filename, file string) (Dist, error) {
	f, size, err := openSized(file)
	if err != nil {
		return Dist{}, err
	}
	defer f.Close()
	if kind == tokenstore.PyPI {
		d, err := channelindex.ReadPythonDist(f, size, filename, s.pub.Limits())
		if err != nil {
			return Dist{}, storageErr(err)
		}
		return Dist{Kind: kind, Basename: d.File, Name: d.Project, Version: d.Version, Size: d.Size, SHA256: d.SHA256,
			MD5: d.MD5, Labels: []string{}}, nil
	}
	p, err := channelindex.ReadCondaPackage(f, size, filename, s.pub.Limits())
	if err != nil {
		return Dist{}, storageErr(err)
	}
	var attrs map[string]any
	_ = json.Unmarshal(p.IndexJSON, &attrs) // checked by ReadCondaPackage
	return Dist{Kind: kind, Basename: p.Subdir + "/" + p.File, Name: p.Name, Version: p.Version, Size: p.Size,
		SHA256: p.SHA256, MD5: p.MD5, Attrs: attrs}, nil
}

// Add implements Storage.
func (s *dirStorage) Add(ctx context.Context, channel string, d Dist, file string) error {
	f, size, err := openSized(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if d.Kind == tokenstore.PyPI {
		_, err = s.pub.AddPython(ctx, channelindex.PythonAdd{Channel: channel, File: d.Basename, SHA256: d.SHA256}, f, size)
	} else {
		_, err = s.pub.AddConda(ctx, channelindex.CondaAdd{Channel: channel, Labels: d.Labels, File: d.Basename, SHA256: d.SHA256}, f, size)
	}
	return storageErr(err)
}

// Remove implements Storage.
func (s *dirStorage) Remove(ctx context.Context, channel string, d Dist) error {
	var err error
	if d.Kind == tokenstore.PyPI {
		_, err = s.pub.RemovePython(ctx, channel, channelindex.PythonQuery{Project: d.Name, File: d.Basename})
	} else {
		subdir, file := path.Split(d.Basename)
		_, err = s.pub.RemoveConda(ctx, channel, channelindex.CondaQuery{Subdir: path.Clean(subdir), File: file})
	}
	return storageErr(err)
}

// Labels implements Storage.
func (s *dirStorage) Labels(ctx context.Context, channel string) (map[string]int, error) {
	files, err := s.pub.CondaFiles(ctx, channel, channelindex.CondaQuery{})
	if err != nil {
		return nil, storageErr(err)
	}
	out := map[string]int{}
	for _, f := range files {
		out[f.Label]++
	}
	return out, nil
}

// LabelFiles implements Storage.
func (s *dirStorage) LabelFiles(ctx context.Context, channel, label string) ([]Dist, error) {
	files, err := s.pub.CondaFiles(ctx, channel, channelindex.CondaQuery{Label: label})
	return condaDists(files), storageErr(err)
}

// Label implements Storage.
func (s *dirStorage) Label(ctx context.Context, channel, from, to string, sel Selection) (int, error) {
	files, err := s.pub.CopyConda(ctx, channel, query(from, sel), to, false)
	return len(files), storageErr(err)
}

// Unlabel implements Storage.
func (s *dirStorage) Unlabel(ctx context.Context, channel, label string, sel Selection) (int, error) {
	files, err := s.pub.RemoveConda(ctx, channel, query(label, sel))
	return len(files), storageErr(err)
}

// query is the conda query of a label and a selection.
func query(label string, sel Selection) channelindex.CondaQuery {
	q := channelindex.CondaQuery{Label: label, Name: sel.Package, Version: sel.Version}
	if sel.Basename != "" {
		subdir, file := path.Split(sel.Basename)
		q.Subdir, q.File = path.Clean(subdir), file
		if subdir == "" {
			q.Subdir = ""
		}
	}
	return q
}

func openSized(file string) (*os.File, int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// storageErr maps channelindex's refusals to the API's errors; other
// errors (the storage failing) pass as they are.
func storageErr(err error) error {
	var bad *channelindex.InvalidPackageError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &bad):
		return errorf(http.StatusBadRequest, "%s", bad.Error())
	case errors.Is(err, channelindex.ErrInvalidRequest):
		return errorf(http.StatusBadRequest, "%v", err)
	case errors.Is(err, channelindex.ErrExists):
		return errorf(http.StatusConflict, "%v", err)
	case errors.Is(err, channelindex.ErrNotFound):
		return errorf(http.StatusNotFound, "%v", err)
	}
	return fmt.Errorf("storage: %w", err)
}
