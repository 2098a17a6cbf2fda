package legacy

import (
	"errors"
	"fmt"
)

// ErrCorrupt marks legacy bytes that cannot be decoded: invalid JSON, a
// truncated gzip stream, bad base64, a payload of the wrong shape. Errors
// carrying it say which file or line (see FileError).
var ErrCorrupt = errors.New("legacy: corrupt data")

// ErrNoData is returned by Scan and Walk when the directory holds nothing the old
// app wrote: no db/ directory, no collection files, no attachments.
var ErrNoData = errors.New("legacy: no legacy data found")

// ErrNotDir is returned by Scan and Walk when the path does not name a directory.
var ErrNotDir = errors.New("legacy: not a directory")

// ErrChanged is returned by Walk and Scan when a file they read to index
// the directory no longer holds the same data when they read it again to
// emit its entities (or is gone): something is writing to the directory.
var ErrChanged = errors.New("legacy: file changed during the scan")

// ErrDenied is returned by Walk and Scan (and so Migrate) when a file or
// directory the choice of versions needs cannot be opened for lack of
// permission: falling back to an older copy would silently bring back old
// or deleted data, so the scan stops instead, naming the file.
var ErrDenied = errors.New("legacy: permission denied")

// ErrStoreInside is returned by CheckStoreDir and Migrate when the store's
// directory is the old app's directory or its db/ (the store's own files
// would be scanned as the old app's), or lies in one of the old app's data
// folders (the scan would leave that folder, and its data, out).
var ErrStoreInside = errors.New("legacy: the store's directory is the old app's")

// ErrInvalidExport marks an export file that fails validation. Errors
// carrying it are *ExportError values naming the JSON path and byte offset.
var ErrInvalidExport = errors.New("legacy: invalid export file")

// ErrBadID is returned (wrapped) when an entity has no usable id: missing,
// not a string, empty, longer than MaxIDLen bytes, or containing NUL.
var ErrBadID = errors.New("legacy: bad entity id")

// ErrChecksum marks a blob whose decoded bytes do not hash to the SHA-256
// the old app recorded for them. It is returned by Blob.Open readers at EOF.
var ErrChecksum = errors.New("legacy: checksum mismatch")

// FileError says which legacy file (or WAL line) could not be decoded.
// errors.Is(err, ErrCorrupt) is true for it.
type FileError struct {
	Path string // slash-separated, relative to the scanned directory
	Line int    // 1-based WAL line, 0 for whole files
	Err  error  // what went wrong
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("legacy: %s line %d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("legacy: %s: %v", e.Path, e.Err)
}

// Unwrap returns ErrCorrupt and the underlying cause.
func (e *FileError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// ExportError names where an export file fails validation: Path is a JSON
// path such as "sessions[3].id" and Offset the byte offset in the input.
// errors.Is(err, ErrInvalidExport) is true for it, and errors.Is(err,
// kv.ErrTooLarge) for a value over a limit (Err).
type ExportError struct {
	Path   string
	Offset int64
	Msg    string
	Err    error // a further cause (kv.ErrTooLarge), or nil
}

func (e *ExportError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("legacy: export: %s (byte %d)", e.Msg, e.Offset)
	}
	return fmt.Sprintf("legacy: export: %s: %s (byte %d)", e.Path, e.Msg, e.Offset)
}

// Unwrap makes errors.Is(err, ErrInvalidExport) true, and errors.Is(err,
// e.Err).
func (e *ExportError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidExport, e.Err}
	}
	return []error{ErrInvalidExport}
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
