package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
	"github.com/spf13/cobra"
)

func newExportCommand(g *globals) *cobra.Command {
	var out string
	var compact, salvage bool
	cmd := &cobra.Command{
		Use:   "export [-o FILE] [--salvage]",
		Short: "Write the app's export file (format 1.0.0)",
		Long: `export writes the whole store as the app's export file, format 1.0.0
(topics, companies, contacts, notes, tasks, sessions, aiSettings,
preferences, exportedAt, version, appVersion), plus Cairn's extra keys
(settings, attachments metadata, extras) that the old app ignores. It reads
one consistent snapshot and streams: documents are never all in memory.

With -o FILE a regular file is replaced durably and atomically (whole or
not at all), keeping its permissions (a new one is 0600); a symbolic link,
FIFO or device is written through, as a shell redirect would, never
replaced. A FILE inside the store directory is refused.

A store holding a damaged document (a value that fails its checksum) is
not exported: export writes nothing, names the damaged documents and exits
3. With --salvage it writes every document that can still be read, names
the damaged ones on stderr (left out of the file) and exits 3; import
reads the file back.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if out != "" && out != "-" {
				if err := g.checkOutput(out); err != nil {
					return err
				}
			}
			db, err := g.openRO()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			var damaged []kv.Problem
			write := func(w io.Writer) error {
				bw := bufio.NewWriterSize(w, 1<<20)
				var err error
				if salvage {
					damaged, err = legacy.SalvageExport(cmd.Context(), db, bw, compact)
				} else {
					err = legacy.ExportFrom(cmd.Context(), db, bw, compact)
				}
				if err != nil {
					return err
				}
				return bw.Flush()
			}
			if out == "" || out == "-" {
				err = write(cmd.OutOrStdout())
			} else {
				err = fsutil.WriteOutput(out, write)
			}
			if err != nil || len(damaged) == 0 {
				return err
			}
			for _, p := range damaged {
				fmt.Fprintf(cmd.ErrOrStderr(), "damaged, left out: %s\n", p)
			}
			return integrityError{fmt.Sprintf("export --salvage: %d damaged document(s) left out of the export; every other document was written", len(damaged))}
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	cmd.Flags().BoolVar(&compact, "compact", false, "compact JSON instead of the app's 2-space indentation")
	cmd.Flags().BoolVar(&salvage, "salvage", false, "write every readable document of a damaged store and name the damaged ones (exit 3)")
	return cmd
}

type importOutput struct {
	Counts          map[string]int `json:"counts"`
	Unchanged       map[string]int `json:"unchanged"`
	Kept            map[string]int `json:"kept_newer"`
	WithoutContent  []string       `json:"attachments_without_content,omitempty"`
	UnreadableTimes []string       `json:"unreadable_times,omitempty"`
	Backup          string         `json:"backup"`
	DryRun          bool           `json:"dry_run"`
}

func newImportCommand(g *globals) *cobra.Command {
	var dryRun, yes bool
	cmd := &cobra.Command{
		Use:   "import FILE [--dry-run] [--yes]",
		Short: "Validate an export file, back up, then merge it in atomically",
		Long: `import reads an export file (format 1.0.0, or the older shape without a
version) and validates all of it first: errors name the JSON path and byte
offset, and nothing is written. Then it takes a verified backup and merges
the file in: each entity by id, keeping the newer of the stored and the
imported version (updatedAt, else lastUpdated, read as kvtool query reads
times; a time that cannot be read is listed, and the imported version
written). It prints the counts per collection. --dry-run stops after
printing what it would do. Running it twice writes nothing new.

The file must be exact JSON: invalid UTF-8, an escaped lone surrogate, a
member name given twice, the same id twice in one collection, or a
document over the store's size limit (refused as it is read, so memory
stays bounded whatever the file holds) is an error naming the JSON path
and byte offset, and nothing is written.

On a terminal, once the file is valid, import shows the counts and asks
before writing anything; any answer but yes writes nothing (exit 1).
--yes does not ask; off a terminal it does not ask either.

The file is read twice and never held in memory: the merge is written in
batches to a private copy of the store (data.db.stage) that replaces it only
when complete and verified, so an error, Ctrl-C or a crash changes nothing.
The disk needs room for a second copy of the store while it runs.`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			path := args[0]
			if err := checkInputFile(path); err != nil { // fail before opening the store
				return err
			}
			db, err := g.openRW()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			opts := &legacy.ImportOptions{DryRun: dryRun, Progress: g.progress()}
			if isTerminal(cmd.ErrOrStderr()) || terminal(g) {
				opts.Validated = func(counts map[string]int) error {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s is valid: %s\n", path, mapLine(counts))
					return confirmImport(g, path, counts, yes, dryRun)
				}
			}
			res, err := legacy.ImportFile(cmd.Context(), db, path, opts)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			o := importOutput{Counts: res.Counts, Unchanged: res.Unchanged, Kept: res.Kept, WithoutContent: res.WithoutContent,
				UnreadableTimes: res.UnreadableTimes, Backup: res.Backup, DryRun: dryRun}
			if g.json {
				return printJSON(cmd.OutOrStdout(), o)
			}
			verb := "imported"
			if dryRun {
				verb = "would import"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", verb, mapLine(res.Counts))
			fmt.Fprintf(cmd.OutOrStdout(), "unchanged: %s; kept newer stored versions: %s\n", mapLine(res.Unchanged), mapLine(res.Kept))
			printUnreadableTimes(cmd.OutOrStdout(), res)
			if res.Backup != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "backup taken first: %s\n", res.Backup)
			}
			if n := len(res.WithoutContent); n > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%d attachment(s) came without their content (an export carries metadata only); check reports them until their files are added with kvtool attach add FILE --id ID\n", n)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate and count, write nothing")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask before writing (on a terminal)")
	return cmd
}

// checkInputFile fails for a path import cannot read, before the store
// is opened. A FIFO is not opened here: that would take its writer's
// first bytes away.
func checkInputFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

func mapLine(m map[string]int) string {
	if len(m) == 0 {
		return "nothing"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	return b.String()
}

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
	WithoutContent  []string       `json:"attachments_without_content,omitempty"`
	UnreadableTimes []string       `json:"unreadable_times,omitempty"`
	Backup          string         `json:"backup"`
	DryRun          bool           `json:"dry_run"`
	Report          *legacy.Report `json:"report"`
}

func newMigrateCommand(g *globals) *cobra.Command {
	var dryRun, yes bool
	cmd := &cobra.Command{
		Use:   "migrate LEGACY_DIR [--dry-run] [--yes]",
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
end. An error, Ctrl-C or a crash leaves the store as it was. The disk
needs room for a second copy of the store while it runs, and for the
decoded text of the old app's collection files (written beside it and
read back mapped, so that memory stays bounded: a document over the
store's size limit is kept whole, as an attachment, without being
decoded).

A collection file the old app clobbered or left unreadable is restored
from its older copies, deleted entities staying deleted; attachments
stored by id keep their id and metadata; a value whose text is not valid
Unicode keeps its original text in a legacyRaw member.

It reports what it found, replayed, skipped and why. Running it twice
imports nothing new.

On a terminal it first reads the directory as --dry-run does, shows the
counts and asks before writing anything; any answer but yes writes nothing
(exit 1). --yes does not ask; off a terminal it does not ask either.`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			dir := args[0]
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				if err == nil {
					err = fmt.Errorf("not a directory")
				}
				return fmt.Errorf("migrate %s: %w", dir, err)
			}
			db, err := g.openRW()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			if !yes && !dryRun && terminal(g) {
				found, err := legacy.Migrate(cmd.Context(), db, dir, &legacy.ScanOptions{Progress: g.progress()}, true)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%s holds: %s (%d problem(s) to report)\n", dir, mapLine(found.Counts), len(found.Problems))
				if err := confirmImport(g, dir, found.Counts, yes, dryRun); err != nil {
					return err
				}
			}
			res, err := legacy.Migrate(cmd.Context(), db, dir, &legacy.ScanOptions{Progress: g.progress()}, dryRun)
			if err != nil {
				return err
			}
			o := migrateOutput{Counts: res.Counts, Unchanged: res.Unchanged, Kept: res.Kept, Blobs: res.Blobs, Replayed: res.Replayed,
				Skipped: res.Skipped, Problems: res.Problems, WithoutContent: res.WithoutContent, UnreadableTimes: res.UnreadableTimes,
				Backup: res.Backup, DryRun: dryRun, Report: res.Report}
			if o.Problems == nil {
				o.Problems = []string{}
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
				fmt.Fprintf(out, "kept (the store's version is newer): %s\n", mapLine(res.Kept))
			}
			printMigrateReport(out, res.Report)
			fmt.Fprintf(out, "WAL: %d entries replayed, %d skipped\n", res.Replayed, len(res.Report.WAL.Skipped))
			for _, s := range res.Skipped {
				if s.Line > 0 {
					fmt.Fprintf(out, "  skipped %s line %d: %s\n", s.Path, s.Line, s.Reason)
				}
			}
			for _, p := range res.Problems {
				fmt.Fprintf(out, "  problem: %s\n", p)
			}
			if n := len(res.WithoutContent); n > 0 {
				ids := strings.Join(res.WithoutContent[:min(n, reportLines)], ", ")
				if n > reportLines {
					ids += ", ..."
				}
				fmt.Fprintf(out, "%d attachment(s) had no content in the old directory (%s): marked contentMissing; if you find a file, add it with kvtool attach add FILE --id ID\n", n, ids)
			}
			printUnreadableTimes(out, &res.ImportResult)
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

// reportLines is how many entries of each list of the migration report
// the human output shows; --json has them all.
const reportLines = 10

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
			fmt.Fprintf(out, "  %s\n", l)
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
	list("video chapters recovered", rep.ChaptersRecovered)
}

func newReindexCommand(g *globals) *cobra.Command {
	var searchIx, secondaryIx bool
	cmd := &cobra.Command{
		Use:   "reindex [--search] [--secondary]",
		Short: "Rebuild derived data from the primary data",
		Long: `reindex rebuilds derived data from the documents: --secondary the metadata
summaries and secondary indexes (after a verified backup), --search the
full-text index. With neither flag it rebuilds both.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if !searchIx && !secondaryIx {
				searchIx, secondaryIx = true, true
			}
			db, err := g.openExisting()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			n := 0
			if secondaryIx {
				k, err := db.ReindexSecondary(cmd.Context())
				if err != nil {
					return err
				}
				n += k
			}
			if searchIx {
				k, err := db.ReindexSearch(cmd.Context())
				if err != nil {
					return err
				}
				if !secondaryIx {
					n = k
				}
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), map[string]int{"indexed": n})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "reindexed %d documents\n", n)
			return nil
		},
	}
	cmd.Flags().BoolVar(&searchIx, "search", false, "rebuild the full-text index")
	cmd.Flags().BoolVar(&secondaryIx, "secondary", false, "rebuild metadata and secondary indexes")
	return cmd
}
