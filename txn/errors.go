package txn

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned when a document that must exist (Patch, Append,
// Modify, a Get) does not.
var ErrNotFound = errors.New("cairn: not found")

// ErrConflict is returned when a write names the revision it expects and
// the stored document has another one.
var ErrConflict = errors.New("cairn: revision conflict")

// ErrInvalid is returned for a document that breaks the rules of its
// collection: not a JSON object, no string id, a part field of the wrong
// type, a value outside the document model.
var ErrInvalid = errors.New("cairn: invalid document")

// EntityError carries the context of a failed operation on one document.
// errors.Is sees through it to the sentinel (ErrNotFound, ErrConflict,
// ErrInvalid, buckets.ErrCorrupt, ...).
type EntityError struct {
	Op         string // "put", "get", "patch", "delete", "append", "modify"
	Collection string
	ID         string
	Field      string // the field at fault, when one is
	Err        error
}

func (e *EntityError) Error() string {
	s := "cairn: " + e.Op + " " + e.Collection
	if e.ID != "" {
		s += fmt.Sprintf(" %q", e.ID)
	}
	if e.Field != "" {
		s += " field " + e.Field
	}
	return s + ": " + trimPrefix(e.Err.Error())
}

// Unwrap returns the underlying error.
func (e *EntityError) Unwrap() error { return e.Err }

func trimPrefix(s string) string {
	const p = "cairn: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
