package channelindex

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// Labels returns the labels of a channel that hold a conda index,
// sorted, "main" (the channel root) included when it has one.
func (p *Publisher) Labels(ctx context.Context, channel string) ([]string, error) {
	if err := validChannel(channel); err != nil {
		return nil, err
	}
	var labels []string
	subdirs, err := p.subdirs(channel)
	if err != nil {
		return nil, err
	}
	if len(subdirs) > 0 {
		labels = append(labels, MainLabel)
	}
	entries, err := p.store.List(channel + "/label")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() || !ValidLabel(e.Name()) || e.Name() == MainLabel {
			continue
		}
		if subdirs, err := p.subdirs(labelRoot(channel, e.Name())); err == nil && len(subdirs) > 0 {
			labels = append(labels, e.Name())
		}
	}
	slices.Sort(labels)
	return labels, nil
}

// subdirs lists the subdirs of a label root that have a repodata.json.
func (p *Publisher) subdirs(root string) ([]string, error) {
	entries, err := p.store.List(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || ValidateSubdir(e.Name()) != nil {
			continue
		}
		if _, err := p.store.Stat(root + "/" + e.Name() + "/repodata.json"); err == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// CondaFiles lists the published conda files of a channel that q
// selects, from the indexes (no package file is read), sorted by label,
// subdir and file.
func (p *Publisher) CondaFiles(ctx context.Context, channel string, q CondaQuery) ([]CondaFile, error) {
	labels := []string{q.Label}
	if q.Label == "" {
		var err error
		if labels, err = p.Labels(ctx, channel); err != nil {
			return nil, err
		}
	} else if err := validChannel(channel); err != nil {
		return nil, err
	} else if !ValidLabel(q.Label) {
		return nil, badRequestf("invalid label %q", q.Label)
	}
	var out []CondaFile
	for _, l := range labels {
		subdirs := []string{q.Subdir}
		if q.Subdir == "" {
			var err error
			if subdirs, err = p.subdirs(labelRoot(channel, l)); err != nil {
				return nil, err
			}
		} else if err := ValidateSubdir(q.Subdir); err != nil {
			return nil, badRequestf("%s", err)
		}
		for _, sd := range subdirs {
			files, err := p.matchSubdir(subdirIndex{channel, l, sd}, q)
			if err != nil {
				return nil, err
			}
			out = append(out, files...)
		}
	}
	return out, nil
}

// matchSubdir lists the files of one subdir that q selects.
func (p *Publisher) matchSubdir(x subdirIndex, q CondaQuery) ([]CondaFile, error) {
	st, err := p.loadState(x)
	if err != nil {
		return nil, err
	}
	wantName := tokenstore.NormalizeName(tokenstore.Conda, q.Name)
	var out []CondaFile
	for _, file := range st.files() {
		name, version, ok := splitCondaFile(file)
		if !ok || q.File != "" && file != q.File || q.Name != "" && tokenstore.NormalizeName(tokenstore.Conda, name) != wantName ||
			q.Version != "" && version != q.Version {
			continue
		}
		rec, _ := st.record(file)
		f := CondaFile{Channel: x.channel, Label: x.label, Subdir: x.subdir, File: file, Name: name, Version: version, Record: rec}
		stem, _ := CutPackageExt(file)
		f.Build = stem[strings.LastIndexByte(stem, '-')+1:]
		var sums struct {
			Size   int64  `json:"size"`
			MD5    string `json:"md5"`
			SHA256 string `json:"sha256"`
		}
		if err := json.Unmarshal(rec, &sums); err != nil {
			return nil, fmt.Errorf("%s/repodata.json: record of %s: %w", x.dir(), file, err)
		}
		f.Size, f.MD5, f.SHA256 = sums.Size, sums.MD5, sums.SHA256
		out = append(out, f)
	}
	return out, nil
}
