package kv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/cairnkv/cairn/buckets"
)

// ParseJSON decodes one JSON value into the document model. Errors wrap
// ErrSyntax and name the line, column and byte offset.
func ParseJSON(data []byte) (any, error) {
	if err := checkValueCounts(data, false); err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, syntaxError(data, d.InputOffset(), err)
	}
	if off := skipSpace(data, int(d.InputOffset())); off < len(data) {
		return nil, posError(data, int64(off), "unexpected data after the JSON value")
	}
	n, err := buckets.Normalize(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return n, nil
}

// ParseDocuments decodes input holding one JSON object or an array of
// objects, as kvtool put and import take. Every element is checked to be an
// object; errors name the element index, the line and the byte offset.
func ParseDocuments(data []byte) (docs []any, single bool, err error) {
	start := skipSpace(data, 0)
	if start >= len(data) {
		return nil, false, fmt.Errorf("%w: empty input", ErrSyntax)
	}
	if err := checkValueCounts(data, true); err != nil {
		return nil, false, err
	}
	if data[start] != '[' {
		v, err := ParseJSON(data)
		if err != nil {
			return nil, false, err
		}
		if _, ok := v.(map[string]any); !ok {
			return nil, false, posError(data, int64(start), "expected a JSON object or an array of objects, found "+jsonType(v))
		}
		return []any{v}, true, nil
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if _, err := d.Token(); err != nil {
		return nil, false, syntaxError(data, d.InputOffset(), err)
	}
	for i := 0; d.More(); i++ {
		off := int64(skipSpace(data, int(d.InputOffset())))
		if off < int64(len(data)) && data[off] == ',' {
			off = int64(skipSpace(data, int(off)+1))
		}
		var v any
		if err := d.Decode(&v); err != nil {
			// The stream decoder's offsets are relative to its buffer;
			// decode the element alone to locate the error exactly.
			var se *json.SyntaxError
			var x any
			if e2 := json.NewDecoder(bytes.NewReader(data[off:])).Decode(&x); errors.As(e2, &se) {
				return nil, false, posError(data, off+se.Offset-1, fmt.Sprintf("element %d: %s", i, se.Error()))
			}
			return nil, false, syntaxError(data, d.InputOffset(), err)
		}
		n, err := buckets.Normalize(v)
		if err != nil {
			return nil, false, posError(data, off, fmt.Sprintf("element %d: %v", i, err))
		}
		if _, ok := n.(map[string]any); !ok {
			return nil, false, posError(data, off, fmt.Sprintf("element %d is %s, not an object", i, jsonType(n)))
		}
		docs = append(docs, n)
	}
	if _, err := d.Token(); err != nil {
		return nil, false, syntaxError(data, d.InputOffset(), err)
	}
	if off := skipSpace(data, int(d.InputOffset())); off < len(data) {
		return nil, false, posError(data, int64(off), "unexpected data after the JSON array")
	}
	return docs, false, nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

func syntaxError(data []byte, off int64, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
		if off > 0 {
			off-- // Offset is just past the offending byte
		}
		return posError(data, off, se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return posError(data, int64(len(data)), "unexpected end of input (truncated?)")
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return posError(data, te.Offset, te.Error())
	}
	return posError(data, off, err.Error())
}

// PositionError locates a problem in JSON input.
type PositionError struct {
	Line, Column int   // 1-based
	Offset       int64 // 0-based byte offset
	Msg          string
	Err          error // what errors.Is sees: ErrSyntax unless set
}

func (e *PositionError) Error() string {
	what := "invalid JSON"
	if e.Err != nil {
		what = "input too large"
	}
	return fmt.Sprintf("%s at line %d, column %d (byte %d): %s", what, e.Line, e.Column, e.Offset, e.Msg)
}

// Unwrap makes errors.Is(err, ErrSyntax) true.
func (e *PositionError) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	return ErrSyntax
}

func posError(data []byte, off int64, msg string) error {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return &PositionError{Line: line, Column: col, Offset: off, Msg: msg}
}
