package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/channelgate/channelgate/tokenstore"
)

// signupForm is /signup's form. The passwords are never sent back.
type signupForm struct {
	Username, Email   string
	password, confirm string
	Terms             bool
	pow, honeypot     string
	formToken         string

	TermsText      string
	RobotCheck     bool
	PowBits        int
	MinPasswordLen int
	Errors         fieldErrors
}

func (h *Handler) newSignupForm() *signupForm {
	return &signupForm{TermsText: h.cfg.Terms, RobotCheck: !h.cfg.RobotCheckOff, PowBits: h.cfg.PowBits,
		MinPasswordLen: h.store.MinPasswordLen(), Errors: fieldErrors{}}
}

func (h *Handler) readSignupForm(r *http.Request) *signupForm {
	f := h.newSignupForm()
	p := r.PostForm
	f.Username, f.Email = strings.TrimSpace(p.Get("username")), strings.TrimSpace(p.Get("email"))
	f.password, f.confirm = p.Get("password"), p.Get("confirm")
	f.Terms = p.Get("terms") == "on"
	f.pow, f.honeypot, f.formToken = p.Get(powField), p.Get(honeypotField), p.Get(csrfField)
	return f
}

// validate checks every field with the store's own rules, so the page can
// name each problem at once.
func (f *signupForm) validate() {
	_ = f.Errors.check("username", tokenstore.ValidateAccountName(f.Username))
	_ = f.Errors.check("email", tokenstore.ValidateEmail(f.Email))
	if len(f.password) < f.MinPasswordLen {
		f.Errors.add("password", fmt.Sprintf("The password must be at least %d characters.", f.MinPasswordLen))
	}
	if f.confirm != f.password {
		f.Errors.add("confirm", "The two passwords do not match.")
	}
	if !f.Terms {
		f.Errors.add("terms", "Accept the terms and conditions to register.")
	}
}

// signupDone is the page after a successful sign-up.
type signupDone struct {
	Mailed bool
	Email  string
}

func (h *Handler) signupPage(q *request) {
	if !h.cfg.Signup {
		h.fail(q.w, q.r, http.StatusForbidden, "Sign-up is closed on this server: ask its administrator for an account.")
		return
	}
	q.render(http.StatusOK, "signup", "Sign up", h.newSignupForm())
}

// signup is POST /signup: the robot check, the fields, then an unverified
// account and its verification mail. Every attempt that reaches the store
// or fails the robot check counts against the address's sign-up limit.
func (h *Handler) signup(q *request) {
	if !h.cfg.Signup {
		h.fail(q.w, q.r, http.StatusForbidden, "Sign-up is closed on this server: ask its administrator for an account.")
		return
	}
	f := h.readSignupForm(q.r)
	addr := q.address()
	if wait := h.cfg.Signups.Wait(addr); wait > 0 {
		q.tooMany(wait)
		return
	}
	if why := h.robotCheck(f.formToken, f.pow, f.honeypot); why != "" {
		h.cfg.Signups.Fail(addr)
		f.Errors.add("robot", why)
		q.render(http.StatusBadRequest, "signup", "Sign up", f)
		return
	}
	if f.validate(); len(f.Errors) > 0 {
		q.render(http.StatusBadRequest, "signup", "Sign up", f)
		return
	}
	h.cfg.Signups.Fail(addr)
	acct, err := h.store.SignUp(q.actor(), tokenstore.NewUser{Name: f.Username, Email: f.Email,
		Password: f.password, PasswordConfirmation: f.confirm, AcceptTerms: f.Terms}, false)
	switch {
	case errors.Is(err, tokenstore.ErrExists), errors.Is(err, tokenstore.ErrForbidden):
		// taken, or a channel the storage serves or an account had
		f.Errors.add("username", err.Error())
	case err != nil:
		if err = f.Errors.check("username", err); err != nil {
			h.storeFailure(q.w, q.r, err)
			return
		}
	}
	if len(f.Errors) > 0 {
		q.render(http.StatusBadRequest, "signup", "Sign up", f)
		return
	}
	if h.cfg.Mail == nil {
		q.render(http.StatusCreated, "signup_done", "Check your mail", signupDone{Email: acct.Email})
		return
	}
	if err := q.sendLink(tokenstore.LinkVerify, acct, acct.Email); err != nil {
		h.mailFailure(q, err)
		return
	}
	q.render(http.StatusCreated, "signup_done", "Check your mail", signupDone{Mailed: true, Email: acct.Email})
}

// linkMail is the subject and text of each kind of mailed link.
var linkMail = map[tokenstore.LinkPurpose]struct{ subject, text, path string }{
	tokenstore.LinkVerify: {"Verify your email address", "Follow this link to verify the address of your account %s:", "/verify/"},
	tokenstore.LinkEmail:  {"Confirm your new email address", "Follow this link to make this the address of your account %s:", "/verify/"},
	tokenstore.LinkReset:  {"Reset your password", "Follow this link to choose a new password for your account %s:", "/reset-password/"},
}

// sendLink creates a single-use link of purpose for acct and mails it to
// to. The link is built on Config.BaseURL, never on the request's Host.
func (q *request) sendLink(p tokenstore.LinkPurpose, acct *tokenstore.Account, to string) error {
	ttl := q.h.cfg.VerifyLinkTTL
	if p == tokenstore.LinkReset {
		ttl = q.h.cfg.ResetLinkTTL
	}
	secret, err := q.h.store.CreateLink(q.actor(), p, acct.Name, to, ttl)
	if err != nil {
		return err
	}
	m := linkMail[p]
	body := fmt.Sprintf(m.text, acct.Name) + "\n\n" + strings.TrimSuffix(q.h.cfg.BaseURL, "/") + m.path +
		url.PathEscape(secret) + "\n\nThe link works once, for " + ttl.String() +
		". If you did not ask for it, ignore this mail.\n"
	return q.h.cfg.Mail.Send(to, m.subject, body)
}

// mailFailure answers 503 when a mail could not be sent; the error goes to
// the log.
func (h *Handler) mailFailure(q *request, err error) {
	h.cfg.Logger.Error("channelgate web: mail failure", "path", q.r.URL.Path, "error", err)
	h.fail(q.w, q.r, http.StatusServiceUnavailable, "The mail could not be sent. Try again later.")
}

// tooMany answers 429 with Retry-After.
func (q *request) tooMany(wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	q.w.Header().Set("Retry-After", strconv.Itoa(secs))
	q.h.fail(q.w, q.r, http.StatusTooManyRequests, fmt.Sprintf("Too many attempts from your address. Try again in %d seconds.", secs))
}
