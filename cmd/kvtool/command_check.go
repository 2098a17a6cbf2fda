package main

import (
	"errors"
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
problem. A search index that the disk damaged and that was rebuilt from the
store before check looked is not a problem: it is printed as "repaired:"
("repaired" in --json), once. It never changes data.db.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			db, err := g.openRO()
			if err != nil {
				if g.json && errors.Is(err, kv.ErrCorrupt) {
					return unopenable(g, cmd, err)
				}
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
				for _, r := range rep.Repaired {
					fmt.Fprintln(cmd.OutOrStdout(), terminalSafe("repaired: "+r))
				}
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

// unopenable prints check --json's document for a store too damaged to
// open (its meta pages, or the pages every open reads): the contract is
// one JSON document whatever check finds, here the reason it does not
// open, then exits 3.
func unopenable(g *globals, cmd *cobra.Command, err error) error {
	fix := "kvtool backup list; kvtool backup restore NAME --yes sets the damaged data.db aside and restores backup NAME"
	if strings.Contains(err.Error(), "backup create repairs it") {
		// A meta page one byte from sound (kv's repairMeta): a restore
		// would lose the newest commit the repair keeps.
		fix = "kvtool backup create restores the meta page's byte (a writable open does), then backs the store up; no commit is lost"
	}
	rep := &kv.CheckReport{Problems: []problem{{
		Kind:   "open",
		Detail: "data.db does not open: " + message(err),
		Fix:    fix,
	}}}
	out := struct {
		*kv.CheckReport
		Advice []string `json:"advice,omitempty"`
	}{CheckReport: rep, Advice: adviceLines(rep.Problems)}
	if perr := printJSON(cmd.OutOrStdout(), out); perr != nil {
		return perr
	}
	return integrityError{fmt.Sprintf("check: %s does not open: %s", g.db, message(err))}
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
