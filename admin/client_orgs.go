package admin

import (
	"context"
	"net/http"

	"github.com/channelgate/channelgate/tokenstore"
)

// Client calls for organizations' groups and for packages.

// Groups lists an organization's groups.
func (c *Client) Groups(ctx context.Context, org string) ([]GroupInfo, error) {
	var out []GroupInfo
	return out, c.call(ctx, nil, http.MethodGet, pathf("/groups/%s", org), http.StatusOK, nil, &out)
}

// PutGroup creates a group or changes its permission.
func (c *Client) PutGroup(ctx context.Context, org, group string, perm tokenstore.Perm) error {
	body := map[string]string{"perms": perm.String()}
	return c.call(ctx, nil, http.MethodPost, pathf("/group/%s/%s", org, group), http.StatusNoContent, body, nil)
}

// DeleteGroup removes a group (not owners).
func (c *Client) DeleteGroup(ctx context.Context, org, group string) error {
	return c.call(ctx, nil, http.MethodDelete, pathf("/group/%s/%s", org, group), http.StatusNoContent, nil, nil)
}

// SetGroupMember adds (in) or removes a user from a group.
func (c *Client) SetGroupMember(ctx context.Context, org, group, user string, in bool) error {
	return c.call(ctx, nil, putOrDelete(in), pathf("/group/%s/%s/members/%s", org, group, user), http.StatusNoContent, nil, nil)
}

// SetGroupPackage adds (in) or removes a package from a group.
func (c *Client) SetGroupPackage(ctx context.Context, org, group, pkg string, in bool) error {
	return c.call(ctx, nil, putOrDelete(in), pathf("/group/%s/%s/packages/%s", org, group, pkg), http.StatusNoContent, nil, nil)
}

// CreatePackage registers a package in owner's channel.
func (c *Client) CreatePackage(ctx context.Context, owner, name string, req PackageRequest) (*PackageInfo, error) {
	var out PackageInfo
	return &out, c.call(ctx, nil, http.MethodPost, pathf("/package/%s/%s", owner, name), http.StatusOK, req, &out)
}

// Package describes a package.
func (c *Client) Package(ctx context.Context, owner, name string) (*PackageInfo, error) {
	var out PackageInfo
	return &out, c.call(ctx, nil, http.MethodGet, pathf("/package/%s/%s", owner, name), http.StatusOK, nil, &out)
}

// UpdatePackage changes a package's access and summary (unset fields keep
// their value) on every kind it is registered as.
func (c *Client) UpdatePackage(ctx context.Context, owner, name string, req PackageRequest) (*PackageInfo, error) {
	var out PackageInfo
	return &out, c.call(ctx, nil, http.MethodPatch, pathf("/package/%s/%s", owner, name), http.StatusOK, req, &out)
}

// DeletePackage removes a package's registration, every kind.
func (c *Client) DeletePackage(ctx context.Context, owner, name string) error {
	return c.call(ctx, nil, http.MethodDelete, pathf("/package/%s/%s", owner, name), http.StatusCreated, nil, nil)
}

// Packages lists the packages of owner's channel the caller may see.
func (c *Client) Packages(ctx context.Context, owner string) ([]PackageInfo, error) {
	var out []PackageInfo
	return out, c.call(ctx, nil, http.MethodGet, pathf("/packages/%s", owner), http.StatusOK, nil, &out)
}

// SetCollaborator adds (in) or removes a package collaborator.
func (c *Client) SetCollaborator(ctx context.Context, owner, name, user string, in bool) error {
	return c.call(ctx, nil, putOrDelete(in), pathf("/packages/%s/%s/collaborators/%s", owner, name, user), http.StatusCreated, nil, nil)
}

func putOrDelete(in bool) string {
	if in {
		return http.MethodPut
	}
	return http.MethodDelete
}
