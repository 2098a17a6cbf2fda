package buckets

import (
	"bytes"
	"fmt"

	"github.com/cairnkv/cairn/schema"
	bolt "go.etcd.io/bbolt"
)

// The read side: every reader of documents (kv's reads, queries, search
// indexing, check, the write path's look at the stored version) goes
// through these functions over a bbolt transaction, so that how a
// document is laid out (primary record, parts) is read in one place.

// ReadRecord returns the primary record of key in c, or nil if absent;
// withDoc decodes its (header) document too.
func ReadRecord(tx *bolt.Tx, c *schema.Collection, key string, withDoc bool) (*Record, error) {
	b := Lookup(tx, PrimaryBucket(c.Name))
	if b == nil {
		return nil, nil
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, nil
	}
	return DecodeRecord(PrimaryBucket(c.Name), []byte(key), v, withDoc)
}

// Listed reports whether c's summaries (its meta bucket) list key. A
// summary is written and deleted with its document in one transaction, so
// a key listed there that the primary bucket does not hold is a document
// that damaged pages of the file hide (a leaf whose element count lost a
// bit, say): not one that does not exist.
func Listed(tx *bolt.Tx, c *schema.Collection, key string) bool {
	mb := Lookup(tx, MetaBucket(c.Name))
	return mb != nil && mb.Get([]byte(key)) != nil
}

// LoadParts reads the part fields of rec and returns the full document.
// fields limits which part fields are loaded (nil: all).
func LoadParts(tx *bolt.Tx, c *schema.Collection, key string, rec *Record, fields map[string]bool) (any, error) {
	if len(rec.ArrayParts) == 0 && len(rec.BlobParts) == 0 {
		return rec.Doc, nil
	}
	hdr, ok := rec.Doc.(map[string]any)
	if !ok {
		return nil, &CorruptError{Bucket: string(PrimaryBucket(c.Name)), Key: key, Detail: "document with parts is not an object"}
	}
	doc := make(map[string]any, len(hdr)+len(rec.ArrayParts)+len(rec.BlobParts))
	for k, v := range hdr {
		doc[k] = v
	}
	pb := Lookup(tx, PartsBucket(c.Name))
	pname := PartsBucket(c.Name)
	missing := func(f string) error {
		return &CorruptError{Bucket: string(pname), Key: key, Detail: fmt.Sprintf("part %s is missing", f)}
	}
	for f, n := range rec.ArrayParts {
		if fields != nil && !fields[f] {
			continue
		}
		arr := make([]any, 0, n)
		if n > 0 {
			if pb == nil {
				return nil, missing(f)
			}
			prefix := PartKey(key, f, -1)
			prefix = append(prefix, 0)
			cur := pb.Cursor()
			chunk := 0
			for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(arr) < int(n); k, v = cur.Next() {
				_, _, idx, err := ParsePartKey(k)
				if err != nil || idx != chunk {
					return nil, &CorruptError{Bucket: string(pname), Key: key, Detail: fmt.Sprintf("part %s: chunk %d missing", f, chunk)}
				}
				e, err := DecodeValue(pname, k, v)
				if err != nil {
					return nil, err
				}
				els, ok := e.([]any)
				if !ok || len(els) == 0 || len(els) > PartChunk {
					return nil, &CorruptError{Bucket: string(pname), Key: key, Detail: fmt.Sprintf("part %s: chunk %d is not an array of 1 to %d elements", f, chunk, PartChunk)}
				}
				arr = append(arr, els...)
				chunk++
			}
			if len(arr) != int(n) {
				return nil, &CorruptError{Bucket: string(pname), Key: key, Detail: fmt.Sprintf("part %s has %d of %d elements", f, len(arr), n)}
			}
		}
		doc[f] = arr
	}
	for _, f := range rec.BlobParts {
		if fields != nil && !fields[f] {
			continue
		}
		if pb == nil {
			return nil, missing(f)
		}
		k := PartKey(key, f, -1)
		v := pb.Get(k)
		if v == nil {
			return nil, missing(f)
		}
		e, err := DecodeValue(pname, k, v)
		if err != nil {
			return nil, err
		}
		doc[f] = e
	}
	return doc, nil
}

// CheckParts checks, without decoding them, that the part fields of rec
// that skip does not name are all stored and pass their checksums: every
// chunk of each array part, in order, and each blob part. A writer that
// keeps parts as stored (a Patch that does not touch them) calls it, so
// that it refuses a document it could not read instead of giving it a new
// revision and leaving it unreadable. The error is a *CorruptError naming
// the part.
func CheckParts(tx *bolt.Tx, c *schema.Collection, key string, rec *Record, skip map[string]bool) error {
	pname := PartsBucket(c.Name)
	pb := Lookup(tx, pname)
	bad := func(detail string) error {
		return &CorruptError{Bucket: string(pname), Key: key, Detail: detail}
	}
	for f, n := range rec.ArrayParts {
		if skip[f] || n == 0 {
			continue
		}
		if pb == nil {
			return bad(fmt.Sprintf("part %s is missing", f))
		}
		chunks := (int(n) + PartChunk - 1) / PartChunk
		prefix := append(PartKey(key, f, -1), 0)
		cur := pb.Cursor()
		chunk := 0
		for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && chunk < chunks; k, v = cur.Next() {
			if _, _, idx, err := ParsePartKey(k); err != nil || idx != chunk {
				return bad(fmt.Sprintf("part %s: chunk %d missing", f, chunk))
			}
			if _, err := Open(pname, k, v); err != nil {
				return err
			}
			chunk++
		}
		if chunk != chunks {
			return bad(fmt.Sprintf("part %s has %d of %d chunks", f, chunk, chunks))
		}
	}
	for _, f := range rec.BlobParts {
		if skip[f] {
			continue
		}
		k := PartKey(key, f, -1)
		var v []byte
		if pb != nil {
			v = pb.Get(k)
		}
		if v == nil {
			return bad(fmt.Sprintf("part %s is missing", f))
		}
		if _, err := Open(pname, k, v); err != nil {
			return err
		}
	}
	return nil
}

// ReadDocument returns the record of key in c and its full document
// (parts included), or nil, nil if absent.
func ReadDocument(tx *bolt.Tx, c *schema.Collection, key string) (*Record, any, error) {
	rec, err := ReadRecord(tx, c, key, true)
	if err != nil || rec == nil {
		return nil, nil, err
	}
	doc, err := LoadParts(tx, c, key, rec, nil)
	if err != nil {
		return nil, nil, err
	}
	return rec, doc, nil
}

// EachRecord calls fn with every primary record of c in key order,
// starting after key after (nil: from the first). withDoc decodes the
// header documents. A record that cannot be decoded is passed with its
// error (errors.Is(err, ErrCorrupt)) and a nil record, for fn to report or
// skip; fn's error, or ErrStop's caller-chosen equivalent, ends the walk
// and is returned. The key is only valid during the call.
func EachRecord(tx *bolt.Tx, c *schema.Collection, after []byte, withDoc bool, fn func(key []byte, rec *Record, err error) error) error {
	name := PrimaryBucket(c.Name)
	b := Lookup(tx, name)
	if b == nil {
		return nil
	}
	cur := b.Cursor()
	k, v := cur.First()
	if after != nil {
		k, v = cur.Seek(after)
		if k != nil && bytes.Equal(k, after) {
			k, v = cur.Next()
		}
	}
	for ; k != nil; k, v = cur.Next() {
		if v == nil {
			continue // a nested bucket: not Cairn's, reported by VerifyTx
		}
		rec, err := DecodeRecord(name, k, v, withDoc)
		if err != nil {
			rec = nil
		}
		if err := fn(k, rec, err); err != nil {
			return err
		}
	}
	return nil
}
