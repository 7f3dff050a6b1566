package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// loginForm is /login's form (and /confirm-password's, with the user
// fixed). The password is never sent back.
type loginForm struct {
	Username string
	Next     string
	password string
	Errors   fieldErrors
}

func readLoginForm(r *http.Request) *loginForm {
	p := r.PostForm
	return &loginForm{Username: strings.TrimSpace(p.Get("username")), password: p.Get("password"),
		Next: localPath(p.Get("next"), "/dashboard"), Errors: fieldErrors{}}
}

func (f *loginForm) validate() {
	if f.Username == "" {
		f.Errors.add("username", "Enter your user name.")
	}
	if f.password == "" {
		f.Errors.add("password", "Enter your password.")
	}
}

func (h *Handler) loginPage(q *request) {
	q.render(http.StatusOK, "login", "Log in", &loginForm{Next: localPath(q.r.URL.Query().Get("next"), "/dashboard")})
}

// login is POST /login: the password, limited per account and address
// with the API's limiter, then a new session.
func (h *Handler) login(q *request) {
	f := readLoginForm(q.r)
	if f.validate(); len(f.Errors) > 0 {
		q.render(http.StatusBadRequest, "login", "Log in", f)
		return
	}
	acct, status := q.checkPassword(f.Username, f.password, f.Errors)
	if status == 0 {
		return // answered
	}
	if acct == nil {
		q.render(status, "login", "Log in", f)
		return
	}
	if err := q.startSession(acct.Name); err != nil {
		h.storeFailure(q.w, q.r, err)
		return
	}
	q.redirect(f.Next)
}

// checkPassword checks a user's password under the shared login limit.
// It returns the account, or nil and the status to answer with the reason
// in errs["password"], or 0 when it has answered itself (429, 503).
// An unverified user who gave the right password gets a new verification
// mail.
func (q *request) checkPassword(user, password string, errs fieldErrors) (*tokenstore.Account, int) {
	att, wait := q.h.cfg.Logins.Reserve(user, q.address())
	if att == nil {
		q.tooMany(wait)
		return nil, 0
	}
	acct, err := q.h.store.Authenticate(user, password)
	att.Done(!errors.Is(err, tokenstore.ErrAuth))
	switch {
	case errors.Is(err, tokenstore.ErrAuth):
		errs.add("password", "Wrong user name or password.")
		return nil, http.StatusUnauthorized
	case errors.Is(err, tokenstore.ErrForbidden):
		return nil, q.unverified(user, errs)
	case errors.Is(err, tokenstore.ErrBusy):
		q.w.Header().Set("Retry-After", "1")
		q.h.fail(q.w, q.r, http.StatusServiceUnavailable, "The server is busy checking passwords. Try again in a moment.")
		return nil, 0
	case err != nil:
		q.h.storeFailure(q.w, q.r, err)
		return nil, 0
	}
	return acct, http.StatusOK
}

// unverified explains why a user with the right password cannot log in
// yet, mailing a new link when mail is set up.
func (q *request) unverified(user string, errs fieldErrors) int {
	if q.h.cfg.Mail == nil {
		errs.add("password", "Your account waits for an administrator to verify it.")
		return http.StatusForbidden
	}
	acct, err := q.h.store.Account(user)
	if err == nil {
		err = q.sendLink(tokenstore.LinkVerify, acct, acct.Email)
	}
	if err != nil {
		q.h.mailFailure(q, err)
		return 0
	}
	errs.add("password", "Your email address is not verified yet: we have mailed you a new link.")
	return http.StatusForbidden
}

// logout is POST /logout: the session ends in the store, for every
// gateway, and the cookie is dropped.
func (h *Handler) logout(q *request) {
	if err := h.store.DeleteSession(q.actor(), q.sess.ID); err != nil {
		h.storeFailure(q.w, q.r, err)
		return
	}
	h.clearCookie(q.w, q.r)
	q.redirect("/")
}

func (h *Handler) confirmPage(q *request) {
	q.render(http.StatusOK, "confirm", "Verify your password", &loginForm{Username: q.user.Name,
		Next: localPath(q.r.URL.Query().Get("next"), "/dashboard")})
}

// confirm is POST /confirm-password: the session's user types the
// password again before a sensitive page.
func (h *Handler) confirm(q *request) {
	f := readLoginForm(q.r)
	f.Username = q.user.Name
	if f.validate(); len(f.Errors) > 0 {
		q.render(http.StatusBadRequest, "confirm", "Verify your password", f)
		return
	}
	acct, status := q.checkPassword(f.Username, f.password, f.Errors)
	if status == 0 {
		return
	}
	if acct == nil {
		q.render(status, "confirm", "Verify your password", f)
		return
	}
	if err := h.store.ConfirmSession(q.sess.ID); err != nil {
		h.storeFailure(q.w, q.r, err)
		return
	}
	q.redirect(f.Next)
}
