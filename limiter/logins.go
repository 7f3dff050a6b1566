package limiter

import "time"

// Logins limits password guesses, for the API's Basic login and the web
// pages' log-in form alike (share one Logins between them, so that a
// guesser cannot double its tries by alternating). A guess is reserved
// under three keys before the password is checked:
//
//   - the account and the client address together, PerPair (default 5):
//     a guesser at one account from one address;
//   - the account alone, PerAccount (default 100): a guesser spreading
//     over many addresses;
//   - the address alone, PerAddress (default 20): one address trying
//     many accounts.
//
// So failures from one address do not lock the account's owner out from
// another address until the account's own, higher limit is reached.
type Logins struct {
	pair, account, address *Limiter
}

// LoginsConfig tunes Logins. Zero values take the defaults.
type LoginsConfig struct {
	// PerPair, PerAccount and PerAddress are the failures allowed per
	// window for each key (defaults 5, 100 and 20).
	PerPair, PerAccount, PerAddress int
	// Window is how long failures count. Default 15 minutes.
	Window time.Duration
	// Size bounds the keys each of the three remembers. Default 10000.
	Size int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Defaults for LoginsConfig.
const (
	DefaultPerPair    = DefaultLimit
	DefaultPerAccount = 100
	DefaultPerAddress = 20
)

// NewLogins returns the password-guess limit for cfg.
func NewLogins(cfg LoginsConfig) *Logins {
	limit := func(n, def int) *Limiter {
		if n <= 0 {
			n = def
		}
		return New(Config{Limit: n, Window: cfg.Window, Size: cfg.Size, Now: cfg.Now})
	}
	return &Logins{
		pair:    limit(cfg.PerPair, DefaultPerPair),
		account: limit(cfg.PerAccount, DefaultPerAccount),
		address: limit(cfg.PerAddress, DefaultPerAddress),
	}
}

// Reserve reserves a guess at account from address (a client address;
// see Address). It returns the Attempt to settle once the password was
// checked (Done(true) when it was right, or when the check could not run;
// Done(false) when it was wrong), or a nil Attempt and how long to wait.
func (g *Logins) Reserve(account, address string) (*Attempt, time.Duration) {
	return Reserve(
		Key{g.pair, account + "\x00" + address},
		Key{g.account, account},
		Key{g.address, address},
	)
}
