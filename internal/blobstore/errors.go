package blobstore

import "errors"

// ErrInvalidHash is returned when a hash is not exactly 64 lowercase
// hexadecimal digits. Such a string never touches the filesystem.
var ErrInvalidHash = errors.New("blobstore: invalid hash")

// ErrNotFound is returned by Open, Stat, Verify and WriteTo when no blob of
// that hash exists. Errors carrying it also match fs.ErrNotExist.
var ErrNotFound = errors.New("blobstore: blob not found")

// ErrTooLarge is returned by Put when the content exceeds Options.MaxSize.
// Nothing is stored.
var ErrTooLarge = errors.New("blobstore: blob too large")

// ErrBadRoot is returned by Open when the root exists but is not a plain
// directory (a symlink, a file).
var ErrBadRoot = errors.New("blobstore: root is not a directory")

// Corruption (contents that do not hash to their name, a symlink or a
// directory where a blob file should be) is reported as a
// *buckets.CorruptError with Bucket "blobs" and Key the hash, so that
// errors.Is(err, buckets.ErrCorrupt) holds at every layer.
