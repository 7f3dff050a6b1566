package tokenstore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"time"
)

// Token secrets look like "cgt-" + random base62 body + 6-character base62
// CRC-32 checksum. The alphabet [A-Za-z0-9-] is what conda's token regular
// expression accepts; the fixed prefix lets secret scanners find leaked
// tokens; the checksum rejects typos and random strings before any store
// lookup.
const (
	TokenPrefix = "cgt-"

	strongBodyLen = 43 // 43 base62 characters carry 256.03 bits
	weakBodyLen   = 22 // 22 base62 characters carry 130.99 bits
	checksumLen   = 6  // 62^6 > 2^32 holds a CRC-32

	// MaxTokenLen is the length of the longest valid token.
	MaxTokenLen = len(TokenPrefix) + strongBodyLen + checksumLen
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Strength selects how much randomness a new token carries.
type Strength string

const (
	Strong Strength = "strong" // 256 bits, the default
	Weak   Strength = "weak"   // 128 bits, for clients that limit length
)

// ParseStrength accepts "strong", "weak" or "" (strong).
func ParseStrength(s string) (Strength, error) {
	switch Strength(s) {
	case "", Strong:
		return Strong, nil
	case Weak:
		return Weak, nil
	}
	return "", invalidf("strength must be strong or weak, not %q", s)
}

// Hash identifies a token in the store: SHA-256 of its secret. The secret
// itself is never stored, logged or used as a cache key.
type Hash [sha256.Size]byte

// ID is the short public identifier of a token, shown in listings.
func (h Hash) ID() string { return hex.EncodeToString(h[:8]) }

// ErrMalformedToken is returned for strings that cannot be tokens: wrong
// prefix, length, alphabet or checksum.
var ErrMalformedToken = errors.New("malformed token")

// newSecret draws a fresh token secret of the given strength.
func newSecret(st Strength) (string, error) {
	n := strongBodyLen
	if st == Weak {
		n = weakBodyLen
	}
	buf := make([]byte, len(TokenPrefix), len(TokenPrefix)+n+checksumLen)
	copy(buf, TokenPrefix)
	var rnd [64]byte
	for len(buf) < len(TokenPrefix)+n {
		if _, err := rand.Read(rnd[:]); err != nil {
			return "", err
		}
		for _, b := range rnd {
			// 248 = 4*62: rejecting larger bytes keeps every digit uniform.
			if b < 248 && len(buf) < len(TokenPrefix)+n {
				buf = append(buf, base62[b%62])
			}
		}
	}
	buf = appendChecksum(buf, crc32.ChecksumIEEE(buf))
	return string(buf), nil
}

func appendChecksum(buf []byte, sum uint32) []byte {
	var digits [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		digits[i] = base62[sum%62]
		sum /= 62
	}
	return append(buf, digits[:]...)
}

// ParseToken checks the form and checksum of a presented secret and
// returns its hash. It allocates nothing and touches no store.
func ParseToken(secret string) (Hash, error) {
	n := len(secret) - len(TokenPrefix) - checksumLen
	if (n != strongBodyLen && n != weakBodyLen) || secret[:len(TokenPrefix)] != TokenPrefix {
		return Hash{}, ErrMalformedToken
	}
	for i := len(TokenPrefix); i < len(secret); i++ {
		if !isBase62(secret[i]) {
			return Hash{}, ErrMalformedToken
		}
	}
	body := len(secret) - checksumLen
	var want [checksumLen]byte
	if string(appendChecksum(want[:0], checksum(secret[:body]))) != secret[body:] {
		return Hash{}, ErrMalformedToken
	}
	// Hashing a copy in a stack array: []byte(secret) is longer than the
	// compiler's stack buffer for conversions and would be allocated.
	var buf [MaxTokenLen]byte
	return sha256.Sum256(buf[:copy(buf[:], secret)]), nil
}

// crcTables are the slicing-by-8 tables of CRC-32 (IEEE), as hash/crc32
// builds them: checksum takes eight bytes a step, five times fewer table
// rounds than byte by byte on a token's 47 or 26 characters.
var crcTables = func() (t [8][256]uint32) {
	t[0] = *crc32.MakeTable(crc32.IEEE)
	for i := range 256 {
		crc := t[0][i]
		for j := 1; j < 8; j++ {
			crc = t[0][crc&0xff] ^ crc>>8
			t[j][i] = crc
		}
	}
	return t
}()

// checksum is the CRC-32 (IEEE) of s, computed on the string in place:
// crc32's []byte functions make the converted copy escape to the heap.
func checksum(s string) uint32 {
	t := &crcTables
	crc := ^uint32(0)
	for ; len(s) >= 8; s = s[8:] {
		crc ^= uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
		crc = t[0][s[7]] ^ t[1][s[6]] ^ t[2][s[5]] ^ t[3][s[4]] ^
			t[4][crc>>24] ^ t[5][crc>>16&0xff] ^ t[6][crc>>8&0xff] ^ t[7][crc&0xff]
	}
	for i := 0; i < len(s); i++ {
		crc = t[0][byte(crc)^s[i]] ^ crc>>8
	}
	return ^crc
}

func isBase62(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// displayPrefix is the part of a secret that listings may show: the fixed
// prefix and four random characters, enough to tell tokens apart and too
// little to weaken them.
func displayPrefix(secret string) string { return secret[:len(TokenPrefix)+4] + "…" }

// Token is a stored token record. It never holds the secret.
type Token struct {
	Hash      Hash      `json:"-"`
	Owner     string    `json:"owner"`      // account the token acts for (user or organization)
	Name      string    `json:"name"`       // unique per owner
	CreatedBy string    `json:"created_by"` // user who created it
	Scopes    []Scope   `json:"scopes"`
	Caps      Caps      `json:"-"` // derived from Scopes on load
	Strength  Strength  `json:"strength"`
	Prefix    string    `json:"prefix"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	Revoked   time.Time `json:"revoked,omitzero"`
	Hostname  string    `json:"hostname,omitempty"`
	NoteURL   string    `json:"note_url,omitempty"`
	Remote    string    `json:"remote_addr,omitempty"`
}

// Credential is what a decision keeps of a live token: the account it
// acts for, its name, who created it, what its scopes allow and when it
// expires. Decisions and the token cache hold credentials, not whole
// records.
type Credential struct {
	Hash      Hash
	Owner     string
	Name      string
	CreatedBy string
	Caps      Caps
	Expires   time.Time
}

// Bound is the account whose current rights bound the token's, or "" if
// none does: a token created by one account for another (a member's
// token for an organization) acts with at most its creator's current
// rights, so it loses what the creator loses (leaving a group, the
// organization). Tokens an account creates for itself, and tokens the
// operator creates, are bound by their owner's rights alone.
func (c *Credential) Bound() string {
	if c.CreatedBy == c.Owner {
		return ""
	}
	return c.CreatedBy
}
