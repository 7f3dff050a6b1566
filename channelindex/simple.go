package channelindex

import (
	"bytes"
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The PyPI simple pages, written in both forms: index.html (PEP 503)
// and index.json (PEP 691, API version 1.1). The gateway serves the
// JSON to clients whose Accept asks for SimpleJSONContentType.

// simpleAPIVersion is the repository version both forms declare.
const simpleAPIVersion = "1.1"

// Names of the two forms in every simple folder.
const (
	SimpleHTMLFile = "index.html"
	SimpleJSONFile = "index.json"
)

// simpleFile is one file of a project page, as PEP 691 lists it.
type simpleFile struct {
	Filename       string            `json:"filename"`
	URL            string            `json:"url"`
	Hashes         map[string]string `json:"hashes"`
	RequiresPython string            `json:"requires-python,omitempty"`
	// CoreMetadata is {"sha256": hex} when <file>.metadata exists
	// (PEP 658/714), else false. The JSON page has no
	// "dist-info-metadata" (the older name, which the HTML page keeps):
	// pip before 23.1 (Debian 12's 23.0.1) crashes on any JSON value of
	// it but a string, and reads "core-metadata" not at all.
	CoreMetadata any    `json:"core-metadata"`
	Size         int64  `json:"size"`
	UploadTime   string `json:"upload-time,omitempty"`
	Yanked       bool   `json:"yanked"`
}

// simpleProject is a project page (index.json of simple/<project>/).
type simpleProject struct {
	Meta     map[string]string `json:"meta"`
	Name     string            `json:"name"`
	Files    []simpleFile      `json:"files"`
	Versions []string          `json:"versions"`
}

// simpleRoot is the project list (index.json of simple/).
type simpleRoot struct {
	Meta     map[string]string   `json:"meta"`
	Projects []map[string]string `json:"projects"`
}

// metadataSHA256 returns the core metadata hash of a file entry, "" if
// it has none.
func (f simpleFile) metadataSHA256() string {
	if m, ok := f.CoreMetadata.(map[string]any); ok {
		s, _ := m["sha256"].(string)
		return s
	}
	return ""
}

// renderProjectHTML writes a PEP 503 project page: one anchor per file
// with its #sha256 fragment, data-requires-python (escaped) and the
// PEP 714/658 metadata attributes.
func renderProjectHTML(p *simpleProject) []byte {
	var b bytes.Buffer
	title := html.EscapeString("Links for " + p.Name)
	b.WriteString(`<!DOCTYPE html>` + "\n" + `<html><head><meta name="pypi:repository-version" content="` + simpleAPIVersion + `"><title>` + title + "</title></head><body>\n<h1>" + title + "</h1>\n")
	for _, f := range p.Files {
		b.WriteString(`<a href="` + html.EscapeString(f.URL+"#sha256="+f.Hashes["sha256"]) + `"`)
		if f.RequiresPython != "" {
			b.WriteString(` data-requires-python="` + html.EscapeString(f.RequiresPython) + `"`)
		}
		if h := f.metadataSHA256(); h != "" {
			b.WriteString(` data-core-metadata="sha256=` + h + `" data-dist-info-metadata="sha256=` + h + `"`)
		}
		b.WriteString(">" + html.EscapeString(f.Filename) + "</a><br>\n")
	}
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

// renderRootHTML writes the PEP 503 project list, in the shape
// FilterSimpleHTML reads: one <a href="<project>/">project</a> a line.
func renderRootHTML(r *simpleRoot) []byte {
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html>` + "\n" + `<html><head><meta name="pypi:repository-version" content="` + simpleAPIVersion + `"><title>Simple index</title></head><body>` + "\n")
	for _, p := range r.Projects {
		name := p["name"]
		b.WriteString(`<a href="` + html.EscapeString(url.PathEscape(name)) + `/">` + html.EscapeString(name) + "</a><br>\n")
	}
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

// renderJSON writes a PEP 691 page compactly.
func renderJSON(v any) ([]byte, error) {
	b, err := compactJSON(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// simpleJSONTypes and simpleHTMLTypes are the media types of the two
// forms, in the order a client may name them in Accept (PEP 691).
var (
	simpleJSONTypes = []string{SimpleJSONContentType, "application/vnd.pypi.simple.latest+json"}
	simpleHTMLTypes = []string{"application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.latest+html", "text/html", "*/*", "text/*"}
)

// NegotiateSimple picks the form of a simple page from a request's
// Accept header values (PEP 691): SimpleJSONFile when the client ranks
// PEP 691 JSON at least as high as any HTML type, else SimpleHTMLFile
// (also with no Accept, as browsers and old pip expect).
func NegotiateSimple(accept []string) string {
	jsonQ, htmlQ := -1.0, -1.0
	for _, value := range accept {
		for _, item := range strings.Split(value, ",") {
			mediaType, q := parseAcceptItem(item)
			switch {
			case slices.Contains(simpleJSONTypes, mediaType):
				jsonQ = max(jsonQ, q)
			case slices.Contains(simpleHTMLTypes, mediaType):
				htmlQ = max(htmlQ, q)
			}
		}
	}
	if jsonQ > 0 && jsonQ >= htmlQ {
		return SimpleJSONFile
	}
	return SimpleHTMLFile
}

// parseAcceptItem splits "type/subtype; q=0.5" into the lowercase type
// and its weight (1 when absent, 0 when unreadable).
func parseAcceptItem(item string) (string, float64) {
	mediaType, params, _ := strings.Cut(item, ";")
	q := 1.0
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0
			}
			q = f
		}
	}
	return strings.ToLower(strings.TrimSpace(mediaType)), q
}
