package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

func newIndexCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use: "index",
		Example: `  kvtool index add widgets price --type number
  kvtool index ls widgets
  kvtool index drop widgets price`,
		Short: "Declare, list and drop secondary indexes",
		Long: `index manages the secondary indexes of user collections: add declares one
on a field and builds it from the documents already there, in one
transaction; from then on every write keeps it exact and queries use it.
The declaration is kept in the store, so the application and kvtool agree.
ls lists every index, built-in ones included, with its number of entries;
drop removes a declared index. Built-in indexes cannot be dropped.`,
		Args: cobra.ArbitraryArgs,
		RunE: needSubcommand,
	}
	cmd.AddCommand(newIndexAdd(g), newIndexLs(g), newIndexDrop(g))
	return cmd
}

func newIndexAdd(g *globals) *cobra.Command {
	var typ string
	cmd := &cobra.Command{
		Use: "add COLLECTION FIELD[,FIELD...]",
		Example: `  kvtool index add widgets price --type number
  kvtool index add widgets tags
  kvtool index add widgets status,dueDate`,
		Short: "Declare an index on a field of a user collection and build it",
		Long: `add declares an index on FIELD (a document path such as priority or
due.date) of the user collection COLLECTION and builds it from the documents
already there. --type says what the field holds: string (default), number
or time (ISO 8601 strings and epoch milliseconds compare as instants). An
array field contributes each element. Declaring the same index again
changes nothing. It prints {"collection","field","type","entries"}.

Several fields separated by commas (status,startTime) declare one compound
index, named and dropped as the fields joined by "+" (status+startTime):
queries with equality on its first fields and a range or sort on the next
use it when it is the cheapest plan (query --explain shows the choice and
its estimated keys). A document lacking one of its fields is not in it.
Its values compare as in an index of any type: --type is refused with it.`,
		Args: argsRange(2, 2),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			fields := strings.Split(args[1], ",")
			if len(fields) > 1 {
				if cmd.Flags().Changed("type") {
					return usagef("--type: a compound index (%s) holds values of any type; declare a field's type with its own index", args[1])
				}
				if slices.Contains(fields, "") {
					return usagef("fields %q: an empty field name", args[1])
				}
				if _, err := kv.LookupCollection(args[0]); err != nil {
					return err // exit 1, as for every command (docs/KVTOOL.md)
				}
				db, err := g.openRW()
				if err != nil {
					return err
				}
				defer closeDB(db, &err)
				info, err := db.DeclareCompoundIndex(cmd.Context(), args[0], fields)
				if err != nil {
					return err
				}
				return printIndexAdded(cmd, g, info)
			}
			t := kv.IndexType(typ)
			switch t {
			case kv.IndexString, kv.IndexNumber, kv.IndexTime:
			default:
				return usagef("--type %q: string, number or time", typ)
			}
			if _, err := kv.LookupCollection(args[0]); err != nil {
				return err // exit 1, as for every command (docs/KVTOOL.md)
			}
			db, err := g.openRW()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			info, err := db.DeclareIndex(cmd.Context(), args[0], args[1], t)
			if err != nil {
				return err
			}
			return printIndexAdded(cmd, g, info)
		},
	}
	cmd.Flags().StringVar(&typ, "type", "string", "what the field holds: string, number or time")
	return cmd
}

// printIndexAdded prints what index add declared.
func printIndexAdded(cmd *cobra.Command, g *globals, info kv.IndexInfo) error {
	typ := string(info.Type)
	if typ == "" {
		typ = "any"
	}
	out := indexJSON{Collection: info.Collection, Field: info.Field, Type: typ, Entries: info.Entries}
	if g.json {
		return printJSON(cmd.OutOrStdout(), out)
	}
	unit := "entries"
	if out.Entries == 1 {
		unit = "entry"
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "index %s/%s (%s): %d %s\n", out.Collection, out.Field, out.Type, out.Entries, unit)
	return err
}

// indexJSON is one index as index add and index ls print it.
type indexJSON struct {
	Collection string `json:"collection"`
	Field      string `json:"field"`
	Type       string `json:"type"`
	Entries    int    `json:"entries"`
	BuiltIn    bool   `json:"builtin,omitempty"`
}

func newIndexLs(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "ls [COLLECTION]",
		Example: `  kvtool index ls
  kvtool --json index ls widgets`,
		Short: "List the secondary indexes, with their entry counts",
		Long: `ls lists the secondary indexes of COLLECTION, or of every collection that
has one: collection, field, type ("any" for a built-in index of any value),
entries, and whether it is built in.`,
		Args: argsRange(0, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			coll := ""
			if len(args) == 1 {
				coll = args[0]
				if _, err := kv.LookupCollection(coll); err != nil {
					return err // exit 1, as for every command (docs/KVTOOL.md)
				}
			}
			db, err := g.openRO()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			infos, err := db.Indexes(cmd.Context(), coll)
			if err != nil {
				return err
			}
			out := make([]indexJSON, 0, len(infos))
			for _, ix := range infos {
				t := string(ix.Type)
				if t == "" {
					t = "any"
				}
				out = append(out, indexJSON{Collection: ix.Collection, Field: ix.Field, Type: t, Entries: ix.Entries, BuiltIn: ix.BuiltIn})
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "COLLECTION\tFIELD\tTYPE\tENTRIES\tBUILT-IN")
			for _, ix := range out {
				b := ""
				if ix.BuiltIn {
					b = "yes"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", ix.Collection, ix.Field, ix.Type, ix.Entries, b)
			}
			return w.Flush()
		},
	}
}

func newIndexDrop(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "drop COLLECTION FIELD",
		Example: `  kvtool index drop widgets price`,
		Short:   "Drop an index declared on a user collection",
		Long:    `drop removes the index declared on FIELD of COLLECTION, and its entries. Built-in indexes cannot be dropped. It prints {}.`,
		Args:    argsRange(2, 2),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if _, err := kv.LookupCollection(args[0]); err != nil {
				return err // exit 1, as for every command (docs/KVTOOL.md)
			}
			db, err := g.openExisting()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			if err := db.DropIndex(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), struct{}{})
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "dropped index %s/%s\n", args[0], args[1])
			return err
		},
	}
}
