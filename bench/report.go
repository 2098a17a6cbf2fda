package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// peerOrder is the order of the peer columns.
var peerColumns = []string{"sqlite", "bolthold", "jsonfiles"}

// printTable writes the readable table.
func printTable(w io.Writer, rep *Report) error {
	m := rep.Machine
	fmt.Fprintf(w, "\nCairn benchmark: %d sessions (%s), %d runs, seed %d\n", rep.Sessions, rep.Scale, rep.Runs, rep.Seed)
	fmt.Fprintf(w, "machine: %s, %d cores, %s, %s, %s RAM; load %s -> %s\n", m.CPU, m.Cores, m.GoVersion, m.OS, m.MemTotal, m.LoadAvg, m.LoadAfter)
	fmt.Fprintf(w, "date: %s; command: %s\n", m.Date.Format("2006-01-02 15:04 UTC"), rep.Command)
	if ds := rep.Dataset; ds != nil {
		fmt.Fprintf(w, "dataset: %v; %s of JSON, data.db %s (built in %.0fs%s)\n", countsText(ds.Counts), humanBytes(ds.JSONBytes), humanBytes(ds.FileBytes), ds.BuildSecs, map[bool]string{true: ", cached", false: ""}[ds.Reused])
	}
	peersOn := rep.Peers.Ran
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	head := "measurement\ttarget\tcairn median\tspread (min-max)\tverdict"
	if peersOn {
		for _, p := range peerColumns {
			head += "\t" + p
		}
	}
	fmt.Fprintln(tw, head)
	for _, r := range rep.Results {
		row := fmt.Sprintf("%s\t%s\t", r.Name, orDash(r.targetText()))
		if r.Error != "" {
			row += "error\t-\t" + r.Error
		} else {
			row += fmt.Sprintf("%s %s\t%s-%s\t%s", trimFloat(r.Median), r.Unit, trimFloat(r.Min), trimFloat(r.Max), orDash(strings.Join(r.Verdict, ", ")))
		}
		if peersOn {
			for _, p := range peerColumns {
				row += "\t" + peerCell(r, p)
			}
		}
		fmt.Fprintln(tw, row)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nNotes:")
	for _, r := range rep.Results {
		if r.Note != "" || r.Title != "" {
			fmt.Fprintf(w, "  %-32s %s", r.Name, strings.TrimSpace(r.Title))
			if r.Note != "" {
				fmt.Fprintf(w, " [%s]", r.Note)
			}
			for _, p := range peerColumns {
				if pr, ok := r.Peers[p]; ok && pr.Note != "" {
					fmt.Fprintf(w, " [%s: %s]", p, pr.Note)
				}
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w, "\nTargets: plan = the old plan; #N = issue N. Spread is min-max over runs.")
	if peersOn {
		fmt.Fprintf(w, "Peers (same data, same workload, same run): %s. A peer cell reads \"figure (Nx)\": N is how many times better Cairn is (>1: Cairn wins); \"-\": not measured on peers; \"n/a\": the peer cannot do it.\n", strings.Join(rep.Peers.Names, ", "))
		for _, n := range rep.Peers.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	} else {
		fmt.Fprintf(w, "Peers: not run (%s).\n", rep.Peers.Why)
	}
	fmt.Fprintf(w, "Total time %.0fs.\n", rep.Secs)
	return nil
}

func peerCell(r *Result, peer string) string {
	p, ok := r.Peers[peer]
	if !ok {
		return "-"
	}
	if p.NA != "" {
		return "n/a: " + p.NA
	}
	cell := fmt.Sprintf("%s %s", trimFloat(p.Median), r.Unit)
	if r.Error == "" && p.Median > 0 && r.Median > 0 && r.Unit != "%" {
		x := p.Median / r.Median
		if r.HigherBetter {
			x = r.Median / p.Median
		}
		cell += fmt.Sprintf(" (%sx)", trimFloat(x))
	}
	return cell
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func countsText(c map[string]int) string {
	var parts []string
	for _, k := range []string{"sessions", "notes", "tasks", "topics", "companies", "contacts", "attachments"} {
		if n, ok := c[k]; ok {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(parts, ", ")
}

// writeOut writes results-<scale>.json, bench-<scale>.txt, table-<scale>.md
// and latency.svg
// (from every results-*.json in dir, so runs at several scales make one
// chart).
func writeOut(dir string, rep *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results-"+rep.Scale+".json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	var sb strings.Builder
	writeGoBench(&sb, rep)
	if err := os.WriteFile(filepath.Join(dir, "bench-"+rep.Scale+".txt"), []byte(sb.String()), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	writeMarkdown(&md, rep)
	if err := os.WriteFile(filepath.Join(dir, "table-"+rep.Scale+".md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	reps, err := loadReports(dir)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "latency.svg"), []byte(latencySVG(reps)), 0o644)
}

// writeGoBench writes one Go benchmark line per run of each result
// (Cairn's and the peers'), which benchstat compares across files.
func writeGoBench(w io.Writer, rep *Report) {
	m := rep.Machine
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: github.com/cairnkv/cairn/bench\ncpu: %s\n", strings.Split(m.OS, "/")[0], strings.Split(m.OS+"/", "/")[1], m.CPU)
	line := func(store, name, unit string, v float64) {
		val, u := benchUnit(unit, v)
		fmt.Fprintf(w, "Benchmark%s/%s/scale=%s \t1\t%s %s\n", store, name, rep.Scale, strconvG(val), u)
	}
	for _, r := range rep.Results {
		if r.Error != "" {
			continue
		}
		for _, v := range r.Runs {
			line("Cairn", r.Name, r.Unit, v)
		}
		for _, p := range peerColumns {
			pr, ok := r.Peers[p]
			if !ok || pr.NA != "" {
				continue
			}
			for _, v := range pr.Runs {
				line(peerBenchName(p), r.Name, r.Unit, v)
			}
		}
	}
}

func peerBenchName(p string) string {
	switch p {
	case "sqlite":
		return "SQLite"
	case "bolthold":
		return "Bolthold"
	case "jsonfiles":
		return "JSONFiles"
	}
	return p
}

// benchUnit maps a unit to benchstat's conventions: times as ns/op.
func benchUnit(unit string, v float64) (float64, string) {
	switch unit {
	case "ms":
		return v * 1e6, "ns/op"
	case "s":
		return v * 1e9, "ns/op"
	case "%":
		return v, "pct"
	}
	return v, unit
}

func strconvG(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

func loadReports(dir string) ([]*Report, error) {
	files, err := filepath.Glob(filepath.Join(dir, "results-*.json"))
	if err != nil {
		return nil, err
	}
	var reps []*Report
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r Report
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		reps = append(reps, &r)
	}
	return reps, nil
}
