package kv

import "fmt"

// MaxValues is the most JSON values (array elements and object members,
// nested ones included) one document may hold. A two-hour session holds
// some tens of thousands; ten million small numbers would take gigabytes
// once decoded, so such input is refused before it is decoded.
const MaxValues = 1 << 20

// checkValueCounts scans JSON text without decoding it and fails if one
// document holds more than MaxValues values. With docs, the input may be
// an array of documents, each counted on its own. It counts separators
// and openings outside strings, an upper bound of the values a document
// holds, in one pass and no allocation.
func checkValueCounts(data []byte, docs bool) error {
	depth, n, elem := 0, 0, 0
	inString, escape := false, false
	topArray := false
	for i, c := range data {
		if inString {
			switch {
			case escape:
				escape = false
			case c == '\\':
				escape = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			if depth == 0 && c == '[' && docs {
				topArray = true
			}
			depth++
			n++
		case ']', '}':
			depth--
		case ',':
			if topArray && depth == 1 {
				n = 0 // the next document of the array
				elem++
				continue
			}
			n++
		}
		if n > MaxValues {
			where := "the document"
			if topArray {
				where = fmt.Sprintf("element %d", elem)
			}
			err := posError(data, int64(i), fmt.Sprintf("%s holds more than %d values (the limit; split it or keep large arrays elsewhere)", where, MaxValues))
			err.(*PositionError).Err = ErrTooLarge
			return err
		}
	}
	return nil
}

// CheckValueCount fails with ErrTooLarge (a *PositionError naming the byte
// offset) when the JSON text of one value holds more than MaxValues values.
// It does not decode: readers of other formats call it before decoding a
// document from outside.
func CheckValueCount(data []byte) error { return checkValueCounts(data, false) }
