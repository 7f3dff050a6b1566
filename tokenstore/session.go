package tokenstore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Sessions are the web pages' logins. They live in the backend with the
// accounts, keyed by the SHA-256 of their secret id, so a logout, a
// password reset or an expiry is seen by every gateway sharing the store,
// and a copy of the database holds no usable session id.

// SessionLimits bound a session's life.
type SessionLimits struct {
	// Idle ends a session that has not been used for this long.
	Idle time.Duration
	// Absolute ends a session this long after it started, however much
	// it is used.
	Absolute time.Duration
}

// Session is one logged-in browser.
type Session struct {
	// ID is the secret the browser holds in its cookie. It is set only
	// by CreateSession; stored records keep its hash.
	ID   string `json:"-"`
	User string `json:"user"`
	// FormToken is the per-session token every form of the session
	// carries (CSRF). It is useless without the cookie.
	FormToken string    `json:"form_token"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
	// Confirmed is when the user last typed the password in this session
	// (log-in or re-confirmation before a sensitive page).
	Confirmed time.Time     `json:"confirmed"`
	Idle      time.Duration `json:"idle"`
	Expires   time.Time     `json:"expires"`
}

// sessionTouchEvery is how stale LastSeen may get before a lookup writes
// it again: most page views then only read.
const sessionTouchEvery = time.Minute

// randomSecret is n random bytes in unpadded base64url.
func randomSecret(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func secretKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateSession starts a session for a user who has just given the
// password: a fresh id every time, so an id planted before log-in is
// worthless after it.
func (s *Store) CreateSession(actor Actor, user string, lim SessionLimits) (*Session, error) {
	id, err := randomSecret(32)
	if err != nil {
		return nil, err
	}
	form, err := randomSecret(32)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	sess := &Session{ID: id, User: user, FormToken: form, Created: now, LastSeen: now, Confirmed: now,
		Idle: lim.Idle, Expires: now.Add(lim.Absolute)}
	err = s.write(actor, func(w *writeTx) error {
		if _, err := getAccount(w, user); err != nil {
			return err
		}
		if err := putJSON(w, bucketSessions, secretKey(id), sess); err != nil {
			return err
		}
		return w.audit("session.create", user, "")
	})
	if err != nil {
		return nil, err
	}
	s.maybeSweepSessions(now)
	return sess, nil
}

// sessionSweepEvery is how often (per process, at a log-in) expired
// sessions of browsers that never came back are deleted; a lookup deletes
// the ones that do come back.
const sessionSweepEvery = time.Hour

// maybeSweepSessions deletes expired sessions if the last sweep of this
// process is sessionSweepEvery old. A failed sweep is retried at the next
// one: expired sessions are refused by LookupSession anyway.
func (s *Store) maybeSweepSessions(now time.Time) {
	last := s.sessionSweep.Load()
	if now.UnixNano()-last < int64(sessionSweepEvery) || !s.sessionSweep.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	_ = s.be.Update(func(tx Tx) error {
		var doomed [][]byte
		err := tx.ForEach(bucketSessions, nil, func(k, v []byte) error {
			var r Session
			if _, err := getJSON(tx, bucketSessions, k, &r); err != nil {
				return err
			}
			if !now.Before(r.Expires) || !now.Before(r.LastSeen.Add(r.Idle)) {
				doomed = append(doomed, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range doomed {
			if err == nil {
				err = tx.Delete(bucketSessions, k)
			}
		}
		return err
	})
}

// LookupSession returns the live session with this id and marks it used.
// An unknown, idle or expired id fails with ErrAuth (and an expired
// record is deleted); a store failure is returned as it is.
func (s *Store) LookupSession(id string) (*Session, error) {
	if id == "" {
		return nil, errorf(ErrAuth, "no session")
	}
	k := secretKey(id)
	var sess Session
	var ok bool
	if err := s.be.View(func(tx Tx) error {
		var err error
		ok, err = getJSON(tx, bucketSessions, k, &sess)
		return err
	}); err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(ErrAuth, "no such session")
	}
	now := s.now().UTC()
	if !now.Before(sess.Expires) || !now.Before(sess.LastSeen.Add(sess.Idle)) {
		err := s.be.Update(func(tx Tx) error { return tx.Delete(bucketSessions, k) })
		if err != nil {
			return nil, err
		}
		return nil, errorf(ErrAuth, "session expired")
	}
	if now.Sub(sess.LastSeen) >= sessionTouchEvery {
		if err := s.updateSession(k, func(r *Session) { r.LastSeen = now }); err != nil {
			return nil, err
		}
		sess.LastSeen = now
	}
	sess.ID = id
	return &sess, nil
}

// ConfirmSession records that the session's user has just typed the
// password again.
func (s *Store) ConfirmSession(id string) error {
	now := s.now().UTC()
	return s.updateSession(secretKey(id), func(r *Session) { r.Confirmed = now })
}

// updateSession changes a stored session; one deleted meanwhile stays
// deleted.
func (s *Store) updateSession(k []byte, edit func(*Session)) error {
	return s.be.Update(func(tx Tx) error {
		var r Session
		ok, err := getJSON(tx, bucketSessions, k, &r)
		if err != nil || !ok {
			return err
		}
		edit(&r)
		return putJSON(tx, bucketSessions, k, &r)
	})
}

// DeleteSession ends one session (log-out). Ending an unknown session is
// not an error.
func (s *Store) DeleteSession(actor Actor, id string) error {
	return s.write(actor, func(w *writeTx) error {
		var r Session
		ok, err := getJSON(w, bucketSessions, secretKey(id), &r)
		if err != nil || !ok {
			return err
		}
		if err := w.Delete(bucketSessions, secretKey(id)); err != nil {
			return err
		}
		return w.audit("session.delete", r.User, "")
	})
}

// deleteUserSessions ends every session of user except keep (a session id,
// or "" for all): after a password change or reset, other browsers must
// log in again.
func (w *writeTx) deleteUserSessions(user, keep string) error {
	var doomed [][]byte
	var keepKey string
	if keep != "" {
		keepKey = string(secretKey(keep))
	}
	err := w.ForEach(bucketSessions, nil, func(k, v []byte) error {
		var r Session
		if _, err := getJSON(w, bucketSessions, k, &r); err != nil {
			return err
		}
		if r.User == user && string(k) != keepKey {
			doomed = append(doomed, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range doomed {
		if err := w.Delete(bucketSessions, k); err != nil {
			return err
		}
	}
	return nil
}

// EndOtherSessions ends every session of user but keep ("" ends all).
func (s *Store) EndOtherSessions(actor Actor, user, keep string) error {
	return s.write(actor, func(w *writeTx) error {
		if err := w.deleteUserSessions(user, keep); err != nil {
			return err
		}
		return w.audit("session.delete_others", user, "")
	})
}

// metaFormKey is the meta key of the site's form-signing key.
var metaFormKey = []byte("web_form_key")

// FormKey returns the site-wide secret the web pages sign their anonymous
// forms with (log-in and sign-up have no session yet), creating it on first
// use. It is kept in the store so every gateway sharing the store accepts
// a form another one served.
func (s *Store) FormKey() ([]byte, error) {
	var k []byte
	if err := s.be.View(func(tx Tx) error {
		k = append(k, tx.Get(bucketMeta, metaFormKey)...)
		return nil
	}); err != nil || len(k) == 32 {
		return k, err
	}
	err := s.be.Update(func(tx Tx) error {
		if cur := tx.Get(bucketMeta, metaFormKey); len(cur) == 32 {
			k = append(k[:0], cur...)
			return nil
		}
		k = make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return err
		}
		return tx.Put(bucketMeta, metaFormKey, k)
	})
	return k, err
}
