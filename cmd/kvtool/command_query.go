package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

func timestampHelp() string {
	var b strings.Builder
	for _, c := range kv.BuiltinCollections() {
		if d, err := kv.LookupCollection(c); err == nil && len(d.Timestamps) > 0 {
			fmt.Fprintf(&b, "  %-12s %s\n", c, strings.Join(slices.Sorted(slices.Values(d.Timestamps)), ", "))
		}
	}
	return b.String()
}

func newQueryCommand(g *globals) *cobra.Command {
	var wheres []string
	var sortBy string
	var limit, offset int
	var idsOnly, explain, header, noScan, count bool
	cmd := &cobra.Command{
		Use:   "query COLLECTION [--where EXPR]... [--sort [-]FIELD] [--limit N] [--offset N] [--ids] [--explain]",
		Short: "Run a query: filters, full-text words, sort, limit and offset",
		Long: `query returns the documents of COLLECTION that match every --where
expression, in id order or sorted by --sort FIELD (-FIELD for descending;
ties by id; documents without the field last).

EXPR is field=value, field!=value, field>=value, field<=value, field>value,
field<value, field in (a, b, c), field exists, field !exists, several of
these joined by OR (status=active OR priority=high: any of them), or
field~TEXT (the document's search field matches TEXT, in the syntax of
kvtool search, answered by the full-text index; it cannot be joined by
OR). Several --where are ANDed. field is a top-level field or a dotted
path (enrichmentStatus.status); @links matches any linked id. On an array
field = matches when any element equals the value, != when none does.
Values are typed: true/false, numbers, else strings. A document without
the field, or with null, matches no comparison except !=. A field that no
document of the collection has gets a warning on stderr (a likely typo);
the query still runs. A malformed EXPR is exit 2.

Timestamp fields compare as instants; their values may be RFC 3339 (a
space for T, no seconds, Z, +hh:mm, +hhmm, +hh or no zone for UTC), a date
(midnight UTC) or epoch milliseconds as a number or numeric string, read
the same way everywhere (import's newer-wins too). Numbers compare by
value, however many digits they have:
` + timestampHelp() + `
The values of extras, which may be any JSON, are printed as {"id": KEY,
"value": VALUE}; --where and --sort name members of the value.

--explain prints the plan (index used, keys scanned, documents read)
instead of the results. --no-scan fails rather than read the whole
collection. --header leaves out large session parts.`,
		Example: `  kvtool query sessions --where status=completed --where tags=work --where 'startTime>=2025-01-01' --sort -startTime --limit 20
  kvtool query notes --where 'content~budget' --ids
  kvtool query sessions --where 'status in (active, paused) OR endTime !exists' --where 'name~"deep work"'
  kvtool query tasks --where 'priority=high OR dueDate<2025-01-01' --explain
  kvtool query tasks --where priority=high --explain`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			coll := args[0]
			if _, err := kv.LookupCollection(coll); err != nil {
				return err
			}
			if limit < 0 || offset < 0 {
				return usagef("--limit and --offset must not be negative")
			}
			q := kv.Query{Collection: coll, Limit: limit, Offset: offset, NoScan: noScan}
			for _, w := range wheres {
				f, tf, err := kv.ParseWhere(coll, w)
				if err != nil {
					return usageError{fmt.Errorf("--where: %w", err)}
				}
				if tf.Text != "" {
					q.TextFilters = append(q.TextFilters, tf)
				} else {
					q.Filters = append(q.Filters, f)
				}
			}
			if sortBy != "" {
				q.Sort = strings.TrimPrefix(sortBy, "-")
				q.Desc = strings.HasPrefix(sortBy, "-")
				if q.Sort == "" {
					return usagef("--sort needs a field name")
				}
			}
			open := g.openRO
			if len(q.TextFilters) > 0 || slices.ContainsFunc(wheres, func(w string) bool { return strings.Contains(w, "~") }) {
				// A text condition reads the full-text index.
				open = func() (*kv.DB, error) { return g.openIndexed(cmd.Context()) }
			}
			db, err := open()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			// extras hold any JSON value, not only objects: the values the
			// query names are read one by one (one deleted meanwhile is
			// left out), and each is printed as {"id": KEY, "value":
			// VALUE}, the key beside the value (which may have an "id" of
			// its own, or be no object at all).
			values := coll == "extras" && !idsOnly && !explain && !count
			res, err := db.Query(cmd.Context(), q, &kv.QueryOptions{IDsOnly: idsOnly || explain || values, Header: header, Count: count && !explain})
			if err != nil {
				return searchUsage(err)
			}
			docs := make([]any, 0, len(res.IDs))
			if values {
				err = db.View(cmd.Context(), func(tx *kv.Tx) error {
					for _, id := range res.IDs {
						v, _, err := tx.GetValue(coll, id)
						if errors.Is(err, kv.ErrNotFound) {
							continue
						}
						if err != nil {
							return err
						}
						docs = append(docs, map[string]any{"id": id, "value": v})
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			for _, w := range res.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			out := cmd.OutOrStdout()
			switch {
			case count && !explain:
				if g.json {
					return printJSON(out, map[string]int{"count": res.Total})
				}
				fmt.Fprintln(out, res.Total)
				return nil
			case explain:
				ex := res.Explain
				if g.json {
					return printJSON(out, ex)
				}
				fmt.Fprintf(out, "plan:     %s\nindex:    %s\nscanned:  %d index keys\nread:     %d documents\nreturned: %d\n", ex.Plan, orDash(ex.Index), ex.Scanned, ex.DocsRead, ex.Returned)
				if ex.Detail != "" {
					fmt.Fprintf(out, "detail:   %s\n", ex.Detail)
				}
				for _, w := range ex.Warnings {
					fmt.Fprintf(out, "warning:  %s\n", w)
				}
				return nil
			case idsOnly:
				if g.json {
					return printJSON(out, nonNil(res.IDs))
				}
				for _, id := range res.IDs {
					fmt.Fprintln(out, terminalSafe(id))
				}
				return nil
			}
			if values {
				return printJSON(out, docs)
			}
			if res.Docs == nil {
				res.Docs = []kv.Document{}
			}
			return printJSON(out, res.Docs)
		},
	}
	cmd.Flags().StringArrayVar(&wheres, "where", nil, "filter EXPR (repeatable; ANDed)")
	cmd.Flags().StringVar(&sortBy, "sort", "", "sort by FIELD, or -FIELD for descending")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most N results (0: all)")
	cmd.Flags().IntVar(&offset, "offset", 0, "skip the first N results")
	cmd.Flags().BoolVar(&idsOnly, "ids", false, "print ids only")
	cmd.Flags().BoolVar(&explain, "explain", false, "print the plan and what it read instead of results")
	cmd.Flags().BoolVar(&header, "header", false, "documents without their large parts")
	cmd.Flags().BoolVar(&noScan, "no-scan", false, "fail instead of scanning the whole collection")
	cmd.Flags().BoolVar(&count, "count", false, "print the number of matches only")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}
