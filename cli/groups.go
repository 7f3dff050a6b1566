package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

// groupCommand is `group add|remove|list`.
func (c *cli) groupCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Manages an organization's groups, their members and packages", Args: cobra.NoArgs}

	var perms string
	var members, pkgs []string
	memberFlags := func(cmd *cobra.Command, verb string) {
		cmd.Flags().StringArrayVar(&members, "member", nil, verb+" this user (repeatable)")
		cmd.Flags().StringArrayVar(&pkgs, "package", nil, verb+" this package (repeatable)")
	}

	add := &cobra.Command{Use: "add ORG/GROUP", Short: "Creates a group, or changes it, and adds members and packages", Args: cobra.ExactArgs(1),
		Example: "  channelgate group add acme/devs --perms write --member bob --package acme-tools"}
	add.Flags().StringVar(&perms, "perms", "", "read, write or admin (default read for a new group; unchanged otherwise)")
	memberFlags(add, "add")
	add.RunE = c.run(func(args []string) error {
		org, group, api, err := c.pairClient(args[0], "ORG/GROUP")
		if err != nil {
			return err
		}
		ctx := add.Context()
		if perms != "" || len(members)+len(pkgs) == 0 {
			if perms == "" {
				perms = "read"
			}
			perm, err := tokenstore.ParsePerm(perms)
			if err != nil {
				return err
			}
			if err := api.PutGroup(ctx, org, group, perm); err != nil {
				return err
			}
		}
		if err := setGroupEntries(ctx, api, org, group, members, pkgs, true); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout(), "Updated group %s/%s\n", org, group)
		return nil
	})

	remove := &cobra.Command{Use: "remove ORG/GROUP", Short: "Removes members or packages from a group, or the group itself", Args: cobra.ExactArgs(1),
		Long: "Removes the given members and packages from the group; without --member or --package, removes the group."}
	memberFlags(remove, "remove")
	remove.RunE = c.run(func(args []string) error {
		org, group, api, err := c.pairClient(args[0], "ORG/GROUP")
		if err != nil {
			return err
		}
		ctx := remove.Context()
		if len(members)+len(pkgs) == 0 {
			if err := api.DeleteGroup(ctx, org, group); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout(), "Removed group %s/%s\n", org, group)
			return nil
		}
		if err := setGroupEntries(ctx, api, org, group, members, pkgs, false); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout(), "Updated group %s/%s\n", org, group)
		return nil
	})

	ls := &cobra.Command{Use: "list ORG", Short: "Lists an organization's groups", Args: cobra.ExactArgs(1)}
	ls.RunE = c.run(func(args []string) error {
		api, _, err := c.client()
		if err != nil {
			return err
		}
		groups, err := api.Groups(ls.Context(), args[0])
		if err != nil {
			return err
		}
		return c.show(groups, func(w *tabwriter.Writer) {
			row(w, "GROUP", "PERMS", "MEMBERS", "PACKAGES")
			for _, g := range groups {
				packages := joinList(g.Packages)
				if g.AllPackages {
					packages = "(all)"
				}
				row(w, g.Name, g.Permission, joinList(g.Members), packages)
			}
		})
	})
	cmd.AddCommand(add, remove, ls)
	return cmd
}

// setGroupEntries adds (in) or removes members and packages of a group.
func setGroupEntries(ctx context.Context, api *admin.Client, org, group string, members, pkgs []string, in bool) error {
	for _, u := range members {
		if err := api.SetGroupMember(ctx, org, group, u, in); err != nil {
			return err
		}
	}
	for _, p := range pkgs {
		if err := api.SetGroupPackage(ctx, org, group, p, in); err != nil {
			return err
		}
	}
	return nil
}
