package legacy

import (
	"bytes"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
)

// lazyArray is a JSON array payload kept as its text: the array was
// checked when the file was read, and its elements are decoded one at a
// time when asked for. A decoded collection takes several times the
// memory of its text, so a collection file is never decoded whole.
type lazyArray struct {
	text []byte
	offs []int  // start and end of each element in text
	size int    // len(text)
	sum  uint32 // CRC-32C of text
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxElemDepth: an element nested this deep is left to decodeJSON, whose
// depth limit counts the enclosing array (see splitArray).
const maxElemDepth = 9000

// splitArray indexes text when it is exactly one JSON array (what
// decodeJSON would accept): ok is false otherwise, and the caller then
// decodes the text whole, which gives the same value or the same error.
func splitArray(text []byte) (*lazyArray, bool) {
	dec := json.NewDecoder(bytes.NewReader(text))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, false
	}
	a := &lazyArray{text: text}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		if len(raw) >= maxElemDepth && jsonDepth(raw) >= maxElemDepth {
			return nil, false
		}
		end := int(dec.InputOffset())
		a.offs = append(a.offs, end-len(raw), end)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim(']') {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	a.size, a.sum = len(text), crc32.Checksum(text, castagnoli)
	return a, true
}

// jsonDepth is the deepest nesting of brackets in valid JSON text.
func jsonDepth(b []byte) int {
	depth, most, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '[' || c == '{':
			depth++
			most = max(most, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return most
}

func (a *lazyArray) Len() int { return len(a.offs) / 2 }

// At decodes element i.
func (a *lazyArray) At(i int) (any, error) {
	return decodeJSON(a.text[a.offs[2*i]:a.offs[2*i+1]])
}

// shape is a without its text: what a re-read must match.
func (a *lazyArray) shape() *lazyArray { return &lazyArray{offs: a.offs, size: a.size, sum: a.sum} }

// withText returns the array over text when text is the one the shape
// was taken from.
func (a *lazyArray) withText(text []byte) (*lazyArray, bool) {
	if len(text) != a.size || crc32.Checksum(text, castagnoli) != a.sum {
		return nil, false
	}
	return &lazyArray{text: text, offs: a.offs, size: a.size, sum: a.sum}, true
}

// eachElem calls fn with every element of an array payload ([]any or
// *lazyArray), decoding lazy elements one at a time. It reports whether
// data is an array at all.
func eachElem(data any, fn func(i int, e any) error) (bool, error) {
	switch d := data.(type) {
	case []any:
		for i, e := range d {
			if err := fn(i, e); err != nil {
				return true, err
			}
		}
		return true, nil
	case *lazyArray:
		for i := 0; i < d.Len(); i++ {
			e, err := d.At(i)
			if err != nil {
				return true, err
			}
			if err := fn(i, e); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	return false, nil
}

// isArrayData reports whether a payload is an array, lazy or not.
func isArrayData(v any) bool {
	switch v.(type) {
	case []any, *lazyArray:
		return true
	}
	return false
}
