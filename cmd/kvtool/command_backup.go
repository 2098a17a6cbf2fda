package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/spf13/cobra"
)

func newBackupCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use: "backup",
		Example: `  kvtool backup create
  kvtool backup list --verify`,
		Short: "Create, list, verify, restore and prune verified backups",
		Long: `backup manages the store's backups in <store>/backups: hot snapshots taken
while writers go on, each verified before it counts (every checksum of the
snapshot it copies passes, the counts match, and the copy's SHA-256 is read
back from disk; the manifest's "checked" says which), with a manifest
beside it, and rotated (newest 10, one a day for a week, one a week for a
month). backup verify, backup list --verify and backup restore check the
whole copy again: it opens, bbolt's check passes, every checksum passes.`,
		Args: cobra.ArbitraryArgs,
		RunE: needSubcommand,
	}
	cmd.AddCommand(newBackupCreate(g), newBackupList(g), newBackupVerify(g), newBackupRestore(g), newBackupPrune(g), newBackupPush(g), newBackupPull(g))
	return cmd
}

func newBackupCreate(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "create",
		Example: `  kvtool backup create
  kvtool --json backup create`,
		Short: "Take a hot backup and verify it",
		Long:  `create takes a hot snapshot of the store, verifies it, writes its manifest, and rotates old backups. It prints the manifest.`,
		Args:  argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			db, err := g.openExisting()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			stop := activity(cmd.ErrOrStderr(), "backup")
			m, err := db.Backup(cmd.Context(), kv.ReasonManual)
			stop()
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), m)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup %s: %s, verified, %d documents, sequence %d\n", m.Name, humanBytes(m.Size), total(m.Counts), m.Seq)
			return nil
		},
	}
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// listedBackup is a manifest as backup list --json prints it: with its
// age, in whole seconds, at the time of the listing.
type listedBackup struct {
	kv.Manifest
	Age int64 `json:"age"`
}

func newBackupList(g *globals) *cobra.Command {
	var verify bool
	var nf natsFlags
	cmd := &cobra.Command{
		Use: "list [--verify] [--nats URL]",
		Example: `  kvtool backup list
  kvtool backup list --verify
  kvtool backup list --nats nats://127.0.0.1:4222`,
		Short: "List backups, newest first",
		Long: `list prints every backup, newest first: name, time, age, size, document
counts, reason, and its verification. A backup is verified when it is taken;
list then rechecks only its manifest and size, and says when the recorded
verification was done. --verify re-reads every byte of every backup (SHA-256,
structure, every checksum, counts) and reports what it finds now.

Damaged data files that a restore set aside (data.db.damaged-<time>) are
listed too, with reason "damaged": they are not backups.

With --nats URL it lists the backups pushed to that NATS JetStream object
store instead (backup push), oldest first, as they were verified when pushed.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if nf.url != "" {
				return listRemoteBackups(cmd, g, &nf)
			}
			// Without opening data.db: a damaged store still lists its backups.
			ms, err := kv.ListBackups(g.db)
			if err != nil {
				return err
			}
			if verify {
				for i, m := range ms {
					if m.Reason == kv.ReasonDamaged {
						continue
					}
					vm, problems, err := kv.VerifyBackupIn(cmd.Context(), g.db, m.Name)
					if err != nil {
						return err
					}
					ms[i].Verified, ms[i].VerifiedAt, ms[i].Problem = vm.Verified, vm.VerifiedAt, ""
					if len(problems) > 0 {
						ms[i].Problem = fmt.Sprintf("%d problem(s), first: %s", len(problems), problems[0])
					}
				}
			}
			var failed error
			for _, m := range ms {
				if verify && m.Reason != kv.ReasonDamaged && !m.Verified {
					failed = integrityError{fmt.Sprintf("backup %s failed verification: do not restore it", m.Name)}
					break
				}
			}
			if g.json {
				out := make([]listedBackup, len(ms))
				now := time.Now()
				for i, m := range ms {
					out[i] = listedBackup{Manifest: m, Age: int64(now.Sub(m.Time) / time.Second)}
				}
				if err := printJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
				return failed
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tTIME\tAGE\tSIZE\tDOCS\tREASON\tVERIFIED")
			now := time.Now()
			for _, m := range ms {
				v := "yes, " + ago(now, m.VerifiedAt)
				switch {
				case m.Reason == kv.ReasonDamaged:
					v = "not a backup (damaged data set aside by a restore)"
				case !m.Verified:
					v = "NO: " + m.Problem
				case verify:
					v = "yes, rechecked now"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", m.Name, m.Time.Local().Format("2006-01-02 15:04:05"), ago(now, m.Time), humanBytes(m.Size), total(m.Counts), m.Reason, v)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			note := " (verifications as recorded when taken; --verify rechecks every byte)"
			if verify {
				note = " (every byte rechecked)"
			}
			// A damaged data file set aside by a restore is listed, never
			// counted as a backup (docs/KVTOOL.md).
			n, aside := 0, 0
			for _, m := range ms {
				if m.Reason == kv.ReasonDamaged {
					aside++
				} else {
					n++
				}
			}
			if aside > 0 {
				note += fmt.Sprintf("; %d damaged data file(s) set aside by a restore, not backups", aside)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d backup(s)%s\n", n, note)
			return failed
		},
	}
	cmd.Flags().BoolVar(&verify, "verify", false, "re-read and verify every backup now")
	nf.add(cmd)
	return cmd
}

type verifyResult struct {
	OK       bool         `json:"ok"`
	Name     string       `json:"name"`
	Problems []kv.Problem `json:"problems"`
	Manifest *kv.Manifest `json:"manifest,omitempty"`
}

func newBackupVerify(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "verify NAME",
		Example: `  kvtool backup verify 20261205T085344.697410197Z`,
		Short:   "Verify a backup again (exit 3 if it fails)",
		Long:    `verify re-reads backup NAME: its manifest, size and SHA-256, bbolt's structural check, every value's checksum, and the counts. Exit 3 naming each problem if it fails; exit 1 if there is no such backup.`,
		Args:    argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			m, problems, err := kv.VerifyBackupIn(cmd.Context(), g.db, args[0])
			if err != nil {
				return err
			}
			res := verifyResult{OK: len(problems) == 0, Name: args[0], Problems: problems, Manifest: &m}
			if res.Problems == nil {
				res.Problems = []kv.Problem{}
			}
			if g.json {
				if err := printJSON(cmd.OutOrStdout(), res); err != nil {
					return err
				}
			} else {
				for _, p := range problems {
					fmt.Fprintln(cmd.OutOrStdout(), p.String())
				}
				if res.OK {
					fmt.Fprintf(cmd.OutOrStdout(), "ok: backup %s verified (%s, %d documents)\n", m.Name, humanBytes(m.Size), total(m.Counts))
				}
			}
			if !res.OK {
				return integrityError{fmt.Sprintf("backup %s failed verification with %d problem(s): do not restore it", args[0], len(problems))}
			}
			return nil
		},
	}
}

func newBackupRestore(g *globals) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use: "restore NAME [--yes]",
		Example: `  kvtool backup restore 20261205T085344.697410197Z
  kvtool backup restore 20261205T085344.697410197Z --yes`,
		Short: "Verify a backup, back up the current state, then restore",
		Long: `restore verifies backup NAME (exit 3 if it fails), takes a verified
backup of the current state, then replaces the store's data with NAME
atomically. The search index is rebuilt from the restored data afterwards:
the next commands go on with it, and a search waits for it (letting a
writer that waits for the store go first).

If the current data is damaged (it does not open, or values fail their
checksums, so no verified backup can be taken of it), the damaged data.db
is set aside as data.db.damaged-<time> in the store directory instead
(never counted as a backup; backup list shows it) and NAME is restored.

Without --yes it asks for confirmation on a terminal and refuses otherwise.`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			name := args[0]
			if !yes {
				if err := confirm(g, fmt.Sprintf("Replace the data in %s with backup %s?", g.db, name)); err != nil {
					return err
				}
			}
			db, err := g.openExisting()
			if errors.Is(err, kv.ErrCorrupt) || errors.Is(err, kv.ErrNewerFormat) {
				// data.db is too damaged to open, or of a format this
				// Cairn cannot read: restore without it, keeping the file
				// beside the store.
				m, kept, rerr := kv.RestoreDamaged(cmd.Context(), g.db, name)
				if kept == "" {
					return restored(g, cmd, m, rerr, restoreOutput{}, "data.db was missing")
				}
				return restored(g, cmd, m, rerr, restoreOutput{DamagedKeptAs: kept}, "the damaged data file is kept as "+kept)
			}
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			m, previous, rerr := db.Restore(cmd.Context(), name)
			if strings.Contains(filepath.Base(previous), ".damaged-") {
				return restored(g, cmd, m, rerr, restoreOutput{DamagedKeptAs: previous}, "the current data was damaged and is kept as "+previous)
			}
			return restored(g, cmd, m, rerr, restoreOutput{PreviousBackup: previous}, "the previous state is backup "+previous)
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	return cmd
}

// restoreOutput is what backup restore --json prints besides the
// manifest restored: where the replaced state went.
type restoreOutput struct {
	kv.Manifest
	// PreviousBackup is the pre-restore backup: the state the restore
	// replaced, writes it undid included.
	PreviousBackup string `json:"previous_backup,omitempty"`
	// DamagedKeptAs is the damaged data file set aside instead, when no
	// backup of it could be taken.
	DamagedKeptAs string `json:"damaged_kept_as,omitempty"`
}

// restored reports a restore: a backup that failed verification is an
// integrity error (exit 3), otherwise the manifest and where the replaced
// state went.
func restored(g *globals, cmd *cobra.Command, m kv.Manifest, err error, out restoreOutput, previous string) error {
	if err != nil {
		if errors.Is(err, kv.ErrBackupInvalid) {
			return integrityError{err.Error()}
		}
		return err
	}
	if g.json {
		out.Manifest = m
		return printJSON(cmd.OutOrStdout(), out)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "restored %s (%d documents); %s\n", m.Name, total(m.Counts), previous)
	return nil
}

func newBackupPrune(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "prune",
		Example: `  kvtool backup prune`,
		Short:   "Apply the rotation policy now",
		Long:    `prune deletes the backups the rotation policy does not keep (newest 10, one a day for 7 days, one a week for 4 weeks; never the newest verified one) and debris of interrupted backups. A backup whose manifest is damaged beside its data file is never deleted, by prune or by the rotation after a backup: backup list shows it, backup verify says what is wrong, and removing it is yours to do.`,
		Args:    argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			db, err := g.openExisting()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			removed, err := db.PruneBackups(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				if removed == nil {
					removed = []kv.Manifest{}
				}
				return printJSON(cmd.OutOrStdout(), removed)
			}
			for _, m := range removed {
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s (%s)\n", m.Name, m.Reason)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d backup(s) removed\n", len(removed))
			return nil
		},
	}
}

func newCompactCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "compact",
		Example: `  kvtool compact
  kvtool --json compact`,
		Short: "Back up, then rewrite the file without free pages",
		Long:  `compact takes a verified backup, writes a compacted copy of the store, verifies it (structure, every checksum, counts) and swaps it in atomically if it is smaller than the store's file; otherwise it leaves the file as it was (compaction never leaves a larger file). It prints the sizes before and after.`,
		Args:  argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			db, err := g.openExisting()
			if err != nil {
				return err
			}
			defer closeDB(db, &err)
			stop := activity(cmd.ErrOrStderr(), "compact")
			res, err := db.Compact(cmd.Context())
			stop()
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			if !res.Replaced {
				fmt.Fprintf(cmd.OutOrStdout(), "kept %s: a compacted copy would not be smaller (backup %s)\n", humanBytes(res.Before), res.Backup)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "compacted %s → %s (backup %s)\n", humanBytes(res.Before), humanBytes(res.After), res.Backup)
			return nil
		},
	}
}
