package limiter

import (
	"context"
	"time"
)

// Hold holds a refusal for the limiter's Delay before it is sent. It
// returns after the delay, when ctx ends (the client went away or the
// server is shutting down), or at once when MaxHeld refusals are already
// held or the limiter has no delay.
func (l *Limiter) Hold(ctx context.Context) {
	if l.hold != nil {
		l.hold.wait(ctx)
	}
}

// hold delays answers, at most cap of them at once.
type hold struct {
	delay time.Duration
	slots chan struct{}
}

func newHold(delay time.Duration, cap int) *hold {
	return &hold{delay: delay, slots: make(chan struct{}, cap)}
}

// wait returns after the delay, when ctx ends, or at once when cap
// answers are already held.
func (h *hold) wait(ctx context.Context) {
	select {
	case h.slots <- struct{}{}:
	default:
		return
	}
	defer func() { <-h.slots }()
	t := time.NewTimer(h.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
