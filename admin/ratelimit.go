package admin

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/channelgate/channelgate/limiter"
)

// Defaults of the bad-secret limit: those of the gateway's failure_limit.
const (
	DefaultSecretFailures      = 20
	DefaultSecretFailureWindow = time.Minute
)

// tooMany is the 429 answer for a wait, in whole seconds rounded up.
func tooMany(wait time.Duration, what string) error {
	secs := int(math.Ceil(wait.Seconds()))
	return &httpError{status: http.StatusTooManyRequests, retryAfter: secs,
		msg: fmt.Sprintf("too many %s; retry in %ds", what, secs)}
}

// reserveGuess reserves a password guess at user from remote before the
// password is checked (see limiter.Logins); settle it with Done.
func (a *api) reserveGuess(user, remote string) (*limiter.Attempt, error) {
	at, wait := a.cfg.Logins.Reserve(user, limiter.Address(remote))
	if at == nil {
		return nil, tooMany(wait, "failed logins")
	}
	return at, nil
}

// throttleSecret refuses a request that carries a token or an operator
// secret from an address that sent too many wrong ones, after holding
// the answer for the limit's delay.
func (a *api) throttleSecret(r *http.Request, remote string) error {
	wait := a.cfg.SecretFailures.Wait(limiter.Address(remote))
	if wait <= 0 {
		return nil
	}
	a.cfg.SecretFailures.Hold(r.Context())
	return tooMany(wait, "failed token attempts from this address")
}

// secretFailed counts a wrong token or operator secret against remote.
func (a *api) secretFailed(remote string) {
	a.cfg.SecretFailures.Fail(limiter.Address(remote))
}
