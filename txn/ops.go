package txn

import (
	"bytes"
	"fmt"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/secondary"
)

// commitRecord stores rec as the new version of key (or deletes key when
// rec is nil), and keeps metadata, indexes, blob references and the change
// log in step. fields are the top-level fields changed, for the change log
// (nil: not known).
func (w *Writer) commitRecord(c *schema.Collection, key string, old, rec *buckets.Record, op string, fields []string) (uint64, error) {
	log, err := w.bucket(buckets.LogBucket)
	if err != nil {
		return 0, err
	}
	seq, err := log.NextSequence()
	if err != nil {
		return 0, err
	}
	pb, err := w.bucket(buckets.PrimaryBucket(c.Name))
	if err != nil {
		return 0, err
	}
	if rec != nil {
		rec.Rev = seq
		enc, err := buckets.EncodeRecord(rec)
		if err != nil {
			return 0, err
		}
		if err := pb.Put([]byte(key), enc); err != nil {
			return 0, err
		}
	} else if err := pb.Delete([]byte(key)); err != nil {
		return 0, err
	}
	w.writes++
	if err := secondary.Apply(w.tx, c, key, state(old), state(rec)); err != nil {
		return 0, err
	}
	if c.BlobRef != "" {
		if err := w.adjustRefs(hashOf(c, old), hashOf(c, rec)); err != nil {
			return 0, err
		}
	}
	ch := buckets.Change{Seq: seq, Collection: c.Name, ID: key, Op: op, TimeMs: w.now().UnixMilli(), Fields: fields}
	enc, err := buckets.EncodeChange(&ch)
	if err != nil {
		return 0, err
	}
	if err := log.Put(buckets.LogKey(seq), enc); err != nil {
		return 0, err
	}
	w.changes = append(w.changes, ch)
	return seq, nil
}

// hashOf returns the content hash a record of c references (its
// c.BlobRef field), or "".
func hashOf(c *schema.Collection, r *buckets.Record) string {
	if r == nil || c.BlobRef == "" {
		return ""
	}
	m, ok := r.Doc.(map[string]any)
	if !ok {
		return ""
	}
	h, _ := m[c.BlobRef].(string)
	if !buckets.ValidHash(h) {
		return ""
	}
	return h
}

func (w *Writer) adjustRefs(oldHash, newHash string) error {
	if oldHash == newHash {
		return nil
	}
	b, err := w.bucket(buckets.RefsBucket)
	if err != nil {
		return err
	}
	if oldHash != "" {
		n, err := refCount(b.Get([]byte(oldHash)))
		if err != nil {
			return err
		}
		if n <= 1 {
			if err := b.Delete([]byte(oldHash)); err != nil {
				return err
			}
			if w.zeroed == nil {
				w.zeroed = map[string]struct{}{}
			}
			w.zeroed[oldHash] = struct{}{}
		} else if err := b.Put([]byte(oldHash), buckets.EncodeCount(n-1)); err != nil {
			return err
		}
	}
	if newHash != "" {
		n, err := refCount(b.Get([]byte(newHash)))
		if err != nil {
			return err
		}
		if err := b.Put([]byte(newHash), buckets.EncodeCount(n+1)); err != nil {
			return err
		}
		delete(w.zeroed, newHash)
	}
	return nil
}

func refCount(v []byte) (uint64, error) {
	if v == nil {
		return 0, nil
	}
	return buckets.ParseCount(v)
}

// RefCount returns the stored reference count of a blob hash.
func (w *Writer) RefCount(hash string) (uint64, error) {
	b := buckets.Lookup(w.tx, buckets.RefsBucket)
	if b == nil {
		return 0, nil
	}
	return refCount(b.Get([]byte(hash)))
}

// Delete removes a document. It reports whether it existed; deleting an
// absent document is not an error unless expect is non-zero.
func (w *Writer) Delete(coll, id string, expect uint64) (bool, error) {
	c, key, err := w.resolve("delete", coll, id)
	if err != nil {
		return false, err
	}
	old, damaged, err := w.readOrDrop(c, key, expect)
	if err != nil {
		return false, &EntityError{Op: "delete", Collection: coll, ID: id, Err: err}
	}
	if err := checkRev(old, expect); err != nil {
		return false, &EntityError{Op: "delete", Collection: coll, ID: id, Err: err}
	}
	if old == nil && !damaged {
		return false, nil
	}
	if old != nil && (len(old.ArrayParts) > 0 || len(old.BlobParts) > 0) {
		if err := w.deleteParts(c, key); err != nil {
			return false, &EntityError{Op: "delete", Collection: coll, ID: id, Err: err}
		}
	}
	if _, err := w.commitRecord(c, key, old, nil, buckets.OpDelete, nil); err != nil {
		return false, &EntityError{Op: "delete", Collection: coll, ID: id, Err: err}
	}
	return true, nil
}

// Get reads a document inside the transaction (seeing its own writes).
// withParts false returns the header only (for sessions: without
// screenshots, summary, ...). A missing document is ErrNotFound.
func (w *Writer) Get(coll, id string, withParts bool) (any, uint64, error) {
	c, key, err := w.resolve("get", coll, id)
	if err != nil {
		return nil, 0, err
	}
	rec, err := w.readRecord(c, key)
	if err != nil {
		return nil, 0, &EntityError{Op: "get", Collection: coll, ID: id, Err: err}
	}
	if rec == nil {
		return nil, 0, &EntityError{Op: "get", Collection: coll, ID: id, Err: ErrNotFound}
	}
	if !withParts {
		return rec.Doc, rec.Rev, nil
	}
	doc, err := buckets.LoadParts(w.tx, c, key, rec, nil)
	if err != nil {
		return nil, 0, &EntityError{Op: "get", Collection: coll, ID: id, Err: err}
	}
	return doc, rec.Rev, nil
}

// Patch applies an RFC 7396 merge patch to the stored document, inside the
// transaction, so concurrent patches to different fields all survive.
// Only the part fields the patch touches are read and rewritten. The patch
// must be an object in the document model. expect works as in Put: with
// RevAbsent, a document that is not stored is created from the patch.
func (w *Writer) Patch(coll, id string, patch any, expect uint64) (uint64, error) {
	c, key, err := w.resolve("patch", coll, id)
	if err != nil {
		return 0, err
	}
	fail := func(field string, err error) (uint64, error) {
		return 0, &EntityError{Op: "patch", Collection: coll, ID: id, Field: field, Err: err}
	}
	p, ok := patch.(map[string]any)
	if !ok && c.Kind != schema.Extras {
		return fail("", fmt.Errorf("%w: a merge patch must be a JSON object, not %s", ErrInvalid, TypeName(patch)))
	}
	if c.Kind == schema.Entity {
		if v, has := p["id"]; has {
			if s, isStr := v.(string); !isStr || s != key {
				return fail("id", fmt.Errorf("%w: a patch cannot change the id", ErrInvalid))
			}
		}
	}
	old, err := w.readRecord(c, key)
	if err != nil {
		return fail("", err)
	}
	if old == nil && c.Kind != schema.Singleton && expect != RevAbsent {
		// A patch of nothing creates a document only when asked to with
		// the expectation that nothing is stored (IfRev(0)).
		return fail("", ErrNotFound)
	}
	if err := checkRev(old, expect); err != nil {
		return fail("", err)
	}
	// Load the part fields the patch touches; keep the others as stored.
	var base any = map[string]any{}
	var keptSize uint64
	keep := map[string]bool{}
	if old != nil {
		touched := map[string]bool{}
		for k := range p {
			if part, _ := c.IsPart(k); part {
				touched[k] = true
			}
		}
		full, err := buckets.LoadParts(w.tx, c, key, old, touched)
		if err != nil {
			return fail("", err)
		}
		// The parts kept as stored must read too: merging into a
		// document that cannot be read would give it a new revision and
		// leave it unreadable (only a Put or Delete replaces it).
		if err := buckets.CheckParts(w.tx, c, key, old, touched); err != nil {
			return fail("", err)
		}
		base = full
		kept := int64(old.Size) - int64(buckets.JSONSize(old.Doc))
		if fm, isMap := full.(map[string]any); isMap {
			for f := range touched {
				if v, has := fm[f]; has && (hasKey(old.ArrayParts, f) || contains(old.BlobParts, f)) {
					kept -= int64(partFieldSize(f, v))
				}
			}
		}
		if kept > 0 {
			keptSize = uint64(kept)
		}
		for _, f := range c.ArrayParts {
			if !touched[f] {
				keep[f] = true
			}
		}
		for _, f := range c.BlobParts {
			if !touched[f] {
				keep[f] = true
			}
		}
	}
	doc := MergePatch(base, patch)
	if c.Kind == schema.Entity {
		if m, isMap := doc.(map[string]any); isMap {
			m["id"] = key
		}
	}
	if err := validate(c, key, doc); err != nil {
		return fail("", err)
	}
	rev, err := w.write(c, key, old, doc, keep, keptSize)
	if err != nil {
		return fail("", err)
	}
	return rev, nil
}

func hasKey(m map[string]uint32, k string) bool {
	_, ok := m[k]
	return ok
}

// Modify reads the whole document (ErrNotFound if absent), passes it to fn,
// and stores what fn returns, all inside the transaction: a
// read-modify-write that no concurrent writer can interleave with. fn may
// change the document in place and return it.
func (w *Writer) Modify(coll, id string, fn func(doc any) (any, error)) (uint64, error) {
	c, key, err := w.resolve("modify", coll, id)
	if err != nil {
		return 0, err
	}
	fail := func(err error) (uint64, error) {
		return 0, &EntityError{Op: "modify", Collection: coll, ID: id, Err: err}
	}
	old, err := w.readRecord(c, key)
	if err != nil {
		return fail(err)
	}
	if old == nil {
		return fail(ErrNotFound)
	}
	full, err := buckets.LoadParts(w.tx, c, key, old, nil)
	if err != nil {
		return fail(err)
	}
	out, err := fn(full)
	if err != nil {
		return fail(err)
	}
	doc, err := buckets.Normalize(out)
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrInvalid, err))
	}
	if err := validate(c, key, doc); err != nil {
		return fail(err)
	}
	// The old record must be re-read with its header only: LoadParts
	// shares maps with it, and fn may have changed them in place.
	if old, err = buckets.ReadRecord(w.tx, c, key, true); err != nil {
		return fail(err)
	}
	rev, err := w.write(c, key, old, doc, nil, 0)
	if err != nil {
		return fail(err)
	}
	return rev, nil
}

// Append adds elements at the end of an array part field (for sessions:
// screenshots, audioSegments, contextItems) without reading or rewriting
// the elements already stored: the cost does not grow with the array.
func (w *Writer) Append(coll, id, field string, elems []any) (uint64, error) {
	c, key, err := w.resolve("append", coll, id)
	if err != nil {
		return 0, err
	}
	fail := func(err error) (uint64, error) {
		return 0, &EntityError{Op: "append", Collection: coll, ID: id, Field: field, Err: err}
	}
	if part, array := c.IsPart(field); !part || !array {
		return fail(fmt.Errorf("%w: %s is not an array part of %s (use Patch or Modify)", ErrInvalid, field, coll))
	}
	old, err := w.readRecord(c, key)
	if err != nil {
		return fail(err)
	}
	if old == nil {
		return fail(ErrNotFound)
	}
	if h, ok := old.Doc.(map[string]any); ok {
		if v, inline := h[field]; inline && v != nil {
			return fail(fmt.Errorf("%w: %s is stored as %s, not an array", ErrInvalid, field, TypeName(v)))
		}
	}
	norm := make([]any, len(elems))
	for i, e := range elems {
		if norm[i], err = buckets.Normalize(e); err != nil {
			return fail(fmt.Errorf("%w: element %d: %v", ErrInvalid, i, err))
		}
	}
	n, had := old.ArrayParts[field]
	if uint64(n)+uint64(len(norm)) > 1<<31-1 {
		return fail(fmt.Errorf("%w: too many elements", ErrInvalid))
	}
	size := old.Size
	header := old.Doc
	if !had {
		size += partFieldSize(field, []any{})
		if h, ok := old.Doc.(map[string]any); ok {
			if _, inline := h[field]; inline {
				// An explicit null becomes the array: it leaves the
				// header, and its size with it. The old header stays as
				// it was (secondary.Apply derives what to remove from it).
				size -= partFieldSize(field, nil)
				nh := make(map[string]any, len(h))
				for k, v := range h {
					if k != field {
						nh[k] = v
					}
				}
				header = nh
			}
		}
	}
	for i, e := range norm {
		size += uint64(buckets.JSONSize(e))
		if int(n)+i > 0 {
			size++ // the comma
		}
	}
	if w.MaxSize > 0 && size > w.MaxSize {
		return fail(fmt.Errorf("%w: the document would be %d bytes as JSON, the limit is %d", buckets.ErrTooLarge, size, w.MaxSize))
	}
	// Read the last, partly filled chunk (if any): it is rewritten with
	// the new elements.
	pname := buckets.PartsBucket(c.Name)
	first := int(n) / buckets.PartChunk
	var tail []any
	if int(n)%buckets.PartChunk != 0 {
		k := buckets.PartKey(key, field, first)
		var v []byte
		if b := buckets.Lookup(w.tx, pname); b != nil {
			v = b.Get(k)
		}
		if v == nil {
			return fail(&buckets.CorruptError{Bucket: string(pname), Key: key, Detail: fmt.Sprintf("part %s: chunk %d missing", field, first)})
		}
		e, err := buckets.DecodeValue(pname, k, v)
		if err != nil {
			return fail(err)
		}
		els, ok := e.([]any)
		if !ok || len(els) != int(n)%buckets.PartChunk {
			return fail(&buckets.CorruptError{Bucket: string(pname), Key: key, Detail: fmt.Sprintf("part %s: chunk %d has the wrong length", field, first)})
		}
		tail = els
	}
	// Every check is done: only now may the parts bucket be created (a
	// refused Append leaves the transaction untouched).
	pb, err := w.bucket(pname)
	if err != nil {
		return fail(err)
	}
	// writeChunks addresses chunks by index from the start of the array;
	// give it a window whose first chunk is the partly filled one.
	window := make([]any, first*buckets.PartChunk, first*buckets.PartChunk+len(tail)+len(norm))
	window = append(window, tail...)
	window = append(window, norm...)
	if err := writeChunks(pb, key, field, window, first, 0, &w.writes); err != nil {
		return fail(err)
	}
	rec := &buckets.Record{Size: size, BlobParts: old.BlobParts, Doc: header, ArrayParts: map[string]uint32{}}
	for k, v := range old.ArrayParts {
		rec.ArrayParts[k] = v
	}
	rec.ArrayParts[field] = n + uint32(len(norm))
	fields := []string{}
	if len(norm) > 0 || !hasKey(old.ArrayParts, field) {
		fields = append(fields, field)
	}
	rev, err := w.commitRecord(c, key, old, rec, buckets.OpPut, fields)
	if err != nil {
		return fail(err)
	}
	return rev, nil
}

// deleteParts deletes every part of key (all its fields and chunks).
func (w *Writer) deleteParts(c *schema.Collection, key string) error {
	pb := buckets.Lookup(w.tx, buckets.PartsBucket(c.Name))
	if pb == nil {
		return nil
	}
	prefix := buckets.PartPrefix(key)
	var keys [][]byte
	cur := pb.Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := pb.Delete(k); err != nil {
			return err
		}
		w.writes++
	}
	return nil
}
