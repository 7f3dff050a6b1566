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

// accessView fills the page's lists for owner.
func (q *request) accessView(owner string, f tokenForm) (*accessPage, error) {
	toks, err := q.h.store.Tokens(owner)
	if err != nil {
		return nil, err
	}
	p := &accessPage{Base: q.base(), Channel: owner, Form: f}
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

func (h *Handler) accessPage(q *request) {
	q.showAccess(http.StatusOK, h.newTokenForm(), "", "")
}

// showAccess renders the Access page for the user.
func (q *request) showAccess(status int, f tokenForm, created, done string) {
	p, err := q.accessView(q.user.Name, f)
	if err != nil {
		q.h.storeFailure(q.w, q.r, err)
		return
	}
	p.Created, p.Done = created, done
	q.render(status, "access", "Access", p)
}

// createToken is POST /settings/access: the same store call as the API's
// POST /authentications, by the user for the user. The secret is on this
// answer only (no redirect carries it, nothing logs it).
func (h *Handler) createToken(q *request) {
	f := readTokenForm(q.r)
	spec := f.validate(h.cfg.Now(), h.store.MaxTokenAge())
	if len(f.Errors) > 0 {
		q.showAccess(http.StatusBadRequest, f, "", "")
		return
	}
	spec.Owner, spec.CreatedBy, spec.Remote = q.user.Name, q.user.Name, q.remote()
	secret, _, err := h.store.CreateToken(q.actor(), spec)
	switch {
	case errors.Is(err, tokenstore.ErrExists):
		f.Errors.add("name", "You already have a token with this name: choose another or revoke that one.")
	case errors.Is(err, tokenstore.ErrForbidden):
		f.Errors.add("name", err.Error())
	case err != nil:
		if err = f.Errors.check("expires", err); err != nil {
			h.storeFailure(q.w, q.r, err)
			return
		}
	}
	if len(f.Errors) > 0 {
		q.showAccess(http.StatusBadRequest, f, "", "")
		return
	}
	q.showAccess(http.StatusOK, h.newTokenForm(), secret, "")
}

// revokeToken is POST /settings/access/revoke: the same store call as the
// API's DELETE /authentications/name/{name}.
func (h *Handler) revokeToken(q *request) {
	name := q.r.PostForm.Get("name")
	err := h.store.RevokeToken(q.actor(), q.user.Name, name)
	switch {
	case errors.Is(err, tokenstore.ErrNotFound):
		q.showAccess(http.StatusNotFound, h.newTokenForm(), "", "There is no token named "+name+".")
	case err != nil:
		h.storeFailure(q.w, q.r, err)
	default:
		q.showAccess(http.StatusOK, h.newTokenForm(), "", "Token "+name+" is revoked: it is refused from now on.")
	}
}
