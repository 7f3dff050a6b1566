package caddymodule

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/channelgate/channelgate/tokenstore"
)

// credentialError is a refusal while reading credentials; its message is
// safe to show (it never quotes the credential).
type credentialError string

func (e credentialError) Error() string { return string(e) }

// requestToken finds the token a request carries: the /t/<token>/ path
// segment (already in pathToken), or the Authorization header as
// "token X" (anaconda CLI), "Bearer X", or Basic with the token as
// password (pip, twine's __token__) or as user name with no password.
// Two different tokens in one request are refused.
func requestToken(h http.Header, pathToken string) (string, error) {
	vals := h.Values("Authorization")
	if len(vals) > 1 {
		return "", credentialError("more than one Authorization header")
	}
	if len(vals) == 0 {
		return pathToken, nil
	}
	tok, err := headerToken(vals[0])
	if err != nil {
		return "", err
	}
	if pathToken != "" && tok != pathToken {
		return "", credentialError("the token in the path and the Authorization header differ")
	}
	return tok, nil
}

func headerToken(v string) (string, error) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
	cred = strings.TrimSpace(cred)
	if !ok || cred == "" {
		return "", credentialError("malformed Authorization header")
	}
	switch strings.ToLower(scheme) {
	case "token", "bearer":
		return cred, nil
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return "", credentialError("malformed Basic credentials")
		}
		user, pass, _ := strings.Cut(string(raw), ":")
		switch {
		case strings.HasPrefix(pass, tokenstore.TokenPrefix):
			return pass, nil
		case pass == "" && strings.HasPrefix(user, tokenstore.TokenPrefix):
			return user, nil
		case pass == "" && user == "":
			return "", credentialError("empty Basic credentials")
		}
		// A password or anything else: downloads take tokens only. Pass
		// it on so the decision names it a malformed token.
		return pass, nil
	}
	return "", credentialError("unsupported Authorization scheme; use token, Bearer or Basic")
}

// stripCredentials removes the Authorization header and every header
// with a token-shaped value (a Referer from a /t/<token>/ page, a cookie):
// the storage and its logs never see a token.
func stripCredentials(h http.Header) {
	h.Del("Authorization")
	for name, vals := range h {
		for _, v := range vals {
			if strings.Contains(v, tokenstore.TokenPrefix) {
				delete(h, name)
				break
			}
		}
	}
}
