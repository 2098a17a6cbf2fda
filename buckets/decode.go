package buckets

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// mpReader decodes msgpack straight from a byte slice into the document
// model. It is the hot path of every read (listing decodes ten thousand
// summaries), so it avoids the general decoder's per-call overhead; the
// encoder stays github.com/vmihailenco/msgpack.
//
// budget is how many more array elements, map keys and values, and string
// and extension bytes the input can still hold: every one takes at least
// one byte, so a header that claims more fails before anything is
// allocated, and the claims of all nested headers together can never
// exceed the input's length.
type mpReader struct {
	b      []byte
	p      int
	budget int
	own    bool // b is a private copy: strings may point into it

	// Slabs the decoded strings, arrays and numbers are boxed in (see box).
	strs []string
	arrs [][]any
	ints []int64
	flts []float64
}

// eface is the runtime's layout of an empty interface: its dynamic type,
// and a pointer to the value (for the types boxed here, never the value
// itself).
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

var (
	stringType = typeOf("")
	arrayType  = typeOf([]any(nil))
	int64Type  = typeOf(int64(0))
	floatType  = typeOf(float64(0))
)

// box returns v in an interface whose value lives in *slab, a chunk of
// values that grows a chunk at a time. Converting a string, a slice or a
// number beyond 255 to an interface allocates a copy of it each time: a
// session's header has dozens of strings, and decoding allocated more
// boxes than anything else. A chunk is never written again once a value
// is boxed in it, and stays alive while one of its values does (all of
// one decoded value, like the reader's private copy its strings point
// into). typ must be the type of T (typeOf).
func box[T any](slab *[]T, v T, typ unsafe.Pointer) any {
	if len(*slab) == cap(*slab) {
		n := min(max(2*cap(*slab), 4), 64)
		*slab = make([]T, 0, n)
	}
	*slab = append(*slab, v)
	var out any
	e := (*eface)(unsafe.Pointer(&out))
	e.typ, e.data = typ, unsafe.Pointer(&(*slab)[len(*slab)-1])
	return out
}

func (r *mpReader) boxInt(v int64) any {
	if v >= 0 && v < 256 {
		return v // the runtime boxes these without allocating
	}
	return box(&r.ints, v, int64Type)
}

var errShort = errors.New("unexpected end of value")

// newReader returns a reader over a private copy of b: decoded strings
// point into that copy (one allocation per value instead of one per
// string), and b itself may be bbolt's memory, which must not be kept.
func newReader(b []byte) *mpReader {
	own := make([]byte, len(b))
	copy(own, b)
	return &mpReader{b: own, budget: len(b), own: true}
}

// ownReader reads b, which it takes over: decoded strings point into it,
// so nobody may write b afterwards (a freshly decompressed payload).
func ownReader(b []byte) *mpReader { return &mpReader{b: b, budget: len(b), own: true} }

// newBorrowingReader reads b in place and copies each string it returns;
// for reading a few fields of a large value.
func newBorrowingReader(b []byte) *mpReader { return &mpReader{b: b, budget: len(b)} }

func (r *mpReader) need(n int) ([]byte, error) {
	if n < 0 || len(r.b)-r.p < n {
		return nil, errShort
	}
	s := r.b[r.p : r.p+n]
	r.p += n
	return s, nil
}

func (r *mpReader) byte1() (byte, error) {
	if r.p >= len(r.b) {
		return 0, errShort
	}
	c := r.b[r.p]
	r.p++
	return c, nil
}

// length reads an n-byte big-endian length.
func (r *mpReader) length(n int) (int, error) {
	s, err := r.need(n)
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return int(s[0]), nil
	case 2:
		return int(binary.BigEndian.Uint16(s)), nil
	default:
		v := binary.BigEndian.Uint32(s)
		if uint64(v) > math.MaxInt32 {
			return 0, fmt.Errorf("length %d too large", v)
		}
		return int(v), nil
	}
}

// strLen reads a string or bin header and returns the length; ok is false
// for another type.
func (r *mpReader) strLen(c byte, allowBin bool) (n int, ok bool, err error) {
	switch {
	case c >= 0xa0 && c <= 0xbf:
		return int(c & 0x1f), true, nil
	case c == 0xd9 || (allowBin && c == 0xc4):
		n, err = r.length(1)
	case c == 0xda || (allowBin && c == 0xc5):
		n, err = r.length(2)
	case c == 0xdb || (allowBin && c == 0xc6):
		n, err = r.length(4)
	default:
		return 0, false, nil
	}
	return n, true, err
}

func (r *mpReader) strBody(n int) (string, error) {
	if n > r.budget {
		return "", fmt.Errorf("string of %d bytes in a value with room for %d", n, r.budget)
	}
	r.budget -= n
	s, err := r.need(n)
	if err != nil || n == 0 {
		return "", err
	}
	if !r.own {
		return string(s), nil
	}
	return unsafe.String(&s[0], n), nil // r.b is private and never written
}

// str reads a string (not bin), as map keys and record field names are.
func (r *mpReader) str() (string, error) {
	c, err := r.byte1()
	if err != nil {
		return "", err
	}
	n, ok, err := r.strLen(c, false)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("expected a string, found code %#x", c)
	}
	return r.strBody(n)
}

// uint reads a non-negative integer.
func (r *mpReader) uint() (uint64, error) {
	v, err := r.value(0)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case int64:
		if x >= 0 {
			return uint64(x), nil
		}
	case uint64:
		return x, nil
	}
	return 0, fmt.Errorf("expected a non-negative integer, found %T", v)
}

// collLen reads an array (or, with isMap, map) header.
func (r *mpReader) collLen(isMap bool) (int, error) {
	c, err := r.byte1()
	if err != nil {
		return 0, err
	}
	fix, l16, l32 := byte(0x90), byte(0xdc), byte(0xdd)
	if isMap {
		fix, l16, l32 = 0x80, 0xde, 0xdf
	}
	switch {
	case c >= fix && c <= fix+0x0f:
		return int(c & 0x0f), nil
	case c == l16:
		return r.length(2)
	case c == l32:
		return r.length(4)
	}
	return 0, fmt.Errorf("expected an array or map, found code %#x", c)
}

func (r *mpReader) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, errTooDeep
	}
	c, err := r.byte1()
	if err != nil {
		return nil, err
	}
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c >= 0x80 && c <= 0x8f, c == 0xde, c == 0xdf:
		r.p--
		return r.mapValue(depth, nil)
	case c >= 0x90 && c <= 0x9f, c == 0xdc, c == 0xdd:
		r.p--
		n, err := r.collLen(false)
		if err != nil {
			return nil, err
		}
		if n > r.budget {
			return nil, fmt.Errorf("array of %d elements in a value with room for %d", n, r.budget)
		}
		r.budget -= n
		out := make([]any, n)
		for i := range out {
			if out[i], err = r.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return box(&r.arrs, out, arrayType), nil
	case c == 0xc0:
		return nil, nil
	case c == 0xc2:
		return false, nil
	case c == 0xc3:
		return true, nil
	case c == 0xca:
		s, err := r.need(4)
		if err != nil {
			return nil, err
		}
		return r.checkFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(s))))
	case c == 0xcb:
		s, err := r.need(8)
		if err != nil {
			return nil, err
		}
		return r.checkFloat(math.Float64frombits(binary.BigEndian.Uint64(s)))
	case c >= 0xcc && c <= 0xcf:
		s, err := r.need(1 << (c - 0xcc))
		if err != nil {
			return nil, err
		}
		var u uint64
		for _, x := range s {
			u = u<<8 | uint64(x)
		}
		if u <= math.MaxInt64 {
			return r.boxInt(int64(u)), nil
		}
		return u, nil
	case c >= 0xd0 && c <= 0xd3:
		s, err := r.need(1 << (c - 0xd0))
		if err != nil {
			return nil, err
		}
		switch len(s) {
		case 1:
			return r.boxInt(int64(int8(s[0]))), nil
		case 2:
			return r.boxInt(int64(int16(binary.BigEndian.Uint16(s)))), nil
		case 4:
			return r.boxInt(int64(int32(binary.BigEndian.Uint32(s)))), nil
		default:
			return r.boxInt(int64(binary.BigEndian.Uint64(s))), nil
		}
	case c >= 0xa0 && c <= 0xbf, c == 0xd9, c == 0xda, c == 0xdb, c == 0xc4, c == 0xc5, c == 0xc6:
		n, _, err := r.strLen(c, true)
		if err != nil {
			return nil, err
		}
		str, err := r.strBody(n)
		if err != nil || str == "" {
			return str, err
		}
		return box(&r.strs, str, stringType), nil
	case c >= 0xd4 && c <= 0xd8, c >= 0xc7 && c <= 0xc9:
		var n int
		switch {
		case c >= 0xd4 && c <= 0xd8:
			n = 1 << (c - 0xd4)
		case c == 0xc7:
			n, err = r.length(1)
		case c == 0xc8:
			n, err = r.length(2)
		default:
			n, err = r.length(4)
		}
		if err != nil {
			return nil, err
		}
		id, err := r.byte1()
		if err != nil {
			return nil, err
		}
		if int8(id) != extBigNumber {
			return nil, fmt.Errorf("unknown extension type %d", int8(id))
		}
		if n > r.budget {
			return nil, fmt.Errorf("extension of %d bytes in a value with room for %d", n, r.budget)
		}
		r.budget -= n
		s, err := r.need(n)
		if err != nil {
			return nil, err
		}
		if !IsNumberLiteral(string(s)) {
			return nil, fmt.Errorf("invalid number literal")
		}
		return NumberValue(json.Number(s)), nil // canonical: a literal only when no 64-bit type holds it
	}
	return nil, fmt.Errorf("unexpected msgpack code %#x", c)
}

func (r *mpReader) checkFloat(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %v has no JSON form", f)
	}
	return box(&r.flts, f, floatType), nil
}

// skip reads past one value without decoding it. It checks only that the
// value's encoding is complete and no deeper than MaxDepth, not what a
// decode would refuse inside it (an unknown extension, a float that is
// not a number): reading a few members of a value, the others are not
// looked at.
func (r *mpReader) skip(depth int) error {
	if depth > MaxDepth {
		return errTooDeep
	}
	c, err := r.byte1()
	if err != nil {
		return err
	}
	var n int // bytes to pass over
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
		return nil
	case c >= 0x80 && c <= 0x8f, c == 0xde, c == 0xdf, c >= 0x90 && c <= 0x9f, c == 0xdc, c == 0xdd:
		isMap := c <= 0x8f || c == 0xde || c == 0xdf
		r.p--
		l, err := r.collLen(isMap)
		if err != nil {
			return err
		}
		if isMap {
			l *= 2
		}
		if l > r.budget {
			return fmt.Errorf("collection of %d values in a value with room for %d", l, r.budget)
		}
		r.budget -= l
		for range l {
			if err := r.skip(depth + 1); err != nil {
				return err
			}
		}
		return nil
	case c == 0xca:
		n = 4
	case c == 0xcb:
		n = 8
	case c >= 0xcc && c <= 0xcf:
		n = 1 << (c - 0xcc)
	case c >= 0xd0 && c <= 0xd3:
		n = 1 << (c - 0xd0)
	case c >= 0xa0 && c <= 0xbf, c == 0xd9, c == 0xda, c == 0xdb, c == 0xc4, c == 0xc5, c == 0xc6:
		if n, _, err = r.strLen(c, true); err != nil {
			return err
		}
	case c >= 0xd4 && c <= 0xd8:
		n = 1 + 1<<(c-0xd4)
	case c >= 0xc7 && c <= 0xc9:
		if n, err = r.length(1 << (c - 0xc7)); err != nil {
			return err
		}
		n++ // the type byte
	default:
		return fmt.Errorf("unexpected msgpack code %#x", c)
	}
	_, err = r.need(n)
	return err
}

// members decodes a map, keeping only the members keep accepts; another
// value is decoded whole.
func (r *mpReader) members(keep func(name string) bool) (any, error) {
	if r.p >= len(r.b) {
		return nil, errShort
	}
	if c := r.b[r.p]; !(c >= 0x80 && c <= 0x8f || c == 0xde || c == 0xdf) {
		return r.value(0)
	}
	return r.mapValue(0, keep)
}

// mapValue reads a map whose header is at r.p, at depth. With keep, only
// the members keep accepts are decoded; the others are passed over (skip).
func (r *mpReader) mapValue(depth int, keep func(name string) bool) (any, error) {
	n, err := r.collLen(true)
	if err != nil {
		return nil, err
	}
	if 2*n > r.budget {
		return nil, fmt.Errorf("map of %d entries in a value with room for %d", n, r.budget)
	}
	r.budget -= 2 * n
	size := n
	if keep != nil {
		size = 0 // a few members of many
	}
	out := make(map[string]any, size)
	for range n {
		k, err := r.str()
		if err != nil {
			return nil, fmt.Errorf("map key: %w", err)
		}
		if keep != nil && !keep(k) {
			if err := r.skip(depth + 1); err != nil {
				return nil, err
			}
			continue
		}
		if out[k], err = r.value(depth + 1); err != nil {
			return nil, err
		}
	}
	return out, nil
}
