package cli

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

// loginCommand is `login [--username U] [--password P] [--hostname H]`:
// a full-access token named after this host, kept in the configuration
// with the site. Logging in again from the same host replaces it.
func (c *cli) loginCommand() *cobra.Command {
	var user, pass, host string
	cmd := &cobra.Command{Use: "login", Short: "Logs in with a password and keeps the login token", Args: cobra.NoArgs}
	cmd.Flags().StringVar(&user, "username", "", "user name (prompted on a terminal)")
	cmd.Flags().StringVar(&pass, "password", "", "password (default: prompted on a terminal, else read from standard input)")
	cmd.Flags().StringVar(&host, "hostname", "", "this machine's name, which names the login token (default the host name)")
	cmd.RunE = c.run(func([]string) error {
		api, cfg, err := c.client()
		if err != nil {
			return err
		}
		if user == "" {
			if user, err = c.ask("Username: ", "--username"); err != nil {
				return err
			}
		}
		if err := tokenstore.ValidateAccountName(user); err != nil {
			return err
		}
		if pass == "" {
			if pass, err = c.password("Password: "); err != nil {
				return err
			}
		}
		if host == "" {
			if host, err = os.Hostname(); err != nil || host == "" {
				host = "unknown-host"
			}
		}
		tok, err := api.CreateTokenWithPassword(cmd.Context(), user, pass,
			admin.TokenRequest{Note: "channelgate-login:" + host, Hostname: host})
		if err != nil {
			return err
		}
		cfg.Site, cfg.Username, cfg.Token = api.BaseURL, user, tok.Token
		if err := c.saveConfig(cfg); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout(), "Logged in as %s at %s\n", user, api.BaseURL)
		return nil
	})
	return cmd
}

// logoutCommand is `logout`: revokes the login token and forgets it.
func (c *cli) logoutCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "logout", Short: "Revokes and forgets the login token", Args: cobra.NoArgs}
	cmd.RunE = c.run(func([]string) error {
		api, cfg, err := c.client()
		if err != nil {
			return err
		}
		api.Token = storedToken(cfg, api.BaseURL) // never $CHANNELGATE_TOKEN
		if api.Token == "" {
			return fmt.Errorf("not logged in at %s", api.BaseURL)
		}
		// A token the site no longer accepts is forgotten all the same.
		var apiErr *admin.Error
		if err := api.Logout(cmd.Context()); err != nil && !(errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized) {
			return err
		}
		cfg.Token = ""
		if err := c.saveConfig(cfg); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout(), "Logged out of %s\n", api.BaseURL)
		return nil
	})
	return cmd
}

// whoamiCommand is `whoami`: the account the token acts for, or
// "Anonymous User" (JSON null) without a valid one.
func (c *cli) whoamiCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "whoami", Short: "Shows the account the token acts for", Args: cobra.NoArgs}
	cmd.RunE = c.run(func([]string) error {
		api, _, err := c.client()
		if err != nil {
			return err
		}
		me, err := api.Whoami(cmd.Context())
		var apiErr *admin.Error
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
			fmt.Fprintln(c.stderr(), apiErr.Message)
			return c.show(nil, func(w *tabwriter.Writer) { row(w, "Anonymous User") })
		}
		if err != nil {
			return err
		}
		return c.showUser(me)
	})
	return cmd
}

// showUser prints an account.
func (c *cli) showUser(u *admin.UserInfo) error {
	return c.show(u, func(w *tabwriter.Writer) {
		row(w, "login", u.Login)
		row(w, "type", u.UserType)
		if u.Email != "" {
			row(w, "email", u.Email)
		}
		if u.SiteAdmin {
			row(w, "site admin", "yes")
		}
		row(w, "created", orNone(&u.CreatedAt))
	})
}
