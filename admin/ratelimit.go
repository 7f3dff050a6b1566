package admin

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// limiter slows down password guessing. Each key (an account name or a
// client address) counts its failures within a window; from the max-th
// failure on, the key is refused for one second, doubling with every
// further failure up to a cap. Keys live in an LRU, so memory stays
// bounded however many names an attacker tries.
type limiter struct {
	mu      sync.Mutex
	entries *simplelru.LRU[string, *failures]
	limit   int
	window  time.Duration
	ceiling time.Duration
	now     func() time.Time
}

// failures is one key's recent history.
type failures struct {
	count int
	first time.Time // first failure of the current window
	until time.Time // refused before this time
}

func newLimiter(limit int, window, ceiling time.Duration, size int, now func() time.Time) *limiter {
	lru, _ := simplelru.NewLRU[string, *failures](size, nil) // only fails for size <= 0
	return &limiter{entries: lru, limit: limit, window: window, ceiling: ceiling, now: now}
}

// check returns a 429 error with Retry-After if any key is being slowed
// down.
func (l *limiter) check(keys ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range keys {
		if f, ok := l.entries.Peek(k); ok && now.Before(f.until) {
			wait = max(wait, f.until.Sub(now))
		}
	}
	if wait <= 0 {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	return &httpError{status: http.StatusTooManyRequests, retryAfter: secs,
		msg: "too many failed logins; retry in " + time.Duration(secs*int(time.Second)).String()}
}

// fail records one failure for every key.
func (l *limiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		f, ok := l.entries.Get(k)
		if !ok || now.Sub(f.first) > l.window {
			f = &failures{first: now}
			l.entries.Add(k, f)
		}
		f.count++
		if over := f.count - l.limit; over >= 0 {
			f.until = now.Add(backoff(over, l.ceiling))
		}
	}
}

// backoff is one second doubled n times, at most ceiling.
func backoff(n int, ceiling time.Duration) time.Duration {
	if n >= 30 {
		return ceiling
	}
	return min(time.Second<<n, ceiling)
}

// reset forgets a key after a successful login.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries.Remove(key)
}
