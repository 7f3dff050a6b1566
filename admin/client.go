package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client calls this API over HTTP, as the channelgate CLI does. It sends
// what anaconda-client sends, so it exercises the same paths.
type Client struct {
	// BaseURL is where the API is mounted, e.g. "https://host/api".
	BaseURL string
	// Token authenticates calls as "Authorization: token <Token>". Login
	// sets it; Logout clears it.
	Token string
	// HTTP sends the requests. Default http.DefaultClient.
	HTTP *http.Client
}

// Error is an error answer of the API.
type Error struct {
	Status  int
	Message string // the "error" field
}

func (e *Error) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status) }

// pathf fills the %s verbs of format with escaped path segments.
func pathf(format string, segments ...string) string {
	escaped := make([]any, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	return fmt.Sprintf(format, escaped...)
}

// call sends one request to path. in (if not nil) is the JSON body; out
// (if not nil) receives the JSON answer, which must have status want.
func (c *Client) call(ctx context.Context, basic *[2]string, method, path string, want int, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	switch {
	case basic != nil:
		req.SetBasicAuth(basic[0], basic[1])
	case c.Token != "":
		req.Header.Set("Authorization", "token "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode)
		}
		return &Error{Status: resp.StatusCode, Message: e.Error}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Login creates a token named tokenName with a password (scopes nil:
// full access), replacing an existing one of that name, and keeps it in
// c.Token.
func (c *Client) Login(ctx context.Context, user, password, tokenName string, scopes []string) (*NewToken, error) {
	var out NewToken
	req := TokenRequest{Scopes: scopes, Note: tokenName}
	if err := c.call(ctx, &[2]string{user, password}, http.MethodPost, "/authentications", http.StatusOK, req, &out); err != nil {
		return nil, err
	}
	c.Token = out.Token
	return &out, nil
}

// Logout revokes c.Token and forgets it.
func (c *Client) Logout(ctx context.Context) error {
	if err := c.call(ctx, nil, http.MethodDelete, "/authentications", http.StatusCreated, nil, nil); err != nil {
		return err
	}
	c.Token = ""
	return nil
}

// Whoami returns the calling account.
func (c *Client) Whoami(ctx context.Context) (*UserInfo, error) {
	var out UserInfo
	return &out, c.call(ctx, nil, http.MethodGet, "/user", http.StatusOK, nil, &out)
}

// CreateToken creates a token with c.Token's authority.
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (*NewToken, error) {
	var out NewToken
	return &out, c.call(ctx, nil, http.MethodPost, "/authentications", http.StatusOK, req, &out)
}

// Tokens lists the caller's tokens, or an organization's when org is set.
func (c *Client) Tokens(ctx context.Context, org string) ([]TokenInfo, error) {
	var out []TokenInfo
	path := "/authentications"
	if org != "" {
		path += "?user=" + url.QueryEscape(org)
	}
	return out, c.call(ctx, nil, http.MethodGet, path, http.StatusOK, nil, &out)
}

// TokenInfo describes c.Token itself.
func (c *Client) TokenInfo(ctx context.Context) (*TokenInfo, error) {
	var out TokenInfo
	return &out, c.call(ctx, nil, http.MethodGet, "/authentication", http.StatusOK, nil, &out)
}

// RevokeToken revokes the caller's token called name, or an
// organization's when org is set.
func (c *Client) RevokeToken(ctx context.Context, org, name string) error {
	if org == "" {
		return c.call(ctx, nil, http.MethodDelete, pathf("/authentications/name/%s", name), http.StatusCreated, nil, nil)
	}
	return c.call(ctx, nil, http.MethodDelete, pathf("/authentications/org/%s/name/%s", org, name), http.StatusCreated, nil, nil)
}

// CreateUser creates a user (operator, site administrators, or anyone
// with open sign-up).
func (c *Client) CreateUser(ctx context.Context, req NewUserRequest) (*UserInfo, error) {
	var out UserInfo
	return &out, c.call(ctx, nil, http.MethodPost, "/users", http.StatusCreated, req, &out)
}

// VerifyUser marks a signed-up user's address verified (site
// administrators).
func (c *Client) VerifyUser(ctx context.Context, login string) error {
	return c.call(ctx, nil, http.MethodPost, pathf("/user/%s/verify", login), http.StatusNoContent, nil, nil)
}

// CreateOrg creates an organization; owner "" is the calling user.
func (c *Client) CreateOrg(ctx context.Context, login, owner string) (*UserInfo, error) {
	var out UserInfo
	return &out, c.call(ctx, nil, http.MethodPost, "/orgs", http.StatusCreated, NewOrgRequest{Login: login, Owner: owner}, &out)
}

// CreateTokenWithPassword creates a token with a user's password, as
// anaconda-client's auth --create does (req.FailIfExists refuses a name in
// use). It leaves c.Token alone.
func (c *Client) CreateTokenWithPassword(ctx context.Context, user, password string, req TokenRequest) (*NewToken, error) {
	var out NewToken
	return &out, c.call(ctx, &[2]string{user, password}, http.MethodPost, "/authentications", http.StatusOK, req, &out)
}

// Scopes lists the scopes a token may hold, with their descriptions. It
// sends no credentials.
func (c *Client) Scopes(ctx context.Context) (map[string]string, error) {
	var out map[string]string
	anon := *c
	anon.Token = ""
	return out, anon.call(ctx, nil, http.MethodGet, "/scopes", http.StatusOK, nil, &out)
}
