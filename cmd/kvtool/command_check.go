package main

import (
	"fmt"
	"strings"

	"github.com/cairnkv/cairn/kv"

	"github.com/spf13/cobra"
)

func init() { register(newCheckCommand) }

func newCheckCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Verify the store's integrity (exit 3 if a problem is found)",
		Long: `check verifies, in one read transaction: bbolt's structural check, every
stored value's checksum, the metadata summaries and every secondary index
against the primary data, the parts of every document, and blob reference
counts against the attachments that hold them; then every blob file against
its hash (and files nothing explains), and the search index against the
documents (after bringing it up to date). It prints each problem with its
kind, collection and id, and what to do about it. Exit 3 when it finds any
problem. It never changes data.db.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			db, err := g.openRO()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			rep, err := db.Check(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				out := struct {
					*kv.CheckReport
					Advice []string `json:"advice,omitempty"`
				}{CheckReport: rep}
				if !rep.OK {
					out.Advice = adviceLines(g.db, rep.Problems)
				}
				if err := printJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			} else {
				for _, p := range rep.Problems {
					fmt.Fprintln(cmd.OutOrStdout(), p.String())
				}
				if rep.OK {
					fmt.Fprintln(cmd.OutOrStdout(), "ok: no problems found")
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "%d problem(s)\n%s", len(rep.Problems), advice(g.db, rep.Problems))
				}
			}
			if !rep.OK {
				return integrityError{fmt.Sprintf("check found %d problem(s) in %s", len(rep.Problems), g.db)}
			}
			return nil
		},
	}
}

// adviceLines is advice, one line each (check --json, the inspector).
func adviceLines(dir string, ps []problem) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(advice(dir, ps)), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// advice tells what to do about the kinds of problem found, naming the
// newest verified backup when a restore is the remedy.
func advice(dir string, ps []problem) string {
	kinds := map[string]bool{}
	for _, p := range ps {
		kinds[p.Kind] = true
	}
	var s string
	if kinds["corrupt"] || kinds["bbolt"] || kinds["part-missing"] || kinds["blob-missing"] || kinds["blob-corrupt"] {
		newest := ""
		if ms, err := kv.ListBackups(dir); err == nil {
			for _, m := range ms {
				if m.Verified {
					newest = m.Name
					break
				}
			}
		}
		if newest != "" {
			s += fmt.Sprintf("Stored data is damaged: restore the newest verified backup: kvtool --db %s backup restore %s --yes (kvtool backup list shows the others).\n", dir, newest)
		} else {
			s += "Stored data is damaged and there is no verified backup: export what still reads (kvtool export), and keep a copy of the directory.\n"
		}
	}
	for _, k := range []string{"metadata-missing", "metadata-extra", "metadata-stale", "index-missing", "index-extra", "index-stale"} {
		if kinds[k] {
			s += "Derived data is out of step: kvtool reindex --secondary rebuilds it from the documents.\n"
			break
		}
	}
	if kinds["blob-missing"] {
		s += "An attachment imported from an export file has no content until it is added again: kvtool attach add FILE --id ID.\n"
	}
	if kinds["blob-orphan"] || kinds["blob-stray"] {
		s += "Unreferenced blob files are removed by kvtool gc.\n"
	}
	if kinds["refcount"] {
		s += "Blob reference counts are wrong: kvtool gc --recount recounts them.\n"
	}
	return s
}
