package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newBucketsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "buckets",
		Example: `  kvtool buckets
  kvtool --json buckets`,
		Short: "List the store's buckets with key counts and sizes",
		Long: `buckets lists every bbolt bucket of the store: c/<collection> (documents),
m/<collection> (listing summaries), p/<collection> (document parts),
x/<collection>/<index> (secondary indexes), log (change log), refs (blob
reference counts) and sys (format version, index fingerprints), with the
number of keys, the bytes of keys and values (DATA), the bytes of the
pages they fill (USED: data plus page and element headers) and the bytes
of the pages the bucket takes in the file, overflow pages included
(PAGES: what it costs on disk; PAGES - USED is the slack of partly filled
pages; 0 for a small bucket bbolt keeps inside its parent's page). --json: [{"name","keys","data_bytes","bytes" (USED),"page_bytes"}].`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			db, err := g.openRO()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			infos, err := db.Buckets(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				if infos == nil {
					return printJSON(cmd.OutOrStdout(), []any{})
				}
				return printJSON(cmd.OutOrStdout(), infos)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "BUCKET\tKEYS\tDATA\tUSED\tPAGES")
			for _, b := range infos {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", b.Name, b.Keys, humanBytes(int64(b.DataBytes)), humanBytes(int64(b.Bytes)), humanBytes(int64(b.PageBytes)))
			}
			return w.Flush()
		},
	}
}
