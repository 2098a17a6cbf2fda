package main

import (
	"fmt"
	"io"
	"strings"
)

// peerTitles are the peer column headings of the Markdown table.
var peerTitles = map[string]string{"sqlite": "SQLite", "bolthold": "bolthold", "jsonfiles": "JSON files"}

// writeMarkdown writes the results as a Markdown table (table-<scale>.md,
// for the README's Performance section), preceded by the command, the
// machine and the date.
func writeMarkdown(w io.Writer, rep *Report) {
	m := rep.Machine
	fmt.Fprintf(w, "`%s` — %d sessions, %d runs; %s, %d cores, %s RAM, %s, %s; load %s → %s; %s\n\n",
		rep.Command, rep.Sessions, rep.Runs, m.CPU, m.Cores, m.MemTotal, m.GoVersion, m.OS, m.LoadAvg, m.LoadAfter, m.Date.Format("2006-01-02 15:04 UTC"))
	head := "| measurement | target | Cairn median | spread | verdict |"
	sep := "|---|---|---|---|---|"
	if rep.Peers.Ran {
		for _, p := range peerColumns {
			head += " " + peerTitles[p] + " |"
			sep += "---|"
		}
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
	for _, r := range rep.Results {
		var tg []string
		for _, t := range r.Targets {
			tg = append(tg, fmt.Sprintf("%s (%s)", t.String(), t.Source))
		}
		row := fmt.Sprintf("| `%s` | %s |", r.Name, strings.ReplaceAll(orDash(strings.Join(tg, "; ")), "<", "&lt;"))
		if r.Error != "" {
			row += fmt.Sprintf(" error | - | %s |", r.Error)
		} else {
			row += fmt.Sprintf(" %s %s | %s–%s | %s |", trimFloat(r.Median), r.Unit, trimFloat(r.Min), trimFloat(r.Max),
				strings.ReplaceAll(orDash(strings.Join(r.Verdict, ", ")), "FAIL", "**FAIL**"))
		}
		if rep.Peers.Ran {
			for _, p := range peerColumns {
				row += " " + strings.ReplaceAll(peerCell(r, p), "|", "/") + " |"
			}
		}
		fmt.Fprintln(w, row)
	}
	if !rep.Peers.Ran {
		fmt.Fprintf(w, "\nPeers not run: %s.\n", rep.Peers.Why)
	}
}
