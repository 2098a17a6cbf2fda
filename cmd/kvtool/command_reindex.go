package main

import (
	"errors"
	"fmt"

	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

func newReindexCommand(g *globals) *cobra.Command {
	var searchIx, secondaryIx bool
	cmd := &cobra.Command{
		Use: "reindex [--search] [--secondary]",
		Example: `  kvtool reindex
  kvtool reindex --search`,
		Short: "Rebuild derived data from the primary data",
		Long: `reindex rebuilds derived data from the documents: --secondary the metadata
summaries and secondary indexes (after a verified backup), --search the
full-text index. With neither flag it rebuilds both.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if !searchIx && !secondaryIx {
				searchIx, secondaryIx = true, true
			}
			db, err := g.openExisting()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			n := 0
			if secondaryIx {
				k, err := db.ReindexSecondary(cmd.Context())
				if err != nil {
					return err
				}
				n += k
			}
			// Damaged documents left out of the search index: the rest
			// is indexed and reported, then the damage (exit 3).
			var damaged error
			if searchIx {
				k, err := db.ReindexSearch(cmd.Context())
				if err != nil && !errors.Is(err, kv.ErrCorrupt) {
					return err
				}
				damaged = err
				if !secondaryIx {
					n = k
				}
			}
			if g.json {
				if err := printJSON(cmd.OutOrStdout(), map[string]int{"indexed": n}); err != nil {
					return err
				}
				return damaged
			}
			fmt.Fprintf(cmd.OutOrStdout(), "reindexed %d documents\n", n)
			return damaged
		},
	}
	cmd.Flags().BoolVar(&searchIx, "search", false, "rebuild the full-text index")
	cmd.Flags().BoolVar(&secondaryIx, "secondary", false, "rebuild metadata and secondary indexes")
	return cmd
}
