package tokenstore

import (
	"slices"
	"time"
)

// Links are the single-use secrets mailed to users: confirm a sign-up
// address, confirm a new address, set a new password. The links bucket
// keeps, under "h" + SHA-256 of the secret, what the link does, and under
// "u" NUL user NUL purpose the hash of that user's newest link of that
// purpose: creating a link voids the previous one, using it voids it.

// LinkPurpose says what a mailed link does.
type LinkPurpose string

const (
	LinkVerify LinkPurpose = "verify" // confirms the address given at sign-up
	LinkEmail  LinkPurpose = "email"  // confirms a changed address and makes it the account's
	LinkReset  LinkPurpose = "reset"  // lets the user set a new password
)

// link is a stored link.
type link struct {
	Purpose LinkPurpose `json:"purpose"`
	User    string      `json:"user"`
	Email   string      `json:"email"`
	Expires time.Time   `json:"expires"`
}

func linkKey(secret string) []byte { return append([]byte("h"), secretKey(secret)...) }

func linkIndexKey(user string, p LinkPurpose) []byte { return key("u", user, string(p)) }

// ErrBadLink is the one answer for unknown, used, replaced, expired and
// mismatched links: which of them it was is nobody's business. It is an
// ErrInvalid.
var ErrBadLink error = &kindError{kind: ErrInvalid,
	msg: "this link is not valid: it was used already, replaced by a newer one or has expired"}

// CreateLink stores a new single-use link for user, sent to email and
// valid for ttl, and returns its secret (for the mail; it is not kept).
// An earlier link of the same purpose for user stops working.
func (s *Store) CreateLink(actor Actor, p LinkPurpose, user, email string, ttl time.Duration) (string, error) {
	secret, err := randomSecret(32)
	if err != nil {
		return "", err
	}
	rec := link{Purpose: p, User: user, Email: email, Expires: s.now().UTC().Add(ttl)}
	err = s.write(actor, func(w *writeTx) error {
		if _, err := getAccount(w, user); err != nil {
			return err
		}
		idx := linkIndexKey(user, p)
		if old := w.Get(bucketLinks, idx); old != nil {
			if err := w.Delete(bucketLinks, append([]byte("h"), old...)); err != nil {
				return err
			}
		}
		k := linkKey(secret)
		if err := putJSON(w, bucketLinks, k, rec); err != nil {
			return err
		}
		if err := w.Put(bucketLinks, idx, k[1:]); err != nil {
			return err
		}
		return w.audit("link.create", user, string(p))
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// CheckLink returns the user of a live link of one of the purposes,
// without using it (the page that asks for a new password).
func (s *Store) CheckLink(secret string, purposes ...LinkPurpose) (string, error) {
	var user string
	err := s.be.View(func(tx Tx) error {
		rec, err := s.liveLink(tx, secret, purposes)
		if err == nil {
			user = rec.User
		}
		return err
	})
	return user, err
}

// liveLink reads a link that exists, has one of the purposes and has not
// expired.
func (s *Store) liveLink(tx Tx, secret string, purposes []LinkPurpose) (*link, error) {
	var rec link
	ok, err := getJSON(tx, bucketLinks, linkKey(secret), &rec)
	if err != nil {
		return nil, err
	}
	if !ok || !s.now().Before(rec.Expires) || !slices.Contains(purposes, rec.Purpose) {
		return nil, ErrBadLink
	}
	return &rec, nil
}

// useLink deletes a live link and its index entry and returns it.
func (w *writeTx) useLink(secret string, purposes ...LinkPurpose) (*link, error) {
	rec, err := w.s.liveLink(w, secret, purposes)
	if err != nil {
		return nil, err
	}
	if err := w.Delete(bucketLinks, linkKey(secret)); err != nil {
		return nil, err
	}
	if err := w.Delete(bucketLinks, linkIndexKey(rec.User, rec.Purpose)); err != nil {
		return nil, err
	}
	return rec, nil
}

// ConfirmEmail uses a verify or email link: the address it was sent to
// becomes the account's, verified. It returns the user.
func (s *Store) ConfirmEmail(actor Actor, secret string) (string, error) {
	var user string
	err := s.write(actor, func(w *writeTx) error {
		rec, err := w.useLink(secret, LinkVerify, LinkEmail)
		if err != nil {
			return err
		}
		a, err := getAccount(w, rec.User)
		if err != nil {
			return err
		}
		if rec.Purpose == LinkVerify && a.Email != rec.Email {
			return ErrBadLink
		}
		user = a.Name
		if a.Email != rec.Email {
			a.Email = rec.Email
			if err := putJSON(w, bucketAccounts, []byte(a.Name), a); err != nil {
				return err
			}
			if err := w.audit("account.email", a.Name, ""); err != nil {
				return err
			}
		}
		return w.markVerified(a.Name)
	})
	return user, err
}

// ResetPassword uses a reset link: the user's password becomes newPass,
// every session of the user ends and, since the mail was read, the
// address counts as verified. It returns the user.
func (s *Store) ResetPassword(actor Actor, secret, newPass, confirm string) (string, error) {
	if err := s.checkNewPassword(newPass, confirm); err != nil {
		return "", err
	}
	hash, err := hashPassword(newPass)
	if err != nil {
		return "", err
	}
	var user string
	err = s.write(actor, func(w *writeTx) error {
		rec, err := w.useLink(secret, LinkReset)
		if err != nil {
			return err
		}
		user = rec.User
		if err := w.setPassword(rec.User, hash, "account.password_reset"); err != nil {
			return err
		}
		if err := w.deleteUserSessions(rec.User, ""); err != nil {
			return err
		}
		return w.markVerified(rec.User)
	})
	return user, err
}
