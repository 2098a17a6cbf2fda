package legacy

import (
	"bufio"
	"io"
	"os"
	"sync"
)

// spill is where a walk puts the decoded text of collection files: a
// temporary directory (ScanOptions.TempDir, else the system's), created
// on first use. Each text is written to a file that is then mapped
// (mapFile) and unlinked, so that the text is read from the page cache
// rather than held in the heap; remove deletes the directory when the
// walk ends, whatever it left.
type spill struct {
	base string
	mu   sync.Mutex
	dir  string
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
		d, err := os.MkdirTemp(sp.base, "cairn-legacy-*")
		if err != nil {
			return nil, err
		}
		sp.dir = d
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
	sp.dir = ""
	return err
}
