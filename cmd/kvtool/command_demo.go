package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/internal/gen"
	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

type demoResult struct {
	Counts   map[string]int     `json:"counts"`
	Timings  map[string]float64 `json:"timings_ms"`
	Store    string             `json:"store"`
	Problems int                `json:"problems"`
}

func newDemoCommand(g *globals) *cobra.Command {
	var sessions int
	var seed int64
	var force bool
	cmd := &cobra.Command{
		Use:   "demo [--sessions N] [--seed S]",
		Short: "Build a deterministic synthetic store and tour it",
		Long: `demo builds a deterministic synthetic store in --db (by default 10,000
work sessions averaging about 30 KB of JSON with their screenshot records
and audio segments, a few at two-hour sizes, plus notes, tasks, topics,
companies, contacts and attachments in proportion), then tours it: a
listing, a query with its plan, a search, a backup and a check, each with
its time. It refuses a store that already holds documents unless --force.`,
		Example: `  kvtool demo
  kvtool --db /tmp/demo demo --sessions 1000 --seed 7`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if sessions < 1 {
				return usagef("--sessions must be at least 1")
			}
			out := cmd.OutOrStdout()
			say := func(format string, a ...any) {
				if !g.json {
					fmt.Fprintf(out, format, a...)
				}
			}
			db, err := g.openRW()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			if !force {
				st, err := db.Stats(cmd.Context())
				if err != nil {
					return err
				}
				for name, c := range st.Collections {
					if c.Count > 0 {
						return fmt.Errorf("demo: %s already holds documents (%d in %s); use --force or another --db", g.db, c.Count, name)
					}
				}
			}
			if !isTerminal(cmd.ErrOrStderr()) {
				// Off a terminal the bars below are silent for their
				// first 5 s each: one plain line every 5 s for the whole
				// demo instead (docs/KVTOOL.md).
				stop := activity(cmd.ErrOrStderr(), "demo")
				defer stop()
			}
			res := demoResult{Counts: map[string]int{}, Timings: map[string]float64{}, Store: g.db}
			gn := gen.New(gen.Config{Sessions: sessions, Seed: seed, Attachments: max(sessions/4, 1)})
			say("Building a synthetic store in %s (%d sessions, seed %d)\n", g.db, sessions, seed)
			start := time.Now()
			// All or nothing: a demo killed or failing halfway leaves the
			// store as it was, not a store with half the collections.
			err = db.Staged(cmd.Context(), func(st *kv.Stage) error {
				for _, coll := range gen.Collections {
					n, err := loadCollection(cmd, st.Update, gn, coll)
					if err != nil {
						return err
					}
					res.Counts[coll] = n
				}
				return st.Update(func(tx *kv.Tx) error {
					_, err := tx.Put("settings", gn.Settings())
					return err
				})
			})
			if err != nil {
				return err
			}
			// Blobs a killed earlier demo wrote before its staged change
			// was dropped are orphans: remove them, or the tour's check
			// reports them.
			if _, err := db.GC(cmd.Context(), false); err != nil {
				return err
			}
			res.Timings["build"] = ms(time.Since(start))
			say("  built in %s: %s\n\n", time.Since(start).Round(time.Millisecond), mapLine(res.Counts))

			// Listing: the app's startup view.
			t := time.Now()
			listed := 0
			if err := db.List(cmd.Context(), "sessions", 0, 0, func(kv.Document) error { listed++; return nil }); err != nil {
				return err
			}
			res.Timings["list_sessions"] = ms(time.Since(t))
			say("List all %d session summaries (no document decoded): %s\n", listed, time.Since(t).Round(time.Microsecond))
			var newest []kv.Document
			if err := db.List(cmd.Context(), "sessions", 0, 3, func(d kv.Document) error { newest = append(newest, d); return nil }); err != nil {
				return err
			}
			for _, d := range newest {
				say("  %-28v %-10v %v\n", d["id"], d["status"], d["name"])
			}

			// A query with its plan: the app's "completed sessions tagged X in the last six months".
			q := kv.Query{Collection: "sessions", Sort: "startTime", Desc: true, Limit: 5,
				Filters: []kv.Filter{{Field: "status", Op: "=", Value: "completed"}, {Field: "tags", Op: "=", Value: "planning"},
					{Field: "startTime", Op: ">=", Value: "2025-07-01"}}}
			t = time.Now()
			qr, err := db.Query(cmd.Context(), q, &kv.QueryOptions{Header: true})
			if err != nil {
				return err
			}
			res.Timings["query"] = ms(time.Since(t))
			ex := qr.Explain
			say("\nQuery: completed sessions tagged planning since 2025-07-01, newest first, 5 of them: %s\n", time.Since(t).Round(time.Microsecond))
			say("  plan %s on index %s: %d index keys and %d documents read\n", ex.Plan, orDash(ex.Index), ex.Scanned, ex.DocsRead)
			for _, d := range qr.Docs {
				say("  %-24v %v\n", d["startTime"], d["name"])
			}

			// Full-text search with highlights (the index catches up first).
			t = time.Now()
			sr, err := db.Search(cmd.Context(), "budget meeting", kv.SearchOptions{Limit: 3, Highlight: true})
			if err != nil {
				return err
			}
			res.Timings["search"] = ms(time.Since(t))
			say("\nSearch \"budget meeting\" (%d matches; index caught up and searched in %s):\n", sr.Total, time.Since(t).Round(time.Millisecond))
			for _, h := range sr.Hits {
				frag := firstFragment(h.Fragments)
				say("  %.2f %-9s %-26s %s\n", h.Score, h.Collection, h.ID, cell(frag))
			}

			// A verified backup.
			t = time.Now()
			m, err := db.Backup(cmd.Context(), kv.ReasonManual)
			if err != nil {
				return err
			}
			res.Timings["backup"] = ms(time.Since(t))
			say("\nBackup %s: %s written and verified (every checksum and the counts of the snapshot, the copy's SHA-256 read back) in %s\n", m.Name, humanBytes(m.Size), time.Since(t).Round(time.Millisecond))

			// Check.
			t = time.Now()
			rep, err := db.Check(cmd.Context())
			if err != nil {
				return err
			}
			res.Timings["check"] = ms(time.Since(t))
			res.Problems = len(rep.Problems)
			say("\nCheck (structure, checksums, metadata, indexes, parts, blobs, search): %d problem(s) in %s\n", len(rep.Problems), time.Since(t).Round(time.Millisecond))

			st, err := db.Stats(cmd.Context())
			if err != nil {
				return err
			}
			say("\nStored %s of JSON in %s (%.0f%% smaller); file %s\n",
				humanBytes(int64(st.LogicalBytes)), humanBytes(int64(st.StoredBytes)), 100*(1-st.CompressionRatio), humanBytes(st.FileBytes))
			say("\nTry next:\n  %[3]s --db %[1]s ls sessions --limit 5\n  %[3]s --db %[1]s get sessions %[2]v --header\n"+
				"  %[3]s --db %[1]s query sessions --where status=completed --where tags=planning --sort -startTime --limit 5 --explain\n"+
				"  %[3]s --db %[1]s search \"roadmap review\" --highlight\n  %[3]s --db %[1]s backup list\n  %[3]s --db %[1]s stats\n  %[3]s --db %[1]s check\n", g.db, firstID(newest), kvtoolCommand())
			if g.json {
				if err := printJSON(out, res); err != nil {
					return err
				}
			}
			if !rep.OK {
				return integrityError{fmt.Sprintf("demo store has %d problem(s)", len(rep.Problems))}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&sessions, "sessions", 10000, "number of sessions to generate")
	cmd.Flags().Int64Var(&seed, "seed", 1, "random seed (the same seed builds the same store)")
	cmd.Flags().BoolVar(&force, "force", false, "build even if the store already holds documents")
	return cmd
}

func firstID(ds []kv.Document) any {
	if len(ds) == 0 {
		return "ID"
	}
	return ds[0]["id"]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// loadCollection writes every generated document of coll in batches,
// each through update.
func loadCollection(cmd *cobra.Command, update func(func(*kv.Tx) error) error, gn *gen.Generator, coll string) (int, error) {
	total := gn.Count(coll)
	bar := newProgress(cmd.ErrOrStderr(), coll, total)
	defer bar.done()
	const batch = 1000
	var pending []map[string]any
	n := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := update(func(tx *kv.Tx) error {
			for _, d := range pending {
				if _, err := tx.Put(coll, d); err != nil {
					return err
				}
			}
			return nil
		})
		n += len(pending)
		pending = pending[:0]
		bar.set(n)
		return err
	}
	if coll == "attachments" {
		return loadAttachments(cmd, update, gn, bar)
	}
	err := gn.Each(coll, func(doc map[string]any) error {
		pending = append(pending, doc)
		if len(pending) >= batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, flush()
}

// loadAttachments adds every generated attachment with its content, in
// batches, through the blob store (identical contents are stored once).
func loadAttachments(cmd *cobra.Command, update func(func(*kv.Tx) error) error, gn *gen.Generator, bar *progress) (int, error) {
	total := gn.Count("attachments")
	const batch = 500
	for start := 0; start < total; start += batch {
		end := min(start+batch, total)
		err := update(func(tx *kv.Tx) error {
			for i := start; i < end; i++ {
				meta := gn.Attachment(i)
				delete(meta, "hash")
				if _, err := tx.AddAttachment(cmd.Context(), bytes.NewReader(gn.AttachmentContent(i)), meta); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return start, err
		}
		bar.set(end)
	}
	return total, nil
}

// firstFragment returns the first highlighted excerpt of a hit: every
// field's, in name order (the index keeps all text in one field, "text").
func firstFragment(fr map[string][]string) string {
	names := make([]string, 0, len(fr))
	for name := range fr {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if fs := fr[name]; len(fs) > 0 {
			return fs[0]
		}
	}
	return ""
}

// kvtoolCommand is how the user can run kvtool again: "kvtool" when it is
// on $PATH, "go run ./cmd/kvtool" when this run was built by go run (the
// README's way, which installs nothing), else the path this binary was
// run by.
func kvtoolCommand() string {
	if _, err := exec.LookPath("kvtool"); err == nil {
		return "kvtool"
	}
	exe := os.Args[0]
	if exe == "" || strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return "go run ./cmd/kvtool"
	}
	return fsutil.ShellQuote(exe)
}
