package indextest

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Conda describes one conda package file.
type Conda struct {
	Name, Version, Build string
	Subdir               string // "noarch" when empty
	Depends              []string
	Format               string         // ".conda" (when empty) or ".tar.bz2"
	Index                map[string]any // more info/index.json members, or overrides
	About                map[string]any // info/about.json; {"summary": ...} when nil
	// Files is the package's payload; one small file when nil.
	Files []File
}

// FileName is <name>-<version>-<build><format>.
func (c Conda) FileName() string {
	return fmt.Sprintf("%s-%s-%s%s", c.Name, c.Version, c.Build, c.format())
}

func (c Conda) format() string {
	if c.Format == "" {
		return ".conda"
	}
	return c.Format
}

func (c Conda) subdir() string {
	if c.Subdir == "" {
		return "noarch"
	}
	return c.Subdir
}

// IndexJSON is the package's info/index.json.
func (c Conda) IndexJSON() []byte {
	deps := c.Depends
	if deps == nil {
		deps = []string{}
	}
	m := map[string]any{"name": c.Name, "version": c.Version, "build": c.Build,
		"build_number": 0, "depends": deps, "subdir": c.subdir(), "license": "MIT"}
	if c.subdir() == "noarch" {
		m["noarch"] = "generic"
	}
	for k, v := range c.Index {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// AboutJSON is the package's info/about.json.
func (c Conda) AboutJSON() []byte {
	about := c.About
	if about == nil {
		about = map[string]any{"summary": c.Name + " test package", "license": "MIT"}
	}
	b, _ := json.Marshal(about)
	return b
}

// InfoFiles are the members of the package's info/ folder.
func (c Conda) InfoFiles() []File {
	return []File{{Name: "info/index.json", Data: c.IndexJSON()}, {Name: "info/about.json", Data: c.AboutJSON()}}
}

func (c Conda) payload() []File {
	if c.Files != nil {
		return c.Files
	}
	return []File{{Name: "share/" + c.Name + "/data.txt", Data: []byte(c.FileName() + "\n")}}
}

// CondaPackage builds the package file: for .conda a zip (stored
// entries) of metadata.json, pkg-<stem>.tar.zst and info-<stem>.tar.zst,
// info last as conda-package-handling writes it; for .tar.bz2 one
// bzip2 tarball.
func CondaPackage(t testing.TB, c Conda) []byte {
	t.Helper()
	if c.format() == ".tar.bz2" {
		return Bzip2(t, Tar(t, append(c.InfoFiles(), c.payload()...)))
	}
	return CondaZip(t, strings.TrimSuffix(c.FileName(), ".conda"), c.InfoFiles(), c.payload())
}

// CondaZip assembles a .conda from the members of its two tarballs, for
// tests that need a hostile one.
func CondaZip(t testing.TB, stem string, info, pkg []File) []byte {
	t.Helper()
	return Zip(t, []File{
		{Name: "metadata.json", Data: []byte(`{"conda_pkg_format_version": 2}`)},
		{Name: "pkg-" + stem + ".tar.zst", Data: Zstd(t, Tar(t, pkg))},
		{Name: "info-" + stem + ".tar.zst", Data: Zstd(t, Tar(t, info))},
	}, zip.Store)
}
