package channelindex

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// addPython publishes a distribution and fails the test on error.
func (tp *testPublisher) addPython(file string, data []byte) *PythonDist {
	tp.t.Helper()
	d, err := tp.AddPython(context.Background(), PythonAdd{Channel: "acme", File: file}, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tp.t.Fatal(err)
	}
	return d
}

// TestAddPythonWritesPages publishes a wheel and an sdist and checks
// both forms of both pages and the PEP 658 metadata file.
func TestAddPythonWritesPages(t *testing.T) {
	tp := newTestPublisher(t)
	py := indextest.Python{Project: "Acme_Tools", Version: "1.0", RequiresPython: ">=3.8"}
	whl := tp.addPython(py.WheelName(), indextest.Wheel(t, py))
	tp.addPython(py.SdistName(), indextest.Sdist(t, py))

	meta := tp.read("acme/simple/acme-tools/" + py.WheelName() + ".metadata")
	if !bytes.Equal(meta, py.Metadata()) {
		t.Fatalf("metadata file %q", meta)
	}
	metaSum := sha256.Sum256(meta)
	page := string(tp.read("acme/simple/acme-tools/index.html"))
	wantAnchor := `<a href="` + py.WheelName() + `#sha256=` + whl.SHA256 + `" data-requires-python="&gt;=3.8" data-core-metadata="sha256=` +
		hex.EncodeToString(metaSum[:]) + `" data-dist-info-metadata="sha256=` + hex.EncodeToString(metaSum[:]) + `">` + py.WheelName() + `</a>`
	if !strings.Contains(page, wantAnchor) || !strings.Contains(page, `>`+py.SdistName()+`</a>`) {
		t.Fatalf("project page:\n%s\nwant %s", page, wantAnchor)
	}
	var pj simpleProject
	if err := json.Unmarshal(tp.read("acme/simple/acme-tools/index.json"), &pj); err != nil {
		t.Fatal(err)
	}
	if pj.Name != "acme-tools" || pj.Meta["api-version"] != "1.1" || len(pj.Files) != 2 || pj.Files[0].Hashes["sha256"] != whl.SHA256 ||
		pj.Files[0].metadataSHA256() != hex.EncodeToString(metaSum[:]) || pj.Files[1].CoreMetadata != false || len(pj.Versions) != 1 {
		t.Fatalf("project JSON %+v", pj)
	}
	root := tp.read("acme/simple/index.html")
	if out, err := FilterSimpleHTML(root, func(string) bool { return false }); err != nil || strings.Contains(string(out), "acme-tools") {
		t.Fatalf("root page is not filterable: %s, %v", out, err)
	}
	if !strings.Contains(string(root), `<a href="acme-tools/">acme-tools</a>`) {
		t.Fatalf("root page:\n%s", root)
	}
	rootJSON := tp.read("acme/simple/index.json")
	if out, err := FilterSimpleJSON(rootJSON, func(string) bool { return true }); err != nil || !bytes.Equal(out, rootJSON) || !bytes.Contains(rootJSON, []byte(`{"name":"acme-tools"}`)) {
		t.Fatalf("root JSON %s: %v", rootJSON, err)
	}
	if _, err := tp.AddPython(context.Background(), PythonAdd{Channel: "acme", File: py.WheelName()}, bytes.NewReader(indextest.Wheel(t, py)), int64(len(indextest.Wheel(t, py)))); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "already exist") {
		t.Fatalf("second upload: %v, want ErrExists saying 'already exists'", err)
	}
}

// TestRemovePython removes one file, then the project.
func TestRemovePython(t *testing.T) {
	ctx := context.Background()
	tp := newTestPublisher(t)
	for _, v := range []string{"1.0", "2.0"} {
		py := indextest.Python{Project: "acme", Version: v}
		tp.addPython(py.WheelName(), indextest.Wheel(t, py))
	}
	tp.addPython("other-1.0.tar.gz", indextest.Sdist(t, indextest.Python{Project: "other", Version: "1.0"}))
	if got, err := tp.RemovePython(ctx, "acme", PythonQuery{Project: "ACME", Version: "1.0"}); err != nil || len(got) != 1 {
		t.Fatalf("remove version: %v, %v", got, err)
	}
	if tp.read("acme/simple/acme/acme-1.0-py3-none-any.whl") != nil || tp.read("acme/simple/acme/acme-1.0-py3-none-any.whl.metadata") != nil {
		t.Fatal("removed file still stored")
	}
	if page := string(tp.read("acme/simple/acme/index.html")); strings.Contains(page, "1.0-py3") || !strings.Contains(page, "2.0-py3") {
		t.Fatalf("page after removal:\n%s", page)
	}
	if _, err := tp.RemovePython(ctx, "acme", PythonQuery{Project: "acme"}); err != nil {
		t.Fatal(err)
	}
	if tp.read("acme/simple/acme/index.html") != nil || strings.Contains(string(tp.read("acme/simple/index.html")), "acme/") {
		t.Fatal("removed project still listed")
	}
	if files, _ := tp.PythonFiles(ctx, "acme", PythonQuery{}); len(files) != 1 || files[0].Project != "other" {
		t.Fatalf("left %+v", files)
	}
	if _, err := tp.RemovePython(ctx, "acme", PythonQuery{Project: "acme"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing again: %v", err)
	}
}

// TestNegotiateSimple picks the form PEP 691 says for each Accept.
func TestNegotiateSimple(t *testing.T) {
	tests := []struct {
		accept []string
		want   string
	}{
		{nil, SimpleHTMLFile},
		{[]string{"application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"}, SimpleJSONFile},
		{[]string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, SimpleHTMLFile},
		{[]string{"application/vnd.pypi.simple.v1+json"}, SimpleJSONFile},
		{[]string{"application/vnd.pypi.simple.latest+json;q=0.5", "text/html;q=0.6"}, SimpleHTMLFile},
		{[]string{"application/vnd.pypi.simple.v1+json;q=0", "*/*"}, SimpleHTMLFile},
		{[]string{"APPLICATION/VND.PYPI.SIMPLE.V1+JSON ; Q=1"}, SimpleJSONFile},
		{[]string{"application/vnd.pypi.simple.v1+json;q=bogus"}, SimpleHTMLFile},
		{[]string{"application/json"}, SimpleHTMLFile},
	}
	for _, tt := range tests {
		if got := NegotiateSimple(tt.accept); got != tt.want {
			t.Errorf("NegotiateSimple(%q) = %s, want %s", tt.accept, got, tt.want)
		}
	}
}
