package indextest

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// Python describes one Python distribution (a wheel or an sdist).
type Python struct {
	Project        string // as registered, e.g. "acme-tools"
	Version        string
	RequiresPython string // Requires-Python, none when empty
}

// dist is the project name as file names spell it (PEP 427/625).
func (p Python) dist() string { return strings.ReplaceAll(p.Project, "-", "_") }

// WheelName is <dist>-<version>-py3-none-any.whl.
func (p Python) WheelName() string {
	return fmt.Sprintf("%s-%s-py3-none-any.whl", p.dist(), p.Version)
}

// SdistName is <dist>-<version>.tar.gz.
func (p Python) SdistName() string { return fmt.Sprintf("%s-%s.tar.gz", p.dist(), p.Version) }

// Metadata is the core metadata (METADATA, PKG-INFO).
func (p Python) Metadata() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: channelgate test fixture\n", p.Project, p.Version)
	if p.RequiresPython != "" {
		fmt.Fprintf(&b, "Requires-Python: %s\n", p.RequiresPython)
	}
	b.WriteString("\n")
	return []byte(b.String())
}

// InitPy is the module body the distribution carries.
func (p Python) InitPy() []byte {
	return []byte(fmt.Sprintf("__version__ = %q\nPROJECT = %q\n", p.Version, p.Project))
}

// Wheel builds a PEP 427 wheel: the module, METADATA, WHEEL and a
// RECORD whose hashes match.
func Wheel(t testing.TB, p Python) []byte {
	t.Helper()
	distInfo := fmt.Sprintf("%s-%s.dist-info", p.dist(), p.Version)
	files := []File{
		{Name: p.dist() + "/__init__.py", Data: p.InitPy()},
		{Name: distInfo + "/METADATA", Data: p.Metadata()},
		{Name: distInfo + "/WHEEL", Data: []byte("Wheel-Version: 1.0\nGenerator: channelgate-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")},
	}
	var record strings.Builder
	for _, f := range files {
		sum := sha256.Sum256(f.Data)
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.Name, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.Data))
	}
	fmt.Fprintf(&record, "%s/RECORD,,\n", distInfo)
	files = append(files, File{Name: distInfo + "/RECORD", Data: []byte(record.String())})
	return Zip(t, files, zip.Deflate)
}

// Sdist builds a .tar.gz source distribution with PKG-INFO at
// <dist>-<version>/PKG-INFO.
func Sdist(t testing.TB, p Python) []byte {
	t.Helper()
	root := fmt.Sprintf("%s-%s/", p.dist(), p.Version)
	return Gzip(t, Tar(t, []File{
		{Name: root + "PKG-INFO", Data: p.Metadata()},
		{Name: root + p.dist() + "/__init__.py", Data: p.InitPy()},
	}))
}
