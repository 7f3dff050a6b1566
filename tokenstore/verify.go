package tokenstore

import (
	"strings"
	"time"
)

// Accounts created by sign-up start unverified: a record in the
// unverified bucket (key: user name) says so until the user follows the
// mailed link or a site administrator verifies them. An unverified user
// cannot log in or own new tokens.

// unverified is the record of an account whose email is not verified.
type unverified struct {
	Email string    `json:"email"`
	Since time.Time `json:"since"`
}

// SignUp creates a user as CreateUser does, unverified when verified is
// false (the address must be confirmed first).
func (s *Store) SignUp(actor Actor, u NewUser, verified bool) (*Account, error) {
	return s.createUser(actor, u, verified)
}

// Verified reports whether user's email address is verified (accounts
// created by an administrator are).
func (s *Store) Verified(user string) (bool, error) {
	var ok bool
	err := s.be.View(func(tx Tx) error {
		if _, err := getAccount(tx, user); err != nil {
			return err
		}
		ok = tx.Get(bucketUnverified, []byte(user)) == nil
		return nil
	})
	return ok, err
}

// requireVerified fails with ErrForbidden when user is unverified.
func requireVerified(tx Tx, user string) error {
	if tx.Get(bucketUnverified, []byte(user)) != nil {
		return forbiddenf("the email address of %s is not verified yet", user)
	}
	return nil
}

// VerifyUser marks user as verified (a site administrator's decision, for
// sites without mail).
func (s *Store) VerifyUser(actor Actor, user string) error {
	return s.write(actor, func(w *writeTx) error {
		a, err := getAccount(w, user)
		if err != nil {
			return err
		}
		if a.Type != User {
			return invalidf("%s is an organization, not a user", user)
		}
		return w.markVerified(user)
	})
}

func (w *writeTx) markVerified(user string) error {
	if w.Get(bucketUnverified, []byte(user)) == nil {
		return nil
	}
	if err := w.Delete(bucketUnverified, []byte(user)); err != nil {
		return err
	}
	return w.audit("account.verify", user, "")
}

// UserByEmail finds the user with this address (case-insensitively), for
// password resets. ErrNotFound if there is none.
func (s *Store) UserByEmail(email string) (*Account, error) {
	accts, err := s.Accounts()
	if err != nil {
		return nil, err
	}
	for _, a := range accts {
		if a.Type == User && strings.EqualFold(a.Email, email) {
			return a, nil
		}
	}
	return nil, notFoundf("no user with that address")
}
