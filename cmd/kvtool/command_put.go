package main

import (
	"fmt"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

func init() { register(newPutCommand) }

type putResult struct {
	ID  string `json:"id"`
	Rev uint64 `json:"rev"`
}

func newPutCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "put COLLECTION [FILE|-]",
		Short: "Create or replace one document or an array of documents",
		Long: `put reads one JSON object, or an array of objects, from FILE or stdin and
stores them in COLLECTION atomically: all of them or none. Each document
needs a string "id" of 1 to 256 bytes; a singleton collection (settings,
aiSettings, preferences) takes one object without id. Fields Cairn does not
know are kept exactly as given.

Errors name the element, line and byte offset; nothing is written then.`,
		Example: `  kvtool put notes note.json
  echo '{"id":"n1","content":"hello"}' | kvtool put notes -`,
		Args: argsRange(1, 2),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			coll := args[0]
			c, err := buckets.Lookup(coll)
			if err != nil {
				return err
			}
			path := ""
			if len(args) > 1 {
				path = args[1]
			}
			data, name, err := readInput(g, path)
			if err != nil {
				return err
			}
			docs, single, err := kv.ParseDocuments(data)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if c.Kind == buckets.KindSingleton && (!single || len(docs) != 1) {
				return fmt.Errorf("%s: %s is a singleton: give one JSON object, not an array", name, coll)
			}
			// Validate every document before opening the store.
			for i, d := range docs {
				if err := kv.Validate(coll, d); err != nil {
					if single {
						return fmt.Errorf("%s: %w", name, err)
					}
					return fmt.Errorf("%s: element %d: %w", name, i, err)
				}
			}
			db, err := g.openRW()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			results := make([]putResult, 0, len(docs))
			err = db.Update(func(tx *kv.Tx) error {
				results = results[:0]
				for i, d := range docs {
					rev, err := tx.Put(coll, d)
					if err != nil {
						if single {
							return err
						}
						return fmt.Errorf("element %d: %w", i, err)
					}
					id, _ := d.(map[string]any)["id"].(string)
					if c.Kind == buckets.KindSingleton {
						id = coll
					}
					results = append(results, putResult{ID: id, Rev: rev})
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), results)
			}
			for _, r := range results {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s rev %d\n", coll, r.ID, r.Rev)
			}
			return nil
		},
	}
}
