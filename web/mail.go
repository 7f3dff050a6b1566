package web

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// Mailer sends one plain-text mail.
type Mailer interface {
	Send(to, subject, body string) error
}

// SMTP sends mail through an SMTP server: STARTTLS when the server offers
// it, and AUTH PLAIN with User and Password when they are set and the
// server offers it (net/smtp refuses to send them unencrypted except to
// localhost).
type SMTP struct {
	// Addr is the server's host:port.
	Addr string
	// From is the sender's address.
	From string
	// User and Password authenticate, if set.
	User, Password string
	// Timeout bounds one whole delivery. Default 30s.
	Timeout time.Duration
	// TLS configures STARTTLS. Default: the system's roots, for the
	// server's host name.
	TLS *tls.Config
}

// DefaultSMTPTimeout is SMTP.Timeout's default.
const DefaultSMTPTimeout = 30 * time.Second

// Send delivers one message.
func (m *SMTP) Send(to, subject, body string) error {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("smtp address %q: %w", m.Addr, err)
	}
	conn, err := net.DialTimeout("tcp", m.Addr, timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := m.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host}
		}
		if err := c.StartTLS(cfg); err != nil {
			return err
		}
	}
	if ok, _ := c.Extension("AUTH"); ok && m.User != "" {
		if err := c.Auth(smtp.PlainAuth("", m.User, m.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.From); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	wc, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := wc.Write(formatMail(m.From, to, subject, body)); err != nil {
		return err
	}
	if err := wc.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// formatMail formats a plain-text mail. The addresses were validated
// (tokenstore.ValidateEmail) and subjects are the pages' own, so no header
// can be injected.
func formatMail(from, to, subject, body string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n", from, to, subject, time.Now().UTC().Format(time.RFC1123Z))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	return []byte(b.String())
}

// Interface guard
var _ Mailer = (*SMTP)(nil)
