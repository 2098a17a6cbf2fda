package main

import (
	"fmt"
	"io"

	"github.com/cairnkv/cairn/internal/docmodel"
	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

func newPatchCommand(g *globals) *cobra.Command {
	var rev uint64
	cmd := &cobra.Command{
		Use:   "patch COLLECTION ID [FILE|-] [--rev R]",
		Short: "Apply a JSON merge patch (RFC 7396) to a document",
		Long: `patch applies a JSON merge patch (RFC 7396) to the stored document,
atomically, against its current version: fields the patch does not name
keep their stored values. A null removes a field. With --rev the patch
fails with a conflict unless the stored revision is R (--rev 0: unless
nothing is stored, and then the patch creates the document from nothing:
create once). Without --rev, a document that is not stored is not found
(exit 1), except a singleton, which the patch creates from nothing. A singleton
(settings, aiSettings, preferences) takes no ID: kvtool patch settings
p.json; its own name as ID is accepted too (kvtool patch settings
settings p.json).`,
		Example: `  echo '{"status":"completed"}' | kvtool patch sessions s1 -
  kvtool patch tasks t1 change.json --rev 42
  kvtool patch settings change.json`,
		Args: argsRange(1, 3),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			coll := args[0]
			c, err := writableCollection(coll)
			if err != nil {
				return err
			}
			var id, path string
			if c.Kind == kv.KindSingleton {
				rest := args[1:]
				if len(rest) > 0 && rest[0] == coll {
					rest = rest[1:] // the name as ID
				}
				if len(rest) > 1 {
					return usagef("%s is a singleton: kvtool patch %s [FILE|-], without an ID", coll, coll)
				}
				id = coll
				if len(rest) > 0 {
					path = rest[0]
				}
			} else {
				if len(args) < 2 {
					return usagef("%s takes 2 to 3 arguments, got %d: COLLECTION ID [FILE|-]", cmd.CommandPath(), len(args))
				}
				id = args[1]
				if err := docmodel.CheckID(id); err != nil {
					return fmt.Errorf("patch %s %q: %w", coll, shortID(id), err)
				}
				if len(args) > 2 {
					path = args[2]
				}
			}
			in, err := openInput(g, path)
			if err != nil {
				return err
			}
			defer in.Close()
			in.once = true // read once: stdin needs no copy
			var patch any
			_, err = in.each(func(r io.Reader) (err error) {
				patch, err = kv.ReadJSON(r, maxDocument)
				return err
			})
			if err != nil {
				return fmt.Errorf("%s: %w", in.name, err)
			}
			if _, ok := patch.(map[string]any); !ok {
				return fmt.Errorf("%s: a merge patch must be a JSON object", in.name)
			}
			db, err := g.openExisting()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			var opts []kv.Option
			if cmd.Flags().Changed("rev") {
				opts = append(opts, kv.IfRev(rev))
			}
			newRev, err := db.Patch(cmd.Context(), coll, id, patch, opts...)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), putResult{ID: id, Rev: newRev})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s rev %d\n", coll, terminalSafe(id), newRev)
			return nil
		},
	}
	cmd.Flags().Uint64Var(&rev, "rev", 0, "fail with a conflict unless the stored revision is this")
	return cmd
}
