package buckets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
)

// The document value model. A decoded document is made of exactly these Go
// types, which map one to one onto JSON:
//
//	nil, bool, string, int64, uint64 (only above math.MaxInt64), float64,
//	json.Number (numbers none of the three holds exactly: kept as their
//	literal so nothing is lost; see NumberValue), []any, map[string]any.
//
// Normalize converts anything JSON-marshalable into this model.

// MaxDepth is the deepest nesting of arrays and objects a document may have.
const MaxDepth = 1000

// extBigNumber is the msgpack extension type holding a JSON number literal
// that no 64-bit type represents exactly.
const extBigNumber = 1

// Normalize returns v converted into the document value model. Values
// decoded by encoding/json with UseNumber, and values already in the model,
// are converted without a round trip; anything else (structs, typed maps and
// slices, other number types) goes through encoding/json. It fails on NaN,
// infinities, nesting deeper than MaxDepth, non-UTF-8 strings and values
// encoding/json cannot marshal. A value already in the model is returned
// as it is, not copied (a container is copied only where something in it
// had to change): a caller that keeps the result must not change v.
func Normalize(v any) (any, error) {
	n, _, err := normalize(v, 0)
	return n, err
}

// normalize returns v in the model and whether that differs from v.
func normalize(v any, depth int) (any, bool, error) {
	if depth > MaxDepth {
		return nil, false, errTooDeep
	}
	switch x := v.(type) {
	case nil, bool, int64:
		return x, false, nil
	case string:
		if !utf8.ValidString(x) {
			return nil, false, fmt.Errorf("string is not valid UTF-8")
		}
		return x, false, nil
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true, nil
		}
		return x, false, nil
	case int:
		return int64(x), true, nil
	case int32:
		return int64(x), true, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false, fmt.Errorf("number %v has no JSON form", x)
		}
		n := floatValue(x)
		_, same := n.(float64)
		return n, !same, nil
	case json.Number:
		if !IsNumberLiteral(string(x)) {
			return nil, false, fmt.Errorf("invalid number %q", string(x))
		}
		n := NumberValue(x)
		_, same := n.(json.Number)
		return n, !same, nil
	case map[string]any:
		var out map[string]any // a copy, once a value had to change
		for k, e := range x {
			if !utf8.ValidString(k) {
				return nil, false, fmt.Errorf("object key is not valid UTF-8")
			}
			n, changed, err := normalize(e, depth+1)
			if err != nil {
				return nil, false, wrapPath(jsonPathKey(k), err)
			}
			if changed && out == nil {
				out = maps.Clone(x)
			}
			if out != nil {
				out[k] = n
			}
		}
		if out == nil {
			return x, false, nil
		}
		return out, true, nil
	case []any:
		var out []any
		for i, e := range x {
			n, changed, err := normalize(e, depth+1)
			if err != nil {
				return nil, false, wrapPath(fmt.Sprintf("[%d]", i), err)
			}
			if changed && out == nil {
				out = slices.Clone(x)
			}
			if out != nil {
				out[i] = n
			}
		}
		if out == nil {
			return x, false, nil
		}
		return out, true, nil
	case []string:
		if x == nil {
			return nil, true, nil // encoding/json writes a nil slice as null
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		n, _, err := normalize(out, depth)
		return n, true, err
	}
	rv := reflect.ValueOf(v)
	if (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice) && rv.IsNil() {
		return nil, true, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, false, err
	}
	n, _, err := normalize(out, depth)
	return n, true, err
}

func jsonPathKey(k string) string {
	return strconv.Quote(k)
}

// --- msgpack ---

var encPool = sync.Pool{New: func() any {
	b := new(bytes.Buffer)
	e := msgpack.NewEncoder(b)
	return &pooledEnc{buf: b, enc: e}
}}

type pooledEnc struct {
	buf *bytes.Buffer
	enc *msgpack.Encoder
}

// MarshalValue encodes a value of the document model as msgpack, with
// object keys sorted so equal documents encode to equal bytes.
func MarshalValue(v any) ([]byte, error) {
	p := encPool.Get().(*pooledEnc)
	p.buf.Reset()
	err := encodeValue(p.enc, v, 0)
	var out []byte
	if err == nil {
		out = append([]byte(nil), p.buf.Bytes()...)
	}
	if p.buf.Cap() < 1<<20 {
		encPool.Put(p)
	}
	return out, err
}

func encodeValue(e *msgpack.Encoder, v any, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("nested deeper than %d levels", MaxDepth)
	}
	switch x := v.(type) {
	case nil:
		return e.EncodeNil()
	case bool:
		return e.EncodeBool(x)
	case string:
		return e.EncodeString(x)
	case int64:
		return e.EncodeInt(x)
	case int:
		return e.EncodeInt(int64(x))
	case uint64:
		return e.EncodeUint(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("number %v has no JSON form", x)
		}
		return e.EncodeFloat64(x)
	case json.Number:
		if !IsNumberLiteral(string(x)) {
			return fmt.Errorf("invalid number %q", string(x))
		}
		switch n := NumberValue(x).(type) {
		case json.Number:
			if err := e.EncodeExtHeader(extBigNumber, len(n)); err != nil {
				return err
			}
			_, err := e.Writer().Write([]byte(n))
			return err
		default:
			return encodeValue(e, n, depth)
		}
	case []any:
		if err := e.EncodeArrayLen(len(x)); err != nil {
			return err
		}
		for _, el := range x {
			if err := encodeValue(e, el, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if err := e.EncodeMapLen(len(x)); err != nil {
			return err
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := e.EncodeString(k); err != nil {
				return err
			}
			if err := encodeValue(e, x[k], depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("value of type %T is not in the document model (call Normalize)", v)
}

// UnmarshalValue decodes msgpack written by MarshalValue. It never panics
// and never allocates more than the input can describe.
func UnmarshalValue(b []byte) (any, error) { return unmarshalValue(b, false) }

// unmarshalValue is UnmarshalValue; owned says b is the caller's to give
// away (the decoded strings then point into it, uncopied).
func unmarshalValue(b []byte, owned bool) (any, error) {
	r := newReader(b)
	if owned {
		r = ownReader(b)
	}
	v, err := r.value(0)
	if err == nil && r.p != len(b) {
		err = fmt.Errorf("%d trailing bytes", len(b)-r.p)
	}
	return v, err
}

// JSONSize returns the length of v encoded as compact JSON by encoding/json
// (with HTML escaping off), without encoding it. It is the "logical size"
// that stats report.
func JSONSize(v any) int {
	switch x := v.(type) {
	case nil:
		return 4
	case bool:
		if x {
			return 4
		}
		return 5
	case string:
		return jsonStringSize(x)
	case int64:
		return len(strconv.AppendInt(nil, x, 10))
	case uint64:
		return len(strconv.AppendUint(nil, x, 10))
	case float64:
		b, _ := json.Marshal(x)
		return len(b)
	case json.Number:
		return len(x)
	case []any:
		n := 2
		for i, e := range x {
			if i > 0 {
				n++
			}
			n += JSONSize(e)
		}
		return n
	case map[string]any:
		n := 2
		i := 0
		for k, e := range x {
			if i > 0 {
				n++
			}
			i++
			n += jsonStringSize(k) + 1 + JSONSize(e)
		}
		return n
	}
	b, _ := json.Marshal(v)
	return len(b)
}

func jsonStringSize(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 6 // \ufffd
		case r == '\u2028' || r == '\u2029':
			n += 6 // escaped by encoding/json
		default:
			n += size
		}
		i += size
	}
	return n
}

// errTooDeep is the nesting error; it is not wrapped in a path at every
// level (a path a thousand levels long helps nobody).
var errTooDeep = fmt.Errorf("nested deeper than %d levels", MaxDepth)

func wrapPath(elem string, err error) error {
	if errors.Is(err, errTooDeep) {
		return err
	}
	return fmt.Errorf("%s: %w", elem, err)
}
