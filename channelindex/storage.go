package channelindex

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// Storage is where channels live: the files clients download and the
// indexes that list them, by slash-separated paths relative to its root
// ("acme/label/dev/noarch/repodata.json"). The local directory (Dir) is
// the embedded default, the same root file_server serves; an object
// store can implement it later (see README, "Publishing").
// Implementations must be safe for concurrent use.
type Storage interface {
	// Open opens a file for reading; an absent file is an error that
	// wraps fs.ErrNotExist.
	Open(name string) (io.ReadCloser, error)
	// Stat describes a file; absent: wraps fs.ErrNotExist.
	Stat(name string) (fs.FileInfo, error)
	// WriteAtomic writes the whole of r to name, creating folders as
	// needed: a reader sees the old file or the new one, never a part,
	// and once it returns the new file survives a crash. On error the
	// old file (if any) is left as it was.
	WriteAtomic(name string, r io.Reader) error
	// Remove deletes a file, durably; absent: wraps fs.ErrNotExist.
	Remove(name string) error
	// List returns a folder's entries sorted by name; an absent folder
	// has none.
	List(dir string) ([]fs.DirEntry, error)
}

// tempMarker starts the names of files being written. The gateway
// refuses any request path holding '#' (it would be a URL fragment), so
// a file being written can never be downloaded.
const tempMarker = ".cg-tmp#"

// Dir is a Storage on a local folder. Every path stays inside it: names
// are checked, and the folder is opened as an os.Root, so a symlink in
// storage cannot lead writes outside.
type Dir struct {
	root *os.Root
}

var _ Storage = (*Dir)(nil)

// OpenDir opens (creating it if needed) the folder at dir as storage.
func OpenDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Dir{root: root}, nil
}

// Close releases the folder.
func (d *Dir) Close() error { return d.root.Close() }

// checkName refuses names that are not clean relative paths.
func checkName(name string) error {
	if !fs.ValidPath(name) || name == "." || strings.ContainsAny(name, "\\\x00") {
		return fmt.Errorf("storage path %q is not a clean relative path", name)
	}
	return nil
}

// Open implements Storage.
func (d *Dir) Open(name string) (io.ReadCloser, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	return d.root.Open(name)
}

// Stat implements Storage.
func (d *Dir) Stat(name string) (fs.FileInfo, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	return d.root.Stat(name)
}

// WriteAtomic implements Storage: a temporary file in the same folder,
// written, fsynced, renamed over name, then the folder fsynced.
func (d *Dir) WriteAtomic(name string, r io.Reader) error {
	if err := checkName(name); err != nil {
		return err
	}
	dir := path.Dir(name)
	if err := d.mkdirs(dir); err != nil {
		return err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(dir, tempMarker+hex.EncodeToString(rnd[:]))
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.root.Rename(tmp, name)
	}
	if err != nil {
		_ = d.root.Remove(tmp)
		return err
	}
	return d.syncDir(dir)
}

// mkdirs creates dir and its parents, fsyncing each parent that gained
// a folder, so the new path survives a crash.
func (d *Dir) mkdirs(dir string) error {
	if dir == "." {
		return nil
	}
	if _, err := d.root.Stat(dir); err == nil {
		return nil
	}
	if err := d.mkdirs(path.Dir(dir)); err != nil {
		return err
	}
	if err := d.root.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return d.syncDir(path.Dir(dir))
}

func (d *Dir) syncDir(dir string) error {
	f, err := d.root.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Remove implements Storage.
func (d *Dir) Remove(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := d.root.Remove(name); err != nil {
		return err
	}
	return d.syncDir(path.Dir(name))
}

// List implements Storage.
func (d *Dir) List(dir string) ([]fs.DirEntry, error) {
	if dir != "." {
		if err := checkName(dir); err != nil {
			return nil, err
		}
	}
	entries, err := fs.ReadDir(d.root.FS(), dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return strings.HasPrefix(e.Name(), tempMarker) }), err
}

// readAll reads a whole stored file.
func readAll(s Storage, name string) ([]byte, error) {
	rc, err := s.Open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
