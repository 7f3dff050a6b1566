package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/channelgate/channelgate/admin"
)

// packageFlags are the flags of `package add` and `package update`.
type packageFlags struct {
	public, private bool
	summary         string
	types           []string
	collaborators   []string
}

// request is the API body for the flags given (nil pointers: unset).
func (f *packageFlags) request(cmd *cobra.Command) admin.PackageRequest {
	req := admin.PackageRequest{PackageTypes: f.types}
	if f.public || f.private {
		req.Public = &f.public
	}
	if cmd.Flags().Changed("summary") {
		req.Summary = &f.summary
	}
	return req
}

func (f *packageFlags) register(cmd *cobra.Command, collabVerb string) {
	cmd.Flags().BoolVar(&f.public, "public", false, "anyone may download it")
	cmd.Flags().BoolVar(&f.private, "private", false, "only those granted access may download it")
	cmd.MarkFlagsMutuallyExclusive("public", "private")
	cmd.Flags().StringVar(&f.summary, "summary", "", "one-line description")
	cmd.Flags().StringArrayVar(&f.collaborators, "collaborator", nil, collabVerb+" this user as a collaborator, who may download and upload it (repeatable)")
}

// packageCommand is `package add|update|remove|list`.
func (c *cli) packageCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "package", Short: "Registers packages, their access and collaborators", Args: cobra.NoArgs}
	var f packageFlags

	add := &cobra.Command{Use: "add OWNER/NAME", Short: "Registers a package", Args: cobra.ExactArgs(1),
		Example: "  channelgate package add acme/acme-tools --type conda --type pypi --private --collaborator bob"}
	f.register(add, "add")
	add.Flags().StringArrayVar(&f.types, "type", nil, "conda or pypi (repeatable; default conda)")
	add.RunE = c.run(func(args []string) error {
		return c.editPackage(add, args[0], &f, func(api *admin.Client, owner, name string) error {
			_, err := api.CreatePackage(add.Context(), owner, name, f.request(add))
			return err
		})
	})

	update := &cobra.Command{Use: "update OWNER/NAME", Short: "Changes a package's access or summary and adds collaborators", Args: cobra.ExactArgs(1)}
	f.register(update, "add")
	update.RunE = c.run(func(args []string) error {
		req := f.request(update)
		if req.Public == nil && req.Summary == nil && len(f.collaborators) == 0 {
			return errors.New("nothing to change: give --public, --private, --summary or --collaborator")
		}
		return c.editPackage(update, args[0], &f, func(api *admin.Client, owner, name string) error {
			if req.Public == nil && req.Summary == nil {
				return nil // collaborators only
			}
			_, err := api.UpdatePackage(update.Context(), owner, name, req)
			return err
		})
	})

	var drop []string
	remove := &cobra.Command{Use: "remove OWNER/NAME", Short: "Removes collaborators from a package, or the package's registration", Args: cobra.ExactArgs(1),
		Long: "Removes the given collaborators; without --collaborator, removes the package's registration (its files then follow the channel's default access)."}
	remove.Flags().StringArrayVar(&drop, "collaborator", nil, "remove this collaborator (repeatable)")
	remove.RunE = c.run(func(args []string) error {
		owner, name, api, err := c.pairClient(args[0], "OWNER/NAME")
		if err != nil {
			return err
		}
		for _, u := range drop {
			if err := api.SetCollaborator(remove.Context(), owner, name, u, false); err != nil {
				return err
			}
		}
		if len(drop) == 0 {
			if err := api.DeletePackage(remove.Context(), owner, name); err != nil {
				return err
			}
		}
		fmt.Fprintf(c.stdout(), "Updated package %s/%s\n", owner, name)
		return nil
	})

	ls := &cobra.Command{Use: "list OWNER", Short: "Lists the packages of a channel you may see", Args: cobra.ExactArgs(1)}
	ls.RunE = c.run(func(args []string) error {
		api, _, err := c.client()
		if err != nil {
			return err
		}
		pkgs, err := api.Packages(ls.Context(), args[0])
		if err != nil {
			return err
		}
		return c.show(pkgs, func(w *tabwriter.Writer) {
			row(w, "PACKAGE", "TYPES", "ACCESS", "COLLABORATORS", "SUMMARY")
			for _, p := range pkgs {
				row(w, p.FullName, joinList(p.PackageTypes), access(p.Public), joinList(p.Collaborators), orNone(&p.Summary))
			}
		})
	})
	cmd.AddCommand(add, update, remove, ls)
	return cmd
}

// editPackage runs change, adds the collaborators of f and shows the
// package.
func (c *cli) editPackage(cmd *cobra.Command, spec string, f *packageFlags, change func(api *admin.Client, owner, name string) error) error {
	owner, name, err := splitPair(spec, "OWNER/NAME")
	if err != nil {
		return err
	}
	api, _, err := c.client()
	if err != nil {
		return err
	}
	if err := change(api, owner, name); err != nil {
		return err
	}
	for _, u := range f.collaborators {
		if err := api.SetCollaborator(cmd.Context(), owner, name, u, true); err != nil {
			return err
		}
	}
	p, err := api.Package(cmd.Context(), owner, name)
	if err != nil {
		return err
	}
	return c.show(p, func(w *tabwriter.Writer) {
		row(w, "package", p.FullName)
		row(w, "types", joinList(p.PackageTypes))
		row(w, "access", access(p.Public))
		row(w, "collaborators", joinList(p.Collaborators))
		row(w, "summary", orNone(&p.Summary))
	})
}

func access(public bool) string {
	if public {
		return "public"
	}
	return "private"
}
