package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/internal/fsutil"
)

// CopyFile durably copies the file src to dst (mode 0600): a temporary file
// beside dst, written, fsynced, closed, renamed over dst, the directory
// fsynced (fsutil.WriteFileFunc). On error dst is untouched and no
// temporary file remains. ctx is checked during the copy. A restore copies a
// verified backup to <store>/data.db.tmp with it and then renames that over
// data.db with fsutil.Rename.
func CopyFile(ctx context.Context, src, dst string) error {
	lfi, err := os.Lstat(src)
	if err != nil {
		return fmt.Errorf("cairn: copy: %w", err)
	}
	if !lfi.Mode().IsRegular() {
		return fmt.Errorf("cairn: copy: %s is not a regular file (%v); refusing to follow it", src, lfi.Mode().Type())
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("cairn: copy: %w", err)
	}
	defer func() { _ = in.Close() }() // read-only; a Close error cannot lose data
	fi, err := in.Stat()
	if err != nil {
		return fmt.Errorf("cairn: copy: %w", err)
	}
	if !os.SameFile(lfi, fi) {
		return fmt.Errorf("cairn: copy: %s changed while it was opened", src)
	}
	err = fsutil.WriteFileFunc(dst, 0o600, func(w io.Writer) error {
		out, ok := w.(*os.File)
		if !ok {
			return fmt.Errorf("cairn: copy: writing to a %T, not a file", w) // WriteFileFunc hands its temporary file
		}
		// File to file where the kernel can, in chunks: ctx is checked
		// between them, and the disk starts on each one at once rather
		// than at the final fsync.
		size := fi.Size()
		for n := int64(0); n < size; {
			if err := ctx.Err(); err != nil {
				return err
			}
			m, err := fsutil.CopyRange(out, in, n, n, min(rangeChunk, size-n))
			if err != nil {
				return err
			}
			fsutil.StartWriteback(out, n, m)
			n += m
		}
		now, err := in.Stat()
		if err != nil {
			return err
		}
		if now.Size() != size {
			return fmt.Errorf("%s changed during the copy (%d bytes at the start, %d at the end)", src, size, now.Size())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cairn: copy %s: %w", src, err)
	}
	return nil
}

// Compact writes a compacted copy of src to dstPath: into a temporary
// file beside dstPath, which must then pass bbolt's structural check, is
// trimmed to its last used page, fsynced, closed and renamed over dstPath
// durably. The copy is read from one read transaction, so writers may go
// on but their later commits are not in it. dstPath must not be src's
// file. On error no temporary file remains and dstPath is untouched. ctx
// is checked between keys.
//
// The copy is written bucket by bucket in the order of
// buckets.LayoutOrder, each region in transactions of its own (and a new
// transaction every txMaxSize bytes of keys and values, 0 for no limit),
// so that each region's pages sit together in the file: after a
// compaction the listing summaries are a short run of pages near the
// start of the file, and a process that only lists reads only them. Each
// bucket's pages are filled as buckets.Region says. bbolt.Compact is not
// used: it fills every page whatever comes next, places buckets in the
// order its transactions spill them (a map's), and leaves the file grown
// to its allocation step.
//
// Compact checks only bbolt's structure of the result. Checksums and
// counts are the caller's to compare (kvtool compact runs its Verifier on
// both files) before it swaps the result in.
func Compact(ctx context.Context, src *bolt.DB, dstPath string, txMaxSize int64) (err error) {
	if src == nil {
		return fmt.Errorf("%w: Compact: no source database", ErrInvalidOptions)
	}
	if same, err := samePath(src.Path(), dstPath); err != nil {
		return fmt.Errorf("cairn: compact: %w", err)
	} else if same {
		return fmt.Errorf("%w: Compact: destination %s is the source file", ErrInvalidOptions, dstPath)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("cairn: compact: %w", err)
	}
	f, err := fsutil.CreateTemp(filepath.Dir(dstPath), "."+filepath.Base(dstPath)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cairn: compact: %w", err)
	}
	tmp := f.Name()
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp) // reporting the Close error
		return fmt.Errorf("cairn: compact: %w", err)
	}
	var dst *bolt.DB
	defer func() {
		if err != nil {
			if dst != nil {
				_ = dst.Close() // already failed
			}
			_ = os.Remove(tmp)
		}
	}()
	// NoSync: the intermediate commits need no fsync; one Sync at the end
	// makes the whole file durable before the rename.
	dst, err = bolt.Open(tmp, 0o600, &bolt.Options{NoSync: true, Timeout: openTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("cairn: compact: open %s: %w", tmp, err)
	}
	err = src.View(func(stx *bolt.Tx) error {
		return copyOrdered(ctx, stx, dst, txMaxSize)
	})
	if err != nil {
		return fmt.Errorf("cairn: compact %s: %w", src.Path(), err)
	}
	var used int64
	err = dst.View(func(tx *bolt.Tx) error {
		used = tx.Size()
		var first error
		for cerr := range tx.Check() { // drain fully
			if first == nil {
				first = fmt.Errorf("cairn: compacted file fails bbolt's check: %w", cerr)
			}
		}
		return first
	})
	if err != nil {
		return err
	}
	d := dst
	dst = nil
	if err = d.Close(); err != nil {
		return fmt.Errorf("cairn: compact: close %s: %w", tmp, err)
	}
	if err = trimSync(tmp, used); err != nil {
		return fmt.Errorf("cairn: compact: %w", err)
	}
	if err = fsutil.Rename(tmp, dstPath); err != nil {
		return fmt.Errorf("cairn: compact: rename into place: %w", err)
	}
	return nil
}

// copyOrdered copies every bucket of stx into dst in layout order, a
// region per transaction at least.
func copyOrdered(ctx context.Context, stx *bolt.Tx, dst *bolt.DB, txMaxSize int64) error {
	var names [][]byte
	if err := stx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		names = append(names, bytes.Clone(name))
		return nil
	}); err != nil {
		return err
	}
	buckets.LayoutOrder(names)
	tx, err := dst.Begin(true)
	if err != nil {
		return err
	}
	defer func() {
		if tx != nil {
			_ = tx.Rollback() // after Commit: ErrTxClosed, nothing to undo
		}
	}()
	var size int64
	next := func() error {
		if err := tx.Commit(); err != nil {
			return err
		}
		tx, err = dst.Begin(true)
		size = 0
		return err
	}
	region := -1
	for _, name := range names {
		r, fill := buckets.Region(name)
		if r != region && region >= 0 {
			if err := next(); err != nil {
				return err
			}
		}
		region = r
		sb := buckets.Lookup(stx, name)
		db, err := tx.CreateBucket(name)
		if err != nil {
			return fmt.Errorf("bucket %q: %w", name, err)
		}
		if err := db.SetSequence(sb.Sequence()); err != nil {
			return err
		}
		db.FillPercent = fill
		c := sb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if v == nil { // a nested bucket, copied whole in this transaction
				if err := copyNested(sb.Bucket(k), db, k, fill); err != nil {
					return fmt.Errorf("bucket %q: %w", name, err)
				}
				continue
			}
			if txMaxSize > 0 && size+int64(len(k)+len(v)) > txMaxSize {
				if err := next(); err != nil {
					return err
				}
				db = buckets.Lookup(tx, name)
				db.FillPercent = fill
			}
			size += int64(len(k) + len(v))
			if err := db.Put(k, v); err != nil {
				return fmt.Errorf("bucket %q: %w", name, err)
			}
		}
	}
	return tx.Commit()
}

// copyNested copies the nested bucket sb under key k of parent.
func copyNested(sb, parent *bolt.Bucket, k []byte, fill float64) error {
	db, err := parent.CreateBucket(k)
	if err != nil {
		return err
	}
	if err := db.SetSequence(sb.Sequence()); err != nil {
		return err
	}
	db.FillPercent = fill
	return sb.ForEach(func(k, v []byte) error {
		if v == nil {
			return copyNested(sb.Bucket(k), db, k, fill)
		}
		return db.Put(k, v)
	})
}

// trimSync truncates the bbolt file at path to size, the end of its last
// used page (bbolt grows a file in steps and never gives the rest back),
// and fsyncs it.
func trimSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil && size > 0 && fi.Size() > size {
		err = f.Truncate(size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("trim %s: %w", path, err)
	}
	return nil
}

// samePath reports whether a and b name the same file (b may not exist).
func samePath(a, b string) (bool, error) {
	aa, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	bb, err := filepath.Abs(b)
	if err != nil {
		return false, err
	}
	if aa == bb {
		return true, nil
	}
	fa, errA := os.Stat(aa)
	fb, errB := os.Stat(bb)
	return errA == nil && errB == nil && os.SameFile(fa, fb), nil
}

// checkDir refuses a backups directory that is a symbolic link (or not a
// directory): backups are never written or read outside the store.
func checkDir(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // Create makes it
	}
	if err != nil {
		return fmt.Errorf("cairn: %w", err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("cairn: %s is a symbolic link; backups are never written or read outside the store", dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("cairn: %s is not a directory", dir)
	}
	return nil
}
