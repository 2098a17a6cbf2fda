package txn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/secondary"
	bolt "go.etcd.io/bbolt"
)

// Writer applies document changes inside one bbolt read-write transaction:
// the primary record, its parts, the metadata summary, the secondary
// indexes, blob reference counts and the change log, together. It is not
// safe for concurrent use; it lives as long as its transaction.
type Writer struct {
	tx      *bolt.Tx
	schema  *schema.Schema
	now     func() time.Time
	writes  int
	changes []buckets.Change
	// zeroed lists blob hashes whose reference count reached zero in this
	// transaction; their files may be deleted after commit.
	zeroed map[string]struct{}
	// MaxSize, if positive, is the largest logical (JSON) size of a
	// document; a write that would exceed it fails with ErrTooLarge
	// before changing anything.
	MaxSize uint64
}

// New returns a Writer over tx for the collections s declares (nil: the
// built-in ones, and user collections without indexes). now may be nil
// (time.Now).
func New(tx *bolt.Tx, s *schema.Schema, now func() time.Time) *Writer {
	if now == nil {
		now = time.Now
	}
	return &Writer{tx: tx, schema: s, now: now}
}

// Tx returns the underlying transaction.
func (w *Writer) Tx() *bolt.Tx { return w.tx }

// Dirty reports whether the writer has changed anything yet. A failed
// operation on a clean writer left the transaction untouched.
func (w *Writer) Dirty() bool { return w.writes > 0 }

// Changes returns the change-log entries written so far.
func (w *Writer) Changes() []buckets.Change { return w.changes }

// Zeroed returns the blob hashes whose reference count fell to zero.
func (w *Writer) Zeroed() []string {
	out := make([]string, 0, len(w.zeroed))
	for h := range w.zeroed {
		out = append(out, h)
	}
	return out
}

func (w *Writer) bucket(name []byte) (*bolt.Bucket, error) {
	b := buckets.Lookup(w.tx, name)
	if b == nil {
		var err error
		if b, err = buckets.Ensure(w.tx, name); err != nil {
			return nil, err
		}
	}
	if kind, _, _, _ := buckets.ParseBucket(name); kind == buckets.BucketPrimary || kind == buckets.BucketParts || kind == buckets.BucketLog {
		// Keys here mostly arrive in order (sequences; ids that start with
		// a timestamp; parts in field and chunk order), and bbolt splits
		// full pages at FillPercent: at the default 0.5, appended data
		// leaves every page half empty and the file twice the size.
		b.FillPercent = appendFill
		if kind == buckets.BucketLog {
			// Sequences: nothing is ever inserted before the last key,
			// so a full page is never split again.
			b.FillPercent = 1.0
		}
	}
	return b, nil
}

// appendFill is the page fill used for buckets that grow mostly at the end.
const appendFill = 0.9

func state(rec *buckets.Record) *secondary.DocState {
	if rec == nil {
		return nil
	}
	return &secondary.DocState{Doc: rec.Doc, Rev: rec.Rev, Size: rec.Size, ArrayParts: rec.ArrayParts}
}

// RevAbsent, as the expected revision of a write, requires that no
// document be stored (compare-and-swap against "not yet created").
const RevAbsent = ^uint64(0)

// checkRev enforces an expected revision: 0 means any, RevAbsent none.
func checkRev(old *buckets.Record, expect uint64) error {
	if expect == 0 {
		return nil
	}
	var have uint64
	if old != nil {
		have = old.Rev
	}
	switch {
	case expect == RevAbsent && have != 0:
		return fmt.Errorf("%w: expected no stored document, stored revision is %d", ErrConflict, have)
	case expect == RevAbsent:
		return nil
	case have == 0:
		return fmt.Errorf("%w: expected revision %d, no document is stored", ErrConflict, expect)
	case have != expect:
		return fmt.Errorf("%w: expected revision %d, stored revision is %d", ErrConflict, expect, have)
	}
	return nil
}

// Put creates or replaces a document. doc must already be in the document
// model (buckets.Normalize). For entity collections doc must be an object
// whose "id" is id. expect, when non-zero, is the revision the stored
// document must have (0 also accepts an absent document only via
// PutIfAbsent semantics of the caller). It returns the new revision.
func (w *Writer) Put(coll, id string, doc any, expect uint64) (uint64, error) {
	c, key, err := w.resolve("put", coll, id)
	if err != nil {
		return 0, err
	}
	if err := validate(c, key, doc); err != nil {
		return 0, &EntityError{Op: "put", Collection: coll, ID: id, Err: err}
	}
	old, _, err := w.readOrDrop(c, key, expect)
	if err != nil {
		return 0, &EntityError{Op: "put", Collection: coll, ID: id, Err: err}
	}
	if err := checkRev(old, expect); err != nil {
		return 0, &EntityError{Op: "put", Collection: coll, ID: id, Err: err}
	}
	rev, err := w.write(c, key, old, doc, nil, 0)
	if err != nil {
		return 0, &EntityError{Op: "put", Collection: coll, ID: id, Err: err}
	}
	return rev, nil
}

func (w *Writer) resolve(op, coll, id string) (*schema.Collection, string, error) {
	c, err := w.schema.Lookup(coll)
	if err != nil {
		return nil, "", &EntityError{Op: op, Collection: coll, ID: id, Err: err}
	}
	key, err := c.Key(id)
	if err != nil {
		return nil, "", &EntityError{Op: op, Collection: coll, ID: id, Field: "id", Err: err}
	}
	return c, key, nil
}

// validate checks the rules of the collection for a whole document stored
// under key.
func validate(c *schema.Collection, key string, doc any) error {
	if c.Kind == schema.Extras {
		return nil
	}
	id, err := DocumentKey(c, doc)
	if err != nil {
		return err
	}
	if id != key {
		return fmt.Errorf("%w: field id %q does not match the key %q", ErrInvalid, id, key)
	}
	return nil
}

// DocumentKey returns the key a whole document of c is stored under, and
// checks c's rules for it: a singleton is an object, stored under its
// collection's name; an entity is an object whose "id" is a valid id
// (schema.CheckID), its key. It is the one place these rules are decided:
// every write checks them here, and kv.Validate asks here before a bulk
// write. An extras value takes its key from the caller (ErrInvalid here).
func DocumentKey(c *schema.Collection, doc any) (string, error) {
	m, ok := doc.(map[string]any)
	if !ok {
		return "", &EntityError{Op: "put", Collection: c.Name, Err: fmt.Errorf("%w: a document must be a JSON object, not %s", ErrInvalid, TypeName(doc))}
	}
	switch c.Kind {
	case schema.Singleton:
		return c.Name, nil
	case schema.Extras:
		return "", &EntityError{Op: "put", Collection: c.Name, Err: fmt.Errorf("%w: an extras value takes its key from the caller", ErrInvalid)}
	}
	idv, ok := m["id"]
	if !ok {
		return "", &EntityError{Op: "put", Collection: c.Name, Field: "id", Err: fmt.Errorf("%w: field id is missing", ErrInvalid)}
	}
	id, ok := idv.(string)
	if !ok {
		return "", &EntityError{Op: "put", Collection: c.Name, Field: "id", Err: fmt.Errorf("%w: field id must be a string, not %s", ErrInvalid, TypeName(idv))}
	}
	if err := schema.CheckID(id); err != nil {
		return "", &EntityError{Op: "put", Collection: c.Name, ID: shortID(id), Field: "id", Err: err}
	}
	return id, nil
}

// shortID cuts a long id for an error message.
func shortID(id string) string {
	if len(id) > 64 {
		return id[:64] + "..."
	}
	return id
}

// TypeName names the JSON type of a document-model value for error
// messages: "null", "a boolean", "a string", "a number", "an array",
// "an object".
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case int64, uint64, float64, json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// write stores doc (a full document) as the new version of key, given the
// old record (with its header doc) or nil. loaded, when non-nil, names the
// part fields whose old values were loaded into the old document; part
// fields absent from doc and not loaded are kept as they are (used by
// Patch). With loaded nil, doc is complete and replaces everything.
//
// keptSize is the logical size of the kept part fields (see partFieldSize).
func (w *Writer) write(c *schema.Collection, key string, old *buckets.Record, doc any, keep map[string]bool, keptSize uint64) (uint64, error) {
	if d, ok := doc.(map[string]any); ok && hasDepth(d, buckets.MaxDepth) {
		return 0, fmt.Errorf("%w: nested deeper than %d levels", ErrInvalid, buckets.MaxDepth)
	}
	rec := &buckets.Record{}
	header := doc
	var partVals map[string]any
	if m, ok := doc.(map[string]any); ok && (len(c.ArrayParts) > 0 || len(c.BlobParts) > 0) {
		h := make(map[string]any, len(m))
		for k, v := range m {
			part, array := c.IsPart(k)
			switch {
			case part && array:
				if arr, isArr := v.([]any); isArr {
					if len(arr) > 1<<31-1 {
						return 0, fmt.Errorf("%w: field %s has too many elements", ErrInvalid, k)
					}
					if partVals == nil {
						partVals = map[string]any{}
					}
					partVals[k] = arr
					continue
				}
			case part && v != nil:
				if partVals == nil {
					partVals = map[string]any{}
				}
				partVals[k] = v
				continue
			}
			h[k] = v
		}
		header = h
	}
	rec.Doc = header
	// The top-level fields changed, for the change log: the header's by
	// value, the parts' by whether their stored bytes change.
	var changed map[string]bool
	if nh, isMap := header.(map[string]any); isMap {
		changed = map[string]bool{}
		var oh map[string]any
		if old != nil {
			oh, _ = old.Doc.(map[string]any)
		}
		for k, v := range nh {
			if ov, had := oh[k]; !had || !reflect.DeepEqual(ov, v) {
				changed[k] = true
			}
		}
		for k := range oh {
			if _, has := nh[k]; !has {
				changed[k] = true
			}
		}
	}
	// The logical size: the header, the parts given, the parts kept.
	size := uint64(buckets.JSONSize(header))
	for f, v := range partVals {
		size += partFieldSize(f, v)
	}
	if w.MaxSize > 0 && size+keptSize > w.MaxSize {
		return 0, fmt.Errorf("%w: the document is %d bytes as JSON, the limit is %d", buckets.ErrTooLarge, size+keptSize, w.MaxSize)
	}
	pb := buckets.Lookup(w.tx, buckets.PartsBucket(c.Name))
	if partVals != nil || (old != nil && (len(old.ArrayParts) > 0 || len(old.BlobParts) > 0)) {
		var err error
		if pb, err = w.bucket(buckets.PartsBucket(c.Name)); err != nil {
			return 0, err
		}
	}
	// Array parts: write changed elements, delete extra ones.
	for _, f := range c.ArrayParts {
		var oldN uint32
		if old != nil {
			oldN = old.ArrayParts[f]
		}
		v, has := partVals[f]
		if !has && keep[f] && old != nil {
			if n, had := old.ArrayParts[f]; had {
				if rec.ArrayParts == nil {
					rec.ArrayParts = map[string]uint32{}
				}
				rec.ArrayParts[f] = n
			}
			continue
		}
		var arr []any
		if has {
			arr = v.([]any)
			if rec.ArrayParts == nil {
				rec.ArrayParts = map[string]uint32{}
			}
			rec.ArrayParts[f] = uint32(len(arr))
		}
		before := w.writes
		if err := writeChunks(pb, key, f, arr, 0, buckets.Chunks(oldN), &w.writes); err != nil {
			return 0, err
		}
		if changed != nil && (w.writes != before || (old != nil && hasKey(old.ArrayParts, f)) != has || (has && oldN != uint32(len(arr)))) {
			changed[f] = true
		}
	}
	for _, f := range c.BlobParts {
		v, has := partVals[f]
		hadOld := old != nil && contains(old.BlobParts, f)
		if !has && keep[f] && hadOld {
			rec.BlobParts = append(rec.BlobParts, f)
			continue
		}
		k := buckets.PartKey(key, f, -1)
		if has {
			enc, err := buckets.EncodeValue(v)
			if err != nil {
				return 0, fmt.Errorf("field %s: %w", f, err)
			}
			rec.BlobParts = append(rec.BlobParts, f)
			if cur := pb.Get(k); cur != nil && bytes.Equal(cur, enc) {
				continue
			}
			if err := pb.Put(k, enc); err != nil {
				return 0, err
			}
			w.writes++
			if changed != nil {
				changed[f] = true
			}
		} else if hadOld {
			if err := pb.Delete(k); err != nil {
				return 0, err
			}
			w.writes++
			if changed != nil {
				changed[f] = true
			}
		}
	}
	rec.Size = size + keptSize
	var fields []string
	if changed != nil {
		fields = make([]string, 0, len(changed))
		for f := range changed {
			fields = append(fields, f)
		}
		sort.Strings(fields)
	}
	return w.commitRecord(c, key, old, rec, buckets.OpPut, fields)
}

// partFieldSize is what a part field adds to the logical size of its
// document: a comma, the quoted name, a colon and the value.
func partFieldSize(f string, v any) uint64 {
	// ,"field":value
	return uint64(1 + len(f) + 2 + 1 + buckets.JSONSize(v))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasDepth(v any, limit int) bool {
	if limit < 0 {
		return true
	}
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if hasDepth(e, limit-1) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasDepth(e, limit-1) {
				return true
			}
		}
	}
	return false
}

// Poison marks the writer as having changed the transaction, so a failure
// after it (a panic in a caller's function) rolls the transaction back.
func (w *Writer) Poison() { w.writes++ }

// writeChunks stores the chunks of arr from chunk index from on, skipping
// chunks whose bytes are unchanged, and deletes stored chunks up to
// oldChunks that arr no longer fills.
func writeChunks(pb *bolt.Bucket, key, field string, arr []any, from, oldChunks int, writes *int) error {
	n := buckets.Chunks(uint32(len(arr)))
	for ci := from; ci < n; ci++ {
		end := (ci + 1) * buckets.PartChunk
		if end > len(arr) {
			end = len(arr)
		}
		enc, err := buckets.EncodeValue(arr[ci*buckets.PartChunk : end])
		if err != nil {
			return fmt.Errorf("field %s[%d:%d]: %w", field, ci*buckets.PartChunk, end, err)
		}
		k := buckets.PartKey(key, field, ci)
		if ci < oldChunks {
			if cur := pb.Get(k); cur != nil && bytes.Equal(cur, enc) {
				continue
			}
		}
		if err := pb.Put(k, enc); err != nil {
			return err
		}
		*writes++
	}
	for ci := n; ci < oldChunks; ci++ {
		if err := pb.Delete(buckets.PartKey(key, field, ci)); err != nil {
			return err
		}
		*writes++
	}
	return nil
}
