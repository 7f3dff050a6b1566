package caddymodule

import (
	"testing"

	"github.com/channelgate/channelgate/tokenstore"
)

// TestPrivateAcrossKinds proves finding 14's fix at the gateway: a name
// registered private with one kind keeps its other kind's pages and
// files private, and a private PyPI project's distributions are private
// wherever the channel stores them; a distribution whose project cannot
// be told from its name is refused.
func TestPrivateAcrossKinds(t *testing.T) {
	g := startGateway(t, "")
	tok := g.seed() // acme: conda secret (private), conda open (public), pypi acme-tools (private)
	alice := "/t/" + tok["alice/all"]
	// labs: every conda name public, one private PyPI project. A file no
	// package decision covers is decided for the channel, which anyone
	// may read in full there.
	if _, err := g.store.CreateOrg(testActor, "labs", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.store.PutPackage(testActor, "labs", tokenstore.PyPI, "tool", false, ""); err != nil {
		t.Fatal(err)
	}
	for path, body := range map[string]string{
		"acme/simple/secret/index.html":                          "SECRET-PAGE",
		"acme/noarch/acme_tools-1.0-0.conda":                     "TOOLS-CONDA",
		"acme/packages/acme_tools-1.0-py3-none-any.whl":          "TOOLS-WHEEL",
		"acme/packages/acme_tools-1.0-py3-none-any.whl.metadata": "TOOLS-META",
		"acme/files/acme-tools-1.0.tar.gz":                       "TOOLS-SDIST",
		"acme/files/tools.zip":                                   "UNNAMED",
		"acme/packages/open_pkg-1.0-py3-none-any.whl":            "OPEN-WHEEL",
		"labs/packages/tool-1.0-py3-none-any.whl":                "LABS-WHEEL",
		"labs/files/tool-1.0.tar.gz":                             "LABS-SDIST",
		"labs/files/ab/cd/tool-2.0-py3-none-any.whl":             "LABS-DEEP",
	} {
		g.file(path, body)
	}
	for _, tc := range []struct {
		name, path string
		status     int
	}{
		{"PyPI page of a private conda package", "/acme/simple/secret/", 404},
		{"conda file of a private PyPI project", "/acme/noarch/acme_tools-1.0-0.conda", 404},
		{"wheel of a private project outside simple/", "/acme/packages/acme_tools-1.0-py3-none-any.whl", 404},
		{"its PEP 658 metadata", "/acme/packages/acme_tools-1.0-py3-none-any.whl.metadata", 404},
		{"sdist of a private project outside simple/", "/acme/files/acme-tools-1.0.tar.gz", 404},
		{"distribution without a project in its name", "/acme/files/tools.zip", 400},
		{"wheel of an unregistered project", "/acme/packages/open_pkg-1.0-py3-none-any.whl", 200},
		{"wheel of a private project, channel otherwise public", "/labs/packages/tool-1.0-py3-none-any.whl", 404},
		{"sdist of a private project, channel otherwise public", "/labs/files/tool-1.0.tar.gz", 404},
		{"wheel deeper down", "/labs/files/ab/cd/tool-2.0-py3-none-any.whl", 404},
		{"owner, labs wheel", alice + "/labs/packages/tool-1.0-py3-none-any.whl", 200},
		{"owner, PyPI page", alice + "/acme/simple/secret/", 200},
		{"owner, conda file", alice + "/acme/noarch/acme_tools-1.0-0.conda", 200},
		{"owner, wheel", alice + "/acme/packages/acme_tools-1.0-py3-none-any.whl", 200},
		{"owner, sdist", alice + "/acme/files/acme-tools-1.0.tar.gz", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, body, _ := g.do("GET", tc.path, nil); status != tc.status {
				t.Fatalf("GET %s: %d %q, want %d", redactToken(tc.path), status, body, tc.status)
			}
		})
	}
}
