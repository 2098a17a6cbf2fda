// Package fsutil holds the one durable-replace helper that every part of
// Cairn uses when it writes a file whole (docs/STYLE.md rule 10): a temporary file
// in the same directory, written, synced, closed, renamed over the final
// path, and the directory synced, with every error returned.
//
// It must never leave a partial file under the final name: on any error the
// temporary file is removed and the final path is untouched.
//
// WriteOutput applies it to a path a user named (kvtool's -o): a regular
// file is replaced keeping its mode, while a symbolic link, FIFO or device
// is written through as a shell redirect would, never replaced. Inside
// tells whether a path, links and ".." resolved, lies in a directory (the
// store's, which -o must never reach).
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

// WriteFile durably replaces path with data.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return WriteFileFunc(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFileFunc durably replaces path with whatever write writes. The
// function receives the temporary file; if it returns an error nothing is
// renamed and the temporary file is removed.
func WriteFileFunc(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temp file for %s: %w", path, err)
	}
	tmp := f.Name()
	holdTemp(f) // so that RemoveAbandonedTemps leaves it alone while it is written
	defer func() {
		if err != nil {
			_ = f.Close() // already failed; the first error is the one to report
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err = inject("write", path); err != nil {
		return err
	}
	if err = write(f); err != nil { // f itself: callers copy with copy_file_range
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == tmp {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return err // the callback's own (the store's, say), not the file's
	}
	if err = Sync(f); err != nil {
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err = inject("rename", path); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp, path, err)
	}
	if err = SyncDir(dir); err != nil {
		return err
	}
	return nil
}

// Rename renames oldpath to newpath and syncs the directories involved, so
// the rename survives power loss.
func Rename(oldpath, newpath string) error {
	if err := inject("rename", newpath); err != nil {
		return err
	}
	if err := os.Rename(oldpath, newpath); err != nil {
		return err
	}
	if err := SyncDir(filepath.Dir(newpath)); err != nil {
		return err
	}
	if od := filepath.Dir(oldpath); od != filepath.Dir(newpath) {
		return SyncDir(od)
	}
	return nil
}

// SyncDir fsyncs a directory so that renames and creations inside it are
// durable.
func SyncDir(dir string) error {
	if err := inject("syncdir", dir); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s for sync: %w", dir, err)
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return fmt.Errorf("sync directory %s: %w", dir, serr)
	}
	if cerr != nil {
		return fmt.Errorf("close directory %s: %w", dir, cerr)
	}
	return nil
}

// ErrOutside is returned by Within when a path would leave its root.
var ErrOutside = errors.New("fsutil: path escapes its directory")

// Within joins root and the relative name rel and returns an error if the
// result is not inside root (absolute names, "..", NUL bytes).
func Within(root, rel string) (string, error) {
	if rel == "" || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%w: %q", ErrOutside, rel)
	}
	for i := 0; i < len(rel); i++ {
		if rel[i] == 0 {
			return "", fmt.Errorf("%w: %q contains NUL", ErrOutside, rel)
		}
	}
	p := filepath.Join(root, rel)
	r, err := filepath.Rel(root, p)
	if err != nil || r == ".." || len(r) >= 3 && r[:3] == ".."+string(filepath.Separator) {
		return "", fmt.Errorf("%w: %q", ErrOutside, rel)
	}
	return p, nil
}

// recordingWriter remembers the first error of the writer it wraps, so
// that a write callback's own error (the store's, say) is not reported as
// the output file's.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// writeError is the error of a write callback into path: prefixed with
// the path when writing the file failed, as it is otherwise.
func writeError(path string, rw *recordingWriter, err error) error {
	if rw.err != nil && errors.Is(err, rw.err) {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return err
}

// RemoveAbandonedTemps removes the temporary files WriteFileFunc left
// beside path when its process was killed before it could rename or
// remove them (".NAME.tmp-*"): those no live process holds (holdTemp).
// Best effort; it returns how many it removed.
func RemoveAbandonedTemps(path string) int {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	prefix := "." + base + ".tmp-"
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if tempAbandoned(p) && os.Remove(p) == nil {
			n++
		}
	}
	return n
}

// ShellQuote quotes s for a POSIX shell when it needs it: the paths that
// advice puts in a command line to copy.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
