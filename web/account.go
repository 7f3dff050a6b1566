package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// accountPage is the data of /settings/account ("My Account"): the
// profile with the email change, and the password change. Passwords are
// never sent back.
type accountPage struct {
	Name, Email string
	NewEmail    string
	Mail        bool
	Done        string
	Errors      fieldErrors
}

func (p accountPage) notice() string { return p.Done }

func (q *request) newAccountPage() *accountPage {
	return &accountPage{Name: q.user.Name, Email: q.user.Email, Mail: q.h.cfg.Mail != nil, Errors: fieldErrors{}}
}

func (h *Handler) accountPage(q *request) {
	q.render(http.StatusOK, "account", "My Account", q.newAccountPage())
}

// changeEmail is POST /settings/account/email: a link to the new address;
// the address changes when it is followed.
func (h *Handler) changeEmail(q *request) {
	p := q.newAccountPage()
	p.NewEmail = strings.TrimSpace(q.r.PostForm.Get("email"))
	switch {
	case !p.Mail:
		p.Errors.add("email", "This server sends no mail: ask its administrator to change your address.")
	case strings.EqualFold(p.NewEmail, p.Email):
		p.Errors.add("email", "This is already your address.")
	default:
		_ = p.Errors.check("email", tokenstore.ValidateEmail(p.NewEmail))
	}
	if len(p.Errors) > 0 {
		q.render(http.StatusBadRequest, "account", "My Account", p)
		return
	}
	if err := q.sendLink(tokenstore.LinkEmail, q.user, p.NewEmail); err != nil {
		h.mailFailure(q, err)
		return
	}
	p.Done = "We have mailed a link to " + p.NewEmail + ": your address changes when you follow it."
	p.NewEmail = ""
	q.render(http.StatusOK, "account", "My Account", p)
}

// changePassword is POST /settings/account/password: the old password,
// the new one twice; the user's other sessions end.
func (h *Handler) changePassword(q *request) {
	p := q.newAccountPage()
	f := q.r.PostForm
	old, newPass, confirm := f.Get("old_password"), f.Get("new_password"), f.Get("confirm_password")
	switch {
	case old == "":
		p.Errors.add("old_password", "Enter your current password.")
	case len(newPass) < h.store.MinPasswordLen():
		p.Errors.add("new_password", "The new password is too short.")
	case newPass != confirm:
		p.Errors.add("confirm_password", "The two passwords do not match.")
	}
	if len(p.Errors) == 0 && !q.changePassword(old, newPass, confirm, p.Errors) {
		return
	}
	if len(p.Errors) > 0 {
		q.render(http.StatusBadRequest, "account", "My Account", p)
		return
	}
	p.Done = "Your password is changed. Your other sessions have ended."
	q.render(http.StatusOK, "account", "My Account", p)
}

// changePassword changes the user's password under the login limit (a
// wrong old password is a guess) and ends the user's other sessions. It
// returns false when it has answered itself (429, 503).
func (q *request) changePassword(old, newPass, confirm string, errs fieldErrors) bool {
	att, wait := q.h.cfg.Logins.Reserve(q.user.Name, q.address())
	if att == nil {
		q.tooMany(wait)
		return false
	}
	err := q.h.store.ChangePassword(q.actor(), q.user.Name, old, newPass, confirm)
	att.Done(!errors.Is(err, tokenstore.ErrAuth))
	switch {
	case errors.Is(err, tokenstore.ErrAuth):
		errs.add("old_password", "The old password is wrong.")
		return true
	case err == nil:
		err = q.h.store.EndOtherSessions(q.actor(), q.user.Name, q.sess.ID)
	}
	if err = errs.check("new_password", err); err != nil {
		q.h.storeFailure(q.w, q.r, err)
		return false
	}
	return true
}
