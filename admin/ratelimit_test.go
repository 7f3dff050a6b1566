package admin

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestLimiterBackoffAndBound(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(2, time.Minute, 8*time.Second, 3, func() time.Time { return now })
	for _, c := range []struct {
		failures int
		wait     time.Duration // refused for this long afterwards
	}{{1, 0}, {2, time.Second}, {3, 2 * time.Second}, {4, 4 * time.Second}, {5, 8 * time.Second}, {6, 8 * time.Second}} {
		l.fail("k")
		err := l.check("k")
		if c.wait == 0 {
			if err != nil {
				t.Fatalf("%d failures: %v", c.failures, err)
			}
			continue
		}
		he, ok := err.(*httpError)
		if !ok || he.status != http.StatusTooManyRequests || he.retryAfter != int(c.wait/time.Second) {
			t.Fatalf("%d failures: %v, want 429 after %v", c.failures, err, c.wait)
		}
	}
	l.reset("k")
	if err := l.check("k"); err != nil {
		t.Fatalf("after reset: %v", err)
	}
	for i := range 10 {
		l.fail(fmt.Sprint("name", i))
	}
	if n := l.entries.Len(); n != 3 {
		t.Fatalf("%d keys kept, want the bound 3", n)
	}
}
