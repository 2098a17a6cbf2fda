package snapshot

import (
	"fmt"
	"os"
	"path/filepath"
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
