package jsonx

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"unicode/utf8"
)

// chunkReader hands out its input in chunks of varying small sizes, so
// tokens cross buffer refills at every possible point.
type chunkReader struct {
	b []byte
	i int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	c.i++
	n := min(len(p), len(c.b), 1+c.i%7)
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

// FuzzDecoder checks the decoder against encoding/json and itself:
//   - what it accepts, encoding/json accepts, with the same value (after
//     a leading byte order mark, which it skips);
//   - what encoding/json accepts, it accepts too unless the input holds
//     invalid UTF-8, a lone surrogate, a duplicate name or deep nesting
//     (each checked against the input), and its tolerant mode then
//     returns exactly encoding/json's value (duplicates and depth aside);
//   - bytes and a chunked stream give the same value or the same error
//     (offset, path, kind), and every error's line and column match its
//     offset.
//
// Its seeds are in testdata/fuzz/FuzzDecoder.
func FuzzDecoder(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeAll(data, Options{}, false)
		sd := NewDecoder(&chunkReader{b: data}, Options{})
		sv, serr := sd.Value()
		if serr == nil {
			serr = sd.End()
		}
		sameOutcome(t, data, v, err, sv, serr)
		// A leading byte order mark is skipped, which encoding/json does not.
		std, stdErr := stdDecode(bytes.TrimPrefix(data, []byte(utf8BOM)))
		if err == nil {
			if stdErr != nil {
				t.Fatalf("accepted %q, which encoding/json refuses: %v", data, stdErr)
			}
			if !reflect.DeepEqual(v, std) {
				t.Fatalf("%q: got %#v, encoding/json %#v", data, v, std)
			}
			return
		}
		checkPosition(t, data, err)
		if stdErr != nil {
			return
		}
		// encoding/json accepts it: the refusal must be one it skips.
		switch {
		case errors.Is(err, ErrInvalidUTF8):
			if utf8.Valid(data) {
				t.Fatalf("%q is UTF-8 but refused: %v", data, err)
			}
		case errors.Is(err, ErrLoneSurrogate):
			if !bytes.Contains(bytes.ToLower(data), []byte(`\ud`)) {
				t.Fatalf("%q has no surrogate escape but refused: %v", data, err)
			}
		case errors.Is(err, ErrDuplicateKey), errors.Is(err, ErrTooDeep):
		default:
			t.Fatalf("%q: encoding/json accepts it, refused with %v", data, err)
		}
		tv, terr := decodeAll(data, Options{BadString: func(BadString) error { return nil }}, false)
		if terr != nil {
			if errors.Is(terr, ErrDuplicateKey) || errors.Is(terr, ErrTooDeep) {
				return
			}
			t.Fatalf("tolerant decoder refuses %q, which encoding/json accepts: %v", data, terr)
		}
		if !reflect.DeepEqual(tv, std) {
			t.Fatalf("%q: tolerant decoder gives %#v, encoding/json %#v", data, tv, std)
		}
	})
}

func sameOutcome(t *testing.T, data []byte, v any, err error, sv any, serr error) {
	t.Helper()
	if (err == nil) != (serr == nil) {
		t.Fatalf("%q: bytes gave %v, stream %v", data, err, serr)
	}
	if err == nil {
		if !reflect.DeepEqual(v, sv) {
			t.Fatalf("%q: bytes gave %#v, stream %#v", data, v, sv)
		}
		return
	}
	var a, b *Error
	if !errors.As(err, &a) || !errors.As(serr, &b) {
		t.Fatalf("%q: errors are not *Error: %v / %v", data, err, serr)
	}
	if *a != *b {
		t.Fatalf("%q: bytes refused with\n%+v\nstream with\n%+v", data, *a, *b)
	}
}

func checkPosition(t *testing.T, data []byte, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: not an *Error: %v", data, err)
	}
	if e.Offset < 0 || e.Offset > int64(len(data)) {
		t.Fatalf("%q: offset %d outside the input", data, e.Offset)
	}
	before := data[:e.Offset]
	line := 1 + bytes.Count(before, []byte{'\n'})
	col := len(before) - bytes.LastIndexByte(before, '\n')
	if e.Line != line || e.Column != col {
		t.Fatalf("%q: %v: line %d column %d, want %d, %d", data, err, e.Line, e.Column, line, col)
	}
}
