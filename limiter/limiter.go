// Package limiter slows down guessing: it counts failed attempts per key
// (a client address, an account name, an account and address pair) in
// fixed windows and says when a key must wait. The API, the gateway and
// the web pages share it. Keys are strings and answers are "go ahead" or
// "retry after d"; it knows nothing of HTTP or Caddy.
//
// Two ways to count, for two kinds of check:
//
//   - Reserve, then settle (Reserve, Attempt.Done): for expensive checks
//     such as a password hash. The attempt counts before it is checked,
//     so however many arrive at once, at most Limit are ever checked in a
//     window; a success releases its reservation, a failure keeps it.
//   - Wait, then Fail: for cheap checks such as a token lookup, where
//     holding a reservation during the check would refuse concurrent
//     valid requests from a busy address. A burst may overshoot the limit
//     by the requests already past Wait.
//
// A key's window starts at its first counted failure (or reservation) and
// lasts Window; from the Limit-th on, the key waits until the window ends.
// Keys live in an LRU of Size entries, so memory stays bounded however
// many keys an attacker invents.
package limiter

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Config tunes a Limiter. Zero values take the defaults.
type Config struct {
	// Limit is how many failures a key may have in a window. Default 5;
	// negative turns the limiter off (no key ever waits).
	Limit int
	// Window is how long, from a key's first failure, its failures are
	// counted and its wait lasts. Default 15 minutes.
	Window time.Duration
	// Size bounds how many keys are remembered; the least recently used
	// are forgotten first. Default 10000.
	Size int
	// Delay, when positive, is how long Hold holds a refusal before it is
	// sent (at most MaxHeld at once), so that a guesser gets one answer
	// per connection per Delay instead of as many as it can send. Default
	// 0: no hold.
	Delay time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Defaults for Config.
const (
	DefaultLimit  = 5
	DefaultWindow = 15 * time.Minute
	DefaultSize   = 10000
	// MaxHeld bounds the refusals Hold holds at once (each holds a
	// request's goroutine); beyond it they are answered at once.
	MaxHeld = 1024
	// busyWait is the wait given when a key is full only because of
	// attempts still being checked: they settle within moments.
	busyWait = time.Second
)

// Limiter counts failures per key. It is safe for concurrent use.
type Limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time
	hold   *hold // nil: no hold

	// mu guards keys and the counts in it; Wait, on the gateway's path
	// of every request carrying a token, only reads.
	mu   sync.RWMutex
	keys *simplelru.LRU[string, *count]
}

// count is one key's current window.
type count struct {
	start    time.Time // first failure or reservation of the window
	failures int       // settled failures, and reservations not yet settled
	pending  int       // of which not yet settled
}

// New returns a Limiter for cfg.
func New(cfg Config) *Limiter {
	if cfg.Limit == 0 {
		cfg.Limit = DefaultLimit
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Size <= 0 {
		cfg.Size = DefaultSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	keys, _ := simplelru.NewLRU[string, *count](cfg.Size, nil) // only fails for size <= 0
	l := &Limiter{limit: cfg.Limit, window: cfg.Window, now: cfg.Now, keys: keys}
	if cfg.Delay > 0 {
		l.hold = newHold(cfg.Delay, MaxHeld)
	}
	return l
}

// Wait returns how long key must wait before its next attempt; 0 means
// go ahead. It counts nothing.
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.RLock()
	defer l.mu.RUnlock()
	c, ok := l.keys.Peek(key)
	if !ok {
		return 0
	}
	return l.wait(c, l.now())
}

// wait is how long a key with count c must wait at now.
func (l *Limiter) wait(c *count, now time.Time) time.Duration {
	left := c.start.Add(l.window).Sub(now)
	switch {
	case l.limit < 0 || left <= 0 || c.failures < l.limit:
		return 0
	case c.failures-c.pending < l.limit:
		return min(busyWait, left)
	}
	return left
}

// Fail counts one failure for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.current(key, l.now()).failures++
}

// current returns key's count, starting a new window if its last one
// ended.
func (l *Limiter) current(key string, now time.Time) *count {
	c, ok := l.keys.Get(key)
	if !ok || now.Sub(c.start) >= l.window {
		c = &count{start: now}
		l.keys.Add(key, c)
	}
	return c
}

// reserve counts an attempt for key before it is checked, unless key
// must wait: then it counts nothing and returns the wait.
func (l *Limiter) reserve(key string) (*count, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	c := l.current(key, now)
	if d := l.wait(c, now); d > 0 {
		return nil, d
	}
	c.failures++
	c.pending++
	return c, 0
}

// settle ends a reservation: a success takes it back, a failure keeps it
// counted. A window that ended meanwhile (or a key forgotten) is left
// alone.
func (l *Limiter) settle(c *count, success bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.pending--
	if success {
		c.failures--
	}
}

// Key is a limiter and the key an attempt counts under in it.
type Key struct {
	Limiter *Limiter
	Key     string
}

// Attempt is an attempt reserved under one or more keys; settle it with
// Done exactly once.
type Attempt struct {
	held []held
}

type held struct {
	l *Limiter
	c *count
}

// Reserve counts an attempt under every key before it is checked, or
// under none: when one key must wait, the reservations already made are
// taken back and the wait is returned with a nil Attempt. A refused
// attempt adds no key to any table, so refused requests cannot push
// other keys' counts out.
func Reserve(keys ...Key) (*Attempt, time.Duration) {
	var wait time.Duration
	for _, k := range keys {
		wait = max(wait, k.Limiter.Wait(k.Key))
	}
	if wait > 0 {
		return nil, wait
	}
	a := &Attempt{held: make([]held, 0, len(keys))}
	for _, k := range keys {
		c, wait := k.Limiter.reserve(k.Key)
		if wait > 0 {
			a.Done(true)
			return nil, wait
		}
		a.held = append(a.held, held{k.Limiter, c})
	}
	return a, 0
}

// Done settles the attempt: success (the check passed, or never ran
// for a reason that is not the client's guess) takes its reservations
// back; a failure keeps them counted until their windows end.
func (a *Attempt) Done(success bool) {
	for _, h := range a.held {
		h.l.settle(h.c, success)
	}
	a.held = nil
}
