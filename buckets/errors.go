package buckets

import (
	"errors"
	"fmt"
	"github.com/cairnkv/cairn/schema"
)

// ErrCorrupt marks a value, key or file whose bytes fail their checksum or
// cannot be decoded. Errors carrying it also say where (see CorruptError).
var ErrCorrupt = errors.New("cairn: corrupt data")

// CorruptError says where corrupt bytes were found. errors.Is(err,
// ErrCorrupt) is true for it.
type CorruptError struct {
	Bucket string // bucket path, for example "c/sessions"
	Key    string // the key, printable (ids are UTF-8)
	Detail string // what is wrong
	// StoredID, for a primary record whose key is damaged, is the id its
	// document carries (the key it was written under).
	StoredID string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("cairn: corrupt data in bucket %q key %q: %s", e.Bucket, e.Key, e.Detail)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// Problem is one finding of an integrity check (kvtool check, backup
// verify). Kind is a short stable word ("corrupt", "index-missing",
// "index-extra", "metadata", "search-drift", "blob-missing", ...).
type Problem struct {
	Kind       string `json:"kind"`
	Collection string `json:"collection"` // "" when no document is concerned
	ID         string `json:"id"`         // "" when no document is concerned
	Detail     string `json:"detail"`
	// Fix, when set, is the way back from this problem (kv's Check sets
	// it: a command to run, or the backup that holds what was lost).
	Fix string `json:"fix,omitempty"`
}

func (p Problem) String() string {
	s := p.Kind
	if p.Collection != "" {
		s += " " + p.Collection
	}
	if p.ID != "" {
		s += fmt.Sprintf(" %q", p.ID)
	}
	return s + ": " + p.Detail
}

// ErrUnknownCollection is returned for a name that is neither a built-in
// collection nor a valid user collection name (decided by schema).
var ErrUnknownCollection = schema.ErrUnknownCollection

// ErrInvalidID is returned for an id that is empty, longer than 256 bytes,
// not UTF-8, or contains NUL (decided by schema).
var ErrInvalidID = schema.ErrInvalidID

// ErrTooLarge is returned when a value or document exceeds a limit.
var ErrTooLarge = errors.New("cairn: too large")
