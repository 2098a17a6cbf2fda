package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
	"github.com/spf13/cobra"
)

type migrateOutput struct {
	Counts    map[string]int   `json:"counts"`
	Unchanged map[string]int   `json:"unchanged"`
	Kept      map[string]int   `json:"kept_newer"`
	Blobs     int              `json:"blobs"`
	Replayed  int              `json:"replayed"`
	Skipped   []legacy.Skipped `json:"skipped"`
	Problems  []string         `json:"problems"`
	// WithoutContent are attachments whose bytes no legacy file held,
	// marked contentMissing (attach add FILE --id ID adds them later).
	WithoutContent  []string `json:"attachments_without_content,omitempty"`
	UnreadableTimes []string `json:"unreadable_times,omitempty"`
	// KeptStored: what the store kept over a differing old version that
	// could not be ordered by time (see legacy.ImportResult.KeptStored).
	KeptStored []string       `json:"kept_stored"` // documented: always present
	Backup     string         `json:"backup"`
	DryRun     bool           `json:"dry_run"`
	Report     *legacy.Report `json:"report"`
}

func newMigrateCommand(g *globals) *cobra.Command {
	var dryRun, yes bool
	cmd := &cobra.Command{
		Use: "migrate LEGACY_DIR [--dry-run] [--yes]",
		Example: `  kvtool migrate ~/old-app-data --dry-run
  kvtool migrate ~/old-app-data --yes`,
		Short: "Import everything the old app left in its data directory",
		Long: `migrate reads the old app's data directory (the app-data folder holding
db/, attachments/, backups/, or the db/ folder itself) in every layout it
ever wrote: collection files and their envelopes, temp and backup copies
(as fallbacks only: a deleted entity stays deleted), per-entity files, the
write-ahead log, chunked sessions, settings, attachments. It picks the
newest correct version of every entity, then (unless --dry-run) takes a
verified backup of the store and imports everything.

The import is all or nothing but streams: the directory is read a file or
a session at a time and written in batches to a private copy of the store
(data.db.stage), which is verified and renamed over data.db only at the
end. An error, Ctrl-C or a crash leaves the store's documents as they
were; an error or Ctrl-C leaves no store where there was none, but a
first migration killed outright (a crash, SIGKILL) can leave an empty
store, with its pre-migrate backup and blobs nothing refers to yet
(check reports them): run migrate again to complete it. The disk
needs room for a second copy of the store while it runs, and for the
decoded text of the old app's collection files (written beside it and
read back mapped, so that memory stays bounded: a document over the
store's size limit is kept whole, as an attachment, without being
decoded).

A collection file the old app clobbered or left unreadable is restored
from its older copies, deleted entities staying deleted. A file it needs
that cannot be opened for lack of permission is not: migrate stops (exit
1) naming it, so that its permissions can be fixed first. Attachments
stored by id keep their id and metadata; a value whose text is not valid
Unicode keeps its original text in a legacyRaw member.

It reports what it found, replayed, skipped and why. Running it twice
imports nothing new, and keeps edits made in the store in between: the
old app's version of a stored document is written only when both carry a
time (updatedAt or lastUpdated) and the old one is later; otherwise the
stored one stays (counted in kept_newer, listed in kept_stored when they
could not be ordered). settings, aiSettings and preferences are merged
member by member: members the store lacks are added, the others keep the
store's value (kept_stored lists those that differ). An attachment
imported without content (contentMissing: after migrating db/ alone, say)
gets its bytes from a later migration that finds them. An entity deleted
from the store in between is imported again, since the store keeps no
record of deletions older than its change log.

The store (--db) may not be LEGACY_DIR itself or its db/, nor lie in one
of the old app's data folders (attachments/, videos/, backups/, and in
db/ attachments-ca/, sessions/, notes/, tasks/ and the other per-entity
folders, rollback-points/, enrichment/, db/, .tx-*/, tx-temp-*/): it is
refused before it is created (exit 2), naming the folder. A store in a
directory of its own inside LEGACY_DIR is left out of the scan, and so is
any other store inside it (an earlier migration's, in db/<name>/ say).

On a terminal it first reads the directory as --dry-run does, shows the
counts and asks before writing anything; any answer but y or yes (any
case) writes nothing (exit 1). --yes does not ask; off a terminal it does
not ask either.`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			dir := args[0]
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				if err == nil {
					err = fmt.Errorf("not a directory")
				}
				return fmt.Errorf("migrate %s: %w", dir, err)
			}
			// A store whose files would be read as the old app's, or
			// one in a folder of the old app's data, is refused before
			// it is created: a mistake in --db (exit 2).
			if _, err := legacy.CheckStoreDir(dir, g.db); err != nil {
				return usageError{err}
			}
			ask := !yes && !dryRun && terminal(g)
			var res *legacy.MigrateResult
			if !g.storeExists() && (dryRun || ask) {
				// Read the directory against an empty store: a dry run or
				// a "no" creates no store.
				scratch, done, err := scratchStore()
				if err != nil {
					return err
				}
				res, err = legacy.Migrate(cmd.Context(), scratch, dir, &legacy.ScanOptions{Progress: g.progress()}, true)
				done()
				if err != nil {
					return err
				}
				if ask {
					if err := confirmMigrate(g, cmd.ErrOrStderr(), dir, res); err != nil {
						return err
					}
					ask, res = false, nil
				}
			}
			if res == nil {
				if !g.storeExists() {
					// A directory the old app never wrote to is refused
					// before a store is created for it.
					if err := legacy.Probe(cmd.Context(), dir); err != nil {
						return err
					}
				}
				created, before := !g.storeExists(), storeNamesPresent(g.db)
				var db *kv.DB
				if db, err = g.openRW(); err != nil {
					return err
				}
				if created {
					// A migration that fails leaves no store where there
					// was none (it wrote nothing: it is all or nothing).
					defer func() {
						if err != nil {
							removeNewStore(g.db, before)
						}
					}()
				}
				defer closeDB(db, &err)
				if ask {
					found, err := legacy.Migrate(cmd.Context(), db, dir, &legacy.ScanOptions{Progress: g.progress()}, true)
					if err != nil {
						return err
					}
					if err := confirmMigrate(g, cmd.ErrOrStderr(), dir, found); err != nil {
						return err
					}
				}
				if res, err = legacy.Migrate(cmd.Context(), db, dir, &legacy.ScanOptions{Progress: g.progress()}, dryRun); err != nil {
					return err
				}
			}
			o := migrateOutput{Counts: res.Counts, Unchanged: res.Unchanged, Kept: res.Kept, Blobs: res.Blobs, Replayed: res.Replayed,
				Skipped: res.Skipped, Problems: res.Problems, WithoutContent: res.WithoutContent, UnreadableTimes: res.UnreadableTimes,
				KeptStored: res.KeptStored, Backup: res.Backup, DryRun: dryRun, Report: res.Report}
			if o.Problems == nil {
				o.Problems = []string{}
			}
			if o.KeptStored == nil {
				o.KeptStored = []string{}
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), o)
			}
			out := cmd.OutOrStdout()
			verb := "imported"
			if dryRun {
				verb = "would import"
			}
			fmt.Fprintf(out, "%s: %s\n", verb, mapLine(res.Counts))
			fmt.Fprintf(out, "unchanged: %s\n", mapLine(res.Unchanged))
			if len(res.Kept) > 0 {
				fmt.Fprintf(out, "kept (the store's version is newer, or the two cannot be ordered by time): %s\n", mapLine(res.Kept))
			}
			printKeptStored(out, &res.ImportResult, "the old app's")
			printMigrateReport(out, res.Report)
			fmt.Fprintf(out, "WAL: %d entries replayed, %d skipped\n", res.Replayed, len(res.Report.WAL.Skipped))
			for _, s := range res.Skipped {
				if s.Line > 0 {
					fmt.Fprintf(out, "  skipped %s line %d: %s\n", terminalSafe(s.Path), s.Line, terminalSafe(s.Reason))
				}
			}
			for _, p := range res.Problems {
				fmt.Fprintf(out, "  problem: %s\n", terminalSafe(p))
			}
			if n := len(res.WithoutContent); n > 0 {
				ids := strings.Join(res.WithoutContent[:min(n, reportLines)], ", ")
				if n > reportLines {
					ids += ", ..."
				}
				fmt.Fprintf(out, "%d attachment(s) had no content in the old directory (%s): marked contentMissing; if you find a file, add it with kvtool attach add FILE --id ID\n", n, terminalSafe(ids))
			}
			printUnreadableTimes(out, &res.ImportResult, "the stored version was kept")
			if res.Backup != "" {
				fmt.Fprintf(out, "backup taken first: %s\n", res.Backup)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be imported, write nothing")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask before writing (on a terminal)")
	return cmd
}

// storeNames are the entries kv makes in a store's directory.
var storeNames = []string{kv.DataFile, kv.DataFile + ".stage", kv.LockFile, kv.BackupsDir, kv.BlobsDir, kv.SearchDir}

// storeNamesPresent says which of storeNames dir holds (nil: dir does
// not exist).
func storeNamesPresent(dir string) map[string]bool {
	if _, err := os.Lstat(dir); err != nil {
		return nil
	}
	m := map[string]bool{}
	for _, n := range storeNames {
		_, err := os.Lstat(filepath.Join(dir, n))
		m[n] = err == nil
	}
	return m
}

// removeNewStore removes the store a failed migration created in dir,
// closed: the whole directory when it did not exist before (before nil),
// else the entries of storeNames it did not hold before. Failures leave
// files behind, which a later run reuses: the error reported is the
// migration's.
func removeNewStore(dir string, before map[string]bool) {
	if before == nil {
		_ = os.RemoveAll(dir)
		return
	}
	for _, n := range storeNames {
		if !before[n] {
			_ = os.RemoveAll(filepath.Join(dir, n))
		}
	}
}

// reportLines is how many entries of each list of the migration report
// the human output shows; --json has them all.
const reportLines = 10

// confirmMigrate shows what a dry run found in dir and asks before
// anything is written.
func confirmMigrate(g *globals, stderr io.Writer, dir string, found *legacy.MigrateResult) error {
	fmt.Fprintf(stderr, "%s holds: %s (%d problem(s) to report)\n", terminalSafe(dir), mapLine(found.Counts), len(found.Problems))
	return confirmImport(g, dir, found.Counts, false, false)
}

// printMigrateReport prints where the winning versions came from and the
// choices the scan made: conflicts, fallbacks, deleted entities that stay
// deleted, orphan attachment files.
func printMigrateReport(out io.Writer, rep *legacy.Report) {
	if rep == nil {
		return
	}
	for _, coll := range legacy.Collections {
		if src := rep.Sources[coll]; len(src) > 0 {
			fmt.Fprintf(out, "sources of %s: %s\n", coll, mapLine(src))
		}
	}
	list := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(out, "%s: %d\n", title, len(lines))
		for i, l := range lines {
			if i == reportLines {
				fmt.Fprintf(out, "  ... and %d more (--json lists them all)\n", len(lines)-i)
				break
			}
			fmt.Fprintf(out, "  %s\n", terminalSafe(l))
		}
	}
	var lines []string
	for _, c := range rep.Conflicts {
		losers := make([]string, len(c.Losers))
		for i, l := range c.Losers {
			losers[i] = l.Source
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s (%s) won by %s over %s", c.Collection, c.ID, c.Winner.Source, c.Winner.Kind, c.Reason, strings.Join(losers, ", ")))
	}
	list("conflicts resolved", lines)
	lines = nil
	for _, f := range rep.Fallbacks {
		used := f.Used
		if used == "" {
			used = "no usable copy"
		}
		lines = append(lines, fmt.Sprintf("%s: %s; used %s", f.Key, f.Reason, used))
	}
	list("fallbacks to older copies", lines)
	lines = nil
	for _, d := range append(append([]legacy.Dropped{}, rep.Deleted...), rep.NotResurrected...) {
		lines = append(lines, strings.TrimSpace(fmt.Sprintf("%s %s", d.Collection, d.ID))+" ("+d.Source+"): "+d.Reason)
	}
	list("deleted, not imported", lines)
	lines = nil
	for _, r := range rep.Restored {
		l := fmt.Sprintf("%s %s from %s", r.Collection, r.ID, r.Source)
		if r.OlderCopy {
			l += " (an older copy than the newest one: it held a newer version)"
		}
		lines = append(lines, l)
	}
	list("restored from older copies of a bad collection file", lines)
	list("orphan attachment files (kept as legacy-orphan-* attachments)", rep.OrphanFiles)
	list("attachments nothing refers to (imported under their own id, orphan: true)", rep.OrphanAttachments)
	list("junk files skipped", rep.JunkSkipped)
	list("files not read (names the old app never wrote)", rep.Ignored)
	list("video chapters recovered", rep.ChaptersRecovered)
	list("session enrichment recovered from per-entity files", rep.EnrichmentRecovered)
	list("lost session parts and chunks filled from another copy of the session", rep.LostRecovered)
	lines = nil
	for _, rp := range rep.RollbackPoints {
		lines = append(lines, fmt.Sprintf("%s: %d session(s), %d imported from it", rp.Path, rp.Sessions, len(rp.Imported)))
	}
	list("rollback points", lines)
	list("notes", rep.Notes)
}
