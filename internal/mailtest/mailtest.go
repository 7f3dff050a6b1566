// Package mailtest is an SMTP server for tests (github.com/emersion/go-smtp
// on a loopback port): it keeps every message it receives, so a test reads
// the mail a page sent. Optionally it offers STARTTLS and requires AUTH
// PLAIN, to test that the sender uses them.
package mailtest

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one received mail.
type Message struct {
	From string
	To   []string
	Data string
	// TLS and Auth say whether the session used STARTTLS and AUTH.
	TLS  bool
	Auth string // the authenticated user, "" without AUTH
}

// Server records the mail it receives.
type Server struct {
	Addr string

	mu       sync.Mutex
	messages []Message
	arrived  chan struct{}
	user     string
	password string
}

// Options configure a Server.
type Options struct {
	// TLS, when set, is offered with STARTTLS.
	TLS *tls.Config
	// User and Password, when set, are required with AUTH PLAIN.
	User, Password string
}

// Start runs a server on 127.0.0.1 until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), arrived: make(chan struct{}, 100), user: opts.User, password: opts.Password}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = opts.TLS
	srv.AllowInsecureAuth = opts.TLS == nil
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Wait returns the next message not yet returned, waiting up to timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		if len(s.messages) > n {
			m := s.messages[n]
			s.mu.Unlock()
			return m
		}
		s.mu.Unlock()
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("mail %d did not arrive within %v", n+1, timeout)
		}
	}
}

// Count is the number of messages received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

// Link returns the first URL in a message that contains path.
func Link(t testing.TB, m Message, path string) string {
	t.Helper()
	for _, u := range regexp.MustCompile(`https?://\S+`).FindAllString(m.Data, -1) {
		if strings.Contains(u, path) {
			return u
		}
	}
	t.Fatalf("no link with %s in the mail:\n%s", path, m.Data)
	return ""
}

type session struct {
	s    *Server
	conn *smtp.Conn
	msg  Message
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.user || pass != ss.s.password {
			return errors.New("invalid credentials")
		}
		ss.msg.Auth = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && ss.msg.Auth == "" {
		return errors.New("authentication required")
	}
	ss.msg.From = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.msg.Data = string(b)
	_, ss.msg.TLS = ss.conn.TLSConnectionState()
	ss.s.mu.Lock()
	ss.s.messages = append(ss.s.messages, ss.msg)
	ss.s.mu.Unlock()
	select {
	case ss.s.arrived <- struct{}{}:
	default:
	}
	ss.msg = Message{Auth: ss.msg.Auth}
	return nil
}

func (ss *session) Reset()        { ss.msg = Message{Auth: ss.msg.Auth} }
func (ss *session) Logout() error { return nil }
