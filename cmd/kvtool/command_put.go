package main

import (
	"fmt"
	"io"

	"github.com/cairnkv/cairn/internal/docmodel"
	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

type putResult struct {
	ID  string `json:"id"`
	Rev uint64 `json:"rev"`
}

func newPutCommand(g *globals) *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "put COLLECTION [FILE|-] [--id KEY]",
		Short: "Create or replace one document or an array of documents",
		Long: `put reads one JSON object, or an array of objects, from FILE or stdin and
stores them in COLLECTION atomically: all of them or none. Each document
needs a string "id" of 1 to 256 bytes, once per put; a singleton collection
(settings, aiSettings, preferences) takes one object without id. Fields
Cairn does not know are kept exactly as given, and numbers keep their value
however many digits they have. extras takes any one JSON value under the
key given with --id (kvtool put extras --id capture-review-jobs v.json).

Input is kept exactly or refused: invalid UTF-8, an escaped lone surrogate
("\ud800") or a member name given twice is an error naming the line, byte
offset and JSON path, and so is a document over 64 MiB (refused as it is
read) or an input over 256 MiB. Nothing is written then. A UTF-8 byte
order mark at the start of the input is skipped.

The input is read twice, one document at a time: once to check all of it
before the store is opened, once to write it (stdin, a FIFO, /dev/stdin or
a shell's <(...) is copied to a temporary file for that).`,
		Example: `  kvtool put notes note.json
  echo '{"id":"n1","content":"hello"}' | kvtool put notes -
  echo '[1,2]' | kvtool put extras --id some-key -`,
		Args: argsRange(1, 2),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			coll := args[0]
			c, err := writableCollection(coll)
			if err != nil {
				return err
			}
			if (c.Kind == kv.KindExtras) != cmd.Flags().Changed("id") {
				return usagef("--id KEY is the key of an extras value, and extras needs it: kvtool put extras --id KEY [FILE|-]")
			}
			path := ""
			if len(args) > 1 {
				path = args[1]
			}
			in, err := openInput(g, path)
			if err != nil {
				return err
			}
			defer in.Close()
			if c.Kind == kv.KindExtras {
				return putExtra(cmd, g, in, key)
			}
			// Check every document before opening the store.
			ids := map[string]int{}
			n := 0
			sum, err := in.each(func(r io.Reader) error {
				return eachPut(r, func(dr *kv.DocumentReader, doc any) error {
					if c.Kind == kv.KindSingleton && !dr.Single() {
						return fmt.Errorf("%s is a singleton: give one JSON object, not an array", coll)
					}
					if err := kv.Validate(coll, doc); err != nil {
						return fmt.Errorf("%s: %w", where(dr), err)
					}
					if c.Kind != kv.KindSingleton {
						id := doc.(map[string]any)["id"].(string)
						if first, dup := ids[id]; dup {
							return dr.Errorf("the id %q appears twice (first at element %d); a put stores each id once", id, first)
						}
						ids[id] = dr.Index()
					}
					n++
					return nil
				})
			})
			if err != nil {
				return fmt.Errorf("%s: %w", in.name, err)
			}
			if c.Kind == kv.KindSingleton && n != 1 {
				return fmt.Errorf("%s: %s is a singleton: give one JSON object, not an array", in.name, coll)
			}
			db, err := g.openRW()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			results := make([]putResult, 0, n)
			err = db.Update(cmd.Context(), func(tx *kv.Tx) error {
				results = results[:0]
				again, err := in.each(func(r io.Reader) error {
					return eachPut(r, func(dr *kv.DocumentReader, d any) error {
						rev, err := tx.Put(coll, d)
						if err != nil {
							return fmt.Errorf("%s: %w", where(dr), err)
						}
						id, _ := d.(map[string]any)["id"].(string)
						if c.Kind == kv.KindSingleton {
							id = coll
						}
						results = append(results, putResult{ID: id, Rev: rev})
						return nil
					})
				})
				if err == nil && again != sum {
					err = fmt.Errorf("the input changed while it was being read; nothing was written")
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("%s: %w", in.name, err)
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), results)
			}
			for _, r := range results {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s rev %d\n", coll, terminalSafe(r.ID), r.Rev)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "id", "", "the key of an extras value (extras only)")
	return cmd
}

// putExtra stores the one JSON value of in under key in extras.
func putExtra(cmd *cobra.Command, g *globals, in *input, key string) (err error) {
	if err := docmodel.CheckID(key); err != nil {
		return fmt.Errorf("put extras %q: %w", shortID(key), err)
	}
	in.once = true // one value, read once: a stream needs no copy
	var v any
	if _, err := in.each(func(r io.Reader) (err error) {
		v, err = kv.ReadJSON(r, maxDocument)
		return err
	}); err != nil {
		return fmt.Errorf("%s: %w", in.name, err)
	}
	db, err := g.openRW()
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	var rev uint64
	if err := db.Update(cmd.Context(), func(tx *kv.Tx) (err error) {
		rev, err = tx.PutValue("extras", key, v)
		return err
	}); err != nil {
		return fmt.Errorf("%s: %w", in.name, err)
	}
	if g.json {
		return printJSON(cmd.OutOrStdout(), []putResult{{ID: key, Rev: rev}})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "extras %s rev %d\n", terminalSafe(key), rev)
	return nil
}

// where names the document dr returned last: its element, if the input
// is an array, and where it starts.
func where(dr *kv.DocumentReader) string {
	off, line, col := dr.Start()
	if dr.Single() {
		return fmt.Sprintf("the document at line %d, column %d (byte %d)", line, col, off)
	}
	return fmt.Sprintf("element %d at line %d, column %d (byte %d)", dr.Index(), line, col, off)
}

// eachPut hands every document of a put's input to fn, one at a time.
func eachPut(r io.Reader, fn func(dr *kv.DocumentReader, doc any) error) error {
	dr := kv.NewDocumentReader(r, maxDocument)
	for {
		doc, err := dr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(dr, doc); err != nil {
			return err
		}
	}
}
