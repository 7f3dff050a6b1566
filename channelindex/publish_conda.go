package channelindex

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// CondaAdd asks to publish one conda package file.
type CondaAdd struct {
	Channel string
	// Labels to publish under; none means "main" (the channel root).
	Labels []string
	// File is the base name, "<name>-<version>-<build>.conda", or
	// "<subdir>/<base name>" as anaconda-client sends it; the subdir, if
	// given, must match info/index.json's.
	File string
	// SHA256, if set, must be the file's (lowercase or uppercase hex).
	SHA256 string
	// Force replaces a file already published; without it that is
	// ErrExists and nothing is written.
	Force bool
}

// CondaFile is one published conda file in one label.
type CondaFile struct {
	Channel string
	Label   string // "main" for the channel root
	Subdir  string
	File    string // base name
	Name    string // the package name as the file name spells it
	Version string
	Build   string
	// Record is the file's repodata.json record.
	Record      json.RawMessage
	Size        int64
	MD5, SHA256 string
}

// Path is the file's storage path.
func (f CondaFile) Path() string {
	return labelRoot(f.Channel, f.Label) + "/" + f.Subdir + "/" + f.File
}

// CondaQuery selects published conda files of a channel; empty fields
// match everything.
type CondaQuery struct {
	Name    string // package name, any case
	Version string
	Label   string // "main" for the channel root
	Subdir  string
	File    string // base name
}

// subdirIndex names one subdir of one label of a channel.
type subdirIndex struct{ channel, label, subdir string }

func (x subdirIndex) root() string    { return labelRoot(x.channel, x.label) }
func (x subdirIndex) dir() string     { return x.root() + "/" + x.subdir }
func (x subdirIndex) lockKey() string { return "conda:" + x.dir() }

// rootLockKey serializes a label root's channeldata.json.
func rootLockKey(root string) string { return "conda:" + root + "/" }

// AddConda checks a conda package file (ReadCondaPackage) and publishes
// it under each label: the file is written, then the subdir's
// repodata.json, repodata.json.zst and current_repodata.json, then the
// label's noarch/repodata.json if it had none, then channeldata.json.
// An invalid file (*InvalidPackageError), a bad request
// (ErrInvalidRequest) or an existing file without Force (ErrExists) is
// refused before anything is written.
func (p *Publisher) AddConda(ctx context.Context, req CondaAdd, r io.ReaderAt, size int64) (*CondaPackage, error) {
	if err := validChannel(req.Channel); err != nil {
		return nil, err
	}
	labels, err := normalizeLabels(req.Labels)
	if err != nil {
		return nil, err
	}
	subdir, base := path.Split(req.File)
	pkg, err := ReadCondaPackage(r, size, base, p.limits)
	if err != nil {
		return nil, err
	}
	if subdir = strings.TrimSuffix(subdir, "/"); subdir != "" && subdir != pkg.Subdir {
		return nil, invalidf(base, "uploaded as %s/%s but info/index.json says subdir %s", subdir, base, pkg.Subdir)
	}
	if req.SHA256 != "" && !strings.EqualFold(req.SHA256, pkg.SHA256) {
		return nil, badRequestf("sha256 %s does not match the file's %s", req.SHA256, pkg.SHA256)
	}
	rec, err := pkg.Record()
	if err != nil {
		return nil, err
	}
	if !req.Force {
		for _, l := range labels {
			if p.condaListed(subdirIndex{req.Channel, l, pkg.Subdir}, base) {
				return nil, fmt.Errorf("%w: %s in label %s", ErrExists, path.Join(pkg.Subdir, base), l)
			}
		}
	}
	src := newCopySource(r, size)
	for _, l := range labels {
		x := subdirIndex{req.Channel, l, pkg.Subdir}
		if err := p.publishConda(ctx, x, base, rec, src, req.Force); err != nil {
			return nil, err
		}
		if err := p.noteChanneldata(ctx, x.root(), func(cd *channeldata) {
			cd.add(pkg.Name, pkg.Subdir, pkg.Version, pkg.Timestamp, aboutOf(pkg))
		}); err != nil {
			return nil, err
		}
	}
	return pkg, nil
}

// condaListed reports whether a subdir lists a file or holds it.
func (p *Publisher) condaListed(x subdirIndex, file string) bool {
	if st, err := p.loadState(x); err == nil {
		if _, ok := st.record(file); ok {
			return true
		}
	}
	_, err := p.store.Stat(x.dir() + "/" + file)
	return err == nil
}

// copySource opens the bytes of a file to publish, once per label.
type copySource func() (io.ReadCloser, error)

func newCopySource(r io.ReaderAt, size int64) copySource {
	return func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(r, 0, size)), nil }
}

// publishConda writes one file into a subdir and lists it, under the
// subdir's lock, then makes sure the label has a noarch index.
func (p *Publisher) publishConda(ctx context.Context, x subdirIndex, file string, rec json.RawMessage, src copySource, force bool) error {
	return p.changeSubdir(ctx, x, func(st *subdirState) (func() error, error) {
		if _, listed := st.record(file); listed && !force {
			return nil, fmt.Errorf("%w: %s/%s in label %s", ErrExists, x.subdir, file, x.label)
		}
		in, err := src()
		if err != nil {
			return nil, err
		}
		defer in.Close()
		if err := p.store.WriteAtomic(x.dir()+"/"+file, in); err != nil {
			return nil, err
		}
		st.put(file, rec)
		return func() error { return p.ensureNoarch(ctx, x) }, nil
	})
}

// changeSubdir runs change on a copy of a subdir's state under its lock
// and writes the subdir's indexes from it; then after, if change
// returns one, still under the lock. Whatever change writes is in place
// before the indexes; whatever after deletes is unlisted first.
func (p *Publisher) changeSubdir(ctx context.Context, x subdirIndex, change func(*subdirState) (after func() error, err error)) error {
	unlock, err := p.lock(ctx, x.lockKey())
	if err != nil {
		return err
	}
	defer unlock()
	st, err := p.loadState(x)
	if err != nil {
		return err
	}
	st = st.clone()
	after, err := change(st)
	if err != nil {
		return err
	}
	if err := p.writeSubdir(x, st); err != nil {
		return err
	}
	if after != nil {
		return after()
	}
	return nil
}

// ensureNoarch writes an empty noarch index for the label if it has
// none: clients treat a channel without noarch/repodata.json as
// invalid. Called holding x's lock; takes noarch's after it.
func (p *Publisher) ensureNoarch(ctx context.Context, x subdirIndex) error {
	if x.subdir == "noarch" {
		return nil
	}
	n := subdirIndex{x.channel, x.label, "noarch"}
	if _, err := p.store.Stat(n.dir() + "/repodata.json"); err == nil {
		return nil
	}
	unlock, err := p.lock(ctx, n.lockKey())
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := p.store.Stat(n.dir() + "/repodata.json"); err == nil {
		return nil
	}
	return p.writeSubdir(n, newSubdirState("noarch"))
}

// loadState returns a subdir's parsed repodata.json: from the cache
// while the stored file is unchanged, else read and parsed once. An
// absent index is an empty subdir. "Unchanged" is the same inode, change
// time, size and modification time (see fileID): every write is an atomic
// rename, so a rewrite by another process (another gateway on the same
// storage, holding the shared Locker) is seen even when size and time
// match and the freed inode number is reused. Where the storage gives no
// inode the cache is not trusted.
func (p *Publisher) loadState(x subdirIndex) (*subdirState, error) {
	name := x.dir() + "/repodata.json"
	fi, err := p.store.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return newSubdirState(x.subdir), nil
	}
	if err != nil {
		return nil, err
	}
	read := func() (*subdirState, error) {
		b, err := readAll(p.store, name)
		if err != nil {
			return nil, err
		}
		st, err := parseRepodata(b, x.subdir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return st, nil
	}
	key, ok := stateKey(name, fi)
	if !ok {
		return read()
	}
	return p.states.Do(key, read)
}

// stateKey is the cache key of a stored repodata.json's parsed state;
// ok is false when the file has no inode to tell its versions apart.
func stateKey(name string, fi fs.FileInfo) (ViewKey, bool) {
	id := fileID(fi)
	return ViewKey{Path: name, Validator: StorageValidator(fi.Size(), fi.ModTime(), id)}, id != ""
}

// writeSubdir writes a subdir's indexes from st, each replaced
// atomically and all three at once (they list only files already in
// place, so their order does not matter), then caches st as the state
// of the new repodata.json.
func (p *Publisher) writeSubdir(x subdirIndex, st *subdirState) error {
	repodata := st.render(nil)
	outputs := map[string]func() []byte{
		"repodata.json":         func() []byte { return repodata },
		"repodata.json.zst":     func() []byte { return p.zst.EncodeAll(repodata, make([]byte, 0, len(repodata)/8)) },
		"current_repodata.json": st.renderCurrent,
	}
	errs := make(chan error, len(outputs))
	for name, render := range outputs {
		go func() { errs <- p.store.WriteAtomic(x.dir()+"/"+name, bytes.NewReader(render())) }()
	}
	var err error
	for range outputs {
		err = cmp.Or(err, <-errs)
	}
	if err != nil {
		return err
	}
	name := x.dir() + "/repodata.json"
	fi, err := p.store.Stat(name)
	if err != nil {
		return err
	}
	key, ok := stateKey(name, fi)
	if !ok {
		return nil
	}
	_, err = p.states.Do(key, func() (*subdirState, error) { return st, nil })
	return err
}

// noteChanneldata changes a label root's channeldata.json under its
// lock.
func (p *Publisher) noteChanneldata(ctx context.Context, root string, change func(*channeldata)) error {
	unlock, err := p.lock(ctx, rootLockKey(root))
	if err != nil {
		return err
	}
	defer unlock()
	cd, err := p.loadChanneldata(root)
	if err != nil {
		return fmt.Errorf("%s/channeldata.json: %w", root, err)
	}
	change(cd)
	b, err := cd.render()
	if err != nil {
		return err
	}
	return p.store.WriteAtomic(root+"/channeldata.json", bytes.NewReader(b))
}
