package buckets

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/cairnkv/cairn/schema"
)

// Record is a primary value: a document without its parts, plus what is
// needed to reassemble and account for it.
type Record struct {
	// Rev is the change-log sequence of the write that produced this
	// version; it increases on every change of any document.
	Rev uint64
	// Size is the document's logical size: its compact JSON length,
	// parts included.
	Size uint64
	// ArrayParts maps each array field stored as parts to its length.
	ArrayParts map[string]uint32
	// BlobParts lists the fields stored whole as parts.
	BlobParts []string
	// Doc is the document without the fields stored as parts. For entity
	// collections and singletons it is a map[string]any; in extras any value.
	Doc any
}

// EncodeRecord seals r.
func EncodeRecord(r *Record) ([]byte, error) {
	p := encPool.Get().(*pooledEnc)
	defer encPool.Put(p)
	p.buf.Reset()
	e := p.enc
	err := e.EncodeArrayLen(5)
	if err == nil {
		err = e.EncodeUint(r.Rev)
	}
	if err == nil {
		err = e.EncodeUint(r.Size)
	}
	if err == nil {
		err = e.EncodeMapLen(len(r.ArrayParts))
		keys := make([]string, 0, len(r.ArrayParts))
		for k := range r.ArrayParts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err == nil {
				err = e.EncodeString(k)
			}
			if err == nil {
				err = e.EncodeUint(uint64(r.ArrayParts[k]))
			}
		}
	}
	if err == nil {
		err = e.EncodeArrayLen(len(r.BlobParts))
		for _, f := range r.BlobParts {
			if err == nil {
				err = e.EncodeString(f)
			}
		}
	}
	if err == nil {
		err = encodeValue(e, r.Doc, 0)
	}
	if err != nil {
		return nil, err
	}
	return Seal(p.buf.Bytes()), nil
}

// DecodeRecord opens and decodes a primary value. withDoc false skips
// decoding the document (for listing revisions and sizes).
func DecodeRecord(bucket, key, b []byte, withDoc bool) (*Record, error) {
	payload, fresh, err := open(bucket, key, b)
	if err != nil {
		return nil, err
	}
	r, err := decodeRecord(payload, withDoc, fresh)
	if err != nil {
		return nil, &CorruptError{Bucket: string(bucket), Key: string(key), Detail: "record: " + err.Error()}
	}
	if withDoc {
		if err := checkKey(bucket, key, r.Doc); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// checkKey returns a *CorruptError if doc, decoded from the record stored
// under key in the primary bucket named bucket, carries an id that is not
// key. The checksum covers the value and not the key: a flipped bit in a
// key would otherwise return one document under another's id. Only the
// documents of entity collections carry their id (schema.CarriesID).
func checkKey(bucket, key []byte, doc any) error {
	coll, ok := strings.CutPrefix(string(bucket), prefixPrimary)
	if !ok || !schema.CarriesID(coll) {
		return nil
	}
	m, _ := doc.(map[string]any)
	if id, ok := m["id"].(string); ok && id != string(key) {
		return &CorruptError{Bucket: string(bucket), Key: string(key), Detail: fmt.Sprintf("the document stored under this key has id %q: the key is damaged", id), StoredID: id}
	}
	return nil
}

// decodeRecord decodes a record's payload; owned says the payload is the
// caller's to give away (see ownReader).
func decodeRecord(payload []byte, withDoc, owned bool) (*Record, error) {
	rd := newBorrowingReader(payload)
	switch {
	case withDoc && owned:
		rd = ownReader(payload)
	case withDoc:
		rd = newReader(payload)
	}
	n, err := rd.collLen(false)
	if err != nil {
		return nil, err
	}
	if n != 5 {
		return nil, fmt.Errorf("record has %d fields, want 5", n)
	}
	r := &Record{}
	if r.Rev, err = rd.uint(); err != nil {
		return nil, fmt.Errorf("revision: %w", err)
	}
	if r.Size, err = rd.uint(); err != nil {
		return nil, fmt.Errorf("size: %w", err)
	}
	np, err := rd.collLen(true)
	if err != nil {
		return nil, err
	}
	if np > len(payload) {
		return nil, fmt.Errorf("bad part map length %d", np)
	}
	if np > 0 {
		r.ArrayParts = make(map[string]uint32, np)
		for i := 0; i < np; i++ {
			k, err := rd.str()
			if err != nil {
				return nil, err
			}
			c, err := rd.uint()
			if err != nil {
				return nil, err
			}
			if c > math.MaxUint32 {
				return nil, fmt.Errorf("part %q has %d elements", k, c)
			}
			r.ArrayParts[k] = uint32(c)
		}
	}
	nb, err := rd.collLen(false)
	if err != nil {
		return nil, err
	}
	if nb > len(payload) {
		return nil, fmt.Errorf("bad blob part list length %d", nb)
	}
	for i := 0; i < nb; i++ {
		f, err := rd.str()
		if err != nil {
			return nil, err
		}
		r.BlobParts = append(r.BlobParts, f)
	}
	if !withDoc {
		return r, nil
	}
	if r.Doc, err = rd.value(0); err != nil {
		return nil, err
	}
	if rd.p != len(payload) {
		return nil, fmt.Errorf("%d trailing bytes", len(payload)-rd.p)
	}
	return r, nil
}

// Change operations.
const (
	OpPut    = "put"
	OpDelete = "delete"
)

// Change is one change-log entry. Its key is the sequence (LogKey); the
// sequence is also the new revision of the document.
type Change struct {
	Seq        uint64 `json:"seq"`
	Collection string `json:"collection"`
	ID         string `json:"id"`
	Op         string `json:"op"`
	TimeMs     int64  `json:"time_ms"`
	// Fields names the top-level fields a put changed, sorted: nil when
	// not recorded (a delete, an extras value, an entry written before
	// format version 3), empty when the put changed nothing.
	Fields []string `json:"fields,omitempty"`
}

// EncodeChange seals a change-log entry (without its sequence, which is
// the key).
func EncodeChange(c *Change) ([]byte, error) {
	if c.Fields == nil {
		return EncodeValue([]any{c.Collection, c.ID, c.Op, c.TimeMs})
	}
	fs := make([]any, len(c.Fields))
	for i, f := range c.Fields {
		fs[i] = f
	}
	return EncodeValue([]any{c.Collection, c.ID, c.Op, c.TimeMs, fs})
}

// DecodeChange opens a change-log entry stored under key.
func DecodeChange(key, b []byte) (*Change, error) {
	seq, err := ParseLogKey(key)
	if err != nil {
		return nil, err
	}
	v, err := DecodeValue(LogBucket, key, b)
	if err != nil {
		if ce := (*CorruptError)(nil); errors.As(err, &ce) {
			ce.Key = fmt.Sprint(seq) // printable, like the errors below
		}
		return nil, err
	}
	a, ok := v.([]any)
	if !ok || (len(a) != 4 && len(a) != 5) {
		return nil, &CorruptError{Bucket: string(LogBucket), Key: fmt.Sprint(seq), Detail: "change is not a 4- or 5-element array"}
	}
	c := &Change{Seq: seq}
	var ok1, ok2, ok3, ok4 bool
	c.Collection, ok1 = a[0].(string)
	c.ID, ok2 = a[1].(string)
	c.Op, ok3 = a[2].(string)
	c.TimeMs, ok4 = a[3].(int64)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, &CorruptError{Bucket: string(LogBucket), Key: fmt.Sprint(seq), Detail: "change has wrong field types"}
	}
	if len(a) == 5 {
		fs, ok := a[4].([]any)
		if !ok {
			return nil, &CorruptError{Bucket: string(LogBucket), Key: fmt.Sprint(seq), Detail: "change's fields are not an array"}
		}
		c.Fields = make([]string, len(fs))
		for i, f := range fs {
			if c.Fields[i], ok = f.(string); !ok {
				return nil, &CorruptError{Bucket: string(LogBucket), Key: fmt.Sprint(seq), Detail: "change's fields are not strings"}
			}
		}
	}
	return c, nil
}
