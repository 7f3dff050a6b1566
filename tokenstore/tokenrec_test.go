package tokenstore

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

func recordFixtures() []*Token {
	created := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	return []*Token{
		{Owner: "acme", Name: "t1", Scopes: []Scope{"conda:download"}, Strength: Strong, Prefix: "cgt-AbC9…",
			Created: created, Expires: created.Add(365 * 24 * time.Hour)},
		{Owner: "bob", Name: "laptop ü", CreatedBy: "alice", Scopes: []Scope{ScopeAll, "pypi:upload"}, Strength: Weak,
			Prefix: "cgt-zz00…", Created: created, Expires: created.Add(time.Hour), Revoked: created.Add(time.Minute + 123456789),
			Hostname: "host", NoteURL: "https://example.org/note", Remote: "192.0.2.1:5555"},
		// Unusual values round-trip too: other strength, other prefix
		// form, no scopes, zero and pre-1970 times.
		{Owner: "o", Name: "n", Strength: "custom", Prefix: "odd", Expires: time.Unix(-5, 7).UTC()},
		{},
	}
}

func TestTokenRecordRoundTrip(t *testing.T) {
	for i, want := range recordFixtures() {
		raw := encodeToken(nil, want)
		var got Token
		if err := decodeToken(raw, &got); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !reflect.DeepEqual(&got, want) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, got, *want)
		}
	}
	if n := len(encodeToken(nil, recordFixtures()[0])); n > 50 {
		t.Fatalf("a typical record takes %d bytes", n)
	}
}

// TestTokenRecordGarbage checks that what is not a record fails to
// decode: JSON, other versions, every truncation, trailing bytes, unknown
// flags, invalid UTF-8 and out-of-range fields.
func TestTokenRecordGarbage(t *testing.T) {
	valid := encodeToken(nil, recordFixtures()[1])
	bad := [][]byte{
		nil, {}, {tokenRecV1}, []byte("{not json"), []byte(`{"owner":"acme"}`),
		append([]byte{2}, valid[1:]...),
		append(append([]byte{}, valid...), 0),
		append([]byte{tokenRecV1, 0x80}, valid[2:]...),
		append([]byte{tokenRecV1, valid[1] | tokenFlagStrong}, valid[2:]...), // strong and weak
	}
	for n := range len(valid) {
		bad = append(bad, valid[:n])
	}
	utf := append([]byte{}, valid...)
	utf[3] = 0xff // first byte of the owner
	bad = append(bad, utf)
	// The last byte of this record is the created time's nanoseconds.
	nsec := encodeToken(nil, &Token{Created: time.Unix(1, 0)})
	head := nsec[:len(nsec)-1]
	bad = append(bad,
		append(slices.Clip(head), 0xff),                         // an unterminated uvarint
		append(slices.Clip(head), 0xff, 0xff, 0xff, 0xff, 0x0f)) // 1e9 or more
	for i, raw := range bad {
		var tok Token
		if err := decodeToken(raw, &tok); err == nil {
			t.Errorf("garbage %d (%q) decoded as %+v", i, raw, tok)
		}
	}
	// Through the store: ErrCorrupt.
	s, _ := openStore(t, Options{})
	h := Hash{1}
	must(t, s.be.Update(func(tx Tx) error { return tx.Put(bucketTokens, h[:], valid[:len(valid)-1]) }))
	if _, err := s.TokenInfoByHash(h); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated record: %v, want ErrCorrupt", err)
	}
}

func FuzzDecodeToken(f *testing.F) {
	for _, tok := range recordFixtures() {
		f.Add(encodeToken(nil, tok))
	}
	f.Add([]byte("{not json"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var tok Token
		if decodeToken(raw, &tok) != nil {
			return
		}
		var again Token
		if err := decodeToken(encodeToken(nil, &tok), &again); err != nil || !reflect.DeepEqual(tok, again) {
			t.Fatalf("%+v re-encoded: %+v, %v", tok, again, err)
		}
	})
}
