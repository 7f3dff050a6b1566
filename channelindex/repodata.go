package channelindex

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// repodataVersion is the repodata_version written.
const repodataVersion = 1

// droppedIndexKeys are the info/index.json members conda-index leaves
// out of a repodata record.
var droppedIndexKeys = []string{"arch", "has_prefix", "mtime", "platform", "ucs", "requires_features",
	"binstar", "target-triplet", "machine", "operatingsystem"}

// Section names of repodata.json that hold records.
const (
	sectionTarBz2 = "packages"       // .tar.bz2 files
	sectionConda  = "packages.conda" // .conda files
)

// sectionOf returns the repodata section listing a file name.
func sectionOf(file string) string {
	if strings.HasSuffix(file, ".conda") {
		return sectionConda
	}
	return sectionTarBz2
}

// subdirState is one subdir's repodata.json, parsed once and patched
// in place of a rescan: each record is kept as the raw JSON it was read
// or built as, so a write copies records and decodes none. A state in
// the cache is never modified: updates work on a clone.
type subdirState struct {
	// sections maps "packages" and "packages.conda" to their records.
	sections map[string]*section
	// others holds every other top-level member (info,
	// repodata_version, removed, ...) verbatim.
	others map[string]json.RawMessage
	// latest maps each package name to its latest version, for
	// current_repodata.json.
	latest map[string]string
	size   int64 // estimated memory, for the cache
}

// section is one records object of repodata.json.
type section struct {
	files []string // sorted
	recs  map[string]json.RawMessage
}

// newSubdirState is the state of an empty subdir.
func newSubdirState(subdir string) *subdirState {
	info, _ := json.Marshal(map[string]string{"subdir": subdir})
	return &subdirState{
		sections: map[string]*section{sectionTarBz2: {recs: map[string]json.RawMessage{}}, sectionConda: {recs: map[string]json.RawMessage{}}},
		others:   map[string]json.RawMessage{"info": info, "removed": json.RawMessage("[]"), "repodata_version": json.RawMessage("1")},
		latest:   map[string]string{},
	}
}

// parseRepodata reads a stored repodata.json into a state without
// decoding its records (the index filters' scanner finds where each
// ends). The records keep pointing into src.
func parseRepodata(src []byte, subdir string) (*subdirState, error) {
	s := newSubdirState(subdir)
	start := jsonSkipSpace(src, 0)
	w, err := jsonOpen(src, start, 0)
	if err != nil || !w.isObject() {
		return nil, jsonErr(start, "repodata must be a JSON object")
	}
	for {
		more, err := w.next()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		key, ok := w.keyText()
		if !ok {
			return nil, jsonErr(w.key, "invalid key")
		}
		if sec, isSection := s.sections[string(key)]; isSection {
			if err := parseSection(&w, sec.recs); err != nil {
				return nil, err
			}
			continue
		}
		end, err := w.skip()
		if err != nil {
			return nil, err
		}
		s.others[string(key)] = src[w.val:end]
	}
	if rest := jsonSkipSpace(src, w.pos); rest != len(src) {
		return nil, jsonErr(rest, "data after the top-level object")
	}
	for _, sec := range s.sections {
		sec.files = slices.Sorted(maps.Keys(sec.recs))
		for _, file := range sec.files {
			s.noteLatest(file)
		}
	}
	s.size = int64(len(src))
	return s, nil
}

// parseSection reads one records object (file → record) into recs.
func parseSection(w *jsonWalker, recs map[string]json.RawMessage) error {
	r, err := jsonOpen(w.b, w.val, w.depth)
	if err != nil || !r.isObject() {
		return jsonErr(w.val, "a packages section must be an object")
	}
	for {
		more, err := r.next()
		if err != nil {
			return err
		}
		if !more {
			w.pos = r.pos
			return nil
		}
		end, err := r.skip()
		if err != nil {
			return err
		}
		file, ok := r.keyText()
		if !ok || !utf8.Valid(file) {
			return jsonErr(r.key, "invalid file name")
		}
		recs[string(file)] = r.b[r.val:end]
	}
}

// clone returns a copy that may be changed.
func (s *subdirState) clone() *subdirState {
	c := &subdirState{sections: map[string]*section{}, others: maps.Clone(s.others), latest: maps.Clone(s.latest), size: s.size}
	for k, sec := range s.sections {
		c.sections[k] = &section{files: slices.Clone(sec.files), recs: maps.Clone(sec.recs)}
	}
	return c
}

// record returns the record of a file, if listed.
func (s *subdirState) record(file string) (json.RawMessage, bool) {
	rec, ok := s.sections[sectionOf(file)].recs[file]
	return rec, ok
}

// put lists a file with its record.
func (s *subdirState) put(file string, rec json.RawMessage) {
	sec := s.sections[sectionOf(file)]
	if i, found := slices.BinarySearch(sec.files, file); !found {
		sec.files = slices.Insert(sec.files, i, file)
	}
	sec.recs[file] = rec
	s.size += int64(len(file) + len(rec) + 64)
	s.noteLatest(file)
}

// noteLatest makes file's version its package's latest if it is newer.
func (s *subdirState) noteLatest(file string) {
	name, version, ok := splitCondaFile(file)
	if cur, seen := s.latest[name]; ok && (!seen || compareVersions(version, cur) > 0) {
		s.latest[name] = version
	}
}

// remove unlists a file; it reports whether it was listed.
func (s *subdirState) remove(file string) bool {
	sec := s.sections[sectionOf(file)]
	i, found := slices.BinarySearch(sec.files, file)
	if !found {
		return false
	}
	sec.files = slices.Delete(sec.files, i, i+1)
	delete(sec.recs, file)
	if name, version, ok := splitCondaFile(file); ok && s.latest[name] == version {
		s.recomputeLatest(name)
	}
	return true
}

// recomputeLatest finds a package's latest version again from its
// files, which sort together after "<name>-".
func (s *subdirState) recomputeLatest(name string) {
	delete(s.latest, name)
	for _, sec := range s.sections {
		i, _ := slices.BinarySearch(sec.files, name+"-")
		for ; i < len(sec.files) && strings.HasPrefix(sec.files[i], name+"-"); i++ {
			if n, _, _ := splitCondaFile(sec.files[i]); n == name {
				s.noteLatest(sec.files[i])
			}
		}
	}
}

// files returns every listed file name, sorted.
func (s *subdirState) files() []string {
	var out []string
	for _, sec := range s.sections {
		out = append(out, sec.files...)
	}
	slices.Sort(out)
	return out
}

// sizeBytes estimates the memory the state holds.
func (s *subdirState) sizeBytes() int64 { return s.size + 256 }

// render writes repodata.json as conda-index does: compact, keys sorted,
// listing the files keep accepts (nil: all).
func (s *subdirState) render(keep func(file string) bool) []byte {
	keys := slices.Sorted(maps.Keys(s.others))
	for k := range s.sections {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	b.Grow(int(s.size) + 1024)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		appendJSONString(&b, k)
		b.WriteByte(':')
		if sec, ok := s.sections[k]; ok {
			sec.render(&b, keep)
		} else {
			b.Write(s.others[k])
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

func (sec *section) render(b *bytes.Buffer, keep func(string) bool) {
	b.WriteByte('{')
	n := 0
	for _, file := range sec.files {
		if keep != nil && !keep(file) {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		appendJSONString(b, file)
		b.WriteByte(':')
		b.Write(sec.recs[file])
	}
	b.WriteByte('}')
}

// appendJSONString writes s as a JSON string; the plain ASCII of file
// names is copied, anything else goes through encoding/json.
func appendJSONString(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			b.Write(q)
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}

// Record returns the package's repodata record as conda-index writes
// it: info/index.json without arch, has_prefix, mtime, platform, ucs,
// requires_features, binstar, target-triplet, machine and
// operatingsystem, plus md5, sha256 and size; compact, keys sorted.
func (p *CondaPackage) Record() (json.RawMessage, error) {
	var rec map[string]any
	d := json.NewDecoder(bytes.NewReader(p.IndexJSON))
	d.UseNumber()
	if err := d.Decode(&rec); err != nil {
		return nil, err
	}
	for _, k := range droppedIndexKeys {
		delete(rec, k)
	}
	rec["md5"], rec["sha256"], rec["size"] = p.MD5, p.SHA256, p.Size
	return compactJSON(rec)
}

// compactJSON marshals v compactly, map keys sorted, without escaping
// <, > and & (as Python's json.dumps writes them).
func compactJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// renderCurrent writes current_repodata.json: for each package name,
// the records of its latest version only (by compareVersions, read
// from the file names).
func (s *subdirState) renderCurrent() []byte {
	return s.render(func(file string) bool {
		name, version, ok := splitCondaFile(file)
		return ok && s.latest[name] == version
	})
}

// splitCondaFile returns the name and version fields of a conda file
// name "<name>-<version>-<build>.<ext>".
func splitCondaFile(file string) (name, version string, ok bool) {
	name, ok = CondaPackageName(file)
	if !ok {
		return "", "", false
	}
	stem, _ := CutPackageExt(file)
	rest := stem[len(name)+1:]
	return name, rest[:strings.LastIndexByte(rest, '-')], true
}
