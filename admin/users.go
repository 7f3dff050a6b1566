package admin

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// UserInfo describes an account (user or organization).
type UserInfo struct {
	Login    string `json:"login"`
	Name     string `json:"name"`
	UserType string `json:"user_type"` // "user" or "org" ("operator" for the operator secret)
	// CreatedAt is RFC 3339.
	CreatedAt string `json:"created_at,omitempty"`
	// Email and SiteAdmin are shown only to the account itself and to
	// site administrators.
	Email            string `json:"email,omitempty"`
	SiteAdmin        bool   `json:"site_admin,omitempty"`
	PrivateByDefault bool   `json:"private_by_default"`
	// Plan and UsageBytes (the bytes of package files the account
	// keeps) are shown like Email.
	Plan       *tokenstore.Plan `json:"plan,omitempty"`
	UsageBytes *int64           `json:"usage_bytes,omitempty"`
}

// userInfo describes acct to c; the private fields need the usage, read
// from the store.
func (a *api) userInfo(acct *tokenstore.Account, c *caller) (UserInfo, error) {
	u := UserInfo{Login: acct.Name, Name: acct.Name, UserType: string(acct.Type),
		CreatedAt: *rfc3339(acct.Created), PrivateByDefault: acct.PrivateByDefault}
	if c.name == acct.Name || c.siteAdmin() {
		used, err := a.store.Usage(acct.Name)
		if err != nil {
			return u, err
		}
		plan := a.cfg.Plans.For(acct)
		u.Email, u.SiteAdmin, u.Plan, u.UsageBytes = acct.Email, acct.SiteAdmin, &plan, &used
	}
	return u, nil
}

// getSelf is GET /user (anaconda whoami): the calling account.
func (a *api) getSelf(_ *http.Request, c *caller) (int, any, error) {
	if c.operator() {
		return http.StatusOK, UserInfo{Login: operatorName, Name: operatorName, UserType: operatorName, SiteAdmin: true,
			CreatedAt: *rfc3339(a.started)}, nil
	}
	u, err := a.userInfo(c.account, c)
	return http.StatusOK, u, err
}

// getUser is GET /user/{login}: any account's public profile.
func (a *api) getUser(r *http.Request, c *caller) (int, any, error) {
	acct, err := a.store.Account(r.PathValue("login"))
	if err != nil {
		return 0, nil, err
	}
	u, err := a.userInfo(acct, c)
	return http.StatusOK, u, err
}

// patchUser is PATCH /user/{login} {"private_by_default": bool, "plan":
// name}: whether unregistered packages of the channel are private (needs
// admin on it), and the account's own plan (site administrators only;
// "" returns it to the policy's choice).
func (a *api) patchUser(r *http.Request, c *caller) (int, any, error) {
	var req struct {
		PrivateByDefault *bool   `json:"private_by_default"`
		Plan             *string `json:"plan"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	login := r.PathValue("login")
	if err := a.require(c, login, tokenstore.PermAdmin); err != nil {
		return 0, nil, err
	}
	switch {
	case req.PrivateByDefault == nil && req.Plan == nil:
		return 0, nil, errorf(http.StatusBadRequest, "nothing to change: send private_by_default or plan")
	case req.Plan != nil && !c.siteAdmin():
		return 0, nil, errorf(http.StatusForbidden, "only site administrators can change plans")
	case req.Plan != nil && *req.Plan != "" && !slices.Contains(a.cfg.Plans.Names(), *req.Plan):
		return 0, nil, errorf(http.StatusBadRequest, "no plan %q; plans are: %s", *req.Plan, strings.Join(a.cfg.Plans.Names(), ", "))
	}
	if req.PrivateByDefault != nil {
		if err := a.store.SetChannelDefault(c.actor(), login, *req.PrivateByDefault); err != nil {
			return 0, nil, err
		}
	}
	if req.Plan != nil {
		if err := a.store.SetPlan(c.actor(), login, *req.Plan); err != nil {
			return 0, nil, err
		}
	}
	return a.getUser(r, c)
}

// NewUserRequest is the body of POST /users.
type NewUserRequest struct {
	Login                string `json:"login"`
	Email                string `json:"email"`
	Password             string `json:"password"`
	PasswordConfirmation string `json:"password_confirmation"`
	AcceptTerms          bool   `json:"accept_terms"`
	// SiteAdmin may be set by the operator only.
	SiteAdmin bool `json:"site_admin,omitempty"`
}

// createUser is POST /users. Anyone may sign up when Config.OpenSignup is
// set; otherwise only the operator and site administrators create users.
func (a *api) createUser(r *http.Request, c *caller) (int, any, error) {
	var req NewUserRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	switch {
	case req.SiteAdmin && !c.operator():
		return 0, nil, errorf(http.StatusForbidden, "only the operator can create site administrators")
	case !a.cfg.OpenSignup && !c.siteAdmin():
		return 0, nil, errorf(http.StatusForbidden, "sign-up is closed: ask a site administrator to create the account")
	}
	acct, err := a.store.CreateUser(c.actor(), tokenstore.NewUser{Name: req.Login, Email: req.Email,
		Password: req.Password, PasswordConfirmation: req.PasswordConfirmation,
		AcceptTerms: req.AcceptTerms, SiteAdmin: req.SiteAdmin})
	if err != nil {
		return 0, nil, err
	}
	self := *c
	self.name = acct.Name // the new account may see its own email
	u, err := a.userInfo(acct, &self)
	return http.StatusCreated, u, err
}

// verifyUser is POST /user/{login}/verify, for site administrators: the
// user's email address counts as verified (sites without mail verify
// signed-up accounts this way). 204 is success.
func (a *api) verifyUser(r *http.Request, c *caller) (int, any, error) {
	if !c.siteAdmin() {
		return 0, nil, errorf(http.StatusForbidden, "only site administrators can verify users")
	}
	return http.StatusNoContent, nil, a.store.VerifyUser(c.actor(), r.PathValue("login"))
}

// PasswordChange is the body of POST /user/password.
type PasswordChange struct {
	OldPassword             string `json:"old_password"`
	NewPassword             string `json:"new_password"`
	NewPasswordConfirmation string `json:"new_password_confirmation"`
}

// changePassword is POST /user/password for the caller's own account.
// The old password is a guess like a login's (Config.Logins).
func (a *api) changePassword(r *http.Request, c *caller) (int, any, error) {
	var req PasswordChange
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	u, err := c.user("change a password")
	if err != nil {
		return 0, nil, err
	}
	at, err := a.reserveGuess(u.Name, c.remote)
	if err != nil {
		return 0, nil, err
	}
	err = a.store.ChangePassword(c.actor(), u.Name, req.OldPassword, req.NewPassword, req.NewPasswordConfirmation)
	at.Done(!errors.Is(err, tokenstore.ErrAuth))
	return http.StatusNoContent, nil, err
}

// audit is GET /audit?after=N&limit=M for site administrators: events
// with a sequence number above N, oldest first, at most
// Config.AuditLimit.
func (a *api) audit(r *http.Request, c *caller) (int, any, error) {
	if !c.siteAdmin() {
		return 0, nil, errorf(http.StatusForbidden, "only site administrators can read the audit log")
	}
	q := r.URL.Query()
	after, limit := uint64(0), a.cfg.AuditLimit
	var err error
	if s := q.Get("after"); s != "" {
		if after, err = strconv.ParseUint(s, 10, 64); err != nil {
			return 0, nil, errorf(http.StatusBadRequest, "after must be a sequence number, not %q", s)
		}
	}
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 {
			return 0, nil, errorf(http.StatusBadRequest, "limit must be a positive number, not %q", s)
		}
	}
	events, err := a.store.Audit(after, min(limit, a.cfg.AuditLimit))
	if err != nil {
		return 0, nil, err
	}
	if events == nil {
		events = []tokenstore.AuditEvent{}
	}
	return http.StatusOK, events, nil
}
