package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// WriteOutput writes a file a user named (kvtool's -o FILE) as safely as
// its kind allows:
//
//   - a regular file is replaced durably and atomically (WriteFileFunc),
//     keeping its permission bits: it holds the old content or the new,
//     never a part;
//   - a path that does not exist is created the same way, mode 0600;
//   - a symbolic link, FIFO, device or socket is written through, as a
//     shell redirect would (opened for writing and truncated, never
//     renamed over): /dev/null stays a device, a FIFO gets the bytes, a
//     link stays a link and its target gets the content. A regular file
//     behind a link is truncated only when the first byte is written, so
//     a write that fails before writing anything (a refused export)
//     leaves it as it was; what was written before a later error stays
//     there.
//
// A directory is an error. Temporary files that earlier writes of path
// left when they were killed are removed first (RemoveAbandonedTemps).
func WriteOutput(path string, write func(w io.Writer) error) error {
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode().IsRegular() || errors.Is(err, fs.ErrNotExist) {
		// What an earlier write of path, killed, left beside it.
		RemoveAbandonedTemps(path)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return WriteFileFunc(path, 0o600, write)
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case fi.Mode().IsRegular():
		return WriteFileFunc(path, fi.Mode().Perm(), write)
	}
	return writeThrough(path, write)
}

// writeThrough opens path for writing without replacing it, as a shell
// redirect does, and syncs what it wrote when that is a regular file.
func writeThrough(path string, write func(w io.Writer) error) (err error) {
	if err := inject("write", path); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	lw := &lazyTrunc{f: f}
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		lw.done = true // a FIFO or a device: nothing to truncate
	}
	rw := &recordingWriter{w: lw}
	if err := write(rw); err != nil {
		return writeError(path, rw, err)
	}
	if err := lw.truncate(); err != nil { // nothing written: empty it now
		return fmt.Errorf("truncate %s: %w", path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if err := Sync(f); err != nil {
			return fmt.Errorf("sync %s: %w", path, err)
		}
	}
	return nil
}

// lazyTrunc writes to f, truncating it first, at the first write.
type lazyTrunc struct {
	f    *os.File
	done bool
}

func (w *lazyTrunc) truncate() error {
	if w.done {
		return nil
	}
	w.done = true
	return w.f.Truncate(0)
}

func (w *lazyTrunc) Write(p []byte) (int, error) {
	if err := w.truncate(); err != nil {
		return 0, err
	}
	return w.f.Write(p)
}

// Inside reports whether path, once its symbolic links and ".." are
// resolved (through links that do not resolve yet, to where writing would
// create a file), is dir or lies below it. dir must exist.
func Inside(path, dir string) (bool, error) {
	d, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false, err
	}
	if d, err = filepath.Abs(d); err != nil {
		return false, err
	}
	p, err := resolveForWrite(path)
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(d, p)
	if err != nil {
		return false, nil // on another volume
	}
	return rel == "." || rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)), nil
}

// resolveForWrite returns the absolute path a write to p reaches.
func resolveForWrite(p string) (string, error) {
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	for range 64 { // as many links as a kernel follows, and some
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			dir, err := resolveForWrite(filepath.Dir(p))
			if err != nil {
				return "", err
			}
			return filepath.Join(dir, filepath.Base(p)), nil
		case err != nil:
			return "", err
		case fi.Mode()&fs.ModeSymlink == 0:
			return filepath.EvalSymlinks(p)
		}
		t, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		p = filepath.Clean(t)
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", p)
}
