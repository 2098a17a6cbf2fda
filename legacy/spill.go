package legacy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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

// spillLock is the file a spill directory in use holds flocked.
const spillLock = ".lock"

// staleSpillAge: a spill directory without a lock file (made before they
// existed, or killed between its creation and its lock's) is taken for
// stale once it has not changed for this long. One whose lock is free is
// once it has not changed for freeSpillAge: a walk that has just made
// its directory may not hold the lock yet.
const (
	staleSpillAge = time.Hour
	freeSpillAge  = time.Minute
)

// removeStaleSpills removes the spill directories in base that no walk
// uses any longer: those of a walk that was killed (their lock file is not
// held), and lockless ones unchanged for staleSpillAge. It returns their
// names; one it cannot remove is left for the next time.
func removeStaleSpills(base string) []string {
	dirs, _ := filepath.Glob(filepath.Join(base, spillPattern))
	var removed []string
	for _, d := range dirs {
		fi, err := os.Lstat(d)
		if err != nil || !fi.IsDir() {
			continue
		}
		stale := false
		if f, err := os.Open(filepath.Join(d, spillLock)); err == nil {
			if time.Since(fi.ModTime()) > freeSpillAge {
				stale, _ = tryLockFile(f)
			}
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
		d, err := os.MkdirTemp(sp.base, spillPattern)
		if err != nil {
			return nil, err
		}
		lock, err := os.Create(filepath.Join(d, spillLock))
		if err == nil {
			var ok bool
			if ok, err = tryLockFile(lock); err == nil && !ok && lockWorks {
				err = fmt.Errorf("%s: locked by another process", lock.Name())
			}
			if err != nil {
				_ = lock.Close() // the lock error is the one returned
			}
		}
		if err != nil {
			_ = os.RemoveAll(d) // just made, empty but for the lock file
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
