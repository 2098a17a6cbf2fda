package kv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cairnkv/cairn/internal/fsutil"
)

// LockFile is the name of the store lock inside a store directory.
//
// bbolt locks data.db itself, but that lock belongs to one inode: when a
// compaction, restore, import or migration renames a new file over
// data.db, it must close bbolt first, and a process waiting for bbolt's
// lock would then win it on the old inode and commit into a file that no
// longer has a name. The store lock is a separate, never-replaced file
// that every Open takes before touching data.db (shared for a read-only
// open, exclusive otherwise) and holds until Close, across every
// replacement of data.db, so that a waiting process always opens the
// file that results.
const LockFile = "lock"

// storeLock is a held store lock. A nil *storeLock (a read-only open of a
// store whose directory cannot hold a lock file) holds nothing.
type storeLock struct {
	dir       string
	f         *os.File
	exclusive bool
	// base is the lock file's modification time once the lock was
	// taken: a writer waiting for the lock touches the file (see
	// acquireStoreLock), so a later time says one waits (wanted).
	base time.Time
}

// wantTouchEvery is how often a process waiting for the exclusive lock
// touches the lock file, telling the holder it waits (storeLock.wanted).
const wantTouchEvery = 250 * time.Millisecond

// acquireStoreLock takes the store lock of dir, exclusive or shared,
// waiting up to timeout for other processes to release it. A read-only
// opener that can neither create nor open the lock file (a read-only
// directory, where no writer can replace data.db either) proceeds without
// one.
func acquireStoreLock(dir string, exclusive bool, timeout time.Duration) (*storeLock, error) {
	path := filepath.Join(dir, LockFile)
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cairn: %s is not a regular file; refusing to use it as the store lock", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil && !exclusive {
		f, err = os.Open(path)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return nil, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cairn: open the store lock: %w", err)
	}
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	var touched time.Time
	for {
		ok, err := tryLock(f, exclusive)
		if err != nil {
			_ = f.Close() // the lock error is the one to report
			return nil, fmt.Errorf("cairn: lock %s: %w", path, err)
		}
		if ok {
			l := &storeLock{dir: dir, f: f, exclusive: exclusive}
			if fi, err := f.Stat(); err == nil {
				l.base = fi.ModTime()
			}
			return l, nil
		}
		if now := time.Now(); exclusive && now.Sub(touched) >= wantTouchEvery {
			// Tell a reader that holds the lock for long (a search
			// waiting for the index's rebuild) that a writer waits.
			_ = os.Chtimes(path, now, now) // a hint: a failure only leaves the holder unaware
			touched = now
		}
		if time.Now().After(deadline) {
			_ = f.Close() // nothing was locked
			return nil, fmt.Errorf("%w: %s%s (waited %v)", ErrLocked, filepath.Join(dir, DataFile), lockHolder(path), timeout)
		}
		time.Sleep(wait)
		if wait < 16*time.Millisecond {
			wait *= 2
		}
	}
}

// wanted reports whether a process has waited for the exclusive lock
// since l, a shared lock, was taken (it touched the lock file). An
// exclusive l reports false: the hint is for read-only handles, which
// can close to let a writer in.
func (l *storeLock) wanted() bool {
	if l == nil || l.f == nil || l.exclusive {
		return false
	}
	fi, err := l.f.Stat()
	return err == nil && !fi.ModTime().Equal(l.base)
}

// release releases the lock. Closing the file releases it even if the
// unlock failed.
func (l *storeLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	uerr := unlock(l.f)
	cerr := l.f.Close()
	l.f = nil
	if uerr != nil {
		return fmt.Errorf("cairn: release the store lock: %w", uerr)
	}
	if cerr != nil {
		return fmt.Errorf("cairn: release the store lock: %w", cerr)
	}
	return nil
}

// replacement says what replaceData does besides the rename.
type replacement struct {
	// keepAs, if set, keeps the current data.db under this name (a hard
	// link) before it is replaced.
	keepAs string
	// dropSearch removes the search index, which describes the old data
	// and is rebuilt from the new.
	dropSearch bool
}

// replaceData renames tmp over data.db. It is the only way data.db is ever
// replaced (compact, restore, restore of a damaged store, staged changes:
// import and migrate), and it refuses unless l holds the store lock
// exclusively, so no other process can be waiting on bbolt's lock of the
// inode being replaced. The caller has closed its own bbolt handle on
// data.db. tmp is synced before the rename, the directory after it, so a
// crash at any point leaves the old or the new file under the name.
func (l *storeLock) replaceData(tmp string, r replacement) error {
	if l == nil || l.f == nil || !l.exclusive {
		return errors.New("cairn: data.db may only be replaced under the exclusive store lock")
	}
	path := filepath.Join(l.dir, DataFile)
	if err := syncFile(tmp); err != nil {
		return err
	}
	if r.keepAs != "" {
		if err := os.Link(path, r.keepAs); err != nil {
			return fmt.Errorf("cairn: keep %s as %s: %w", path, r.keepAs, err)
		}
	}
	if r.dropSearch {
		if err := os.RemoveAll(filepath.Join(l.dir, SearchDir)); err != nil {
			return fmt.Errorf("cairn: remove the search index: %w", err)
		}
	}
	if err := fsutil.Rename(tmp, path); err != nil {
		return fmt.Errorf("cairn: replace %s: %w", path, err)
	}
	return nil
}

// syncFile fsyncs a file written by someone else.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("cairn: sync %s: %w", path, err)
	}
	serr := fsutil.Sync(f)
	cerr := f.Close()
	if serr != nil {
		return fmt.Errorf("cairn: sync %s: %w", path, serr)
	}
	if cerr != nil {
		return fmt.Errorf("cairn: close %s: %w", path, cerr)
	}
	return nil
}
