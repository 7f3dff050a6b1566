package caddymodule

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestE2ECanonicalRedirectsKeepTheTokenPrivate requests, with the token
// in the path, a project page without its trailing slash (a package file
// with one is refused before the storage, see TestHostileRequests): the
// storage answers with a canonical redirect, whose Location
// must not spell out the token (answers and access logs would then hold
// it) yet must lead, resolved against the request URL, back under the
// same /t/<token>/ prefix to the resource.
func TestE2ECanonicalRedirectsKeepTheTokenPrivate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *e2e) {
		tok := e.tok["alice/all"]
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		tests := []struct {
			name, path, target string // target: the channel-relative fixture file the redirect leads to
		}{
			{"project page without trailing slash", "/acme/simple/acme-tools", "simple/acme-tools/index.html"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				reqURL := e.g.base + "/t/" + tok + tc.path
				resp, err := noFollow.Get(reqURL)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				loc := resp.Header.Get("Location")
				if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
					t.Fatalf("got %d Location %q, want a redirect", resp.StatusCode, e.maskTokens(loc))
				}
				if strings.Contains(loc, tok) {
					t.Errorf("redirect spells out the token: Location %q", e.maskTokens(loc))
				}
				base, _ := url.Parse(reqURL)
				ref, err := url.Parse(loc)
				if err != nil {
					t.Fatal(err)
				}
				next := base.ResolveReference(ref)
				if !strings.HasPrefix(next.Path, "/t/"+tok+"/acme/") {
					t.Fatalf("redirect leads out of the token's prefix to %q", e.maskTokens(next.Path))
				}
				status, body, _ := e.g.do("GET", next.Path, nil)
				if status != 200 || body != string(e.fx.file(t, tc.target)) {
					t.Fatalf("following the redirect: %d, want 200 with %s", status, tc.target)
				}
			})
		}
	})
}
