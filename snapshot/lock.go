package snapshot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cairnkv/cairn/internal/fsutil"
)

// LockFile, in a backups directory, is the file Lock locks.
const LockFile = ".lock"

// Lock serializes what writes in the backups directory dir across
// goroutines and processes: taking a backup and rotating (Create, Prune),
// copying one in (a restore's source, a backup pulled from elsewhere).
// It waits for the lock and returns the function that releases it.
// Without it, one backup's rotation takes another's temporary files, or a
// pulled data file not yet given its manifest, for debris, and the
// rotation after a pre-restore backup could remove the backup being
// restored. dir is created if needed and refused if it is a symbolic
// link, as Create refuses it. The lock is an flock on LockFile, taken
// through an open file of its own, so two goroutines of one process
// exclude each other as two processes do.
func Lock(dir string) (unlock func(), err error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cairn: backups: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cairn: backups: %w", err)
	}
	if err := lockWait(f); err != nil {
		_ = f.Close() // nothing was locked
		return nil, fmt.Errorf("cairn: lock %s: %w", f.Name(), err)
	}
	return func() { _ = f.Close() }, nil // closing the file releases its flock
}

// RemoveDebris removes from the backups directory dir what interrupted
// backups left (a killed Create's temporary copy is as large as the
// store; they piled up until the next rotation), when no one holds the
// backups lock: a backup in progress, in this process or another, keeps
// its files. It reports what it removed; a missing dir is nothing to do.
func RemoveDebris(dir string) (removed int, err error) {
	if err := checkDir(dir); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|noFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // no backup was ever taken here
	}
	if err != nil {
		return 0, fmt.Errorf("cairn: backups: %w", err)
	}
	defer func() { _ = f.Close() }() // releases the flock
	if ok, err := lockNow(f); err != nil || !ok {
		return 0, err // busy: its files are in use
	}
	ms, debris, err := removeDebris(dir)
	n := len(ms)
	if debris {
		n++
	}
	if n > 0 && err == nil {
		err = fsutil.SyncDir(dir)
	}
	return n, err
}
