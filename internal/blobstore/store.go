package blobstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/internal/fsutil"
)

const (
	dirPerm  = 0o700
	filePerm = 0o600

	// tmpDir is the directory, under the root, that holds Puts in progress.
	tmpDir = "tmp"

	// corruptBucket is the Bucket field of every corruption error from this
	// package: the blob directory, not a bbolt bucket.
	corruptBucket = "blobs"
)

// Options configure a Store. A nil *Options or a zero field means the
// documented default.
type Options struct {
	// MaxSize is the largest blob Put accepts, in bytes; a larger one fails
	// with ErrTooLarge and stores nothing. Zero or negative means no limit.
	MaxSize int64
}

// Store is a directory of content-addressed blobs. It is safe for concurrent
// use by multiple goroutines.
type Store struct {
	root    string
	tmp     string
	maxSize int64

	// shardSynced[i] is set once the root has been synced with shard
	// directory i in it (see syncShard).
	shardSynced [256]atomic.Bool
}

// Open opens the blob directory root, creating it (0700) and root/tmp if
// they do not exist. The parent of root must exist. It refuses, with
// ErrBadRoot, a root (or tmp) that is a symlink or not a directory.
func Open(root string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if root == "" {
		return nil, fmt.Errorf("%w: empty path", ErrBadRoot)
	}
	root = filepath.Clean(root)
	if err := ensureDir(root); err != nil {
		return nil, err
	}
	tmp := filepath.Join(root, tmpDir)
	if err := ensureDir(tmp); err != nil {
		return nil, err
	}
	s := &Store{root: root, tmp: tmp}
	if o.MaxSize > 0 {
		s.maxSize = o.MaxSize
	}
	return s, nil
}

// ensureDir makes dir (0700) if missing, syncing its parent, and checks that
// it is a real directory.
func ensureDir(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("blobstore: create %s: %w", dir, err)
		}
		if err := fsutil.SyncDir(filepath.Dir(dir)); err != nil {
			return fmt.Errorf("blobstore: %w", err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return fmt.Errorf("blobstore: %w", err)
	}
	if !fi.IsDir() { // a symlink is not IsDir under Lstat
		return fmt.Errorf("%w: %s is %s", ErrBadRoot, dir, describeMode(fi.Mode()))
	}
	return nil
}

// Root returns the directory the store lives in.
func (s *Store) Root() string { return s.root }

// ValidHash reports whether h is a blob name: exactly 64 lowercase
// hexadecimal digits, as produced by Put. Nothing else is ever turned into a
// path.
func ValidHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if !isLowerHex(h[i]) {
			return false
		}
	}
	return true
}

// relPath is the path of a valid hash relative to the root:
// "<hh>/<hash>". It is the make half of parseRel.
func relPath(hash string) string {
	return hash[:2] + string(filepath.Separator) + hash
}

// parseRel is the parse half of relPath: given a shard directory name and a
// file name found in it, it returns the hash they name, or a reason why they
// name no blob.
func parseRel(shard, name string) (hash, reason string) {
	if !isShard(shard) {
		return "", "not a shard directory"
	}
	if !ValidHash(name) {
		return "", "not a blob name"
	}
	if name[:2] != shard {
		return "", "blob in the wrong shard directory"
	}
	return name, ""
}

// isShard reports whether name is a shard directory name: two lowercase hex
// digits.
func isShard(name string) bool {
	return len(name) == 2 && isLowerHex(name[0]) && isLowerHex(name[1])
}

func isLowerHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
}

// paths validates hash and returns its shard directory and final path, both
// checked to lie inside the root.
func (s *Store) paths(hash string) (dir, path string, err error) {
	if !ValidHash(hash) {
		return "", "", fmt.Errorf("%w: %q", ErrInvalidHash, hash)
	}
	path, err = fsutil.Within(s.root, relPath(hash))
	if err != nil { // cannot happen for a valid hash; kept as a second lock
		return "", "", fmt.Errorf("%w: %v", ErrInvalidHash, err)
	}
	return filepath.Dir(path), path, nil
}

// corrupt returns the corruption error for hash.
func corrupt(hash, format string, args ...any) error {
	return &buckets.CorruptError{Bucket: corruptBucket, Key: hash, Detail: fmt.Sprintf(format, args...)}
}

func notFound(hash string, err error) error {
	return fmt.Errorf("%w: %s (%w)", ErrNotFound, hash, err)
}

// lstatBlob checks the shard directory and the blob path without following
// symlinks and returns the blob's FileInfo. A missing shard or file gives
// ErrNotFound; a symlink or other non-regular entry gives a corruption error.
func (s *Store) lstatBlob(hash string) (path string, fi fs.FileInfo, err error) {
	dir, path, err := s.paths(hash)
	if err != nil {
		return "", nil, err
	}
	dfi, err := os.Lstat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil, notFound(hash, err)
		}
		return "", nil, fmt.Errorf("blobstore: %w", err)
	}
	if !dfi.IsDir() {
		return "", nil, corrupt(hash, "shard directory %s is %s", dir, describeMode(dfi.Mode()))
	}
	fi, err = os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil, notFound(hash, err)
		}
		return "", nil, fmt.Errorf("blobstore: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", nil, corrupt(hash, "%s is %s, not a regular file", path, describeMode(fi.Mode()))
	}
	return path, fi, nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	default:
		return "a special file (" + m.Type().String() + ")"
	}
}

// Stat returns the size of the blob hash without reading it. It returns
// ErrNotFound if there is none and a corruption error if its name holds a
// symlink or anything but a regular file.
func (s *Store) Stat(hash string) (size int64, err error) {
	_, fi, err := s.lstatBlob(hash)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Has reports whether a regular file exists under the name hash. It does not
// read the contents; use Verify for that.
func (s *Store) Has(hash string) bool {
	_, err := s.Stat(hash)
	return err == nil
}

// Remove deletes the blob hash and syncs its directory. Removing a blob that
// does not exist is not an error. It refuses (with a corruption error) a
// shard directory that is a symlink or a directory under a blob's name, and
// never removes anything else.
func (s *Store) Remove(hash string) error {
	dir, path, err := s.paths(hash)
	if err != nil {
		return err
	}
	dfi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blobstore: remove %s: %w", hash, err)
	}
	if !dfi.IsDir() {
		return corrupt(hash, "shard directory %s is %s; not removing through it", dir, describeMode(dfi.Mode()))
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blobstore: remove %s: %w", hash, err)
	}
	if fi.IsDir() {
		return corrupt(hash, "%s is a directory; not removing it", path)
	}
	// A symlink here is removed itself (os.Remove never follows it).
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blobstore: remove %s: %w", hash, err)
	}
	if err := fsutil.SyncDir(dir); err != nil {
		return fmt.Errorf("blobstore: remove %s: %w", hash, err)
	}
	return nil
}

// CleanTemp removes files in tmp/ last modified more than olderThan ago:
// debris of Puts interrupted by a crash. It returns how many it removed.
// A Put in progress keeps its temporary file fresh while it writes, but a
// Put blocked on a slow reader does not; choose olderThan well above the
// longest expected Put (an hour is a safe default), or 0 only when no Put
// can be running, for example at startup under the store's lock.
func (s *Store) CleanTemp(olderThan time.Duration) (int, error) {
	ents, err := os.ReadDir(s.tmp)
	if err != nil {
		return 0, fmt.Errorf("blobstore: clean temp: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	n := 0
	for _, e := range ents {
		if e.IsDir() {
			continue // Put never makes directories here; leave it for a person
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("blobstore: clean temp: %w", err)
		}
		if olderThan > 0 && !fi.ModTime().Before(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(s.tmp, e.Name())); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return n, fmt.Errorf("blobstore: clean temp: %w", err)
		}
		n++
	}
	return n, nil
}
