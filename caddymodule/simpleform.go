package caddymodule

import (
	"errors"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/channelgate/channelgate/channelindex"
	"github.com/channelgate/channelgate/tokenstore"
)

// simpleForm serves a PyPI simple folder (simple/ or simple/<project>/)
// in the form the client's Accept prefers (PEP 691): pip and uv ask for
// JSON first and get the folder's index.json, labelled
// application/vnd.pypi.simple.v1+json; browsers and older clients get
// index.html, which file_server picks for a folder. A folder without
// index.json (written by another tool) is served as HTML to everyone.
// r is already rewritten to the storage path; the returned handler
// replaces next.
func simpleForm(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, t *target) caddyhttp.Handler {
	if t.kind != tokenstore.PyPI || !strings.HasSuffix(r.URL.Path, "/") {
		return next
	}
	w.Header().Add("Vary", "Accept")
	if channelindex.NegotiateSimple(r.Header.Values("Accept")) != channelindex.SimpleJSONFile {
		return next
	}
	return simpleJSON{next}
}

// simpleJSON asks the storage for the folder's index.json and falls back
// to the folder itself (index.html) when there is none.
type simpleJSON struct{ next caddyhttp.Handler }

func (s simpleJSON) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	folder, before := r.URL.Path, w.Header().Clone()
	jw := &simpleJSONWriter{ResponseWriterWrapper: caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}
	err := s.next.ServeHTTP(jw, withPath(r, folder+channelindex.SimpleJSONFile))
	var he caddyhttp.HandlerError
	if !jw.notFound && !(errors.As(err, &he) && he.StatusCode == http.StatusNotFound && !jw.wrote) {
		return err
	}
	// What the storage set for its 404 must not reach the HTML answer.
	clear(w.Header())
	for k, v := range before {
		w.Header()[k] = v
	}
	return s.next.ServeHTTP(w, withPath(r, folder))
}

// withPath is r asking for another storage path.
func withPath(r *http.Request, p string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = p, ""
	r2.RequestURI = r2.URL.RequestURI()
	return r2
}

// simpleJSONWriter labels a successful answer with PEP 691's media type
// (file_server says application/json for a .json file) and swallows a
// 404, so the folder can be asked for its HTML form instead.
type simpleJSONWriter struct {
	caddyhttp.ResponseWriterWrapper
	wrote, notFound bool
}

func (w *simpleJSONWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	switch {
	case status == http.StatusNotFound:
		w.notFound = true
		return
	case status >= 200 && status < 300:
		w.Header().Set("Content-Type", channelindex.SimpleJSONContentType)
	}
	w.ResponseWriterWrapper.WriteHeader(status)
}

func (w *simpleJSONWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.notFound {
		return len(b), nil
	}
	return w.ResponseWriterWrapper.Write(b)
}
