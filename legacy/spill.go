package legacy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// spill is where a walk puts the decoded text of collection files: a
// temporary directory (ScanOptions.TempDir, else the system's), created
// on first use. Each text is written to a file that is then mapped
// (mapFile) and unlinked, so that the text is read from the page cache
// rather than held in the heap; remove deletes the directory when the
// walk ends, whatever it left. While in use the directory holds a file
// .lock, flocked, so that removeStaleSpills tells the directory of a walk
// that was killed from one in use.
type spill struct {
	base string
	mu   sync.Mutex
	dir  string
	lock *os.File
}

// spillPattern names spill directories (os.MkdirTemp).
const spillPattern = "cairn-legacy-*"

// spillNewPattern names a spill directory being made: it takes its
// spillPattern name only once its lock is held.
const spillNewPattern = ".cairn-legacy-new-*"

// spillLock is the file a spill directory in use holds flocked.
const spillLock = ".lock"

// staleSpillAge: a spill directory without a lock file (made by a version
// before locks, or a directory being made, killed before its lock was
// created) is taken for stale once it has not changed for this long.
const staleSpillAge = time.Hour

// removeStaleSpills removes the spill directories in base that no walk
// uses any longer: those whose lock file is not held, and lockless ones
// unchanged for staleSpillAge. A spill directory gets its name only once
// its walk holds its lock (spill.create), so a free lock proves that the
// walk is over: killed, since it removes its directory itself. It
// returns their names; one it cannot remove is left for the next time.
func removeStaleSpills(base string) []string {
	dirs, _ := filepath.Glob(filepath.Join(base, spillPattern))
	news, _ := filepath.Glob(filepath.Join(base, spillNewPattern))
	var removed []string
	for _, d := range append(dirs, news...) {
		fi, err := os.Lstat(d)
		if err != nil || !fi.IsDir() {
			continue
		}
		stale := false
		if f, err := os.Open(filepath.Join(d, spillLock)); err == nil {
			stale, _ = tryLockFile(f)
			// Removed while locked: a walk that starts now makes a new
			// directory, never this one. The close drops the lock.
			if stale && os.RemoveAll(d) == nil {
				removed = append(removed, filepath.Base(d))
			}
			_ = f.Close() // opened for the lock only
			continue
		} else if errors.Is(err, fs.ErrNotExist) {
			stale = time.Since(fi.ModTime()) > staleSpillAge
		}
		if stale && os.RemoveAll(d) == nil {
			removed = append(removed, filepath.Base(d))
		}
	}
	return removed
}

// text writes what write produces to a new spill file and returns its
// bytes, mapped; release unmaps them.
func (sp *spill) text(write func(w io.Writer) error) (b []byte, release func() error, err error) {
	f, err := sp.create()
	if err != nil {
		return nil, nil, err
	}
	name := f.Name()
	defer os.Remove(name) // the mapping outlives the name (read into memory where mapping is not implemented)
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	var size int64
	if err == nil {
		size, err = f.Seek(0, io.SeekCurrent)
	}
	if err == nil {
		b, release, err = mapFile(f, size)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		if release != nil {
			_ = release() // the close error is the one returned
		}
		return nil, nil, cerr
	}
	return b, release, err
}

func (sp *spill) create() (*os.File, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.dir == "" {
		// Made under another name, locked, then renamed: no directory
		// named by spillPattern is ever without its holder's lock.
		nd, err := os.MkdirTemp(sp.base, spillNewPattern)
		if err != nil {
			return nil, err
		}
		d := filepath.Join(sp.base, "cairn-legacy-"+strings.TrimPrefix(filepath.Base(nd), ".cairn-legacy-new-"))
		lock, err := os.Create(filepath.Join(nd, spillLock))
		if err == nil {
			var ok bool
			if ok, err = tryLockFile(lock); err == nil && !ok && lockWorks {
				err = fmt.Errorf("%s: locked by another process", lock.Name())
			}
			if err == nil {
				err = os.Rename(nd, d) // the lock is on the file, not its name
			}
			if err != nil {
				_ = lock.Close() // the lock or rename error is the one returned
			}
		}
		if err != nil {
			_ = os.RemoveAll(nd) // just made, empty but for the lock file
			return nil, err
		}
		sp.dir, sp.lock = d, lock
	}
	return os.CreateTemp(sp.dir, "text-*")
}

// remove deletes the spill directory.
func (sp *spill) remove() error {
	if sp == nil {
		return nil
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.dir == "" {
		return nil
	}
	err := os.RemoveAll(sp.dir)
	if sp.lock != nil {
		// After the removal: a directory whose lock is free is stale.
		if cerr := sp.lock.Close(); err == nil {
			err = cerr
		}
	}
	sp.dir, sp.lock = "", nil
	return err
}
