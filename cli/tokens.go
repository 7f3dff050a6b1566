package cli

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

// authFlags are the flags of `auth`, as anaconda-client spells them.
type authFlags struct {
	create, list, info, listScopes bool
	remove                         []string
	name, org, out, strength       string
	username, password             string
	scopes                         []string
	maxAge                         int64
}

// authCommand is `auth`: create, list, describe and revoke tokens.
func (c *cli) authCommand() *cobra.Command {
	var f authFlags
	cmd := &cobra.Command{Use: "auth", Short: "Creates, lists and revokes tokens", Args: cobra.NoArgs,
		Example: `  channelgate auth --create --name ci --org acme --scopes 'conda:download pypi:download' --max-age 2592000
  channelgate auth --list --org acme
  channelgate auth -r ci --org acme`}
	fl := cmd.Flags()
	fl.BoolVarP(&f.create, "create", "c", false, "create a token (needs your password); prints it alone on standard output")
	fl.BoolVarP(&f.list, "list", "l", false, "list your tokens, or the organization's with --org")
	fl.BoolVarP(&f.info, "info", "i", false, "describe the token in use")
	fl.BoolVarP(&f.listScopes, "list-scopes", "x", false, "list the scopes a token may hold")
	fl.StringArrayVarP(&f.remove, "remove", "r", nil, "revoke the token called NAME (repeatable)")
	fl.StringVarP(&f.name, "name", "n", "", "name of the new token, unique per account")
	fl.StringArrayVarP(&f.scopes, "scopes", "s", nil, "scopes of the new token, separated by spaces (default all)")
	fl.StringVarP(&f.org, "org", "o", "", "organization the token is for (default your own account)")
	fl.Int64Var(&f.maxAge, "max-age", 0, "lifetime of the new token in seconds (default the site's maximum, one year)")
	fl.StringVar(&f.strength, "strength", "strong", "strong or weak (shorter) token")
	fl.StringVar(&f.out, "out", "", "write the new token to this file (mode 0600) instead of standard output")
	fl.StringVar(&f.username, "username", "", "user whose password creates the token (default the logged-in user)")
	fl.StringVar(&f.password, "password", "", "password (default: prompted on a terminal, else read from standard input)")
	cmd.MarkFlagsOneRequired("create", "list", "info", "list-scopes", "remove")
	cmd.MarkFlagsMutuallyExclusive("create", "list", "info", "list-scopes", "remove")
	cmd.RunE = c.run(func([]string) error {
		api, cfg, err := c.client()
		if err != nil {
			return err
		}
		switch {
		case f.create:
			return c.createToken(cmd, api, cfg, &f)
		case f.list:
			toks, err := api.Tokens(cmd.Context(), f.org)
			if err != nil {
				return err
			}
			return c.show(toks, func(w *tabwriter.Writer) {
				row(w, "NAME", "ID", "OWNER", "SCOPES", "CREATED", "EXPIRES", "LAST USED")
				for _, t := range toks {
					row(w, t.Application, t.ID, t.Owner, joinList(t.Scopes), t.CreatedAt, orNone(t.Expires), orNone(t.LastUsed))
				}
			})
		case f.info:
			t, err := api.TokenInfo(cmd.Context())
			if err != nil {
				return err
			}
			return c.show(t, func(w *tabwriter.Writer) {
				row(w, "name", t.Application)
				row(w, "id", t.ID)
				row(w, "owner", t.Owner)
				row(w, "scopes", joinList(t.Scopes))
				row(w, "created", t.CreatedAt)
				row(w, "expires", orNone(t.Expires))
			})
		case f.listScopes:
			scopes, err := api.Scopes(cmd.Context())
			if err != nil {
				return err
			}
			return c.show(scopes, func(w *tabwriter.Writer) {
				names := make([]string, 0, len(scopes))
				for s := range scopes {
					names = append(names, s)
				}
				slices.Sort(names)
				for _, s := range names {
					row(w, s, scopes[s])
				}
			})
		}
		for _, name := range f.remove {
			if err := api.RevokeToken(cmd.Context(), f.org, name); err != nil {
				return suggestOrg(err, f.org)
			}
			fmt.Fprintf(c.stdout(), "Revoked token %s\n", name)
		}
		return nil
	})
	return cmd
}

// createToken is `auth --create`. Like anaconda-client it authenticates
// with the user's password, not with the login token; the operator secret
// (in $CHANNELGATE_TOKEN) creates tokens for --org without a password.
func (c *cli) createToken(cmd *cobra.Command, api *admin.Client, cfg *cliConfig, f *authFlags) error {
	if f.name == "" {
		return errors.New("--name is required with --create")
	}
	var scopes admin.Scopes
	for _, s := range f.scopes {
		scopes = append(scopes, strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })...)
	}
	// What the site would refuse is refused before the password is asked.
	if err := checkTokenRequest(f, scopes); err != nil {
		return err
	}
	req := admin.TokenRequest{Note: f.name, Scopes: scopes, User: f.org, MaxAge: f.maxAge, Strength: f.strength, FailIfExists: true}
	if host, err := os.Hostname(); err == nil {
		req.Hostname = host
	}
	user, operator := f.username, false
	if user == "" && api.Token != "" {
		me, err := api.Whoami(cmd.Context())
		if err != nil {
			return err
		}
		switch me.UserType {
		case "operator":
			operator = true
		case "org":
			return errors.New("an organization's token cannot create tokens: log in as a user (or give --username)")
		default:
			user = me.Login
		}
	}
	if user == "" && !operator {
		user = cfg.Username
	}
	if user == "" && !operator {
		return errors.New("not logged in: run channelgate login, or give --username")
	}
	var (
		tok *admin.NewToken
		err error
	)
	if operator {
		tok, err = api.CreateToken(cmd.Context(), req)
	} else {
		pass := f.password
		if pass == "" {
			if pass, err = c.password("Password for " + user + ": "); err != nil {
				return err
			}
		}
		tok, err = api.CreateTokenWithPassword(cmd.Context(), user, pass, req)
	}
	if err != nil {
		return err
	}
	if tok.Warning != "" {
		fmt.Fprintln(c.stderr(), "warning:", tok.Warning)
	}
	if f.out == "" {
		_, err := fmt.Fprintln(c.stdout(), tok.Token)
		return err
	}
	if err := writeSecretFile(f.out, tok.Token); err != nil {
		return fmt.Errorf("token %s was created but not written (revoke it with auth -r %s): %w", f.name, f.name, err)
	}
	abs, err := filepath.Abs(f.out)
	if err != nil {
		abs = f.out
	}
	fmt.Fprintf(c.stderr(), "Wrote token %s to %s (mode 0600)\n", f.name, abs)
	return nil
}

// checkTokenRequest checks locally what the site checks too: the name,
// the scopes, the strength, the lifetime, and that --out names no
// existing file.
func checkTokenRequest(f *authFlags, scopes []string) error {
	if err := tokenstore.ValidateTokenName(f.name); err != nil {
		return err
	}
	if len(scopes) > 0 {
		if _, _, err := tokenstore.ParseScopes(scopes); err != nil {
			return err
		}
	}
	if _, err := tokenstore.ParseStrength(f.strength); err != nil {
		return err
	}
	if f.maxAge < 0 {
		return errors.New("--max-age must be a number of seconds, 0 for the site's maximum")
	}
	if f.out != "" {
		if _, err := os.Lstat(f.out); err == nil {
			return fmt.Errorf("%s already exists: give --out a new file (it is never overwritten)", f.out)
		}
	}
	return nil
}

// writeSecretFile writes a secret to a new file readable by its owner
// only; it never replaces an existing file.
func writeSecretFile(path, secret string) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(fh, secret); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// suggestOrg adds a hint to a revocation that found no token of yours:
// an organization's tokens need --org.
func suggestOrg(err error, org string) error {
	var apiErr *admin.Error
	if org == "" && errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return fmt.Errorf("%s; an organization's token needs --org ORG", apiErr.Message)
	}
	return err
}
