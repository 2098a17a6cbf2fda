package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

func newLsCommand(g *globals) *cobra.Command {
	var limit, offset int
	cmd := &cobra.Command{
		Use: "ls COLLECTION [--limit N] [--offset N]",
		Example: `  kvtool ls sessions
  kvtool ls notes --limit 20 --offset 40`,
		Short: "List metadata summaries without decoding whole documents",
		Long: `ls lists the metadata summary of every document of COLLECTION in id order
(sessions: name, status, start and end, tags, screenshot and audio counts;
notes: title, timestamp, tags; tasks: title, status, priority, due date;
others: name, lastUpdated), with each document's revision and size. It reads
the metadata bucket only, never whole documents.`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			coll := args[0]
			c, err := kv.LookupCollection(coll)
			if err != nil {
				return err
			}
			if c.Kind == kv.KindSingleton {
				// One document, with no summary to list.
				return usagef("%s is a single document, not a collection to list: kvtool get %s prints it", coll, coll)
			}
			if limit < 0 || offset < 0 {
				return usagef("--limit and --offset must not be negative")
			}
			db, err := g.openRO()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			out := []kv.Document{}
			err = db.List(cmd.Context(), coll, offset, limit, func(s kv.Document) error {
				out = append(out, s)
				return nil
			})
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			return printSummaries(cmd, coll, out)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "at most N summaries (0: all)")
	cmd.Flags().IntVar(&offset, "offset", 0, "skip the first N summaries")
	return cmd
}

// printSummaries prints rows in the collection's listing columns.
func printSummaries(cmd *cobra.Command, coll string, rows []kv.Document) error {
	cols := []string{"id"}
	if c, err := kv.LookupCollection(coll); err == nil && len(c.Columns) > 0 {
		cols = c.Columns
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
	for _, r := range rows {
		vals := make([]string, len(cols))
		for i, c := range cols {
			vals[i] = cell(r[c])
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%d %s\n", len(rows), coll)
	return nil
}

func cell(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return "-"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		s = strings.Join(parts, ",")
	default:
		s = fmt.Sprint(x)
	}
	s = terminalSafe(strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s))
	if len([]rune(s)) > 48 {
		s = string([]rune(s)[:47]) + "…"
	}
	return s
}
