package admin_test

import (
	"context"
	"errors"
	"testing"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

func TestClientRoundTrip(t *testing.T) {
	e := newEnv(t, admin.Config{})
	ctx := context.Background()
	op := &admin.Client{BaseURL: e.srv.URL + "/", Token: operatorSecret}
	if _, err := op.CreateUser(ctx, admin.NewUserRequest{Login: "carol", Email: "carol@example.org",
		Password: password, PasswordConfirmation: password, AcceptTerms: true}); err != nil {
		t.Fatal(err)
	}

	c := &admin.Client{BaseURL: e.srv.URL}
	if _, err := c.Login(ctx, "carol", "wrong-password", "cli", nil); !isStatus(err, 401) {
		t.Fatalf("bad login: %v", err)
	}
	login, err := c.Login(ctx, "carol", password, "cli", nil)
	if err != nil || c.Token != login.Token || login.Scopes[0] != "all" {
		t.Fatalf("login: %v %+v", err, login)
	}
	if me, err := c.Whoami(ctx); err != nil || me.Login != "carol" || me.Email != "carol@example.org" {
		t.Fatalf("whoami: %v %+v", err, me)
	}
	ci, err := c.CreateToken(ctx, admin.TokenRequest{Note: "ci token", Scopes: admin.Scopes{"conda:download"}, FailIfExists: true})
	if err != nil || ci.Owner != "carol" {
		t.Fatalf("create token: %v %+v", err, ci)
	}
	if _, err := c.CreateToken(ctx, admin.TokenRequest{Note: "ci token", FailIfExists: true}); !isStatus(err, 400) {
		t.Fatalf("duplicate token: %v", err)
	}
	if toks, err := c.Tokens(ctx, ""); err != nil || len(toks) != 2 {
		t.Fatalf("tokens: %v %+v", err, toks)
	}
	if info, err := c.TokenInfo(ctx); err != nil || info.Application != "cli" {
		t.Fatalf("token info: %v %+v", err, info)
	}

	if _, err := c.CreateOrg(ctx, "lab", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateToken(ctx, admin.TokenRequest{Note: "lab ci", User: "lab"}); err != nil {
		t.Fatal(err)
	}
	if toks, err := c.Tokens(ctx, "lab"); err != nil || len(toks) != 1 || toks[0].Owner != "lab" {
		t.Fatalf("org tokens: %v %+v", err, toks)
	}
	if err := c.PutGroup(ctx, "lab", "readers", tokenstore.PermRead); err != nil {
		t.Fatal(err)
	}
	if err := c.SetGroupMember(ctx, "lab", "readers", "bob", true); err != nil {
		t.Fatal(err)
	}
	if err := c.SetGroupPackage(ctx, "lab", "readers", "data-kit", true); err != nil {
		t.Fatal(err)
	}
	if groups, err := c.Groups(ctx, "lab"); err != nil || len(groups) != 2 {
		t.Fatalf("groups: %v %+v", err, groups)
	}
	public := false
	if _, err := c.CreatePackage(ctx, "lab", "data-kit", admin.PackageRequest{Public: &public, PackageTypes: []string{"pypi"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetCollaborator(ctx, "lab", "data-kit", "alice", true); err != nil {
		t.Fatal(err)
	}
	if p, err := c.Package(ctx, "lab", "data-kit"); err != nil || p.Public || len(p.Collaborators) != 1 {
		t.Fatalf("package: %v %+v", err, p)
	}
	if err := c.SetGroupMember(ctx, "lab", "readers", "bob", false); err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeToken(ctx, "lab", "lab ci"); err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeToken(ctx, "", "ci token"); err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeToken(ctx, "", "ci token"); !isStatus(err, 404) {
		t.Fatalf("revoke twice: %v", err)
	}
	old := c.Token
	if err := c.Logout(ctx); err != nil || c.Token != "" {
		t.Fatalf("logout: %v", err)
	}
	c.Token = old
	var apiErr *admin.Error
	if _, err := c.Whoami(ctx); !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Message != "token revoked" {
		t.Fatalf("whoami after logout: %v", err)
	}
}

func isStatus(err error, status int) bool {
	var e *admin.Error
	return errors.As(err, &e) && e.Status == status
}
