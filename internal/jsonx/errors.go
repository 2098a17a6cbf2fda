package jsonx

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// What an *Error is about; errors.Is(err, ErrX) tells them apart.
var (
	// ErrSyntax: the text breaks the JSON grammar (or ends too early).
	ErrSyntax = errors.New("jsonx: invalid JSON")
	// ErrInvalidUTF8: a byte sequence that is not UTF-8.
	ErrInvalidUTF8 = errors.New("jsonx: invalid UTF-8")
	// ErrLoneSurrogate: an escaped UTF-16 surrogate that is not half of
	// a pair, which no UTF-8 string can hold.
	ErrLoneSurrogate = errors.New("jsonx: lone surrogate")
	// ErrDuplicateKey: an object holds the same member name twice.
	ErrDuplicateKey = errors.New("jsonx: duplicate member name")
	// ErrTooLarge: a value over Options.MaxBytes or Options.MaxValues.
	ErrTooLarge = errors.New("jsonx: value too large")
	// ErrTooDeep: arrays and objects nested deeper than Options.MaxDepth.
	ErrTooDeep = errors.New("jsonx: nested too deep")
)

// Error locates a refusal in the input.
type Error struct {
	// Offset is the 0-based byte offset in the whole input; Line and
	// Column are 1-based (the column counts bytes).
	Offset       int64
	Line, Column int
	// Path is the JSON path of the value or member at fault, relative to
	// the top-level value: "" for the top level, "sessions[3].title",
	// `["a b"][0]`. See PathKey and PathIndex.
	Path string
	// Msg says what is wrong.
	Msg string
	// Err is one of the sentinels above, the reader's error, or what
	// Options.Number returned.
	Err error
}

func (e *Error) Error() string {
	where := "at the top level"
	if e.Path != "" {
		where = "at " + shorten(e.Path, maxShownPath)
	}
	return fmt.Sprintf("line %d, column %d (byte %d), %s: %s", e.Line, e.Column, e.Offset, where, e.Msg)
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// PathKey returns the path of member key of the value at parent: parent.key
// for a key that reads as an identifier, else parent["key"].
func PathKey(parent, key string) string {
	if isIdent(key) {
		if parent == "" {
			return key
		}
		return parent + "." + key
	}
	return parent + "[" + strconv.Quote(key) + "]"
}

// PathIndex returns the path of element i of the array at parent.
func PathIndex(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// maxShownPath bounds the path an error message prints: hostile input can
// nest a thousand levels deep or use a megabyte-long member name, and a
// message that long hides what it says. Error.Path keeps the whole path.
const maxShownPath = 160

// ShownPath returns path as an error message should print it: whole when
// short, else its head and tail around the number of bytes left out.
func ShownPath(path string) string { return shorten(path, maxShownPath) }

// shorten returns s when it is at most max bytes, else its head and tail
// around " … ", cut at UTF-8 boundaries, with the number of bytes left out.
func shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	half := max / 2
	head, tail := half, len(s)-half
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return fmt.Sprintf("%s … (%d bytes) … %s", s[:head], tail-head, s[tail:])
}
