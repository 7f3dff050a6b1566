package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// resetForm is /reset-password's form: the account's address.
type resetForm struct {
	Email  string
	Sent   bool
	Errors fieldErrors
}

func (h *Handler) resetPage(q *request) {
	if h.cfg.Mail == nil {
		h.fail(q.w, q.r, http.StatusNotFound, "This server sends no mail: ask its administrator to reset your password.")
		return
	}
	q.render(http.StatusOK, "reset", "Reset your password", &resetForm{})
}

// resetRequest is POST /reset-password: a reset link to the address if an
// account has it. The answer is the same either way, so the page does not
// tell who has an account; requests count against the address's sign-up
// limit.
func (h *Handler) resetRequest(q *request) {
	if h.cfg.Mail == nil {
		h.fail(q.w, q.r, http.StatusNotFound, "This server sends no mail: ask its administrator to reset your password.")
		return
	}
	f := &resetForm{Email: strings.TrimSpace(q.r.PostForm.Get("email")), Errors: fieldErrors{}}
	if err := f.Errors.check("email", tokenstore.ValidateEmail(f.Email)); err != nil || len(f.Errors) > 0 {
		q.render(http.StatusBadRequest, "reset", "Reset your password", f)
		return
	}
	addr := q.address()
	if wait := h.cfg.Signups.Wait(addr); wait > 0 {
		q.tooMany(wait)
		return
	}
	h.cfg.Signups.Fail(addr)
	acct, err := h.store.UserByEmail(f.Email)
	if err == nil {
		err = q.sendLink(tokenstore.LinkReset, acct, acct.Email)
	}
	switch {
	case errors.Is(err, tokenstore.ErrNotFound):
	case err != nil:
		h.mailFailure(q, err)
		return
	}
	f.Sent = true
	q.render(http.StatusOK, "reset", "Reset your password", f)
}

// newPasswordPage is the mailed link's page: the new password, twice.
func (h *Handler) newPasswordPage(q *request) {
	noReferrer(q.w)
	code := q.r.PathValue("code")
	if _, err := h.store.CheckLink(code, tokenstore.LinkReset); err != nil {
		q.linkError(err)
		return
	}
	q.render(http.StatusOK, "new_password", "Choose a new password", codePage{Code: code, Errors: fieldErrors{}})
}

// newPassword is POST /reset-password/new: the password changes, every
// session of the account ends.
func (h *Handler) newPassword(q *request) {
	p := q.r.PostForm
	page := codePage{Code: p.Get("code"), Errors: fieldErrors{}}
	_, err := h.store.ResetPassword(q.actor(), page.Code, p.Get("new_password"), p.Get("confirm_password"))
	switch {
	case err == nil:
		q.render(http.StatusOK, "message", "Password changed",
			message{Text: "Your password is changed and every session of your account has ended.", Link: "/login", LinkText: "Log in"})
	case errors.Is(err, tokenstore.ErrBadLink):
		q.linkError(err)
	default:
		if err = page.Errors.check("new_password", err); err != nil {
			h.storeFailure(q.w, q.r, err)
			return
		}
		q.render(http.StatusBadRequest, "new_password", "Choose a new password", page)
	}
}

// linkError answers a bad or stale link (400) or a store failure (503).
func (q *request) linkError(err error) {
	if errors.Is(err, tokenstore.ErrInvalid) {
		q.h.fail(q.w, q.r, http.StatusBadRequest, err.Error())
		return
	}
	q.h.storeFailure(q.w, q.r, err)
}
