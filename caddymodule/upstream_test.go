package caddymodule

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// upstream is a storage stand-in behind reverse_proxy that records every
// request it receives, so tests can check what the gateway let through
// and how: method, URI and every header.
type upstream struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

// seenRequest is one request as the upstream received it.
type seenRequest struct {
	Method string
	URI    string // the raw request-target
	Host   string
	Header http.Header
}

// String shows a recorded request on one line for failure messages.
func (r seenRequest) String() string {
	return fmt.Sprintf("%s %s %v", r.Method, r.URI, r.Header)
}

// newUpstream starts a recording upstream that answers every request 200
// with "UPSTREAM <path>".
func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.seen = append(u.seen, seenRequest{Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header.Clone()})
		u.mu.Unlock()
		_, _ = fmt.Fprintf(w, "UPSTREAM %s", r.URL.Path)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// take returns the requests recorded since the last call and forgets them.
func (u *upstream) take() []seenRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := u.seen
	u.seen = nil
	return out
}

// startProxyGateway runs the test gateway with reverse_proxy to a recording
// upstream instead of file_server.
func startProxyGateway(t *testing.T, options string) (*gateway, *upstream) {
	t.Helper()
	u := newUpstream(t)
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
