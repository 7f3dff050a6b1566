package admin

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// operatorName is the audit name of the operator secret.
const operatorName = "operator"

// caller is who makes a request. The zero value (name "") is anonymous.
type caller struct {
	// name is the account acting (a token's owner), or "operator".
	name string
	// account is the acting account; nil for the operator and anonymous.
	account *tokenstore.Account
	// token is the presented token when the caller authenticated with one.
	token *tokenstore.Credential
	// remote is the client's address, for the audit log.
	remote string
}

func (c *caller) operator() bool  { return c.name == operatorName && c.account == nil }
func (c *caller) anonymous() bool { return c.name == "" }
func (c *caller) siteAdmin() bool { return c.operator() || c.account != nil && c.account.SiteAdmin }

// caps is what the caller may do through the API: a token's scopes, or
// everything for password and operator callers.
func (c *caller) caps() tokenstore.Caps {
	if c.token != nil {
		return c.token.Caps
	}
	return tokenstore.CapsAll
}

// actor is the caller for the audit log.
func (c *caller) actor() tokenstore.Actor {
	name := c.name
	if name == "" {
		name = "anonymous"
	}
	return tokenstore.Actor{Name: name, Remote: c.remote, SiteAdmin: c.siteAdmin()}
}

// user returns the calling account if it is a user (not an organization's
// token, not the operator), else a 403 naming what was needed.
func (c *caller) user(what string) (*tokenstore.Account, error) {
	if c.account == nil || c.account.Type != tokenstore.User {
		return nil, errorf(http.StatusForbidden, "only a user can %s", what)
	}
	return c.account, nil
}

// identify authenticates r and checks it against p.
func (a *api) identify(r *http.Request, p policy) (*caller, error) {
	c := &caller{remote: a.cfg.ClientAddress(r)}
	var err error
	if user, pass, ok := r.BasicAuth(); ok {
		err = a.password(c, user, pass)
	} else if scheme, value, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok {
		err = a.bearer(r, c, scheme, strings.TrimSpace(value))
	}
	switch {
	case err != nil:
		return nil, err
	case c.anonymous() && p.login:
		return nil, errorf(http.StatusUnauthorized, "authentication required")
	case !c.anonymous() && !c.caps().Has(p.need) && p.upload && c.caps()&(tokenstore.CapCondaUpload|tokenstore.CapPyPIUpload) == 0:
		return nil, errorf(http.StatusForbidden, "token lacks scope conda, pypi:upload or %s", tokenstore.ScopeFor(p.need))
	case !c.anonymous() && !c.caps().Has(p.need) && !p.upload:
		return nil, errorf(http.StatusForbidden, "token lacks scope %s", tokenstore.ScopeFor(p.need))
	}
	return c, nil
}

// password authenticates HTTP Basic credentials. The guess is reserved
// before the password is checked (Config.Logins), so concurrent guesses
// cannot outrun the limit; only a wrong password keeps its reservation.
func (a *api) password(c *caller, user, pass string) error {
	at, err := a.reserveGuess(user, c.remote)
	if err != nil {
		return err
	}
	acct, err := a.store.Authenticate(user, pass)
	at.Done(!errors.Is(err, tokenstore.ErrAuth))
	if err != nil {
		return err
	}
	c.name, c.account = acct.Name, acct
	return nil
}

// bearer authenticates "token X" and "Bearer X": the operator secret or a
// live channelgate token whose owner still exists. Other schemes are
// treated as anonymous. Wrong secrets count against the client's address
// (Config.SecretFailures), and a limited address is refused before any
// secret is compared.
func (a *api) bearer(r *http.Request, c *caller, scheme, value string) error {
	if !strings.EqualFold(scheme, "token") && !strings.EqualFold(scheme, "bearer") {
		return nil
	}
	if err := a.throttleSecret(r, c.remote); err != nil {
		return err
	}
	if a.isOperator(value) {
		c.name = operatorName
		return nil
	}
	if !strings.HasPrefix(value, tokenstore.TokenPrefix) {
		a.secretFailed(c.remote)
		if strings.EqualFold(scheme, "bearer") {
			// anaconda-client first tries its anaconda.com key as a
			// Bearer token and falls back to password login on exactly
			// this.
			return errorf(http.StatusUnauthorized, "Bearer token authentication is not enabled")
		}
		return errorf(http.StatusUnauthorized, "wrong operator secret (channelgate tokens start with %s)", tokenstore.TokenPrefix)
	}
	tok, err := a.store.AuthenticateToken(value)
	if errors.Is(err, tokenstore.ErrAuth) {
		a.secretFailed(c.remote)
	}
	if err != nil {
		return err
	}
	owner, err := a.store.Account(tok.Owner)
	if err != nil {
		return err
	}
	c.name, c.account, c.token = owner.Name, owner, tok
	return nil
}

// remoteHost is the client's address without the port: the default of
// Config.ClientAddress.
func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// perm is what c may do with a package of a channel (see
// tokenstore.Store.Perm), or with the channel as a whole for pkg "". A
// token caller has at most what its creator may do (Store.TokenPerm).
func (a *api) perm(c *caller, channel string, kind tokenstore.Kind, pkg string) (tokenstore.Perm, error) {
	switch {
	case c.operator():
		return tokenstore.PermAdmin, nil
	case c.token != nil:
		return a.store.TokenPerm(c.token, channel, kind, pkg)
	}
	return a.store.Perm(c.name, channel, kind, pkg)
}

// viewer is c for the store's shared decisions.
func (c *caller) viewer() tokenstore.Viewer { return tokenstore.Viewer{Name: c.name, Token: c.token} }

// require fails with 403 unless c holds at least perm on channel; a
// channel that does not exist is a 404 (tokenstore.Store.Require, which
// the web pages call too). The operator holds every permission.
func (a *api) require(c *caller, channel string, perm tokenstore.Perm) error {
	if c.operator() {
		return nil
	}
	return a.store.Require(c.viewer(), channel, perm)
}

// requirePackage fails with 403 unless c administers the package name of
// each of kinds in channel (tokenstore.Store.RequirePackage). A channel
// that does not exist is a 404.
func (a *api) requirePackage(c *caller, channel, name string, kinds []tokenstore.Kind) error {
	if c.operator() {
		return nil
	}
	return a.store.RequirePackage(c.viewer(), channel, name, kinds)
}
