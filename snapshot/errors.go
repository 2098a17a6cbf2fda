package snapshot

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cairnkv/cairn/buckets"
)

var (
	// ErrNotFound is returned when no backup (no manifest) of that name
	// exists in the directory.
	ErrNotFound = errors.New("cairn: backup not found")

	// ErrInvalidName is returned by ParseName, Path and everything that takes
	// a backup name when the name does not have the generated layout
	// (20261126T010203.123456789Z): separators, "..", NUL, anything else.
	ErrInvalidName = errors.New("cairn: invalid backup name")

	// ErrVerify is returned by Create when the snapshot it wrote (or the
	// source transaction it read) fails verification. Errors carrying it are
	// *VerifyError and list the problems.
	ErrVerify = errors.New("cairn: backup failed verification")

	// ErrNewerFormat is returned by CheckFormat when a backup was written by a
	// newer Cairn format than the caller can read; restoring it is refused.
	ErrNewerFormat = errors.New("cairn: backup is from a newer format")

	// ErrNoRoot is returned by Salvage when neither meta page of the file
	// is sound or names a root page that reads: nothing of it can be
	// read as a tree (an empty file, both meta pages zeroed).
	ErrNoRoot = errors.New("cairn: the root of the page tree is lost")

	// ErrInvalidOptions is returned when options or arguments are unusable
	// (unknown reason, missing format version, a writable transaction, nil
	// database, compacting a file onto itself).
	ErrInvalidOptions = errors.New("cairn: invalid options")
)

// VerifyError says why Create refused a snapshot. errors.Is(err, ErrVerify)
// is true for it.
type VerifyError struct {
	Name     string            // the backup name that was being created
	Stage    string            // "source" (the transaction read), "copy" (the written file) or "counts"
	Problems []buckets.Problem // every problem found, at least one
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cairn: backup %s failed verification", e.Name)
	if e.Stage != "" { // a backup verified before a restore has none
		fmt.Fprintf(&b, " (%s)", e.Stage)
	}
	fmt.Fprintf(&b, ": %d problem(s)", len(e.Problems))
	for i, p := range e.Problems {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		b.WriteString("; ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrVerify) true and, for the "source"
// stage, errors.Is(err, buckets.ErrCorrupt) too: the store's own data is
// damaged, and whoever refuses to go on without this backup (a compact, a
// reindex, an import) stops because of damage (kvtool exits 3).
func (e *VerifyError) Unwrap() []error {
	if e.Stage == "source" {
		return []error{ErrVerify, buckets.ErrCorrupt}
	}
	return []error{ErrVerify}
}
