package web

import (
	"errors"

	"github.com/channelgate/channelgate/tokenstore"
)

// fieldErrors maps a form field's name to why it was refused; templates
// show each next to its field. The first reason given for a field wins.
type fieldErrors map[string]string

func (e fieldErrors) add(field, reason string) {
	if _, ok := e[field]; !ok {
		e[field] = reason
	}
}

// check adds err's message for field when err is a caller's mistake
// (tokenstore.ErrInvalid); other errors are returned.
func (e fieldErrors) check(field string, err error) error {
	if errors.Is(err, tokenstore.ErrInvalid) {
		e.add(field, err.Error())
		return nil
	}
	return err
}
