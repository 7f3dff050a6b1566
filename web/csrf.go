package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
)

// Every form carries a token in its "csrf" field, checked on every POST
// after net/http's cross-origin check. A logged-in user's forms carry the
// session's FormToken; the forms of pages open to anyone (log-in, sign-up,
// password reset) carry a form token signed with the store's form key,
// which also dates the form for the sign-up's minimum fill time.

// csrfField is the name of the form token's field.
const csrfField = "csrf"

// formToken is the token to put in the forms of this request's page.
func (q *request) formToken() string {
	if q.sess != nil {
		return q.sess.FormToken
	}
	return q.h.signForm(q.h.cfg.Now())
}

// signForm makes an anonymous form token issued at t: 8 bytes of time and
// 8 random bytes, then an HMAC-SHA-256 of them, in base64url.
func (h *Handler) signForm(t time.Time) string {
	var payload [16]byte
	binary.BigEndian.PutUint64(payload[:8], uint64(t.Unix()))
	_, _ = rand.Read(payload[8:])
	p := base64.RawURLEncoding.EncodeToString(payload[:])
	return p + "." + base64.RawURLEncoding.EncodeToString(h.mac(payload[:]))
}

func (h *Handler) mac(b []byte) []byte {
	m := hmac.New(sha256.New, h.formKey)
	m.Write(b)
	return m.Sum(nil)
}

// formIssued returns when the anonymous form token tok was issued, and
// whether it is genuine and younger than Config.FormMaxAge.
func (h *Handler) formIssued(tok string) (time.Time, bool) {
	p, sig, ok := strings.Cut(tok, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err1 != nil || err2 != nil || len(payload) != 16 || !hmac.Equal(mac, h.mac(payload)) {
		return time.Time{}, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(payload[:8])), 0)
	age := h.cfg.Now().Sub(issued)
	return issued, age >= -time.Minute && age < h.cfg.FormMaxAge
}

// checkFormToken accepts a POST whose form token is the session's, or,
// on pages open to anyone, a genuine anonymous one.
func (q *request) checkFormToken(open bool) bool {
	got := q.r.PostForm.Get(csrfField)
	if q.sess != nil && subtle.ConstantTimeCompare([]byte(got), []byte(q.sess.FormToken)) == 1 {
		return true
	}
	if !open {
		return false
	}
	_, ok := q.h.formIssued(got)
	return ok
}
