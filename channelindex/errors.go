package channelindex

import (
	"errors"
	"fmt"
)

// ErrInvalidPackage is wrapped by every *InvalidPackageError: the file
// is refused (the API answers 400) and nothing was written.
var ErrInvalidPackage = errors.New("invalid package")

// InvalidPackageError says in one line why a package file is refused:
// damaged, truncated, over a limit, hostile (path traversal, links out
// of the package, devices) or mislabelled (its name, version, build or
// extension does not match what it holds). The message names the file
// and is safe to show to the uploader.
type InvalidPackageError struct {
	File   string // the file's base name
	Reason string // one line, no trailing period
}

func (e *InvalidPackageError) Error() string { return e.File + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalidPackage) true.
func (e *InvalidPackageError) Unwrap() error { return ErrInvalidPackage }

func invalidf(file, format string, args ...any) error {
	return &InvalidPackageError{File: file, Reason: fmt.Sprintf(format, args...)}
}

// ErrExists is returned when adding a file that is already published
// and the add was not forced (the API answers 409).
var ErrExists = errors.New("file already exists")

// ErrNotFound is returned when removing, copying or moving a file,
// version or package the channel does not hold (the API answers 404).
var ErrNotFound = errors.New("not found")

// ErrInvalidRequest is wrapped by errors about the request rather than
// the file: a bad channel, label, subdir or project name, a sha256 that
// does not match (the API answers 400).
var ErrInvalidRequest = errors.New("invalid request")

func badRequestf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}
