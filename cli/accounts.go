package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

// userCommand is `user create --login L --email E [--site-admin]`, for
// the operator and site administrators.
func (c *cli) userCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manages users (operator and site administrators)", Args: cobra.NoArgs}
	var req admin.NewUserRequest
	create := &cobra.Command{Use: "create", Short: "Creates a user", Args: cobra.NoArgs}
	create.Flags().StringVar(&req.Login, "login", "", "user name (required)")
	create.Flags().StringVar(&req.Email, "email", "", "e-mail address (required)")
	create.Flags().BoolVar(&req.SiteAdmin, "site-admin", false, "make the user a site administrator (operator only)")
	create.Flags().StringVar(&req.Password, "password", "", "password (default: prompted twice on a terminal, else read from standard input)")
	_ = create.MarkFlagRequired("login")
	_ = create.MarkFlagRequired("email")
	create.RunE = c.run(func([]string) error {
		api, _, err := c.client()
		if err != nil {
			return err
		}
		// What the site would refuse is refused before the password is
		// asked.
		if err := tokenstore.ValidateAccountName(req.Login); err != nil {
			return err
		}
		req.PasswordConfirmation = req.Password
		if req.Password == "" {
			if req.Password, req.PasswordConfirmation, err = c.newPassword(); err != nil {
				return err
			}
		}
		if err := checkPasswordLength(req.Password); err != nil {
			return err
		}
		// The operator or administrator accepts the terms on the user's
		// behalf, as on a self-hosted site there are none to read.
		req.AcceptTerms = true
		u, err := api.CreateUser(create.Context(), req)
		if err != nil {
			return err
		}
		return c.showUser(u)
	})
	var login string
	verify := &cobra.Command{Use: "verify", Short: "Verifies a signed-up user's email address (sites without mail)", Args: cobra.NoArgs}
	verify.Flags().StringVar(&login, "login", "", "user name (required)")
	_ = verify.MarkFlagRequired("login")
	verify.RunE = c.run(func([]string) error {
		api, _, err := c.client()
		if err != nil {
			return err
		}
		if err := api.VerifyUser(verify.Context(), login); err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.stdout(), "%s is verified\n", login)
		return err
	})
	cmd.AddCommand(create, verify)
	return cmd
}

// orgCommand is `org create --login O [--owner U]`.
func (c *cli) orgCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "org", Short: "Manages organizations", Args: cobra.NoArgs}
	var login, owner string
	create := &cobra.Command{Use: "create", Short: "Creates an organization owned by you (or --owner)", Args: cobra.NoArgs}
	create.Flags().StringVar(&login, "login", "", "organization name (required)")
	create.Flags().StringVar(&owner, "owner", "", "user who becomes its first owner (default you; the operator must give one)")
	_ = create.MarkFlagRequired("login")
	create.RunE = c.run(func([]string) error {
		api, _, err := c.client()
		if err != nil {
			return err
		}
		org, err := api.CreateOrg(create.Context(), login, owner)
		if err != nil {
			return err
		}
		return c.showUser(org)
	})
	cmd.AddCommand(create)
	return cmd
}
