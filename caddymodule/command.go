package caddymodule

import (
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/channelgate/channelgate/cli"
)

// init registers `caddy channelgate ...`, the command line of package cli.
func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:      "channelgate",
		Usage:     cli.Usage,
		Short:     cli.Short,
		Long:      cli.Long,
		CobraFunc: func(cmd *cobra.Command) { cli.Build(cmd, os.Getenv, nil) },
	})
}
