package blobstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/internal/fsutil"
)

// bufSize is the chunk size for streaming in and out; ctx is checked between
// chunks.
const bufSize = 128 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// Put stores everything r yields and returns its SHA-256 (64 lowercase hex
// digits) and size. When it returns nil the blob is durable under
// <hh>/<hash>.
//
// The content streams through a fixed buffer into a temporary file in tmp/
// (0600) while being hashed; the file is synced and closed. If a sound blob
// of the same hash already exists (same size, and its contents hash to its
// name), the temporary file is dropped; otherwise (none, or a damaged one)
// it is renamed into place (creating the shard directory, 0700, if needed)
// and the directory is synced. On any error, including
// ErrTooLarge and ctx cancellation (checked between chunks; a Read that
// blocks is not interrupted), the temporary file is removed and nothing is
// stored.
func (s *Store) Put(ctx context.Context, r io.Reader) (hash string, size int64, err error) {
	f, err := fsutil.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return "", 0, fmt.Errorf("blobstore: put: %w", err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				_ = f.Close() // already failing; the first error is the one to report
			}
			_ = os.Remove(tmp)
		}
	}()

	h := sha256.New()
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		if err = ctx.Err(); err != nil {
			return "", 0, fmt.Errorf("blobstore: put: %w", err)
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			size += int64(n)
			if s.maxSize > 0 && size > s.maxSize {
				err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, s.maxSize)
				return "", 0, err
			}
			h.Write(buf[:n]) // hash.Hash.Write never fails
			if _, err = f.Write(buf[:n]); err != nil {
				return "", 0, fmt.Errorf("blobstore: put: write %s: %w", tmp, err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			err = fmt.Errorf("blobstore: put: read: %w", rerr)
			return "", 0, err
		}
	}
	if err = fsutil.Sync(f); err != nil {
		return "", 0, fmt.Errorf("blobstore: put: sync %s: %w", tmp, err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return "", 0, fmt.Errorf("blobstore: put: close %s: %w", tmp, err)
	}
	hash = hex.EncodeToString(h.Sum(nil))

	dir, path, err := s.paths(hash)
	if err != nil {
		return "", 0, err
	}
	dup, err := s.existing(ctx, hash, dir, path, size)
	if err != nil {
		return "", 0, err
	}
	if dup {
		// The blob is durable already. A temporary file that cannot be
		// removed is debris for CleanTemp, not a reason to fail the Put.
		_ = os.Remove(tmp)
		return hash, size, nil
	}
	if err = s.mkShard(hash, dir); err != nil {
		return "", 0, err
	}
	// Rename syncs the shard directory (and tmp/).
	if err = fsutil.Rename(tmp, path); err != nil {
		return "", 0, fmt.Errorf("blobstore: put %s: %w", hash, err)
	}
	return hash, size, nil
}

// PutBytes stores b, like Put. It hashes b first and, when the blob already
// exists, writes nothing.
func (s *Store) PutBytes(ctx context.Context, b []byte) (hash string, size int64, err error) {
	if err := ctx.Err(); err != nil {
		return "", 0, fmt.Errorf("blobstore: put: %w", err)
	}
	size = int64(len(b))
	if s.maxSize > 0 && size > s.maxSize {
		return "", 0, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, size, s.maxSize)
	}
	sum := sha256.Sum256(b)
	hash = hex.EncodeToString(sum[:])
	dir, path, err := s.paths(hash)
	if err != nil {
		return "", 0, err
	}
	dup, err := s.existing(ctx, hash, dir, path, size)
	if err != nil {
		return "", 0, err
	}
	if dup {
		return hash, size, nil
	}
	h2, n, err := s.Put(ctx, bytes.NewReader(b))
	if err == nil && h2 != hash { // b changed under us: a caller bug
		return "", 0, fmt.Errorf("blobstore: put: content changed while being stored (%s then %s)", hash, h2)
	}
	return h2, n, err
}

// existing reports whether a sound copy of hash (a regular file of the
// right size whose contents hash to its name) is already in place. If so,
// it syncs the shard directory so that a copy renamed by another Put (or
// another process) that has not yet synced is durable before we promise
// it. A damaged copy (wrong size or wrong bytes: it is read whole and
// hashed, never trusted by its size) or a symlink under the name reports
// false: the caller replaces it, which is how adding the content again
// repairs a damaged blob. A symlink or a non-directory in place of the
// shard directory is an error.
func (s *Store) existing(ctx context.Context, hash, dir, path string, size int64) (bool, error) {
	dfi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("blobstore: put %s: %w", hash, err)
	}
	if !dfi.IsDir() {
		return false, corrupt(hash, "shard directory %s is %s; not writing through it", dir, describeMode(dfi.Mode()))
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("blobstore: put %s: %w", hash, err)
	}
	if fi.IsDir() {
		return false, corrupt(hash, "%s is a directory", path)
	}
	if !fi.Mode().IsRegular() || fi.Size() != size {
		return false, nil // replaced by the correct copy
	}
	if err := s.Verify(ctx, hash); err != nil {
		if errors.Is(err, buckets.ErrCorrupt) || errors.Is(err, ErrNotFound) {
			return false, nil // replaced by the correct copy
		}
		return false, err
	}
	if err := s.syncShard(hash); err != nil {
		return false, err
	}
	if err := fsutil.SyncDir(dir); err != nil {
		return false, fmt.Errorf("blobstore: put %s: %w", hash, err)
	}
	return true, nil
}

// mkShard creates the shard directory of hash if needed, syncing the root so
// the new directory is durable.
func (s *Store) mkShard(hash, dir string) error {
	err := os.Mkdir(dir, dirPerm)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("blobstore: put %s: %w", hash, err)
	}
	if err != nil { // exists: made earlier, or by a concurrent Put
		fi, err := os.Lstat(dir)
		if err != nil {
			return fmt.Errorf("blobstore: put %s: %w", hash, err)
		}
		if !fi.IsDir() {
			return corrupt(hash, "shard directory %s is %s; not writing through it", dir, describeMode(fi.Mode()))
		}
	}
	return s.syncShard(hash)
}

// syncShard makes sure the shard directory of hash is durably recorded in
// the root before a blob in it is promised. A directory that exists may
// have been made by a concurrent Put that has not synced the root yet, or by
// a process that crashed before it did; so the root is synced the first time
// this Store relies on each shard (at most 256 times in its life).
func (s *Store) syncShard(hash string) error {
	i := shardIndex(hash)
	if s.shardSynced[i].Load() {
		return nil
	}
	if err := fsutil.SyncDir(s.root); err != nil {
		return fmt.Errorf("blobstore: put %s: %w", hash, err)
	}
	s.shardSynced[i].Store(true)
	return nil
}

// shardIndex is the value of the two hex digits that name hash's shard.
func shardIndex(hash string) int {
	return int(unhex(hash[0]))<<4 | int(unhex(hash[1]))
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}
