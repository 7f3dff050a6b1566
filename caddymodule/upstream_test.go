package caddymodule

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// storageRecorder is a storage behind reverse_proxy that records every
// request it receives (method, URI, every header) before serve answers
// it, so tests can check what the gateway let through and how.
type storageRecorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recordedRequest
}

// recordedRequest is what the storage saw of one request.
type recordedRequest struct {
	Method string
	URI    string // the raw request-target
	Host   string
	Header http.Header
}

// String shows a recorded request on one line for failure messages.
func (r recordedRequest) String() string {
	return fmt.Sprintf("%s %s %v", r.Method, r.URI, r.Header)
}

func newStorageRecorder(t *testing.T, serve http.Handler) *storageRecorder {
	r := &storageRecorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, recordedRequest{Method: req.Method, URI: req.RequestURI, Host: req.Host, Header: req.Header.Clone()})
		r.mu.Unlock()
		serve.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// folderStorage is a static package store over HTTP, like a bucket: it
// serves a folder for GET and HEAD with ETags, and 405 for other methods.
func folderStorage(root string) http.Handler {
	files := http.FileServer(http.Dir(root))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path.Clean(req.URL.Path)))); err == nil {
			sum := sha256.Sum256(b)
			w.Header().Set("Etag", `"`+hex.EncodeToString(sum[:8])+`"`) // as buckets do; FileServer honours it
		}
		files.ServeHTTP(w, req)
	})
}

// echoStorage answers every request 200 with "UPSTREAM <path>", so that
// any request the gateway lets through is seen to arrive.
func echoStorage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "UPSTREAM %s", r.URL.Path)
	})
}

// requests returns a copy of what the storage received so far.
func (r *storageRecorder) requests() []recordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedRequest(nil), r.reqs...)
}

// take returns the requests recorded since the last call and forgets them.
func (r *storageRecorder) take() []recordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// startProxyGateway runs the test gateway with reverse_proxy to a
// recording storage that answers every request.
func startProxyGateway(t *testing.T, options string) (*gateway, *storageRecorder) {
	t.Helper()
	u := newStorageRecorder(t, echoStorage())
	g := startSite(t, site{options: options, serve: "reverse_proxy " + u.srv.Listener.Addr().String()})
	return g, u
}

// raw writes bytes exactly as given on a fresh connection to the gateway
// (no client normalization) and returns the status of the first answer,
// or 0 if the connection closed without one.
func (g *gateway) raw(request string) (int, string) {
	g.t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("localhost:%d", gatewayPort), 5*time.Second)
	if err != nil {
		g.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(request)); err != nil {
		// The server may close early on a huge request; its answer, if
		// any, is still readable.
		g.t.Logf("raw write: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}
