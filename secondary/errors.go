package secondary

import (
	"errors"
	"fmt"
)

// ErrBadQuery is returned by Run and ParseWhere for a malformed query: an
// empty field, a negative limit or offset, an operator without its value,
// a collection that cannot be queried. The message names what was wrong.
var ErrBadQuery = errors.New("cairn: bad query")

// ErrUnknownOperator is returned by Run and ParseWhere for an operator
// outside =, !=, <, <=, >, >=, in, contains, exists (and ~ in ParseWhere).
// It wraps ErrBadQuery.
var ErrUnknownOperator = fmt.Errorf("%w: unknown operator", ErrBadQuery)

// ErrBadDate is returned by Run and ParseWhere when a query value on a
// declared timestamp field is neither an ISO 8601 date or date-time nor a
// number of epoch milliseconds. It wraps ErrBadQuery.
var ErrBadDate = fmt.Errorf("%w: bad date", ErrBadQuery)

// ErrFullScan is returned by Run for a query with NoScan set whose plan
// would read every document (or every metadata entry) of the collection.
var ErrFullScan = errors.New("cairn: query needs a full scan")

// ErrTextFilter is returned by ParseWhere for a full-text filter
// (field~word), which the caller answers with the search index; the error
// is a *TextFilterError carrying the field and word (see AsTextFilter).
var ErrTextFilter = errors.New("cairn: full-text filter")

// TextFilterError is the error ParseWhere returns for field~word.
type TextFilterError struct {
	Field string // may be empty: "~word" searches every field
	Word  string
}

func (e *TextFilterError) Error() string {
	return fmt.Sprintf("cairn: full-text filter %s~%s is answered by the search index", e.Field, e.Word)
}

// Unwrap makes errors.Is(err, ErrTextFilter) true.
func (e *TextFilterError) Unwrap() error { return ErrTextFilter }

// AsTextFilter returns the field and word of a full-text filter that
// ParseWhere rejected with ErrTextFilter.
func AsTextFilter(err error) (field, word string, ok bool) {
	var te *TextFilterError
	if errors.As(err, &te) {
		return te.Field, te.Word, true
	}
	return "", "", false
}
