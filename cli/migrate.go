package cli

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/channelgate/channelgate/tokenstore"
	"github.com/channelgate/channelgate/tokenstore/etcdstore"
)

// migrateFlags are migrate's options: the two stores and how to reach
// etcd.
type migrateFlags struct {
	from, to, prefix    string
	cert, key, ca, user string
	batch, sample       int
	requestTimeout      time.Duration
}

// migrateCommand is `migrate`: an operator tool that opens two stores
// directly (the only command that does) and copies one into the other.
func (c *cli) migrateCommand() *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:   "migrate --from STORE --to STORE",
		Short: "Copies a store into an empty one (bbolt to etcd and back) and verifies the copy",
		Long: `Copies every record of one store into another, which must be empty, then
compares the number of records and the sequence of every bucket and a
sample of records byte for byte. STORE is bbolt:PATH or etcd:URL[,URL...].
Stop the gateways that use the source first: it is read as it is, and a
bbolt file is locked by the Caddy that has it open. The etcd password is
read from $CHANNELGATE_ETCD_PASSWORD, never from a flag.`,
		Args: cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "source store: bbolt:PATH or etcd:URL[,URL...]")
	fl.StringVar(&f.to, "to", "", "destination store, empty: bbolt:PATH or etcd:URL[,URL...]")
	fl.StringVar(&f.prefix, "prefix", etcdstore.DefaultPrefix, "etcd key prefix")
	fl.StringVar(&f.cert, "etcd-cert", "", "etcd client certificate (PEM)")
	fl.StringVar(&f.key, "etcd-key", "", "etcd client key (PEM)")
	fl.StringVar(&f.ca, "etcd-ca", "", "CA of the etcd members (PEM)")
	fl.StringVar(&f.user, "etcd-user", "", "etcd user name")
	fl.IntVar(&f.batch, "batch", tokenstore.DefaultCopyBatch, "records per destination transaction (etcd allows --max-txn-ops)")
	fl.IntVar(&f.sample, "sample", tokenstore.DefaultCopySample, "records per bucket compared byte for byte")
	fl.DurationVar(&f.requestTimeout, "timeout", etcdstore.DefaultRequestTimeout, "bound of every etcd call")
	cmd.RunE = c.run(func([]string) error { return c.migrate(f) })
	return cmd
}

func (c *cli) migrate(f migrateFlags) error {
	if f.from == "" || f.to == "" {
		return errors.New("give --from and --to")
	}
	src, err := c.openStore(f, f.from)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	dst, err := c.openStore(f, f.to)
	if err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	defer dst.Close()
	start := time.Now()
	const every = 100_000 // records between progress lines
	next := every
	r, err := tokenstore.Copy(dst, src, tokenstore.CopyOptions{Batch: f.batch, Sample: f.sample,
		Progress: func(n int) {
			if n >= next {
				fmt.Fprintf(c.stderr(), "%d records copied\n", n)
				next = n + every
			}
		}})
	if err != nil {
		return err
	}
	return c.show(r, func(w *tabwriter.Writer) {
		row(w, "BUCKET", "SOURCE", "DESTINATION")
		for _, b := range tokenstore.Buckets() {
			row(w, b, fmt.Sprint(r.Source[b]), fmt.Sprint(r.Destination[b]))
		}
		fmt.Fprintf(w, "copied and verified in %s (%d records compared)\n", time.Since(start).Round(time.Millisecond), r.Sampled)
	})
}

// openStore opens bbolt:PATH or etcd:URL[,URL...].
func (c *cli) openStore(f migrateFlags, spec string) (tokenstore.Backend, error) {
	kind, where, _ := strings.Cut(spec, ":")
	switch {
	case where == "":
	case kind == "bbolt":
		return tokenstore.OpenBolt(where, time.Second)
	case kind == "etcd":
		tlsConfig, err := etcdstore.LoadTLS(f.cert, f.key, f.ca)
		if err != nil {
			return nil, err
		}
		return etcdstore.Open(etcdstore.Config{Endpoints: strings.Split(where, ","), Prefix: f.prefix,
			TLS: tlsConfig, Username: f.user, Password: c.getenv("CHANNELGATE_ETCD_PASSWORD"),
			RequestTimeout: f.requestTimeout, DialTimeout: f.requestTimeout})
	}
	return nil, fmt.Errorf("give bbolt:PATH or etcd:URL[,URL...], not %q", spec)
}
