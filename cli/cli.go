// Package cli is the `caddy channelgate ...` command line: flag parsing,
// prompts, output, and calls to the API through admin.Client. It imports
// no Caddy, and opens no database except in migrate, the operator's tool
// that copies one store into another; caddymodule only registers it with
// Caddy's command.
package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/channelgate/channelgate/admin"
)

// Usage, Short and Long describe the channelgate command in Caddy's help.
const (
	Usage = "<command> [flags]"
	Short = "Manages channelgate accounts, organizations, packages and tokens"
	Long  = `
Manages channelgate through its API (the channelgate_api directive), like
the anaconda command does for anaconda.org. It never opens the database,
except migrate, which copies one store into another.

The site is --site URL (e.g. http://localhost:8080/api), else
$CHANNELGATE_SITE, else the site of the last login. The login token is kept
in the user's configuration directory (channelgate/config.json, or
$CHANNELGATE_CONFIG); $CHANNELGATE_TOKEN overrides it (the operator secret
or a CI token).`
)

// cli is what every channelgate command shares: its environment, the
// global flags and the standard streams of the command being run.
type cli struct {
	getenv func(string) string
	// httpClient sends the API calls; nil is http.DefaultClient.
	httpClient *http.Client

	site    string // --site
	jsonOut bool   // --json

	cmd   *cobra.Command
	input *bufio.Reader // standard input, once read from
}

// Build adds the channelgate commands and global flags to root.
// getenv reads the environment (os.Getenv; tests pass their own); hc
// sends the API calls (nil: http.DefaultClient).
func Build(root *cobra.Command, getenv func(string) string, hc *http.Client) {
	c := &cli{getenv: getenv, httpClient: hc}
	root.SilenceUsage = true
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	root.PersistentFlags().StringVar(&c.site, "site", "", "API URL, e.g. http://localhost:8080/api (default $CHANNELGATE_SITE, else the last login's)")
	root.PersistentFlags().BoolVar(&c.jsonOut, "json", false, "print JSON instead of tables")
	root.AddCommand(c.loginCommand(), c.logoutCommand(), c.whoamiCommand(), c.authCommand(),
		c.userCommand(), c.orgCommand(), c.groupCommand(), c.packageCommand(), c.migrateCommand())
}

// run adapts a command body to cobra: it remembers the running command
// (for its streams) and turns API errors into their one-line message.
func (c *cli) run(fn func(args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c.cmd = cmd
		c.input = nil
		err := fn(args)
		var apiErr *admin.Error
		switch {
		case !errors.As(err, &apiErr):
			return err
		case apiErr.Message == http.StatusText(apiErr.Status):
			// The API always says why; a bare status is from something
			// else at that URL (the gateway, another server).
			return fmt.Errorf("%s: no channelgate API at the site; give the API's URL, usually the site's address followed by /api (e.g. http://localhost:8080/api)",
				apiErr.Message)
		}
		return errors.New(apiErr.Message)
	}
}

func (c *cli) stdout() io.Writer { return c.cmd.OutOrStdout() }
func (c *cli) stderr() io.Writer { return c.cmd.ErrOrStderr() }

// show prints v as JSON with --json, else calls table.
func (c *cli) show(v any, table func(w *tabwriter.Writer)) error {
	if c.jsonOut {
		enc := json.NewEncoder(c.stdout())
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	w := tabwriter.NewWriter(c.stdout(), 0, 4, 2, ' ', 0)
	table(w)
	return w.Flush()
}

// row writes one tab-separated table row.
func row(w io.Writer, cells ...string) { fmt.Fprintln(w, strings.Join(cells, "\t")) }

// list joins names for a table cell; "-" for none.
func joinList(names []string) string {
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ",")
}

// orNone is s, or "-" for the empty string or nil.
func orNone(s *string) string {
	if s == nil || *s == "" {
		return "-"
	}
	return *s
}

// splitPair splits a "<owner>/<name>" argument; form names it in the
// error ("OWNER/NAME").
// pairClient splits an OWNER/NAME argument and returns the API client:
// the prologue of every command that acts on one group or package.
func (c *cli) pairClient(spec, form string) (owner, name string, api *admin.Client, err error) {
	if owner, name, err = splitPair(spec, form); err != nil {
		return "", "", nil, err
	}
	api, _, err = c.client()
	return owner, name, api, err
}

func splitPair(spec, form string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(spec, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("give %s, not %q", form, spec)
	}
	return owner, name, nil
}
