package main

import (
	"fmt"
	"strings"

	"github.com/cairnkv/cairn/kv"

	"github.com/spf13/cobra"
)

func newCheckCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "check",
		Example: `  kvtool check
  kvtool --json check`,
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
					out.Advice = adviceLines(rep.Problems)
				}
				if err := printJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			} else {
				for _, p := range rep.Problems {
					fmt.Fprintln(cmd.OutOrStdout(), terminalSafe(p.String()))
				}
				if rep.OK {
					fmt.Fprintln(cmd.OutOrStdout(), "ok: no problems found")
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "%d problem(s)\n%s", len(rep.Problems), advice(rep.Problems))
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
func adviceLines(ps []problem) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(advice(ps)), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// advice lists the ways back from the problems found (each problem's
// Fix, from kv's Check), each once, in the order of the problems.
func advice(ps []problem) string {
	seen := map[string]bool{}
	var b strings.Builder
	for _, p := range ps {
		if p.Fix == "" || seen[p.Fix] {
			continue
		}
		seen[p.Fix] = true
		what := p.Kind
		if p.Collection != "" {
			what += " " + p.Collection
		}
		if p.ID != "" {
			what += fmt.Sprintf(" %q", p.ID)
		}
		fmt.Fprintf(&b, "fix (%s): %s\n", terminalSafe(what), terminalSafe(p.Fix))
	}
	return b.String()
}
