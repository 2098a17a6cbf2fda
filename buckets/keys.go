package buckets

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/cairnkv/cairn/schema"
)

// ErrBadKey is returned by the Parse functions for keys they did not make.
var ErrBadKey = errors.New("cairn: malformed key")

// LogKey encodes a change-log sequence: 8 bytes big-endian, so keys sort in
// sequence order.
func LogKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// ParseLogKey is the inverse of LogKey.
func ParseLogKey(k []byte) (uint64, error) {
	if len(k) != 8 {
		return 0, fmt.Errorf("%w: log key of %d bytes", ErrBadKey, len(k))
	}
	return binary.BigEndian.Uint64(k), nil
}

// PartKey encodes the key of a part of document id: the id, a NUL, the
// field name, and for an array part a NUL and the chunk index as 4 bytes
// big-endian (index < 0 means a blob part; see PartChunk). Ids never contain NUL, so all
// parts of a document share the prefix PartPrefix(id) and sort by field,
// then index.
func PartKey(id, field string, index int) []byte {
	k := make([]byte, 0, len(id)+len(field)+6)
	k = append(k, id...)
	k = append(k, 0)
	k = append(k, field...)
	if index >= 0 {
		k = append(k, 0)
		k = binary.BigEndian.AppendUint32(k, uint32(index))
	}
	return k
}

// PartPrefix is the prefix shared by every part key of document id.
func PartPrefix(id string) []byte { return append([]byte(id), 0) }

// ParsePartKey is the inverse of PartKey; index is -1 for a blob part.
func ParsePartKey(k []byte) (id, field string, index int, err error) {
	s := string(k)
	id, rest, ok := strings.Cut(s, "\x00")
	if !ok || schema.CheckID(id) != nil {
		return "", "", 0, fmt.Errorf("%w: part key %q", ErrBadKey, s)
	}
	field, idx, hasIdx := strings.Cut(rest, "\x00")
	if field == "" {
		return "", "", 0, fmt.Errorf("%w: part key %q has no field", ErrBadKey, s)
	}
	if !hasIdx {
		return id, field, -1, nil
	}
	if len(idx) != 4 {
		return "", "", 0, fmt.Errorf("%w: part key %q has a %d-byte index", ErrBadKey, s, len(idx))
	}
	i := binary.BigEndian.Uint32([]byte(idx))
	if i > math.MaxInt32 {
		return "", "", 0, fmt.Errorf("%w: part index %d", ErrBadKey, i)
	}
	return id, field, int(i), nil
}

// Index value encoding. An index key is an encoded value followed by the
// document id. Encoded values sort in the query order: booleans, then
// numbers, then instants, then strings; within a type by value (strings by
// bytes). Each encoding is self-delimiting, so the id can be recovered.
const (
	tagFalse  = 0x02
	tagTrue   = 0x03
	tagNumber = 0x10
	tagTime   = 0x18
	tagString = 0x20
)

// IndexBool encodes a boolean index value.
func IndexBool(b bool) []byte {
	if b {
		return []byte{tagTrue}
	}
	return []byte{tagFalse}
}

// IndexNumber encodes a number so that byte order is numeric order
// (IEEE 754 bits with the sign flipped; negatives inverted).
func IndexNumber(f float64) []byte {
	if f == 0 {
		f = 0 // fold -0 into +0
	}
	bits := math.Float64bits(f)
	if bits&(1<<63) != 0 {
		bits = ^bits
	} else {
		bits |= 1 << 63
	}
	return binary.BigEndian.AppendUint64([]byte{tagNumber}, bits)
}

// IndexTime encodes an instant, in milliseconds since the Unix epoch.
func IndexTime(ms int64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tagTime}, uint64(ms)^(1<<63))
}

// IndexString encodes a string: NUL bytes escaped as 00 FF, terminated by
// 00 01, so that prefixes sort first and the end is unambiguous.
func IndexString(s string) []byte {
	k := make([]byte, 0, len(s)+3)
	k = append(k, tagString)
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			k = append(k, 0, 0xFF)
		} else {
			k = append(k, s[i])
		}
	}
	return append(k, 0, 1)
}

// IndexKey appends id to an encoded index value.
func IndexKey(value []byte, id string) []byte {
	k := make([]byte, 0, len(value)+len(id))
	k = append(k, value...)
	return append(k, id...)
}

// SplitIndexKey splits an index key into its encoded value and id.
func SplitIndexKey(k []byte) (value []byte, id string, err error) {
	n, err := checkIndexKey(k)
	if err != nil {
		return nil, "", err
	}
	return k[:n], string(k[n:]), nil
}

// checkIndexKey checks that k is an encoded value followed by a valid id,
// and returns the value's length. It allocates nothing: a backup's walk
// checks every index key of the store.
func checkIndexKey(k []byte) (int, error) {
	n, err := indexValueLen(k)
	if err != nil {
		return 0, err
	}
	id := k[n:]
	// CheckID only reads the id: a string over k's bytes, not a copy.
	if schema.CheckID(unsafe.String(unsafe.SliceData(id), len(id))) != nil {
		return 0, fmt.Errorf("%w: index key %x has an invalid id", ErrBadKey, k)
	}
	return n, nil
}

func indexValueLen(k []byte) (int, error) {
	if len(k) == 0 {
		return 0, fmt.Errorf("%w: empty index key", ErrBadKey)
	}
	switch k[0] {
	case tagFalse, tagTrue:
		return 1, nil
	case tagNumber, tagTime:
		if len(k) < 9 {
			return 0, fmt.Errorf("%w: short index key %x", ErrBadKey, k)
		}
		return 9, nil
	case tagString:
		for i := 1; i+1 < len(k); i++ {
			if k[i] == 0 {
				switch k[i+1] {
				case 1:
					return i + 2, nil
				case 0xFF:
					i++
				default:
					return 0, fmt.Errorf("%w: bad escape in index key %x", ErrBadKey, k)
				}
			}
		}
		return 0, fmt.Errorf("%w: unterminated string in index key %x", ErrBadKey, k)
	}
	return 0, fmt.Errorf("%w: unknown index value tag %#x", ErrBadKey, k[0])
}

// DecodeIndexValue decodes an encoded index value into bool, float64,
// IndexInstant or string.
func DecodeIndexValue(v []byte) (any, error) {
	n, err := indexValueLen(v)
	if err != nil {
		return nil, err
	}
	if n != len(v) {
		return nil, fmt.Errorf("%w: %d trailing bytes after index value", ErrBadKey, len(v)-n)
	}
	switch v[0] {
	case tagFalse:
		return false, nil
	case tagTrue:
		return true, nil
	case tagNumber:
		bits := binary.BigEndian.Uint64(v[1:])
		if bits&(1<<63) != 0 {
			bits &^= 1 << 63
		} else {
			bits = ^bits
		}
		return math.Float64frombits(bits), nil
	case tagTime:
		return IndexInstant(int64(binary.BigEndian.Uint64(v[1:]) ^ (1 << 63))), nil
	default:
		s := make([]byte, 0, n-3)
		for i := 1; i < n-2; i++ {
			s = append(s, v[i])
			if v[i] == 0 {
				i++
			}
		}
		return string(s), nil
	}
}

// IndexInstant is a decoded time index value, milliseconds since the epoch.
type IndexInstant int64

// RefKey encodes a blob reference-count key: the lowercase hex SHA-256.
func RefKey(hash string) ([]byte, error) {
	if !ValidHash(hash) {
		return nil, fmt.Errorf("%w: %q is not a SHA-256 hex digest", ErrBadKey, hash)
	}
	return []byte(hash), nil
}

// ParseRefKey is the inverse of RefKey.
func ParseRefKey(k []byte) (string, error) {
	h := string(k)
	if !ValidHash(h) {
		return "", fmt.Errorf("%w: ref key %q", ErrBadKey, h)
	}
	return h, nil
}

// ValidHash reports whether h is 64 lowercase hex characters.
func ValidHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

// EncodeCount and ParseCount encode reference counts: 8 bytes big-endian.
func EncodeCount(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// ParseCount is the inverse of EncodeCount.
func ParseCount(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, &CorruptError{Bucket: string(RefsBucket), Detail: fmt.Sprintf("count of %d bytes", len(b))}
	}
	return binary.BigEndian.Uint64(b), nil
}
