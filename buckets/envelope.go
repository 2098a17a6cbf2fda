package buckets

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/golang/snappy"
)

// FormatVersion is the version of the on-disk format written by this code.
// It is stored in the sys bucket and in every backup manifest; a store or
// backup with a newer version is refused.
const FormatVersion = 3

// envelopeVersion is the first byte of every stored value.
const envelopeVersion = 1

// Envelope flags (second byte).
const (
	flagSnappy = 1 << 0
	knownFlags = flagSnappy
)

// envelopeOverhead is the format byte, the flags byte and the CRC32C.
const envelopeOverhead = 2 + 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// minSnappy is the payload size below which compression is not tried.
const minSnappy = 64

// Seal wraps a msgpack payload into a value envelope: format byte, flags,
// the payload (snappy-compressed only when that makes it smaller), and a
// CRC32C over everything before it.
func Seal(payload []byte) []byte {
	var out []byte
	flags := byte(0)
	if len(payload) >= minSnappy {
		// snappy.Encode uses dst only if its length (not capacity) is
		// enough, so hand it the whole buffer after the two header bytes.
		buf := make([]byte, 2+snappy.MaxEncodedLen(len(payload))+4)
		c := snappy.Encode(buf[2:len(buf)-4], payload)
		if len(c) < len(payload) {
			out = buf[:2+len(c)]
			flags |= flagSnappy
		}
	}
	if out == nil {
		out = make([]byte, 2, 2+len(payload)+4)
		out = append(out, payload...)
	}
	out[0] = envelopeVersion
	out[1] = flags
	return binary.BigEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
}

// Open checks a value envelope and returns its msgpack payload. Any damage
// (short value, unknown version or flags, checksum mismatch, bad snappy
// data) is a *CorruptError naming bucket and key. The returned payload may
// alias b when it was not compressed.
func Open(bucket, key, b []byte) ([]byte, error) {
	p, _, err := open(bucket, key, b)
	return p, err
}

// open is Open, and tells whether the payload is a buffer of its own
// (decompressed) rather than a part of b: a reader may then keep strings
// pointing into it without copying it first.
func open(bucket, key, b []byte) (p []byte, fresh bool, err error) {
	fail := func(format string, args ...any) ([]byte, bool, error) {
		return nil, false, &CorruptError{Bucket: string(bucket), Key: string(key), Detail: fmt.Sprintf(format, args...)}
	}
	if len(b) < envelopeOverhead {
		return fail("value of %d bytes is shorter than the %d-byte envelope", len(b), envelopeOverhead)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return fail("checksum mismatch (stored %08x, computed %08x)", sum, got)
	}
	if body[0] != envelopeVersion {
		return fail("unknown value format %d", body[0])
	}
	flags := body[1]
	if flags&^knownFlags != 0 {
		return fail("unknown flags %#x", flags)
	}
	payload := body[2:]
	if flags&flagSnappy != 0 {
		n, err := snappy.DecodedLen(payload)
		if err != nil {
			return fail("snappy: %v", err)
		}
		// Snappy expands at most 64 bytes from a 3-byte copy element, so a
		// length beyond 22 times the input (or 1 GiB) is a lie: refuse it
		// before allocating.
		if n > 1<<30 || n > 22*len(payload) {
			return fail("snappy: claims %d bytes from %d", n, len(payload))
		}
		out, err := snappy.Decode(make([]byte, n), payload)
		if err != nil {
			return fail("snappy: %v", err)
		}
		return out, true, nil
	}
	return payload, false, nil
}

// EncodeValue seals a document-model value: msgpack, then the envelope.
func EncodeValue(v any) ([]byte, error) {
	p, err := MarshalValue(v)
	if err != nil {
		return nil, err
	}
	return Seal(p), nil
}

// DecodeMembers is DecodeValue for a reader of a few members of a map: it
// decodes only the top-level members keep accepts, and passes over the
// others without decoding them (nor checking what a decode would refuse
// inside them). A value that is not a map is decoded whole.
func DecodeMembers(bucket, key, b []byte, keep func(name string) bool) (any, error) {
	p, fresh, err := open(bucket, key, b)
	if err != nil {
		return nil, err
	}
	r := newBorrowingReader(p)
	if fresh {
		r = ownReader(p)
	}
	v, err := r.members(keep)
	if err == nil && r.p != len(p) {
		err = fmt.Errorf("%d trailing bytes", len(p)-r.p)
	}
	if err != nil {
		return nil, &CorruptError{Bucket: string(bucket), Key: string(key), Detail: "msgpack: " + err.Error()}
	}
	return v, nil
}

// DecodeValue opens an envelope and decodes its document-model value.
func DecodeValue(bucket, key, b []byte) (any, error) {
	p, fresh, err := open(bucket, key, b)
	if err != nil {
		return nil, err
	}
	v, err := unmarshalValue(p, fresh)
	if err != nil {
		return nil, &CorruptError{Bucket: string(bucket), Key: string(key), Detail: "msgpack: " + err.Error()}
	}
	return v, nil
}
