package tokenstore

import (
	"errors"
	"net/mail"
	"strings"
	"time"
)

// AccountType tells users from organizations; both share one namespace and
// an account's name is also its channel name.
type AccountType string

const (
	User AccountType = "user"
	Org  AccountType = "org"
)

// Account is a user or an organization.
type Account struct {
	Name         string      `json:"name"`
	Type         AccountType `json:"type"`
	Email        string      `json:"email,omitempty"`
	PasswordHash string      `json:"password_hash,omitempty"`
	Created      time.Time   `json:"created"`
	// SiteAdmin accounts may manage every account through the API.
	SiteAdmin bool `json:"site_admin,omitempty"`
	// PrivateByDefault makes packages that are not registered in this
	// channel private. The default, as on anaconda.org, is public.
	PrivateByDefault bool `json:"private_by_default,omitempty"`
	// Plan names the account's own plan; empty: the operator's policy
	// chooses (see Plans.For).
	Plan string `json:"plan,omitempty"`
}

// reservedNames cannot be accounts: they are path segments the gateway, the
// API or the web pages give a meaning of their own. The web package's route
// table is checked against this list by its tests (TestRoutesReserved), so
// a page cannot shadow a channel.
var reservedNames = map[string]bool{"t": true, "api": true, "label": true, "simple": true,
	"admin": true, "login": true, "logout": true, "static": true, "metrics": true, "operator": true,
	// web pages
	"signup": true, "verify": true, "reset-password": true, "confirm-password": true,
	"dashboard": true, "settings": true, "orgs": true, "avatar": true}

// IsReservedName reports whether name is a path segment of its own that no
// account may take.
func IsReservedName(name string) bool { return reservedNames[name] }

// ValidateAccountName checks an account (channel) name: 1 to 64 characters
// of [a-z0-9._-], starting with a letter or digit, and not reserved.
func ValidateAccountName(name string) error {
	if !validName(name) {
		if name == "" || len(name) > 64 {
			return invalidf("account name must be 1 to 64 characters")
		}
		return invalidf("account name %q must be lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	if reservedNames[name] {
		return invalidf("account name %q is reserved", name)
	}
	return nil
}

// validName reports whether name has the form of account and group names:
// 1 to 64 characters of [a-z0-9._-], starting with a letter or digit.
func validName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')) {
			return false
		}
	}
	return true
}

// NewUser describes a user to create.
type NewUser struct {
	Name, Email, Password, PasswordConfirmation string
	AcceptTerms                                 bool
	SiteAdmin                                   bool
}

// CreateUser validates and stores a new user.
func (s *Store) CreateUser(actor Actor, u NewUser) (*Account, error) {
	return s.createUser(actor, u, true)
}

// ValidateEmail accepts one plain address (name@domain, no display name)
// of at most MaxEmailLen bytes.
func ValidateEmail(email string) error {
	if err := checkLen("email", email, MaxEmailLen); err != nil {
		return err
	}
	if _, err := mail.ParseAddress(email); err != nil || !strings.Contains(email, "@") || strings.ContainsAny(email, "<> ") {
		return invalidf("email %q is not a valid address", email)
	}
	return nil
}

// createUser validates and stores a new user, unverified (see verify.go)
// unless verified is set.
func (s *Store) createUser(actor Actor, u NewUser, verified bool) (*Account, error) {
	if err := ValidateAccountName(u.Name); err != nil {
		return nil, err
	}
	if err := ValidateEmail(u.Email); err != nil {
		return nil, err
	}
	if err := s.checkNewPassword(u.Password, u.PasswordConfirmation); err != nil {
		return nil, err
	}
	if !u.AcceptTerms {
		return nil, invalidf("the terms of service must be accepted")
	}
	hash, err := s.newPasswordHash(u.Password)
	if err != nil {
		return nil, err
	}
	served, err := s.served(u.Name)
	if err != nil {
		return nil, err
	}
	a := &Account{Name: u.Name, Type: User, Email: u.Email, PasswordHash: hash, Created: s.now().UTC(), SiteAdmin: u.SiteAdmin}
	return a, s.write(actor, func(w *writeTx) error {
		if err := w.insertAccount(a, served); err != nil || verified {
			return err
		}
		return putJSON(w, bucketUnverified, []byte(a.Name), unverified{Email: a.Email, Since: a.Created})
	})
}

// CreateOrg stores a new organization; its creator becomes the first
// member of the built-in owners group. Creator "" (only for a site
// administrator, as when the store is seeded) leaves the owners group
// empty until a site administrator adds a user to it. A name the storage already serves,
// or that was an account before, needs an actor who is a site
// administrator: that is how an operator adopts an existing channel.
func (s *Store) CreateOrg(actor Actor, name, creator string) (*Account, error) {
	if err := ValidateAccountName(name); err != nil {
		return nil, err
	}
	served, err := s.served(name)
	if err != nil {
		return nil, err
	}
	a := &Account{Name: name, Type: Org, Created: s.now().UTC()}
	owners := []string{creator}
	err = s.write(actor, func(w *writeTx) error {
		if creator == "" && actor.SiteAdmin {
			owners = nil
		} else if err := checkCreator(w, creator); err != nil {
			return err
		}
		if err := w.insertAccount(a, served); err != nil {
			return err
		}
		g := &Group{Org: name, Name: OwnersGroup, Perm: PermAdmin, AllPackages: true, Members: owners}
		return putJSON(w, bucketGroups, key(name, OwnersGroup), g)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// checkCreator fails unless creator is a user: only users create
// organizations.
func checkCreator(tx Tx, creator string) error {
	c, err := getAccount(tx, creator)
	if err != nil {
		return err
	}
	if c.Type != User {
		return invalidf("only users can create organizations")
	}
	return nil
}

// insertAccount stores a new account if its name may be claimed (see
// claimName; served says whether the storage serves it).
func (w *writeTx) insertAccount(a *Account, served bool) error {
	if err := w.claimName(a.Name, served); err != nil {
		return err
	}
	w.aclChanged = true
	if err := putJSON(w, bucketAccounts, []byte(a.Name), a); err != nil {
		return err
	}
	return w.audit("account.create", a.Name, string(a.Type))
}

// Account returns the account called name.
func (s *Store) Account(name string) (*Account, error) {
	var a *Account
	err := s.be.View(func(tx Tx) error {
		var err error
		a, err = getAccount(tx, name)
		return err
	})
	return a, err
}

func getAccount(tx Tx, name string) (*Account, error) {
	var a Account
	ok, err := getJSON(tx, bucketAccounts, []byte(name), &a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFoundf("no account named %q", name)
	}
	return &a, nil
}

// Authenticate checks a user's password. Unknown users and wrong passwords
// take the same time and give the same error. When MaxPasswordChecks
// hashes are already running, it waits up to PasswordWait and then fails
// with ErrBusy.
func (s *Store) Authenticate(name, password string) (*Account, error) {
	a, err := s.Account(name)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	known := a != nil && a.Type == User && a.PasswordHash != ""
	encoded := dummyPasswordHash
	if known {
		encoded = a.PasswordHash
	}
	switch ok, err := s.checkPassword(encoded, password); {
	case err != nil:
		return nil, err
	case !ok || !known:
		return nil, errorf(ErrAuth, "invalid user name or password")
	}
	if err := s.be.View(func(tx Tx) error { return requireVerified(tx, a.Name) }); err != nil {
		return nil, err
	}
	return a, nil
}

// ChangePassword replaces a user's password after checking the old one.
// A wrong old password fails with ErrAuth; a store failure is returned as
// it is.
func (s *Store) ChangePassword(actor Actor, name, old, newPass, confirm string) error {
	switch _, err := s.Authenticate(name, old); {
	case errors.Is(err, ErrAuth):
		return errorf(ErrAuth, "the old password is wrong")
	case err != nil:
		return err
	}
	if err := s.checkNewPassword(newPass, confirm); err != nil {
		return err
	}
	hash, err := s.newPasswordHash(newPass)
	if err != nil {
		return err
	}
	return s.write(actor, func(w *writeTx) error { return w.setPassword(name, hash, "account.password") })
}

// setPassword stores a new password hash for name and audits action.
func (w *writeTx) setPassword(name, hash, action string) error {
	a, err := getAccount(w, name)
	if err != nil {
		return err
	}
	a.PasswordHash = hash
	if err := putJSON(w, bucketAccounts, []byte(name), a); err != nil {
		return err
	}
	return w.audit(action, name, "")
}

// MinPasswordLen is the shortest password the store accepts.
func (s *Store) MinPasswordLen() int { return s.opts.MinPasswordLen }

func (s *Store) checkNewPassword(p, confirm string) error {
	if len(p) < s.opts.MinPasswordLen {
		return invalidf("password must be at least %d characters", s.opts.MinPasswordLen)
	}
	if p != confirm {
		return invalidf("the two passwords do not match")
	}
	return nil
}

// SetChannelDefault sets whether unregistered packages in an account's
// channel are private.
func (s *Store) SetChannelDefault(actor Actor, name string, private bool) error {
	return s.write(actor, func(w *writeTx) error {
		a, err := getAccount(w, name)
		if err != nil {
			return err
		}
		a.PrivateByDefault = private
		w.aclChanged = true
		if err := putJSON(w, bucketAccounts, []byte(name), a); err != nil {
			return err
		}
		detail := "public"
		if private {
			detail = "private"
		}
		return w.audit("channel.default", name, detail)
	})
}

// Accounts lists every account.
func (s *Store) Accounts() ([]*Account, error) {
	var out []*Account
	err := s.be.View(func(tx Tx) error {
		return tx.ForEach(bucketAccounts, nil, func(k, v []byte) error {
			a, err := getAccount(tx, string(k))
			if err == nil {
				out = append(out, a)
			}
			return err
		})
	})
	return out, err
}
