package main

import (
	"fmt"

	"github.com/cairnkv/cairn/internal/docmodel"
	"github.com/cairnkv/cairn/kv"

	"github.com/spf13/cobra"
)

func newDeleteCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "delete COLLECTION ID...",
		Example: `  kvtool delete notes n1
  kvtool --json delete tasks t1 t2 t3`,
		Short: "Delete documents",
		Long: `delete removes the named documents atomically. An id that does not exist is
not an error; "deleted" counts the documents that existed.`,
		Args: argsRange(2, -1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			coll := args[0]
			c, err := kv.LookupCollection(coll)
			if err != nil {
				return err
			}
			ids := args[1:]
			for _, id := range ids {
				if c.Kind == kv.KindSingleton {
					if id != coll {
						return usagef("%s is a singleton: delete it with its own name as ID", coll)
					}
				} else if err := docmodel.CheckID(id); err != nil {
					return fmt.Errorf("delete %s %q: %w", coll, id, err)
				}
			}
			db, err := g.openExisting()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			n, err := db.Delete(cmd.Context(), coll, ids...)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), map[string]int{"deleted": n})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %d of %d\n", n, len(ids))
			return nil
		},
	}
}
