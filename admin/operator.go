package admin

import (
	"crypto/sha256"
	"crypto/subtle"
)

// MinOperatorSecretLen is the shortest operator secret channelgate_api
// accepts at start (32 characters): the secret acts as site
// administrator, so it must resist guessing even at the rate the
// bad-secret limit allows.
const MinOperatorSecretLen = 32

// operatorKey is what the API keeps of the operator secret: its SHA-256,
// never the secret itself, so a memory dump or a debug print of the API
// does not show it.
type operatorKey struct {
	sum [sha256.Size]byte
	set bool
}

func newOperatorKey(secret string) operatorKey {
	if secret == "" {
		return operatorKey{}
	}
	return operatorKey{sum: sha256.Sum256([]byte(secret)), set: true}
}

// isOperator reports, in constant time, whether value is the operator
// secret.
func (a *api) isOperator(value string) bool {
	if !a.operator.set {
		return false
	}
	sum := sha256.Sum256([]byte(value))
	return subtle.ConstantTimeCompare(sum[:], a.operator.sum[:]) == 1
}
