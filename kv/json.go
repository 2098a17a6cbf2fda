package kv

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/internal/jsonx"
)

// JSON input. Every JSON text from outside (kvtool put, patch and import,
// Put of a json.RawMessage) is read strictly: invalid UTF-8, an escaped lone
// surrogate ("\ud800") and an object with the same member name twice are
// refused, never replaced or dropped, and numbers keep their value
// exactly (see buckets.NumberValue). Errors are *PositionError values
// naming the line, column, byte offset and JSON path.

// MaxValues is the most JSON values (the document, and every array element
// and object member inside it) one document may hold. A two-hour session
// holds some tens of thousands; ten million small numbers would take
// gigabytes once decoded, so such input is refused while it is read.
const MaxValues = 1 << 20

// PositionError locates a problem in JSON input.
type PositionError struct {
	Line, Column int   // 1-based (the column counts bytes)
	Offset       int64 // 0-based byte offset
	// Path is the JSON path of the value at fault: "$" for the whole
	// input, "$[3].title", `$["a b"]`.
	Path string
	Msg  string
	// Err is what errors.Is sees: ErrSyntax (nil means it too) for input
	// that is not valid, or not exact, JSON; ErrTooLarge for input over a
	// limit; ErrInvalid for a document its reader refuses
	// (DocumentReader.Errorf); or the reader's error.
	Err error
}

func (e *PositionError) Error() string {
	what := "invalid JSON"
	switch {
	case errors.Is(e.Err, ErrTooLarge):
		what = "input too large"
	case errors.Is(e.Err, ErrInvalid):
		what = "invalid document"
	case e.Err != nil && !errors.Is(e.Err, ErrSyntax):
		what = "cannot read the input"
	}
	return fmt.Sprintf("%s at line %d, column %d (byte %d), %s: %s", what, e.Line, e.Column, e.Offset, jsonx.ShownPath(e.Path), e.Msg)
}

// Unwrap makes errors.Is(err, ErrSyntax) true, or ErrTooLarge, or the
// reader's error.
func (e *PositionError) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	return ErrSyntax
}

// jsonPath turns a jsonx path into a JSONPath rooted at $.
func jsonPath(p string) string {
	switch {
	case p == "":
		return "$"
	case strings.HasPrefix(p, "["):
		return "$" + p
	}
	return "$." + p
}

// positionError converts the decoder's errors.
func positionError(err error) error {
	var e *jsonx.Error
	if !errors.As(err, &e) {
		return err
	}
	pe := &PositionError{Line: e.Line, Column: e.Column, Offset: e.Offset, Path: jsonPath(e.Path), Msg: e.Msg}
	switch {
	case errors.Is(err, jsonx.ErrTooLarge):
		pe.Err = ErrTooLarge
	case errors.Is(err, jsonx.ErrSyntax), errors.Is(err, jsonx.ErrInvalidUTF8), errors.Is(err, jsonx.ErrLoneSurrogate),
		errors.Is(err, jsonx.ErrDuplicateKey), errors.Is(err, jsonx.ErrTooDeep):
	default:
		pe.Err = e.Err // a reader's error
	}
	return pe
}

// jsonOptions are the limits and the number conversion of every document
// read; maxBytes bounds one document's text (0: no bound).
func jsonOptions(maxBytes int64) jsonx.Options {
	return jsonx.Options{
		MaxBytes:  maxBytes,
		MaxValues: MaxValues,
		MaxDepth:  buckets.MaxDepth,
		Number:    numberValue,
	}
}

func numberValue(lit []byte) (any, error) {
	return buckets.NumberValue(json.Number(lit)), nil
}

// ParseJSON decodes one JSON value into the document model. Errors are
// *PositionError values wrapping ErrSyntax (or ErrTooLarge past MaxValues).
func ParseJSON(data []byte) (any, error) {
	d := jsonx.NewBytesDecoder(data, jsonOptions(0))
	v, err := d.Value()
	if err == nil {
		err = d.End()
	}
	if err != nil {
		return nil, positionError(err)
	}
	return v, nil
}

// ReadJSON decodes one JSON value from r as ParseJSON does, reading r to
// its end: only whitespace may follow the value. maxBytes, if positive,
// bounds the value as compact JSON: a larger one is refused with
// ErrTooLarge while it is read, before it is decoded whole.
func ReadJSON(r io.Reader, maxBytes int64) (any, error) {
	d := jsonx.NewDecoder(r, jsonOptions(maxBytes))
	if _, err := d.Peek(); err == io.EOF {
		return nil, &PositionError{Line: 1, Column: 1, Path: "$", Msg: "empty input"}
	}
	v, err := d.Value()
	if err == nil {
		err = d.End()
	}
	if err != nil {
		return nil, positionError(err)
	}
	return v, nil
}

// ParseDocuments decodes input holding one JSON object or an array of
// objects, as kvtool put takes, with the errors of DocumentReader.
func ParseDocuments(data []byte) (docs []any, single bool, err error) {
	r := newDocumentReader(jsonx.NewBytesDecoder(data, jsonOptions(0)))
	for {
		doc, err := r.Next()
		if err == io.EOF {
			return docs, r.Single(), nil
		}
		if err != nil {
			return nil, false, err
		}
		docs = append(docs, doc)
	}
}

// DocumentReader reads one JSON object, or an array of objects, one
// document at a time and with one document's text at most in memory, as
// kvtool put takes them. Every document is checked to be an object; errors
// are *PositionError values naming the line, byte offset and path ($ for
// a single object, $[i] for element i).
type DocumentReader struct {
	d       *jsonx.Decoder
	started bool
	done    bool
	single  bool
	index   int // of the last document returned
}

// NewDocumentReader reads from r. maxBytes, if positive, bounds the text
// of one document: a larger one is refused with ErrTooLarge as soon as
// maxBytes of it are read, before it is decoded.
func NewDocumentReader(r io.Reader, maxBytes int64) *DocumentReader {
	return newDocumentReader(jsonx.NewDecoder(r, jsonOptions(maxBytes)))
}

func newDocumentReader(d *jsonx.Decoder) *DocumentReader {
	return &DocumentReader{d: d, index: -1}
}

// Next returns the next document, or io.EOF once the input has been read
// to its end (and found to hold nothing more).
func (r *DocumentReader) Next() (any, error) {
	if r.done {
		return nil, io.EOF
	}
	if !r.started {
		r.started = true
		c, err := r.d.Peek()
		if err == io.EOF {
			return nil, &PositionError{Line: 1, Column: 1, Path: "$", Msg: "empty input"}
		}
		if err != nil {
			return nil, positionError(err)
		}
		if c != '[' {
			r.single = true
			doc, err := r.d.Value()
			if err != nil {
				return nil, positionError(err)
			}
			r.index = 0
			if err := r.checkObject(doc); err != nil {
				return nil, err
			}
			if err := r.d.End(); err != nil {
				return nil, positionError(err)
			}
			r.done = true
			return doc, nil
		}
		if err := r.d.OpenArray(); err != nil {
			return nil, positionError(err)
		}
	}
	more, err := r.d.Next()
	if err != nil {
		return nil, positionError(err)
	}
	if !more {
		r.done = true
		if err := r.d.End(); err != nil {
			return nil, positionError(err)
		}
		return nil, io.EOF
	}
	doc, err := r.d.Value()
	if err != nil {
		return nil, positionError(err)
	}
	r.index++
	if err := r.checkObject(doc); err != nil {
		return nil, err
	}
	return doc, nil
}

func (r *DocumentReader) checkObject(doc any) error {
	if _, ok := doc.(map[string]any); ok {
		return nil
	}
	if r.single {
		return r.Errorf("expected a JSON object or an array of objects, found %s", jsonType(doc))
	}
	return r.Errorf("element %d is %s, not an object", r.index, jsonType(doc))
}

// Single reports whether the input is one object rather than an array
// (known once Next has returned a document).
func (r *DocumentReader) Single() bool { return r.single }

// Index is the position of the last document returned in its array (0
// for a single object).
func (r *DocumentReader) Index() int { return r.index }

// Start returns where the last document returned starts in the input:
// its byte offset, and its 1-based line and column.
func (r *DocumentReader) Start() (offset int64, line, column int) { return r.d.ValueStart() }

// Errorf returns a *PositionError wrapping ErrInvalid at the start of the
// last document returned, for a problem its reader found in it.
func (r *DocumentReader) Errorf(format string, args ...any) error {
	off, line, col := r.d.ValueStart()
	path := "$"
	if !r.single {
		path = fmt.Sprintf("$[%d]", r.index)
	}
	return &PositionError{Line: line, Column: col, Offset: off, Path: path, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
}
