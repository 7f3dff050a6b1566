package channelindex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
)

// RemoveConda unpublishes every conda file of a channel that q selects:
// a file, a version (q.Name and q.Version), a whole package (q.Name) or
// a label's content (q.Label). Each subdir's indexes are rewritten
// before its files are deleted; channeldata.json follows. It returns
// what it removed, or ErrNotFound if q selects nothing.
func (p *Publisher) RemoveConda(ctx context.Context, channel string, q CondaQuery) ([]CondaFile, error) {
	files, err := nonEmpty(p.CondaFiles(ctx, channel, q))
	if err != nil {
		return nil, err
	}
	return files, p.unpublishAll(ctx, files)
}

// unpublishAll unlists and deletes files, subdir by subdir, then
// updates the channeldata of their labels.
func (p *Publisher) unpublishAll(ctx context.Context, files []CondaFile) error {
	for x, group := range groupBySubdir(files) {
		if err := p.unpublishConda(ctx, x, group); err != nil {
			return err
		}
	}
	for root, group := range groupByRoot(files) {
		if err := p.recomputeChanneldata(ctx, root, group); err != nil {
			return err
		}
	}
	return nil
}

// unpublishConda unlists files from one subdir, then deletes them,
// under the subdir's lock.
func (p *Publisher) unpublishConda(ctx context.Context, x subdirIndex, files []CondaFile) error {
	return p.changeSubdir(ctx, x, func(st *subdirState) (func() error, error) {
		for _, f := range files {
			st.remove(f.File)
		}
		return func() error {
			for _, f := range files {
				if err := p.store.Remove(f.Path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			return nil
		}, nil
	})
}

// recomputeChanneldata sets the channeldata entries of the packages of
// files from what the label's subdirs still list.
func (p *Publisher) recomputeChanneldata(ctx context.Context, root string, files []CondaFile) error {
	names := map[string]map[string][]string{} // name → subdir → versions
	for _, f := range files {
		names[f.Name] = map[string][]string{}
	}
	subdirs, err := p.subdirs(root)
	if err != nil {
		return err
	}
	for _, sd := range subdirs {
		st, err := p.loadState(subdirIndex{files[0].Channel, files[0].Label, sd})
		if err != nil {
			return err
		}
		for _, file := range st.files() {
			if name, version, ok := splitCondaFile(file); ok && names[name] != nil {
				names[name][sd] = append(names[name][sd], version)
			}
		}
	}
	return p.noteChanneldata(ctx, root, func(cd *channeldata) {
		for name, versions := range names {
			cd.recompute(name, versions)
		}
	})
}

// CopyConda publishes the conda files of a channel that q selects under
// the label to as well (as `anaconda label --copy` and `anaconda copy`
// do); with move, it then removes them from where they were
// (`anaconda label --move`). Files already in to are skipped. The files
// are copied from storage with their records: nothing is read again.
// It returns the files it found, or ErrNotFound if q selects nothing.
func (p *Publisher) CopyConda(ctx context.Context, channel string, q CondaQuery, to string, move bool) ([]CondaFile, error) {
	labels, err := normalizeLabels([]string{to})
	if err != nil {
		return nil, err
	}
	files, err := p.CondaFiles(ctx, channel, q)
	if err != nil {
		return nil, err
	}
	files = slices.DeleteFunc(files, func(f CondaFile) bool { return f.Label == labels[0] })
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: no conda file to copy", ErrNotFound)
	}
	for _, f := range files {
		if err := p.copyConda(ctx, f, labels[0]); err != nil {
			return nil, err
		}
	}
	if move {
		return files, p.unpublishAll(ctx, files)
	}
	return files, nil
}

// copyConda publishes one file under another label, with its source
// label's channeldata entry.
func (p *Publisher) copyConda(ctx context.Context, f CondaFile, to string) error {
	x := subdirIndex{f.Channel, to, f.Subdir}
	if p.condaListed(x, f.File) {
		return nil
	}
	src := func() (io.ReadCloser, error) { return p.store.Open(f.Path()) }
	if err := p.publishConda(ctx, x, f.File, f.Record, src, false); err != nil {
		return err
	}
	from, err := p.loadChanneldata(labelRoot(f.Channel, f.Label))
	if err != nil {
		return err
	}
	about := from.packages[f.Name]
	ts := int64(0)
	if n, ok := about["timestamp"].(json.Number); ok {
		ts, _ = n.Int64()
	}
	return p.noteChanneldata(ctx, x.root(), func(cd *channeldata) { cd.add(f.Name, f.Subdir, f.Version, ts, about) })
}

// groupBySubdir groups files by the subdir index that lists them.
func groupBySubdir(files []CondaFile) map[subdirIndex][]CondaFile {
	out := map[subdirIndex][]CondaFile{}
	for _, f := range files {
		x := subdirIndex{f.Channel, f.Label, f.Subdir}
		out[x] = append(out[x], f)
	}
	return out
}

// groupByRoot groups files by their label root.
func groupByRoot(files []CondaFile) map[string][]CondaFile {
	out := map[string][]CondaFile{}
	for _, f := range files {
		root := labelRoot(f.Channel, f.Label)
		out[root] = append(out[root], f)
	}
	return out
}

// nonEmpty passes a selection on, or ErrNotFound if it selects nothing.
func nonEmpty[F any](files []F, err error) ([]F, error) {
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("%w: no file matches", ErrNotFound)
	}
	return files, err
}
