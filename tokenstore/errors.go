package tokenstore

import (
	"errors"
	"fmt"
)

// Error kinds. Every error the store returns for a caller's mistake wraps
// one of these, so the API can map it to a status code with errors.Is, and
// carries a one-line message fit to show to that caller.
var (
	ErrInvalid   = errors.New("invalid")   // bad input: 400/422
	ErrNotFound  = errors.New("not found") // 404
	ErrExists    = errors.New("exists")    // 409
	ErrForbidden = errors.New("forbidden") // 403
	ErrAuth      = errors.New("unauthenticated")
	ErrTooLarge  = errors.New("too large") // 413: a file over its plan's limit
	// ErrBusy is a request refused for load, not for its content (too
	// many password checks at once): retry shortly, 429/503.
	ErrBusy = errors.New("busy")
	// ErrCorrupt marks a database that cannot be read as expected. It is
	// never a client's mistake; the gateway fails closed on it.
	ErrCorrupt = errors.New("store corrupt")
	// ErrLocked says that another process holds the store (bbolt locks
	// its file).
	ErrLocked = errors.New("store locked")
	// ErrStale says that the backend's change feed has not been known
	// current for longer than its staleness bound, so cached decisions
	// are refused (503) until it is back. Not a client's mistake.
	ErrStale = errors.New("store feed stale")
)

type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }

func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) error  { return errorf(ErrInvalid, format, args...) }
func notFoundf(format string, args ...any) error { return errorf(ErrNotFound, format, args...) }
func existsf(format string, args ...any) error   { return errorf(ErrExists, format, args...) }
func forbiddenf(format string, args ...any) error {
	return errorf(ErrForbidden, format, args...)
}
