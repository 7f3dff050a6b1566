package tokenstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Token records (the values of the tokens bucket) are a small binary
// encoding rather than JSON: with millions of tokens the records are most
// of the file, and a lookup that misses the cache decodes one.
//
//	byte    version (tokenRecV1)
//	byte    flags (tokenFlag*)
//	strings owner, name, created_by, strength, prefix, hostname,
//	        note_url, remote: each a uvarint length and the bytes
//	uvarint number of scopes, then each scope as a string
//	times   created, expires, revoked, each only if its flag is set:
//	        varint Unix seconds, uvarint nanoseconds
//
// Derivable fields are not stored: the hash is the record's key and the
// capabilities follow from the scopes. The strength is a flag when it is
// strong or weak (its string is then empty), and the display prefix is
// stored as its four characters when it has the usual form. Anything
// that does not decode exactly (other version, unknown flags, short or
// trailing bytes, invalid UTF-8) is ErrCorrupt.
const tokenRecV1 = 1

const (
	tokenFlagCreated     = 1 << iota // created time present
	tokenFlagExpires                 // expires time present
	tokenFlagRevoked                 // revoked time present
	tokenFlagStrong                  // strength is Strong
	tokenFlagWeak                    // strength is Weak
	tokenFlagShortPrefix             // prefix is TokenPrefix + 4 stored characters + "…"

	tokenFlagsKnown = 1<<iota - 1
)

const (
	prefixShown  = 4
	prefixSuffix = "…"
)

// errBadRecord is wrapped in ErrCorrupt by decodeToken's caller.
var errBadRecord = errors.New("bad token record")

// encodeToken appends t's record to b.
func encodeToken(b []byte, t *Token) []byte {
	var flags byte
	strength, prefix := string(t.Strength), t.Prefix
	switch t.Strength {
	case Strong:
		flags |= tokenFlagStrong
		strength = ""
	case Weak:
		flags |= tokenFlagWeak
		strength = ""
	}
	if short, ok := shortPrefix(prefix); ok {
		flags |= tokenFlagShortPrefix
		prefix = short
	}
	if !t.Created.IsZero() {
		flags |= tokenFlagCreated
	}
	if !t.Expires.IsZero() {
		flags |= tokenFlagExpires
	}
	if !t.Revoked.IsZero() {
		flags |= tokenFlagRevoked
	}
	b = append(b, tokenRecV1, flags)
	for _, s := range [...]string{t.Owner, t.Name, t.CreatedBy, strength, prefix, t.Hostname, t.NoteURL, t.Remote} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(t.Scopes)))
	for _, sc := range t.Scopes {
		b = appendString(b, string(sc))
	}
	for _, tm := range [...]time.Time{t.Created, t.Expires, t.Revoked} {
		if !tm.IsZero() {
			b = binary.AppendVarint(b, tm.Unix())
			b = binary.AppendUvarint(b, uint64(tm.Nanosecond()))
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// shortPrefix returns the four shown characters of a display prefix of
// the usual form.
func shortPrefix(p string) (string, bool) {
	n := len(TokenPrefix) + prefixShown
	if len(p) != n+len(prefixSuffix) || p[:len(TokenPrefix)] != TokenPrefix || p[n:] != prefixSuffix {
		return "", false
	}
	return p[len(TokenPrefix):n], true
}

// tokenDecoder reads a record. Strings are cut from one copy of the
// record, so a decoded token costs few allocations.
type tokenDecoder struct {
	b   []byte // the record, for varints
	s   string // a copy of it, for strings
	off int
	err bool
}

func (d *tokenDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.err = true
		return 0
	}
	d.off += n
	return v
}

func (d *tokenDecoder) varint() int64 {
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.err = true
		return 0
	}
	d.off += n
	return v
}

func (d *tokenDecoder) str() string {
	n := d.uvarint()
	if d.err || n > uint64(len(d.s)-d.off) {
		d.err = true
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	if !utf8.ValidString(s) {
		d.err = true
	}
	return s
}

func (d *tokenDecoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if d.err || nsec >= 1e9 {
		d.err = true
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// decodeToken decodes a record into t; the caller sets Hash and Caps.
func decodeToken(raw []byte, t *Token) error {
	if len(raw) < 2 || raw[0] != tokenRecV1 {
		return errBadRecord
	}
	flags := raw[1]
	if flags&^tokenFlagsKnown != 0 || flags&tokenFlagStrong != 0 && flags&tokenFlagWeak != 0 {
		return errBadRecord
	}
	d := tokenDecoder{b: raw, s: string(raw), off: 2}
	t.Owner = d.str()
	t.Name = d.str()
	t.CreatedBy = d.str()
	strength := d.str()
	prefix := d.str()
	t.Hostname = d.str()
	t.NoteURL = d.str()
	t.Remote = d.str()
	n := d.uvarint()
	// Every scope takes at least one byte: a bound before allocating.
	if d.err || n > uint64(len(d.s)-d.off) {
		return errBadRecord
	}
	if n > 0 {
		t.Scopes = make([]Scope, n)
		for i := range t.Scopes {
			t.Scopes[i] = Scope(d.str())
		}
	} else {
		t.Scopes = nil
	}
	switch {
	case flags&tokenFlagStrong != 0:
		t.Strength = Strong
	case flags&tokenFlagWeak != 0:
		t.Strength = Weak
	default:
		t.Strength = Strength(strength)
	}
	if flags&(tokenFlagStrong|tokenFlagWeak) != 0 && strength != "" {
		return errBadRecord
	}
	t.Prefix = prefix
	if flags&tokenFlagShortPrefix != 0 {
		if len(prefix) != prefixShown {
			return errBadRecord
		}
		t.Prefix = TokenPrefix + prefix + prefixSuffix
	}
	t.Created, t.Expires, t.Revoked = time.Time{}, time.Time{}, time.Time{}
	if flags&tokenFlagCreated != 0 {
		t.Created = d.time()
	}
	if flags&tokenFlagExpires != 0 {
		t.Expires = d.time()
	}
	if flags&tokenFlagRevoked != 0 {
		t.Revoked = d.time()
	}
	if d.err || d.off != len(d.s) {
		return errBadRecord
	}
	return nil
}

// readToken reads the record of h; false if there is none.
func readToken(tx Tx, h Hash, t *Token) (bool, error) {
	raw := tx.Get(bucketTokens, h[:])
	if raw == nil {
		return false, nil
	}
	if err := decodeToken(raw, t); err != nil {
		return false, fmt.Errorf("%s record %x: %w: %v", bucketTokens, h[:8], ErrCorrupt, err)
	}
	t.Hash = h
	t.Caps = CapsOf(t.Scopes)
	return true, nil
}

func putToken(tx Tx, t *Token) error {
	return tx.Put(bucketTokens, t.Hash[:], encodeToken(make([]byte, 0, 128), t))
}
