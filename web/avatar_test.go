package web

import (
	"bytes"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestAvatar: pictures come from this site; with Gravatar on, the server
// asks it (once, then from its cache) and falls back to an identicon when
// it has none or cannot be reached.
func TestAvatar(t *testing.T) {
	var asked atomic.Int32
	gravatar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if strings.HasPrefix(r.URL.Path, "/"+avatarHash("alice@example.org")) && r.URL.Query().Get("d") == "404" {
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write([]byte("jpeg bytes"))
			return
		}
		http.NotFound(w, r)
	}))
	defer gravatar.Close()
	tests := []struct {
		name     string
		cfg      func(*Config)
		email    string
		wantType string
		asks     int32
	}{
		{"off", func(*Config) {}, "alice@example.org", "image/png", 0},
		{"on", func(c *Config) { c.Gravatar, c.GravatarURL = true, gravatar.URL+"/" }, "Alice@Example.org", "image/jpeg", 1},
		{"on, no picture", func(c *Config) { c.Gravatar, c.GravatarURL = true, gravatar.URL+"/" }, "bob@example.org", "image/png", 1},
		{"on, unreachable", func(c *Config) { c.Gravatar, c.GravatarURL = true, "http://127.0.0.1:1/" }, "alice@example.org", "image/png", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asked.Store(0)
			e := newEnv(t, tc.cfg)
			e.addUser(t, "alice")
			b := e.browser(t)
			b.login("alice")
			dash := b.get("/dashboard")
			path := "/avatar/" + avatarHash(tc.email)
			if tc.email == "alice@example.org" && !strings.Contains(dash.body, path) {
				t.Fatalf("dashboard does not show %s", path)
			}
			for range 2 {
				p := b.get(path)
				p.want(t, http.StatusOK)
				if ct := p.header.Get("Content-Type"); ct != tc.wantType {
					t.Fatalf("content type %q", ct)
				}
				if tc.wantType == "image/png" {
					img, err := png.Decode(bytes.NewReader([]byte(p.body)))
					if err != nil || img.Bounds().Dx() != avatarPixels {
						t.Fatalf("identicon: %v", err)
					}
				}
			}
			if got := asked.Load(); got != tc.asks {
				t.Fatalf("Gravatar asked %d times, want %d", got, tc.asks)
			}
		})
	}
	e := newEnv(t, nil)
	e.addUser(t, "alice")
	b := e.browser(t)
	b.login("alice")
	for _, bad := range []string{"x", strings.Repeat("A", 64), strings.Repeat("a", 63), strings.Repeat("a", 66)} {
		b.get("/avatar/"+bad).want(t, http.StatusNotFound)
	}
}

// TestIdenticon: the same hash draws the same picture, another hash
// another one.
func TestIdenticon(t *testing.T) {
	a, b := identicon(avatarHash("a@example.org")), identicon(avatarHash("b@example.org"))
	if !bytes.Equal(a, identicon(avatarHash("a@example.org"))) || bytes.Equal(a, b) {
		t.Fatal("identicons are not a function of the hash")
	}
}
