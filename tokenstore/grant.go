package tokenstore

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"
)

// Grant authorizes one file upload that a caller with a token was allowed
// to stage: anaconda-client posts the file to the staging answer's
// post_url without any Authorization header, so the grant, carried in the
// form, is what authorizes it. It is signed (HMAC-SHA256 with a key kept
// in the store, so every gateway on a shared store verifies it), short
// lived and single use (a record in the store that redeeming deletes).
type Grant struct {
	Owner    string   `json:"o"`
	Package  string   `json:"p"`
	Version  string   `json:"v"`
	Basename string   `json:"b"` // "<subdir>/<file>" for conda
	Kind     Kind     `json:"k"`
	Labels   []string `json:"l,omitempty"`
	Size     int64    `json:"s"`
	SHA256   string   `json:"h"` // lowercase hex
	// Private is the access of the package the file goes into.
	Private bool `json:"x,omitempty"`
	// Actor staged the upload; the upload is made, and audited, as it.
	Actor   string    `json:"a"`
	Expires time.Time `json:"e"`
	Nonce   string    `json:"n"`
}

// DefaultGrantTTL is how long a grant may wait to be redeemed.
const DefaultGrantTTL = 15 * time.Minute

// metaGrantKey is the meta key of the grants' HMAC key.
var metaGrantKey = []byte("grant_key")

// IssueGrant signs g for ttl (DefaultGrantTTL if not positive), records it
// as unused and returns it as an opaque string. Expired records of
// grants never redeemed are deleted on the way.
func (s *Store) IssueGrant(g Grant, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		ttl = DefaultGrantTTL
	}
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", err
	}
	now := s.now()
	g.Nonce = base64.RawURLEncoding.EncodeToString(nonce[:])
	g.Expires = now.Add(ttl).UTC()
	body, err := json.Marshal(g)
	if err != nil {
		return "", err
	}
	var signed string
	err = s.write(Actor{}, func(w *writeTx) error {
		k, err := grantKey(w)
		if err != nil {
			return err
		}
		if err := sweepGrants(w, now); err != nil {
			return err
		}
		signed = base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(sign(k, body))
		return w.Put(bucketGrants, grantRecordKey(g), nil)
	})
	return signed, err
}

// RedeemGrant verifies a grant and uses it up: a grant that is malformed,
// altered, expired or already redeemed fails with ErrForbidden, and a
// second redemption of the same grant always fails, on every gateway of
// the store.
func (s *Store) RedeemGrant(signed string) (*Grant, error) {
	bad := forbiddenf("upload grant invalid, altered or already used: stage the upload again")
	b64, mac64, ok := strings.Cut(signed, ".")
	body, err1 := base64.RawURLEncoding.DecodeString(b64)
	mac, err2 := base64.RawURLEncoding.DecodeString(mac64)
	if !ok || err1 != nil || err2 != nil {
		return nil, bad
	}
	var g Grant
	err := s.write(Actor{}, func(w *writeTx) error {
		k, err := grantKey(w)
		if err != nil {
			return err
		}
		if !hmac.Equal(mac, sign(k, body)) || json.Unmarshal(body, &g) != nil {
			return bad
		}
		if !s.now().Before(g.Expires) {
			return forbiddenf("upload grant expired at %s: stage the upload again", g.Expires.Format(time.RFC3339))
		}
		rk := grantRecordKey(g)
		if w.Get(bucketGrants, rk) == nil {
			return bad
		}
		return w.Delete(bucketGrants, rk)
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

func sign(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return m.Sum(nil)
}

// grantKey returns the store's grant key, creating it in this
// transaction the first time.
func grantKey(w *writeTx) ([]byte, error) {
	if k := w.Get(bucketMeta, metaGrantKey); len(k) == 32 {
		return append([]byte(nil), k...), nil
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, w.Put(bucketMeta, metaGrantKey, k)
}

// grantRecordKey orders unused grants by expiry (8 bytes big endian Unix
// nanoseconds) so that sweeping reads only expired ones.
func grantRecordKey(g Grant) []byte {
	k := make([]byte, 8, 8+len(g.Nonce))
	binary.BigEndian.PutUint64(k, uint64(g.Expires.UnixNano()))
	return append(k, g.Nonce...)
}

// sweepGrants deletes the records of grants that expired unused.
func sweepGrants(w *writeTx, now time.Time) error {
	var expired [][]byte
	err := w.ForEachFrom(bucketGrants, nil, func(k, _ []byte) error {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k[:8])) > now.UnixNano() {
			return errStop
		}
		expired = append(expired, append([]byte(nil), k...))
		return nil
	})
	for _, k := range expired {
		if err == nil {
			err = w.Delete(bucketGrants, k)
		}
	}
	return err
}
