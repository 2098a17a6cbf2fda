package kv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/snapshot"
	bolt "go.etcd.io/bbolt"
)

// BackupsDir is the directory of backups inside a store.
const BackupsDir = "backups"

// Manifest describes one backup: name, time, size, SHA-256, counts per
// collection, change-log sequence, format version, reason, the blob hashes
// it references, and whether it passed verification.
type Manifest = snapshot.Manifest

// BackupPolicy says which backups rotation keeps: the newest KeepLast
// (default 10), plus the newest of each of the last Daily days (default 7)
// and Weekly weeks (default 4). The newest verified backup is never
// deleted.
type BackupPolicy = snapshot.Policy

// Backup reasons (Manifest.Reason).
const (
	ReasonStartup    = snapshot.ReasonStartup
	ReasonShutdown   = snapshot.ReasonShutdown
	ReasonHourly     = snapshot.ReasonHourly
	ReasonManual     = snapshot.ReasonManual
	ReasonPreImport  = snapshot.ReasonPreImport
	ReasonPreMigrate = snapshot.ReasonPreMigrate
	ReasonPreRestore = snapshot.ReasonPreRestore
	ReasonPreCompact = snapshot.ReasonPreCompact
	ReasonPreReindex = snapshot.ReasonPreReindex
)

// Backup errors.
var (
	// ErrBackupNotFound: no backup of that name.
	ErrBackupNotFound = snapshot.ErrNotFound
	// ErrBackupInvalid: the backup failed verification; the error lists why.
	ErrBackupInvalid = snapshot.ErrVerify
)

func (db *DB) backupsDir() string { return filepath.Join(db.dir, BackupsDir) }

// Backup takes a hot backup while writers go on, verifies it (it opens,
// bbolt's check passes, every checksum passes, the counts equal those read
// in the snapshot's transaction) and then rotates the backups. Any failure
// is returned, and leaves no partial file.
func (db *DB) Backup(ctx context.Context, reason string) (Manifest, error) {
	if err := db.enter(); err != nil {
		return Manifest{}, err
	}
	defer db.leave()
	m, err := db.backupLocked(ctx, reason)
	db.noteBackup(m, err)
	return m, err
}

// backupLocked takes a backup; the caller holds db.mu (read or write).
func (db *DB) backupLocked(ctx context.Context, reason string) (Manifest, error) {
	var m Manifest
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var seq uint64
		if b := tx.Bucket(buckets.LogBucket); b != nil {
			seq = b.Sequence()
		}
		var blobs []string
		if b := tx.Bucket(buckets.RefsBucket); b != nil {
			_ = b.ForEach(func(k, _ []byte) error {
				blobs = append(blobs, string(k))
				return nil
			})
		}
		var err error
		m, err = snapshot.Create(ctx, tx, db.backupsDir(), snapshot.CreateOptions{
			Reason: reason, Seq: seq, Blobs: blobs, FormatVersion: buckets.FormatVersion, Now: db.opts.Now,
			Verify: buckets.VerifyChecksums,
		})
		return err
	})
	if err != nil {
		return Manifest{}, fmt.Errorf("cairn: backup (%s): %w", reason, err)
	}
	if _, err := snapshot.Prune(db.backupsDir(), db.opts.BackupPolicy, db.opts.Now()); err != nil {
		return m, fmt.Errorf("cairn: backup %s was taken and verified, but rotation failed: %w", m.Name, err)
	}
	return m, nil
}

// Backups lists the backups, newest first. A damaged one is listed with
// Verified false and its Problem.
func (db *DB) Backups() ([]Manifest, error) { return listBackups(db.backupsDir()) }

// listBackups lists the backups in bdir; none when it does not exist.
func listBackups(bdir string) ([]Manifest, error) {
	ms, err := snapshot.List(bdir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && ms == nil) {
		return []Manifest{}, nil
	}
	return ms, err
}

// VerifyBackup verifies a backup again, reading every byte. Problems mean
// it must not be trusted; err means it could not be checked (no such
// backup: ErrBackupNotFound).
func (db *DB) VerifyBackup(ctx context.Context, name string) (Manifest, []Problem, error) {
	return snapshot.Verify(ctx, db.backupsDir(), name, buckets.VerifyChecksums)
}

// PruneBackups applies the rotation policy now and returns what it removed.
func (db *DB) PruneBackups() ([]Manifest, error) {
	return snapshot.Prune(db.backupsDir(), db.opts.BackupPolicy, db.opts.Now())
}

// Restore replaces the store's data with backup name: it verifies the
// backup (a failure is ErrBackupInvalid and changes nothing), refuses one
// from a newer format, takes a verified pre-restore backup of the current
// state, copies the backup beside data.db and renames it over data.db
// (atomic: a crash at any point leaves the old or the new state), reopens,
// and rebuilds the search index. It returns the restored backup's manifest
// and the name of the pre-restore backup.
func (db *DB) Restore(ctx context.Context, name string) (restored Manifest, pre string, err error) {
	if db.opts.ReadOnly {
		return Manifest{}, "", ErrReadOnly
	}
	m, src, err := restorable(ctx, db.backupsDir(), name)
	if err != nil {
		return m, "", err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return m, "", ErrClosed
	}
	pm, err := db.backupLocked(ctx, ReasonPreRestore)
	if err != nil {
		return m, "", fmt.Errorf("cairn: restore refused: the pre-restore backup failed: %w", err)
	}
	tmp := db.Path() + ".restore"
	if err := snapshot.CopyFile(ctx, src, tmp); err != nil {
		_ = os.Remove(tmp)
		return m, pm.Name, fmt.Errorf("cairn: restore %s: %w", name, err)
	}
	if err := db.swapLocked(tmp, replacement{dropSearch: true}); err != nil {
		_ = os.Remove(tmp)
		return m, pm.Name, fmt.Errorf("cairn: restore %s: %w", name, err)
	}
	return m, pm.Name, nil
}

// restorable verifies backup name in bdir for a restore (every byte, and a
// format this Cairn reads) and returns its manifest and file.
func restorable(ctx context.Context, bdir, name string) (Manifest, string, error) {
	m, problems, err := snapshot.Verify(ctx, bdir, name, buckets.VerifyChecksums)
	if err != nil {
		return Manifest{}, "", err
	}
	if len(problems) > 0 {
		return m, "", &snapshot.VerifyError{Name: name, Problems: problems}
	}
	if err := snapshot.CheckFormat(m, buckets.FormatVersion); err != nil {
		return m, "", err
	}
	src, err := snapshot.Path(bdir, name)
	return m, src, err
}

// swapLocked replaces data.db with tmp: it stops the indexer, waits for
// writes in flight, closes the bbolt file, has the store lock replace the
// file (replaceData, the one way data.db is ever replaced), and reopens.
// The store lock stays held throughout, so a process waiting for the store
// opens the new file, never the replaced one. The caller holds db.mu for
// writing. A failure to reopen closes the DB.
func (db *DB) swapLocked(tmp string, r replacement) error {
	if err := db.stopIndexer(true); err != nil {
		return err
	}
	db.commit.drain()
	db.blobs.async.Wait()
	if err := db.bolt.Close(); err != nil {
		return err
	}
	db.bolt = nil
	serr := db.lock.replaceData(tmp, r)
	bdb, err := openBolt(db.Path(), db.opts, db.opts.Timeout)
	if err != nil {
		db.mu.closed = true
		return errors.Join(serr, fmt.Errorf("cairn: reopen after swap: %w", err), db.lock.release())
	}
	db.bolt = bdb
	if err := db.init(); err != nil {
		return errors.Join(serr, err)
	}
	if db.opts.EagerSearch {
		db.searchIndexer()
	}
	return serr
}

// CompactResult reports a compaction.
type CompactResult struct {
	Before int64  `json:"before"`
	After  int64  `json:"after"`
	Backup string `json:"backup"`
}

// Compact takes a verified backup, rewrites the store into a new file
// without free pages, verifies it (structure, checksums, counts), and swaps
// it in atomically.
func (db *DB) Compact(ctx context.Context) (CompactResult, error) {
	if db.opts.ReadOnly {
		return CompactResult{}, ErrReadOnly
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return CompactResult{}, ErrClosed
	}
	var res CompactResult
	if fi, err := os.Stat(db.Path()); err == nil {
		res.Before = fi.Size()
	}
	pm, err := db.backupLocked(ctx, ReasonPreCompact)
	if err != nil {
		return res, fmt.Errorf("cairn: compact refused: the pre-compact backup failed: %w", err)
	}
	res.Backup = pm.Name
	tmp := db.Path() + ".compact"
	if err := snapshot.Compact(ctx, db.bolt, tmp, 64<<20); err != nil {
		return res, fmt.Errorf("cairn: compact: %w", err)
	}
	if err := verifyFile(tmp, pm.Counts); err != nil {
		_ = os.Remove(tmp)
		return res, fmt.Errorf("cairn: compact: the compacted file failed verification, store unchanged: %w", err)
	}
	if err := db.swapLocked(tmp, replacement{}); err != nil {
		_ = os.Remove(tmp)
		return res, fmt.Errorf("cairn: compact: %w", err)
	}
	if fi, err := os.Stat(db.Path()); err == nil {
		res.After = fi.Size()
	}
	return res, nil
}

// verifyFile opens a bbolt file read-only and checks its structure, every
// checksum, and, if want is not nil, its document counts.
func verifyFile(path string, want map[string]int) error {
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer bdb.Close()
	return bdb.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		counts, problems := buckets.VerifyTx(tx)
		if len(problems) > 0 {
			return fmt.Errorf("%d problem(s), first: %s", len(problems), problems[0])
		}
		if want != nil {
			var keys []string
			for k := range want {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if counts[k] != want[k] {
					return fmt.Errorf("%s has %d documents, expected %d", k, counts[k], want[k])
				}
			}
		}
		return nil
	})
}
