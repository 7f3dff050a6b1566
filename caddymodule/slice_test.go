package caddymodule

import (
	"context"
	"strings"
	"testing"

	"github.com/channelgate/channelgate/admin"
)

// TestSliceThroughAPI is the product's whole path over HTTP only: the
// operator creates a user, an organization and a private package through
// the API; the user logs in with a password, creates a scoped token like
// `anaconda auth --create`, downloads with it, revokes it, and the very
// next download is refused.
func TestSliceThroughAPI(t *testing.T) {
	g := startGateway(t, "")
	ctx := context.Background()
	api := g.base + "/api"
	op := &admin.Client{BaseURL: api, Token: operatorSecret}
	// anaconda-client's first call at login: HEAD on the bare prefix.
	if status, _, _ := g.do("HEAD", "/api", nil); status != 200 {
		t.Fatalf("HEAD /api: %d, want 200", status)
	}

	if _, err := op.CreateUser(ctx, admin.NewUserRequest{Login: "carol", Email: "carol@example.com",
		Password: "carol-pw1", PasswordConfirmation: "carol-pw1", AcceptTerms: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := op.CreateOrg(ctx, "labs", "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := op.CreatePackage(ctx, "labs", "model", admin.PackageRequest{Public: new(bool)}); err != nil {
		t.Fatal(err)
	}
	g.file("labs/noarch/model-1.0-0.conda", "MODEL")
	path := "/labs/noarch/model-1.0-0.conda"
	if status, _, _ := g.do("GET", path, nil); status != 404 {
		t.Fatalf("private package anonymously: %d, want 404 (hidden as missing)", status)
	}

	carol := &admin.Client{BaseURL: api}
	if _, err := carol.Login(ctx, "carol", "carol-pw1", "laptop", nil); err != nil {
		t.Fatal(err)
	}
	created, err := carol.CreateToken(ctx, admin.TokenRequest{Note: "ci", User: "labs",
		Scopes: admin.Scopes{"conda:download"}, FailIfExists: true})
	if err != nil {
		t.Fatal(err)
	}
	tok := created.Token
	if status, body, _ := g.do("GET", "/t/"+tok+path, nil); status != 200 || body != "MODEL" {
		t.Fatalf("download with token: %d %q", status, body)
	}
	if status, _, _ := g.do("PUT", "/t/"+tok+"/labs/noarch/model-2.0-0.conda", nil); status != 403 {
		t.Fatalf("upload with a download-only token: %d", status)
	}

	list, err := carol.Tokens(ctx, "labs")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Application != "ci" {
		t.Fatalf("org tokens: %+v", list)
	}
	if err := carol.RevokeToken(ctx, "labs", "ci"); err != nil {
		t.Fatal(err)
	}
	status, body, _ := g.do("GET", "/t/"+tok+path, nil)
	if status != 401 || !strings.Contains(body, "revoked") {
		t.Fatalf("download after revoke: %d %q", status, body)
	}
}
