package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
	// ReasonDamaged marks, in ListBackups, a damaged data file a restore
	// set aside: not a backup.
	ReasonDamaged = "damaged"
)

func (db *DB) backupsDir() string { return filepath.Join(db.dir, BackupsDir) }

// Backup takes a hot backup while writers go on, in one read of the store:
// the copy, its SHA-256, every checksum and the counts come from the
// snapshot's transaction, which must have no problem; then it rotates the
// backups. The copy's structure is checked by VerifyBackup and by Restore,
// which verify the whole file first (Manifest.Checked says what Backup
// checked). Any failure is returned, and leaves no partial file.
func (db *DB) Backup(ctx context.Context, reason string) (Manifest, error) {
	if err := db.enter(); err != nil {
		return Manifest{}, err
	}
	defer db.leave()
	m, err := db.backupLocked(ctx, reason)
	db.noteBackup(m, err)
	return m, err
}

// LockBackups waits for, and holds until unlock is called, the lock that
// serializes writes in the store's backups directory across goroutines and
// processes (see snapshot.Lock): code that copies a backup in from
// elsewhere holds it until the backup's manifest is written, so that no
// rotation meanwhile takes the data file for debris.
func (db *DB) LockBackups() (unlock func(), err error) { return snapshot.Lock(db.backupsDir()) }

// backupLocked takes a backup and rotates, keeping the backups named in
// keep; the caller holds db.mu (read or write), not the backups lock.
func (db *DB) backupLocked(ctx context.Context, reason string, keep ...string) (Manifest, error) {
	unlock, err := snapshot.Lock(db.backupsDir())
	if err != nil {
		return Manifest{}, fmt.Errorf("cairn: backup (%s): %w", reason, err)
	}
	defer unlock()
	return db.backupInLock(ctx, reason, keep...)
}

// backupInLock is backupLocked for a caller holding the backups lock too.
func (db *DB) backupInLock(ctx context.Context, reason string, keep ...string) (Manifest, error) {
	var m Manifest
	// Guarded: on a damaged page bbolt panics (a page whose header names
	// another), and a restore must go on to set the damaged file aside.
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return guardRead(func() error {
			seq, last := logState(tx)
			var blobs []string
			if b := buckets.Lookup(tx, buckets.RefsBucket); b != nil {
				_ = b.ForEach(func(k, _ []byte) error {
					blobs = append(blobs, string(k))
					return nil
				})
			}
			var err error
			m, err = snapshot.Create(ctx, tx, db.backupsDir(), snapshot.CreateOptions{
				Reason: reason, Seq: seq, LastChange: last, Blobs: blobs, FormatVersion: buckets.FormatVersion, Now: db.opts.Now,
				Verify: buckets.VerifyChecksums, CheckPages: true,
			})
			return err
		})
	})
	if err != nil {
		return Manifest{}, fmt.Errorf("cairn: backup (%s): %w", reason, err)
	}
	removed, err := snapshot.Prune(db.backupsDir(), db.opts.BackupPolicy, db.opts.Now(), keep...)
	if err != nil {
		return m, fmt.Errorf("cairn: backup %s was taken and verified, but rotation failed: %w", m.Name, err)
	}
	db.releaseRotatedBlobs(removed)
	return m, nil
}

// releaseRotatedBlobs deletes the blobs that only the backups rotation
// removed referred to (docs/DESIGN.md invariant 6: a blob is deleted when
// no entity and no retained backup refers to it), as gc would: otherwise
// the content an attachment replaced stayed behind as an orphan that
// check reported, after nothing but ordinary use. Best effort: what it
// leaves, gc removes. Like gc, it deletes nothing while a set-aside file
// or a damaged meta page may hold references no count shows.
func (db *DB) releaseRotatedBlobs(removed []Manifest) {
	var hashes []string
	for _, m := range removed {
		hashes = append(hashes, m.Blobs...)
	}
	if len(hashes) == 0 || db.opts.ReadOnly {
		return
	}
	if lines, _ := snapshot.DamagedMeta(db.Path()); len(AsideFiles(db.dir)) > 0 || len(lines) > 0 || db.metaDamagedAtOpen {
		return
	}
	_, _, _, _ = db.deleteUnreferenced(hashes, true) // best effort: gc removes what is left
}

// logState returns the change-log sequence tx holds and the time of its
// newest entry (zero when the log is empty).
func logState(tx *bolt.Tx) (seq uint64, last time.Time) {
	b := buckets.Lookup(tx, buckets.LogBucket)
	if b == nil {
		return 0, time.Time{}
	}
	if k, v := b.Cursor().Last(); k != nil {
		if ch, err := buckets.DecodeChange(k, v); err == nil {
			last = time.UnixMilli(ch.TimeMs).UTC()
		}
	}
	return b.Sequence(), last
}

// Backups lists the backups, newest first. A damaged one is listed with
// Verified false and its Problem.
func (db *DB) Backups(ctx context.Context) ([]Manifest, error) { return listBackups(db.backupsDir()) }

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
func (db *DB) PruneBackups(ctx context.Context) ([]Manifest, error) {
	unlock, err := snapshot.Lock(db.backupsDir())
	if err != nil {
		return nil, err
	}
	defer unlock()
	removed, err := snapshot.Prune(db.backupsDir(), db.opts.BackupPolicy, db.opts.Now())
	db.releaseRotatedBlobs(removed)
	return removed, err
}

// Restore replaces the store's data with backup name: it verifies the
// backup (a failure is ErrBackupInvalid and changes nothing), refuses one
// from a newer format, takes a verified pre-restore backup of the current
// state, copies the backup beside data.db and renames it over data.db
// (atomic: a crash at any point leaves the old or the new state), reopens,
// and has the search index rebuilt in the background (searches wait for
// it; Close interrupts it and the next open resumes it).
//
// It returns the restored backup's manifest and where the previous state
// went: the name of the pre-restore backup or, when the current data is
// damaged (the pre-restore backup found values failing their checksums),
// the path of the damaged file, kept beside the store as
// data.db.damaged-<time> (never a backup, never rotated; listed by
// ListBackups) since no verified backup can be taken of it.
func (db *DB) Restore(ctx context.Context, name string) (restored Manifest, previous string, err error) {
	if db.opts.ReadOnly {
		return Manifest{}, "", ErrReadOnly
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return Manifest{}, "", ErrClosed
	}
	// From the verification to the copy, no rotation (this one's or
	// another process's) may remove the backup.
	unlock, err := snapshot.Lock(db.backupsDir())
	if err != nil {
		return Manifest{}, "", err
	}
	defer func() {
		if unlock != nil {
			unlock()
		}
	}()
	m, src, err := restorable(ctx, db.backupsDir(), name)
	if err != nil {
		return m, "", err
	}
	var r replacement
	pm, err := db.backupInLock(ctx, ReasonPreRestore, name) // its rotation must not remove name
	switch {
	case err == nil:
		previous = pm.Name
	case damagedSource(err):
		r.keepAs = damagedName(db.Path(), db.opts.Now())
		previous = r.keepAs
	default:
		return m, "", fmt.Errorf("cairn: restore refused: the pre-restore backup failed: %w", err)
	}
	tmp := db.Path() + ".restore"
	if err := snapshot.CopyFile(ctx, src, tmp); err != nil {
		_ = os.Remove(tmp)
		return m, "", fmt.Errorf("cairn: restore %s: %w", name, err)
	}
	unlock()
	unlock = nil
	r.dropSearch = true // it describes the old data; rebuilt from the new
	if err := db.swapLocked(tmp, r); err != nil {
		_ = os.Remove(tmp)
		return m, "", fmt.Errorf("cairn: restore %s: %w", name, err)
	}
	return m, previous, nil
}

// damagedSource reports whether a failed backup failed because the store
// itself is damaged (values failing their checksums, pages that cannot be
// read), as opposed to the disk or the copy.
func damagedSource(err error) bool {
	var ve *snapshot.VerifyError
	return errors.As(err, &ve) && ve.Stage == "source" || errors.Is(err, ErrCorrupt)
}

// DamagedPrefix starts the name of a damaged data file that a restore set
// aside in the store directory: data.db.damaged-<UTC time>.
const DamagedPrefix = DataFile + ".damaged-"

const damagedTimeFormat = "20060102T150405.000000000Z"

// damagedName is the path a damaged data.db is kept at when a restore
// replaces it at time now.
func damagedName(path string, now time.Time) string {
	return path + ".damaged-" + now.UTC().Format(damagedTimeFormat)
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
	_ = buckets.UngatePages(db.bolt) // closes a read-only file
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
	Before int64  `json:"before"` // bytes of data.db before
	After  int64  `json:"after"`  // bytes of data.db after (Before when not Replaced)
	Backup string `json:"backup"` // the pre-compact backup
	// Replaced tells whether the compacted file replaced data.db. It does
	// only when it is smaller: compaction never leaves a larger file.
	Replaced bool `json:"replaced"`
}

// Compact takes a verified backup, rewrites the store into a new file
// without free pages, its regions in the layout order of package
// buckets, verifies it (structure, checksums, counts), and swaps it in
// atomically if it is smaller than data.db; otherwise it removes it and
// leaves data.db as it was (Replaced false).
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
	pm, err := db.backupLocked(ctx, ReasonPreCompact)
	if err != nil {
		return res, fmt.Errorf("cairn: compact refused: the pre-compact backup failed: %w", err)
	}
	res.Backup = pm.Name
	replaced, before, after, err := db.compactLocked(ctx, pm.Counts)
	res.Replaced, res.Before, res.After = replaced, before, after
	if err != nil {
		return res, fmt.Errorf("cairn: compact: %w", err)
	}
	return res, nil
}

// compactLocked writes a compacted copy of the store, verifies it (and
// its counts when want is not nil) and swaps it in if it is smaller than
// data.db. It returns whether it did and the file's sizes before and
// after. The caller holds db.mu for writing.
func (db *DB) compactLocked(ctx context.Context, want map[string]int) (replaced bool, before, after int64, err error) {
	fi, err := os.Stat(db.Path())
	if err != nil {
		return false, 0, 0, err
	}
	before, after = fi.Size(), fi.Size()
	db.commit.drain()
	tmp := db.Path() + ".compact"
	if err := snapshot.Compact(ctx, db.bolt, tmp, 64<<20); err != nil {
		return false, before, after, err
	}
	if err := verifyFile(tmp, want); err != nil {
		_ = os.Remove(tmp)
		return false, before, after, fmt.Errorf("the compacted file failed verification, store unchanged: %w", err)
	}
	cfi, err := os.Stat(tmp)
	if err != nil {
		_ = os.Remove(tmp)
		return false, before, after, err
	}
	if cfi.Size() >= before {
		// Not smaller: keep the original (its free pages serve later
		// writes just as well).
		if err := os.Remove(tmp); err != nil {
			return false, before, after, err
		}
		return false, before, after, nil
	}
	if err := db.swapLocked(tmp, replacement{}); err != nil {
		_ = os.Remove(tmp)
		return false, before, after, err
	}
	if fi, err := os.Stat(db.Path()); err == nil {
		after = fi.Size()
	}
	return true, before, after, nil
}

// checkCopy opens a bbolt file written as a copy of a verified source
// read-only and checks its structure, every value's checksum and its
// document counts against want, the source's.
func checkCopy(path string, want map[string]int) error {
	return checkFileWith(path, buckets.VerifyChecksums, want)
}

// verifyFile opens a bbolt file read-only and checks its structure, every
// value (decoded), and, if want is not nil, its document counts.
func verifyFile(path string, want map[string]int) error {
	return checkFileWith(path, buckets.VerifyTx, want)
}

func checkFileWith(path string, verify func(*bolt.Tx) (map[string]int, []buckets.Problem), want map[string]int) error {
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer bdb.Close()
	return bdb.View(func(tx *bolt.Tx) error {
		_, err := checkTx(tx, verify, want)
		return err
	})
}

// checkTx runs bbolt's structural check and verify over tx, and compares
// the document counts of the collections in want (if not nil) with it.
// It returns the counts.
func checkTx(tx *bolt.Tx, verify func(*bolt.Tx) (map[string]int, []buckets.Problem), want map[string]int) (map[string]int, error) {
	for err := range tx.Check() {
		return nil, err
	}
	counts, problems := verify(tx)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%d problem(s), first: %s", len(problems), problems[0])
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if counts[k] != want[k] {
			return nil, fmt.Errorf("%s has %d documents, expected %d", k, counts[k], want[k])
		}
	}
	return counts, nil
}

// keepDamagedMeta keeps a copy of the data file at path, as it stands,
// when one of its meta pages is damaged beyond repair (snapshot.DamagedMeta)
// and the store is opened for writing: bbolt reads the other page, and its
// next commit writes over the damaged one, which may have held the newest
// commit, and so over the only trace of it. The copy is a damaged file set
// aside (DamagedPrefix, listed by backup list, salvageable like the one a
// restore sets aside), made once for each damaged state: when the newest
// such file begins with the same meta pages and has the same size (no
// commit since), nothing is copied. It returns the copy's path ("" when
// none was made); an error when one was needed and could not be made.
func keepDamagedMeta(path string, now time.Time) (string, error) {
	lines, err := snapshot.DamagedMeta(path)
	if err != nil || len(lines) == 0 {
		return "", nil // nothing damaged, or bbolt's open reports what does not read
	}
	dir := filepath.Dir(path)
	if aside := AsideFiles(dir); len(aside) > 0 && sameStart(path, filepath.Join(dir, aside[len(aside)-1])) {
		return "", nil
	}
	kept := damagedName(path, now)
	if err := snapshot.CopyFile(context.Background(), path, kept); err != nil {
		return "", fmt.Errorf("%w: %s: %s; keeping a copy of it before a write overwrites that page failed: %v (nothing was written; free space for a copy, or open the store read-only)", ErrCorrupt, path, lines[0], err)
	}
	return kept, nil
}

// sameStart reports whether the files at a and b have the same size and
// the same first 128 KiB: both meta pages at every page size bbolt uses.
func sameStart(a, b string) bool {
	read := func(p string) ([]byte, int64) {
		f, err := os.Open(p)
		if err != nil {
			return nil, -1
		}
		defer func() { _ = f.Close() }() // read-only
		fi, err := f.Stat()
		if err != nil {
			return nil, -1
		}
		buf := make([]byte, min(fi.Size(), 128<<10))
		if _, err := io.ReadFull(f, buf); err != nil {
			return nil, -1
		}
		return buf, fi.Size()
	}
	ab, as := read(a)
	bb, bs := read(b)
	return as >= 0 && as == bs && bytes.Equal(ab, bb)
}
