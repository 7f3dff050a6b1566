package tokenstore

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// Passwords are hashed with argon2id at OWASP's recommended minimum
// (19 MiB, two passes, one lane) and stored in the PHC string format.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// DefaultPasswordWait is how long a password check waits for a hashing
// slot before it fails with ErrBusy.
const DefaultPasswordWait = time.Second

// defaultPasswordChecks is the default of Options.MaxPasswordChecks: one
// argon2id run per core Go uses (each runs on one core, so more would
// only add memory), and at least 2.
func defaultPasswordChecks() int { return max(2, runtime.GOMAXPROCS(0)) }

// hasher bounds concurrent argon2id runs. Each takes argonMemory (19 MiB)
// and a core for tens of milliseconds, so unbounded concurrent logins
// (with made-up names too: those are checked against a dummy hash) would
// exhaust memory and starve every other request. A run waits at most
// wait for a slot, then fails with ErrBusy.
type hasher struct {
	slots   atomic.Pointer[chan struct{}]
	wait    time.Duration
	observe func(time.Duration) // nil: none
}

func newHasher(n int, wait time.Duration, observe func(time.Duration)) *hasher {
	h := &hasher{wait: wait, observe: observe}
	h.resize(n)
	return h
}

// resize sets the number of slots; runs holding an old slot release it
// into the old set.
func (h *hasher) resize(n int) {
	if n <= 0 {
		n = defaultPasswordChecks()
	}
	slots := make(chan struct{}, n)
	h.slots.Store(&slots)
}

// run runs f in a slot, waiting for one at most h.wait.
func (h *hasher) run(f func()) error {
	slots := *h.slots.Load()
	select {
	case slots <- struct{}{}:
	default:
		t := time.NewTimer(h.wait)
		defer t.Stop()
		select {
		case slots <- struct{}{}:
		case <-t.C:
			return errorf(ErrBusy, "too many password checks at once; retry in a second")
		}
	}
	defer func() { <-slots }()
	start := time.Now()
	f()
	if h.observe != nil {
		h.observe(time.Since(start))
	}
	return nil
}

// hashPassword hashes p with a fresh salt. Outside tests it runs only
// through Store.newPasswordHash, in a hashing slot.
func hashPassword(p string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return encodeHash(salt, argon2.IDKey([]byte(p), salt, argonTime, argonMemory, argonThreads, argonKeyLen)), nil
}

// encodeHash is the PHC string of an argon2id hash.
func encodeHash(salt, sum []byte) string {
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum))
}

// newPasswordHash hashes p in a hashing slot.
func (s *Store) newPasswordHash(p string) (hash string, err error) {
	if busy := s.hashing.run(func() { hash, err = hashPassword(p) }); busy != nil {
		return "", busy
	}
	return hash, err
}

// checkPassword compares in constant time, in a hashing slot; a
// malformed hash never matches. It fails only with ErrBusy.
func (s *Store) checkPassword(encoded, p string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, nil
	}
	var m uint32
	var t uint32
	var par uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &par); err != nil {
		return false, nil
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, nil
	}
	var got []byte
	err := s.hashing.run(func() { got = argon2.IDKey([]byte(p), salt, t, m, par, uint32(len(want))) })
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1, err
}

// dummyPasswordHash is checked against for unknown users, in a hashing
// slot like a real check, so that a wrong name costs as much time as a
// wrong password and no more memory than the slots allow. It is computed
// once, at start.
var dummyPasswordHash = encodeHash(make([]byte, 16),
	argon2.IDKey([]byte("channelgate-timing-equalizer"), make([]byte, 16), argonTime, argonMemory, argonThreads, argonKeyLen))
