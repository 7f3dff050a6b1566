package channelindex

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"slices"
)

// channeldataVersion is the channeldata_version written.
const channeldataVersion = 1

// aboutKeys are the info/about.json members a channeldata.json package
// entry carries (conda-index's subset that clients show).
var aboutKeys = []string{"summary", "description", "home", "license", "dev_url", "doc_url", "source_url"}

// channeldata is a label root's channeldata.json: one entry per package
// name with its latest version, its subdirs and what about.json says.
// Top-level members other than packages and subdirs are kept.
type channeldata struct {
	packages map[string]map[string]any
	subdirs  []string
	others   map[string]json.RawMessage
}

// loadChanneldata reads the root's channeldata.json; absent is empty.
func (p *Publisher) loadChanneldata(root string) (*channeldata, error) {
	cd := &channeldata{packages: map[string]map[string]any{}, others: map[string]json.RawMessage{}}
	b, err := readAll(p.store, root+"/channeldata.json")
	if errors.Is(err, fs.ErrNotExist) {
		return cd, nil
	}
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&cd.others); err != nil {
		return nil, err
	}
	if raw, ok := cd.others["packages"]; ok {
		d = json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&cd.packages); err != nil {
			return nil, err
		}
	}
	if raw, ok := cd.others["subdirs"]; ok {
		if err := json.Unmarshal(raw, &cd.subdirs); err != nil {
			return nil, err
		}
	}
	delete(cd.others, "packages")
	delete(cd.others, "subdirs")
	if cd.packages == nil {
		cd.packages = map[string]map[string]any{}
	}
	return cd, nil
}

// render writes channeldata.json, compact with sorted keys.
func (cd *channeldata) render() ([]byte, error) {
	out := map[string]any{"channeldata_version": channeldataVersion}
	for k, v := range cd.others {
		out[k] = v
	}
	out["packages"], out["subdirs"] = cd.packages, cd.subdirs
	return compactJSON(out)
}

// addSubdir lists a subdir at the top level.
func (cd *channeldata) addSubdir(subdir string) {
	if !slices.Contains(cd.subdirs, subdir) {
		cd.subdirs = append(cd.subdirs, subdir)
		slices.Sort(cd.subdirs)
	}
}

// add notes one published file of a package: its subdir joins the
// entry's, and when its version is the latest, its about fields (from
// info/about.json, or a copied entry) replace the entry's.
func (cd *channeldata) add(name, subdir, version string, timestamp int64, about map[string]any) {
	cd.addSubdir(subdir)
	e := cd.packages[name]
	if e == nil {
		e = map[string]any{}
		cd.packages[name] = e
	}
	subdirs, _ := e["subdirs"].([]any)
	if !slices.Contains(subdirs, any(subdir)) {
		subdirs = append(subdirs, subdir)
		slices.SortFunc(subdirs, func(a, b any) int { return cmp.Compare(asString(a), asString(b)) })
	}
	e["subdirs"] = subdirs
	if cur, _ := e["version"].(string); cur == "" || compareVersions(version, cur) >= 0 {
		e["version"] = version
		for _, k := range aboutKeys {
			if v, ok := about[k]; ok {
				e[k] = v
			}
		}
	}
	if ts, _ := e["timestamp"].(json.Number); timestamp > 0 {
		if cur, err := ts.Int64(); err != nil || cur < timestamp {
			e["timestamp"] = timestamp
		}
	}
}

// recompute sets a package's entry from what the subdirs still list:
// its subdirs and latest version; no subdir left removes it.
func (cd *channeldata) recompute(name string, versions map[string][]string) {
	e := cd.packages[name]
	var subdirs []any
	latest := ""
	for _, sd := range slices.Sorted(maps.Keys(versions)) {
		subdirs = append(subdirs, sd)
		for _, v := range versions[sd] {
			if latest == "" || compareVersions(v, latest) > 0 {
				latest = v
			}
		}
	}
	if len(subdirs) == 0 || e == nil {
		delete(cd.packages, name)
		return
	}
	e["subdirs"], e["version"] = subdirs, latest
}

// aboutOf picks the channeldata fields from a package's about.json.
func aboutOf(p *CondaPackage) map[string]any {
	var about map[string]any
	_ = json.Unmarshal(p.AboutJSON, &about)
	if about == nil {
		about = map[string]any{}
	}
	if p.License != "" {
		about["license"] = p.License
	}
	return about
}

// asString is v if it is a string, else "".
func asString(v any) string {
	s, _ := v.(string)
	return s
}
