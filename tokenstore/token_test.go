package tokenstore

import (
	"errors"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// tokenAlphabet is what conda accepts in a token path segment.
var tokenAlphabet = regexp.MustCompile(`^[A-Za-z0-9-]+$`)

func TestNewSecretFormat(t *testing.T) {
	for _, tc := range []struct {
		strength Strength
		minBits  float64
	}{
		{Strong, 256},
		{Weak, 128},
	} {
		t.Run(string(tc.strength), func(t *testing.T) {
			seen := map[string]bool{}
			for range 200 {
				secret, err := newSecret(tc.strength)
				must(t, err)
				if !strings.HasPrefix(secret, TokenPrefix) || !tokenAlphabet.MatchString(secret) {
					t.Fatalf("secret %q: want prefix %q and only [A-Za-z0-9-]", secret, TokenPrefix)
				}
				body := len(secret) - len(TokenPrefix) - checksumLen
				if bits := float64(body) * math.Log2(62); bits < tc.minBits {
					t.Fatalf("secret %q carries %.1f bits, want ≥ %v", secret, bits, tc.minBits)
				}
				if len(secret) > MaxTokenLen {
					t.Fatalf("secret %q longer than MaxTokenLen %d", secret, MaxTokenLen)
				}
				if seen[secret] {
					t.Fatalf("secret %q drawn twice", secret)
				}
				seen[secret] = true
				if _, err := ParseToken(secret); err != nil {
					t.Fatalf("ParseToken(%q) = %v", secret, err)
				}
			}
		})
	}
}

// TestParseTokenSingleChange changes every character of a strong and a
// weak secret to every other byte value: each change must be rejected,
// by alphabet, prefix or checksum.
func TestParseTokenSingleChange(t *testing.T) {
	for _, st := range []Strength{Strong, Weak} {
		secret, err := newSecret(st)
		must(t, err)
		for i := range len(secret) {
			for c := range 256 {
				if byte(c) == secret[i] {
					continue
				}
				changed := secret[:i] + string([]byte{byte(c)}) + secret[i+1:]
				if _, err := ParseToken(changed); !errors.Is(err, ErrMalformedToken) {
					t.Fatalf("%s secret changed at %d to %q: ParseToken error = %v", st, i, byte(c), err)
				}
			}
		}
	}
}

// TestParseTokenRandom feeds well-formed random strings of both lengths:
// the 32-bit checksum must reject them.
func TestParseTokenRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, body := range []int{strongBodyLen, weakBodyLen} {
		for range 20000 {
			b := []byte(TokenPrefix)
			for range body + checksumLen {
				b = append(b, base62[rng.IntN(62)])
			}
			if _, err := ParseToken(string(b)); !errors.Is(err, ErrMalformedToken) {
				t.Fatalf("random string %q accepted", b)
			}
		}
	}
}

func TestParseTokenGarbage(t *testing.T) {
	good, err := newSecret(Strong)
	must(t, err)
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"prefix only", TokenPrefix},
		{"short", "cgt-abc"},
		{"overlong", good + "A"},
		{"very long", strings.Repeat("a", 1<<16)},
		{"wrong prefix", "xyz-" + good[len(TokenPrefix):]},
		{"upper prefix", "CGT-" + good[len(TokenPrefix):]},
		{"no prefix", good[len(TokenPrefix):] + "abcd"},
		{"space", good[:10] + " " + good[11:]},
		{"non-ASCII", good[:10] + "é" + good[12:]},
		{"NUL", good[:10] + "\x00" + good[11:]},
		{"dash in body", good[:10] + "-" + good[11:]},
		{"anaconda.org style", "ab-1234567890abcdef12345678"},
		{"URL", "https://example.org/t/x/conda"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if h, err := ParseToken(tc.in); !errors.Is(err, ErrMalformedToken) || h != (Hash{}) {
				t.Fatalf("ParseToken(%q) = %x, %v; want ErrMalformedToken", tc.in, h, err)
			}
		})
	}
}

func TestParseTokenHash(t *testing.T) {
	a, err := newSecret(Strong)
	must(t, err)
	b, err := newSecret(Strong)
	must(t, err)
	ha, err := ParseToken(a)
	must(t, err)
	again, err := ParseToken(a)
	must(t, err)
	hb, err := ParseToken(b)
	must(t, err)
	if ha != again || ha == hb {
		t.Fatalf("hashes: same secret %x/%x, different secrets %x/%x", ha, again, ha, hb)
	}
	if strings.Contains(ha.ID(), a) || len(ha.ID()) != 16 {
		t.Fatalf("ID %q: want 16 hex characters", ha.ID())
	}
}

func TestParseStrength(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Strength
		err  error
	}{
		{"", Strong, nil},
		{"strong", Strong, nil},
		{"weak", Weak, nil},
		{"Strong", "", ErrInvalid},
		{"medium", "", ErrInvalid},
	} {
		got, err := ParseStrength(tc.in)
		wantErr(t, err, tc.err, "")
		if got != tc.want {
			t.Errorf("ParseStrength(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestChecksum pins the string CRC to the standard library's.
func TestChecksum(t *testing.T) {
	for _, in := range []string{"", "a", "1234567", "12345678", "123456789", TokenPrefix + "abc",
		TokenPrefix + strings.Repeat("k", 43), TokenPrefix + strings.Repeat("q", 22), strings.Repeat("xyz", 40)} {
		if got, want := checksum(in), crc32.ChecksumIEEE([]byte(in)); got != want {
			t.Errorf("checksum(%q) = %08x, want %08x", in, got, want)
		}
	}
}

func TestParseTokenAllocs(t *testing.T) {
	secret, err := newSecret(Strong)
	must(t, err)
	if n := testing.AllocsPerRun(100, func() { ParseToken(secret) }); n != 0 {
		t.Fatalf("ParseToken allocates %v times", n)
	}
}
