package web

import (
	"crypto/tls"
	"crypto/x509"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/channelgate/channelgate/internal/mailtest"
)

// TestSMTP sends through servers with and without STARTTLS and AUTH.
func TestSMTP(t *testing.T) {
	// httptest's certificate is valid for 127.0.0.1.
	certSrv := httptest.NewTLSServer(nil)
	defer certSrv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(certSrv.Certificate())
	serverTLS := &tls.Config{Certificates: certSrv.TLS.Certificates}
	clientTLS := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}

	tests := []struct {
		name       string
		server     mailtest.Options
		user, pass string
		tls        *tls.Config
		wantErr    string
		wantTLS    bool
	}{
		{"plain", mailtest.Options{}, "", "", nil, "", false},
		{"starttls", mailtest.Options{TLS: serverTLS}, "", "", clientTLS, "", true},
		{"starttls and auth", mailtest.Options{TLS: serverTLS, User: "u", Password: "p"}, "u", "p", clientTLS, "", true},
		{"auth refused", mailtest.Options{TLS: serverTLS, User: "u", Password: "p"}, "u", "wrong", clientTLS, "invalid credentials", false},
		{"auth needed, none given", mailtest.Options{TLS: serverTLS, User: "u", Password: "p"}, "", "", clientTLS, "authentication required", false},
		{"untrusted certificate", mailtest.Options{TLS: serverTLS}, "", "", nil, "certificate", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.Start(t, tc.server)
			m := &SMTP{Addr: srv.Addr, From: "from@example.org", User: tc.user, Password: tc.pass, TLS: tc.tls, Timeout: 10 * time.Second}
			err := m.Send("to@example.org", "Subject line", "line one\nline two\n")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := srv.Wait(t, 0, 10*time.Second)
			if got.TLS != tc.wantTLS || got.Auth != tc.user || got.From != "from@example.org" || got.To[0] != "to@example.org" ||
				!strings.Contains(got.Data, "Subject: Subject line\r\n") || !strings.Contains(got.Data, "line one\r\nline two\r\n") {
				t.Fatalf("received %+v", got)
			}
		})
	}
	if err := (&SMTP{Addr: "no port", From: "x@example.org"}).Send("to@example.org", "s", "b"); err == nil {
		t.Fatal("a bad address sent")
	}
}
