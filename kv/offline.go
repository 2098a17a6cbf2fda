package kv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/snapshot"
)

// These functions work on a store directory without opening data.db, so
// that a store whose data file is damaged can still list, verify and be
// restored from its backups.

// ListBackups lists the backups of the store in dir, newest first, then
// the damaged data files restores set aside (DamagedPrefix), with Reason
// ReasonDamaged: they are not backups and cannot be restored, but hold
// what a salvage may still read.
func ListBackups(dir string) ([]Manifest, error) {
	if err := checkStoreFile(dir, filepath.Join(dir, DataFile)); err != nil && !isMissingData(err) {
		return nil, err
	}
	ms, err := listBackups(filepath.Join(dir, BackupsDir))
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cairn: list %s: %w", dir, err)
	}
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), DamagedPrefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		t, err := time.Parse(damagedTimeFormat, stamp)
		if err != nil {
			if t, err = time.Parse("20060102T150405Z", stamp); err != nil { // before 2026-12
				continue // not named by a restore
			}
		}
		m := Manifest{Name: e.Name(), Time: t, Reason: ReasonDamaged, Problem: "damaged data file set aside (by a restore, or before a write over a damaged meta page): not a backup"}
		if fi, err := e.Info(); err == nil {
			m.Size = fi.Size()
		}
		ms = append(ms, m)
	}
	// Backups first, newest first, so that the first entry is the newest
	// backup; the damaged files after them, newest first too.
	sort.SliceStable(ms, func(i, j int) bool {
		if di, dj := ms[i].Reason == ReasonDamaged, ms[j].Reason == ReasonDamaged; di != dj {
			return dj
		}
		return ms[i].Time.After(ms[j].Time)
	})
	return ms, nil
}

// VerifyBackupIn verifies backup name of the store in dir (see
// DB.VerifyBackup).
func VerifyBackupIn(ctx context.Context, dir, name string) (Manifest, []Problem, error) {
	if err := checkStoreFile(dir, filepath.Join(dir, DataFile)); err != nil && !isMissingData(err) {
		return Manifest{}, nil, err
	}
	return snapshot.Verify(ctx, filepath.Join(dir, BackupsDir), name, buckets.VerifyChecksums)
}

// RestoreDamaged restores backup name into the store in dir when data.db
// cannot be opened because it is damaged (Open fails with ErrCorrupt), or
// says it has a format newer than this Cairn's (ErrNewerFormat: a newer
// Cairn's store, or a damaged format byte; the file is kept either way):
// it verifies the backup, keeps the damaged file beside the store as
// data.db.damaged-<time> (no pre-restore backup can be taken of a file
// that does not open), copies the backup in and renames it over data.db
// atomically, and removes the search index so the next open rebuilds it.
// It refuses a store that opens: use DB.Restore then.
func RestoreDamaged(ctx context.Context, dir, name string) (Manifest, string, error) {
	path := filepath.Join(dir, DataFile)
	missing := false
	if err := checkStoreFile(dir, path); isMissingData(err) {
		missing = true // nothing to keep aside
	} else if err != nil {
		return Manifest{}, "", err
	}
	if db, err := Open(dir, &Options{NoSearch: true, MustExist: true, Timeout: time.Second}); err == nil {
		_ = db.Close() // it opens: not damaged
		return Manifest{}, "", fmt.Errorf("cairn: %s opens; restore it with DB.Restore (which backs it up first)", path)
	} else if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNewerFormat) {
		return Manifest{}, "", err
	}
	lock, err := acquireStoreLock(dir, true, DefaultOptions().Timeout)
	if err != nil {
		return Manifest{}, "", err
	}
	defer lock.release()
	unlock, err := snapshot.Lock(filepath.Join(dir, BackupsDir)) // no rotation removes name meanwhile
	if err != nil {
		return Manifest{}, "", err
	}
	m, src, err := restorable(ctx, filepath.Join(dir, BackupsDir), name)
	if err != nil {
		unlock()
		return m, "", err
	}
	tmp := path + ".restore"
	err = snapshot.CopyFile(ctx, src, tmp)
	unlock()
	if err != nil {
		_ = os.Remove(tmp)
		return m, "", fmt.Errorf("cairn: restore %s: %w", name, err)
	}
	kept := damagedName(path, time.Now())
	if missing {
		kept = ""
	}
	if err := lock.replaceData(tmp, replacement{keepAs: kept, dropSearch: true}); err != nil {
		_ = os.Remove(tmp)
		return m, "", fmt.Errorf("cairn: restore %s: %w", name, err)
	}
	return m, kept, nil
}

// isMissingData reports whether err says data.db is missing beside backups.
func isMissingData(err error) bool {
	var m *missingDataError
	return errors.As(err, &m)
}
