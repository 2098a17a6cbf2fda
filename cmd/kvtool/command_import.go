package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/cairnkv/cairn/legacy"
	"github.com/spf13/cobra"
)

type importOutput struct {
	Counts          map[string]int `json:"counts"`
	Unchanged       map[string]int `json:"unchanged"`
	Kept            map[string]int `json:"kept_newer"`
	WithoutContent  []string       `json:"attachments_without_content,omitempty"`
	UnreadableTimes []string       `json:"unreadable_times,omitempty"`
	KeptStored      []string       `json:"kept_stored,omitempty"`
	Backup          string         `json:"backup"`
	DryRun          bool           `json:"dry_run"`
}

func newImportCommand(g *globals) *cobra.Command {
	var dryRun, yes bool
	cmd := &cobra.Command{
		Use: "import FILE [--dry-run] [--yes]",
		Example: `  kvtool import export.json --dry-run
  kvtool import export.json --yes`,
		Short: "Validate an export file, back up, then merge it in atomically",
		Long: `import reads an export file (format 1.0.0, or the older shape without a
version) and validates all of it first: errors name the JSON path and byte
offset, and nothing is written (nor a store created where there was
none, by a refused file, a dry run, a failure or Ctrl-C). Then it takes a
verified backup and merges
the file in: each entity by id, writing the imported version only when it is
newer: both carry a time (updatedAt, else lastUpdated, read as kvtool
query reads times, digits below the millisecond breaking a tie) and the
imported one is later. Otherwise the stored version stays (counted in
kept_newer): on a tie (an edit that kept the time, such as kvtool patch's,
is not undone), and when the two cannot be ordered, because one or both
carry no time (tasks and sessions of the old app carry none) or one that
cannot be read; those are listed (kept_stored, unreadable_times). To take
an imported version over a stored one, delete the stored one first.
settings, aiSettings and preferences are merged member by member: the
members the store lacks are added, the others keep the store's values
(listed in kept_stored when they differ); extras are ordered by time like
documents. It prints the counts per collection. --dry-run stops after
printing what it would do. Running it twice writes nothing new.

The file must be exact JSON: invalid UTF-8, an escaped lone surrogate, a
member name given twice, the same id twice in one collection, or a
document over the store's size limit (refused as it is read, so memory
stays bounded whatever the file holds) is an error naming the JSON path
and byte offset, and nothing is written. A UTF-8 byte order mark at the
start of the file is skipped.

On a terminal, once the file is valid, import shows the counts and asks
before writing anything; any answer but y or yes (any case) writes
nothing (exit 1). --yes does not ask; off a terminal it does not ask
either.

A FIFO, /dev/stdin or a shell's <(...) is copied to a temporary file
first. When --db holds no store yet, the file is checked against an empty
one first, so that a refused file, a dry run or a "no" creates no store.

The file is read twice and never held in memory: the merge is written in
batches to a private copy of the store (data.db.stage) that replaces it only
when complete and verified, so an error, Ctrl-C or a crash changes nothing.
The disk needs room for a second copy of the store while it runs.`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			path := args[0]
			file, cleanup, err := importFile(g, path) // fail before opening the store
			if err != nil {
				return err
			}
			defer cleanup()
			opts := &legacy.ImportOptions{DryRun: dryRun, Progress: g.progressIn(true)}
			if isTerminal(cmd.ErrOrStderr()) || terminal(g) {
				opts.Validated = func(counts map[string]int) error {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s is valid: %s\n", path, mapLine(counts))
					return confirmImport(g, path, counts, yes, dryRun)
				}
			}
			var res *legacy.ImportResult
			if !g.storeExists() {
				// Check the file against an empty store first: a refused
				// file, a dry run or a "no" creates no store.
				scratch, done, err := scratchStore()
				if err != nil {
					return err
				}
				check := *opts
				check.DryRun = true
				res, err = legacy.ImportFile(cmd.Context(), scratch, file, &check)
				done()
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				opts.Validated = nil // asked already
			}
			if res == nil || !dryRun {
				created, before := !g.storeExists(), storeNamesPresent(g.db)
				db, err := g.openRW()
				if err != nil {
					return err
				}
				if afterImportOpen != nil {
					afterImportOpen()
				}
				var ierr error
				if res, ierr = legacy.ImportFile(cmd.Context(), db, file, opts); ierr != nil {
					cerr := db.Close() // the import's error is the one to report
					if created && cerr == nil {
						// An import that failed (Ctrl-C, say) wrote nothing:
						// it leaves no store where there was none, as migrate.
						removeNewStore(g.db, before)
					}
					return fmt.Errorf("%s: %w", path, ierr)
				}
				defer closeDB(db, &err)
			}
			o := importOutput{Counts: res.Counts, Unchanged: res.Unchanged, Kept: res.Kept, WithoutContent: res.WithoutContent,
				UnreadableTimes: res.UnreadableTimes, KeptStored: res.KeptStored, Backup: res.Backup, DryRun: dryRun}
			if g.json {
				if n := len(res.WithoutContent); n > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: %d attachment(s) came without their content (an export carries metadata only); check reports them until their files are added with kvtool attach add FILE --id ID\n", n)
				}
				return printJSON(cmd.OutOrStdout(), o)
			}
			verb := "imported"
			if dryRun {
				verb = "would import"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", verb, mapLine(res.Counts))
			fmt.Fprintf(cmd.OutOrStdout(), "unchanged: %s; kept stored versions (newer, or the two cannot be ordered by time): %s\n", mapLine(res.Unchanged), mapLine(res.Kept))
			printKeptStored(cmd.OutOrStdout(), res, "the imported")
			printUnreadableTimes(cmd.OutOrStdout(), res, "the stored version was kept")
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

// importFile returns the path import reads, twice: path itself for a
// regular file, else (a FIFO, /dev/stdin, a process substitution) a
// temporary copy of what it holds (unlinkedTemp: nothing of it outlives
// the process), which cleanup closes and removes. It fails for a
// path import cannot read, before the store is opened.
func importFile(g *globals, path string) (file string, cleanup func(), err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", nil, err
	}
	if fi.IsDir() {
		return "", nil, fmt.Errorf("%s is a directory", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close() // read only
	if fi.Mode().IsRegular() {
		return path, func() {}, nil
	}
	tmp, tmpPath, drop, err := unlinkedTemp("kvtool-import-*")
	if err != nil {
		return "", nil, fmt.Errorf("copy %s to a temporary file: %w", path, err)
	}
	cleanup = func() {
		_ = tmp.Close() // a temporary copy: only its removal matters
		drop()
	}
	if _, err = io.Copy(tmp, f); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("copy %s to a temporary file: %w", path, err)
	}
	return tmpPath, cleanup, nil
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

// afterImportOpen, when set (by tests), runs once import has opened the
// store it writes into.
var afterImportOpen func()
