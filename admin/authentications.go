package admin

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/channelgate/channelgate/tokenstore"
)

// TokenRequest is the body of POST /authentications, as anaconda-client
// sends it.
type TokenRequest struct {
	// Scopes to grant; none means full access to the account ("all").
	Scopes Scopes `json:"scopes"`
	// Note is the token's name, unique per owner.
	Note     string `json:"note"`
	NoteURL  string `json:"note_url,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	// User names the organization the token is for; empty (or null) is
	// the caller's own account. The operator must always name one.
	User string `json:"user,omitempty"`
	// MaxAge is the lifetime in seconds; zero (or null) takes the store's
	// maximum.
	MaxAge int64 `json:"max-age,omitempty"`
	// Strength is "strong" (default) or "weak".
	Strength string `json:"strength,omitempty"`
	// FailIfExists refuses (400) a name already in use instead of
	// replacing that token.
	FailIfExists bool `json:"fail-if-exists"`
}

// Scopes is a list of scope names. It also accepts one string of names
// separated by spaces or commas, as older clients send.
type Scopes []string

// UnmarshalJSON accepts a list of strings, a string or null.
func (s *Scopes) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = strings.FieldsFunc(one, func(r rune) bool { return r == ',' || r == ' ' })
		return nil
	}
	var list []string
	err := json.Unmarshal(b, &list)
	*s = list
	return err
}

// TokenInfo describes a token in listings. It never holds the secret.
type TokenInfo struct {
	ID          string   `json:"id"`
	Application string   `json:"application"` // the token's name
	Owner       string   `json:"owner"`
	CreatedBy   string   `json:"created_by,omitempty"`
	RemoteAddr  string   `json:"remote_addr"`
	Hostname    string   `json:"hostname"`
	NoteURL     string   `json:"note_url,omitempty"`
	Scopes      []string `json:"scopes"`
	Strength    string   `json:"strength"`
	Prefix      string   `json:"prefix"` // enough of the secret to tell tokens apart
	CreatedAt   string   `json:"created_at"`
	Expires     *string  `json:"expires"`
	LastUsed    *string  `json:"last_used"`
}

// NewToken answers POST /authentications: the secret, shown this once,
// with the token's description.
type NewToken struct {
	Token string `json:"token"`
	TokenInfo
	// Warning is set when no scopes were asked for and the token has
	// full access to its account.
	Warning string `json:"warning,omitempty"`
}

func tokenInfo(t *tokenstore.Token, lastUsed time.Time) TokenInfo {
	scopes := make([]string, len(t.Scopes))
	for i, s := range t.Scopes {
		scopes[i] = string(s)
	}
	return TokenInfo{ID: t.Hash.ID(), Application: t.Name, Owner: t.Owner, CreatedBy: t.CreatedBy,
		RemoteAddr: t.Remote, Hostname: t.Hostname, NoteURL: t.NoteURL, Scopes: scopes,
		Strength: string(t.Strength), Prefix: t.Prefix, CreatedAt: *rfc3339(t.Created),
		Expires: rfc3339(t.Expires), LastUsed: rfc3339(lastUsed)}
}

// createToken is POST /authentications: login (Basic, no scopes) and
// token creation. A token caller creates tokens with at most its own
// scopes that expire no later than it (tokenstore.TokenSpec.Parent). Only
// 200 is success to anaconda-client.
func (a *api) createToken(r *http.Request, c *caller) (int, any, error) {
	var req TokenRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	spec := tokenstore.TokenSpec{Owner: c.name, CreatedBy: c.name, Name: req.Note, Scopes: req.Scopes,
		Strength: req.Strength, MaxAge: seconds(req.MaxAge), Replace: !req.FailIfExists,
		Hostname: req.Hostname, NoteURL: req.NoteURL, Remote: c.remote}
	if c.operator() {
		if req.User == "" {
			return 0, nil, errorf(http.StatusBadRequest, `the operator must name the account ("user") the token is for`)
		}
		spec.CreatedBy = ""
	}
	if req.User != "" {
		spec.Owner = req.User
	}
	if c.token != nil {
		// A token acts with at most its creator's current rights: an
		// organization's token whose creator no longer administers the
		// organization cannot mint more.
		if err := a.require(c, spec.Owner, tokenstore.PermAdmin); err != nil {
			return 0, nil, err
		}
	}
	spec.Parent = c.token
	secret, tok, err := a.store.CreateToken(c.actor(), spec)
	if errors.Is(err, tokenstore.ErrExists) {
		// anaconda-client reads a 400 as "fail-if-exists hit".
		return 0, nil, errorf(http.StatusBadRequest, "%s", err.Error())
	}
	if err != nil {
		return 0, nil, err
	}
	out := NewToken{Token: secret, TokenInfo: tokenInfo(tok, time.Time{})}
	var warnings []string
	if len(req.Scopes) == 0 {
		warnings = append(warnings, "no scopes were given: this token has full access to "+tok.Owner+" (scope all)")
	}
	if c.token != nil && tok.Expires.Equal(c.token.Expires) {
		warnings = append(warnings, "this token expires with the token that created it, at "+*out.Expires)
	}
	out.Warning = strings.Join(warnings, "; ")
	return http.StatusOK, out, nil
}

// seconds converts a max-age, saturating so that absurd values reach the
// store's own "at most" message instead of overflowing.
func seconds(n int64) time.Duration {
	if n > math.MaxInt64/int64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(n) * time.Second
}

// listTokens is GET /authentications[?user=ORG]: the live tokens of the
// caller's account or of an organization it administers.
func (a *api) listTokens(r *http.Request, c *caller) (int, any, error) {
	owner, err := a.tokenOwner(c, r.URL.Query().Get("user"))
	if err != nil {
		return 0, nil, err
	}
	toks, err := a.store.Tokens(owner)
	if err != nil {
		return 0, nil, err
	}
	out := make([]TokenInfo, 0, len(toks))
	for _, t := range toks {
		out = append(out, tokenInfo(t.Token, t.LastUsed))
	}
	return http.StatusOK, out, nil
}

// tokenOwner is the account whose tokens c lists or revokes: org if
// given, else c's own, which c must administer. A user administers
// itself; an organization's token only while its creator administers
// the organization (tokenstore.Credential.Bound).
func (a *api) tokenOwner(c *caller, org string) (string, error) {
	owner := c.name
	if org != "" {
		owner = org
	}
	return owner, a.require(c, owner, tokenstore.PermAdmin)
}

// callingToken fails with 401 unless the caller presented a token.
func callingToken(c *caller) (*tokenstore.Credential, error) {
	if c.token == nil {
		return nil, errorf(http.StatusUnauthorized, "this call needs a token, not a password")
	}
	return c.token, nil
}

// currentToken is GET /authentication: the calling token.
func (a *api) currentToken(_ *http.Request, c *caller) (int, any, error) {
	tok, err := callingToken(c)
	if err != nil {
		return 0, nil, err
	}
	info, err := a.store.TokenInfoByHash(tok.Hash)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, tokenInfo(info.Token, info.LastUsed), nil
}

// revokeCurrent is DELETE /authentications: the calling token revokes
// itself (anaconda logout). 201 is success.
func (a *api) revokeCurrent(_ *http.Request, c *caller) (int, any, error) {
	tok, err := callingToken(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, nil, a.store.RevokeHash(c.actor(), tok.Hash)
}

// revokeNamed is DELETE /authentications/name/{name} and
// /authentications/org/{org}/name/{name}. 201 is success.
func (a *api) revokeNamed(r *http.Request, c *caller) (int, any, error) {
	owner, err := a.tokenOwner(c, r.PathValue("org"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, nil, a.store.RevokeToken(c.actor(), owner, r.PathValue("name"))
}
