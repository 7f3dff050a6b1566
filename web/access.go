package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/channelgate/channelgate/tokenstore"
)

// accessPage is the data of /settings/access: the "Create access token"
// form, the new token once, and the list of tokens.
type accessPage struct {
	Base    string
	Channel string
	Form    tokenForm
	Scopes  []scopeOption
	Tokens  []tokenRow
	// Created is the new token's secret, shown on this one answer only.
	Created string
	Done    string
	// Action is where the forms post; CSRF is their token.
	Action, CSRF string
}

func (p accessPage) notice() string { return p.Done }

// tokenForm is the "Create access token" form.
type tokenForm struct {
	Name     string
	Strength string
	Scopes   map[string]bool
	Expires  string // YYYY-MM-DD
	Errors   fieldErrors
}

type scopeOption struct {
	Name, Description string
	Checked           bool
}

type tokenRow struct {
	Name, Prefix, Scopes string
	Created, Expires     time.Time
	LastUsed             time.Time
	Expired              bool
}

// dateLayout is how the expiration date is typed (an HTML date input).
const dateLayout = "2006-01-02"

// newTokenForm is the form as first shown: strong, no scope ticked,
// expiring in one year.
func (h *Handler) newTokenForm() tokenForm {
	return tokenForm{Strength: string(tokenstore.Strong), Scopes: map[string]bool{},
		Expires: h.cfg.Now().UTC().AddDate(1, 0, 0).Format(dateLayout), Errors: fieldErrors{}}
}

func readTokenForm(r *http.Request) tokenForm {
	p := r.PostForm
	f := tokenForm{Name: strings.TrimSpace(p.Get("name")), Strength: p.Get("strength"),
		Expires: p.Get("expires"), Scopes: map[string]bool{}, Errors: fieldErrors{}}
	for _, s := range p["scope"] {
		f.Scopes[s] = true
	}
	return f
}

// validate checks the fields with the store's rules and returns the
// token's spec; the expiry is the start (UTC) of the chosen day.
func (f *tokenForm) validate(now time.Time, maxAge time.Duration) tokenstore.TokenSpec {
	_ = f.Errors.check("name", tokenstore.ValidateTokenName(f.Name))
	_, err := tokenstore.ParseStrength(f.Strength)
	_ = f.Errors.check("strength", err)
	var scopes []string
	for s := range f.Scopes {
		scopes = append(scopes, s)
	}
	if len(scopes) == 0 {
		f.Errors.add("scopes", "Choose at least one scope.")
	} else if _, _, err := tokenstore.ParseScopes(scopes); err != nil {
		_ = f.Errors.check("scopes", err)
	}
	day, err := time.Parse(dateLayout, f.Expires)
	age := day.Sub(now)
	switch {
	case err != nil:
		f.Errors.add("expires", "Give the expiration date as YYYY-MM-DD.")
	case age <= 0:
		f.Errors.add("expires", "The expiration date must be in the future.")
	case age > maxAge:
		f.Errors.add("expires", "The expiration date may be at most one year from today.")
	}
	return tokenstore.TokenSpec{Name: f.Name, Strength: f.Strength, Scopes: scopes, MaxAge: age}
}

// accessView is the token section of a page for owner's tokens, whose
// forms post to action (and action + "/revoke").
func (q *request) accessView(owner string, res tokenResult, action string) (*accessPage, error) {
	toks, err := q.h.store.Tokens(owner)
	if err != nil {
		return nil, err
	}
	f := res.form
	p := &accessPage{Base: q.base(), Channel: owner, Form: f, Created: res.created, Done: res.done,
		Action: action, CSRF: q.formToken()}
	for _, name := range tokenstore.ScopeNames() {
		p.Scopes = append(p.Scopes, scopeOption{Name: name, Description: tokenstore.ScopeDescriptions()[name], Checked: f.Scopes[name]})
	}
	now := q.h.cfg.Now()
	for _, t := range toks {
		scopes := make([]string, len(t.Scopes))
		for i, s := range t.Scopes {
			scopes[i] = string(s)
		}
		p.Tokens = append(p.Tokens, tokenRow{Name: t.Name, Prefix: t.Prefix, Scopes: strings.Join(scopes, " "),
			Created: t.Created, Expires: t.Expires, LastUsed: t.LastUsed, Expired: !now.Before(t.Expires)})
	}
	return p, nil
}

// tokenResult is what a token form did: the form as sent (with its
// errors), the new secret (shown once), a notice and the status to answer.
type tokenResult struct {
	form          tokenForm
	created, done string
	status        int
}

// createTokenFor creates a token for owner from the posted form: the same
// store call as the API's POST /authentications, made by the user (the
// store decides who may create tokens for whom). The secret is on this
// answer only: no redirect carries it, nothing logs it. Only a store
// failure is an error.
func (q *request) createTokenFor(owner string) (tokenResult, error) {
	f := readTokenForm(q.r)
	spec := f.validate(q.h.cfg.Now(), q.h.store.MaxTokenAge())
	if len(f.Errors) > 0 {
		return tokenResult{form: f, status: http.StatusBadRequest}, nil
	}
	spec.Owner, spec.CreatedBy, spec.Remote = owner, q.user.Name, q.remote()
	secret, _, err := q.h.store.CreateToken(q.actor(), spec)
	switch {
	case err == nil:
		return tokenResult{form: q.h.newTokenForm(), created: secret, status: http.StatusOK}, nil
	case errors.Is(err, tokenstore.ErrExists):
		f.Errors.add("name", "There is already a token with this name: choose another or revoke that one.")
	case errors.Is(err, tokenstore.ErrForbidden):
		f.Errors.add("name", err.Error())
	default:
		if err = f.Errors.check("expires", err); err != nil {
			return tokenResult{}, err
		}
	}
	return tokenResult{form: f, status: http.StatusBadRequest}, nil
}

// revokeTokenFor revokes owner's token named in the form: the same store
// call as the API's DELETE /authentications/name/{name}.
func (q *request) revokeTokenFor(owner string) (tokenResult, error) {
	name := q.r.PostForm.Get("name")
	res := tokenResult{form: q.h.newTokenForm(), status: http.StatusOK, done: "Token " + name + " is revoked: it is refused from now on."}
	err := q.h.store.RevokeToken(q.actor(), owner, name)
	if errors.Is(err, tokenstore.ErrNotFound) {
		res.status, res.done, err = http.StatusNotFound, "There is no token named "+name+".", nil
	}
	return res, err
}

func (h *Handler) accessPage(q *request) {
	q.showAccess(tokenResult{form: h.newTokenForm(), status: http.StatusOK}, nil)
}

// showAccess renders the Access page for the user after a token action.
func (q *request) showAccess(res tokenResult, err error) {
	var p *accessPage
	if err == nil {
		p, err = q.accessView(q.user.Name, res, "/settings/access")
	}
	if err != nil {
		q.h.storeFailure(q.w, q.r, err)
		return
	}
	q.render(res.status, "access", "Access", p)
}

// createToken is POST /settings/access: a token for the user.
func (h *Handler) createToken(q *request) { q.showAccess(q.createTokenFor(q.user.Name)) }

// revokeToken is POST /settings/access/revoke.
func (h *Handler) revokeToken(q *request) { q.showAccess(q.revokeTokenFor(q.user.Name)) }
