package txn

import (
	"errors"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/secondary"
	bolt "go.etcd.io/bbolt"
)

// readOrDrop reads the primary record of key for a Put or a Delete, which
// replace or remove the whole document. A record that cannot be decoded
// (its checksum fails: errors.Is(err, buckets.ErrCorrupt)) does not stop
// them: what it derived is removed without decoding it (dropDamaged), and
// damaged reports that the write goes on as if the document were absent.
// With expect non-zero the stored revision cannot be compared, so the
// corruption error is returned instead.
func (w *Writer) readOrDrop(c *schema.Collection, key string, expect uint64) (old *buckets.Record, damaged bool, err error) {
	old, err = w.readRecord(c, key)
	if errors.Is(err, errHidden) {
		return nil, false, err // damage that a write over it would make lasting
	}
	if err == nil || !errors.Is(err, buckets.ErrCorrupt) || expect != 0 {
		return old, false, err
	}
	if err := w.dropDamaged(c, key); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}

// errHidden marks the error of a document damaged pages hide (readRecord).
var errHidden = errors.New("its summary is stored, but the document is not found: the pages of data.db that hold it are damaged")

// readRecord is buckets.ReadRecord (with the document) for a write: a
// document the primary bucket does not hold but c's summaries list is
// hidden by damaged pages (buckets.Listed), an error wrapping ErrCorrupt:
// not one to create anew over what a salvage could still read, nor one to
// report missing.
func (w *Writer) readRecord(c *schema.Collection, key string) (*buckets.Record, error) {
	rec, err := buckets.ReadRecord(w.tx, c, key, true)
	if err == nil && rec == nil && buckets.Listed(w.tx, c, key) {
		return nil, &hiddenError{&buckets.CorruptError{Bucket: string(buckets.PrimaryBucket(c.Name)), Key: key, Detail: errHidden.Error()}}
	}
	return rec, err
}

// hiddenError is readRecord's error: a *buckets.CorruptError that is also
// errHidden.
type hiddenError struct{ *buckets.CorruptError }

func (e *hiddenError) Unwrap() []error { return []error{e.CorruptError, errHidden} }

// dropDamaged removes everything stored for key except its primary value,
// which cannot be decoded: its parts (by key prefix), its metadata entry
// and index keys (secondary.Remove), and for an attachment the blob
// reference it held, taken from its metadata entry (or, when that is gone
// too, by recounting the other attachments). The caller then overwrites or
// deletes the primary value as for an absent document, and the store stays
// exact (secondary.Verify clean).
func (w *Writer) dropDamaged(c *schema.Collection, key string) error {
	w.writes++ // from here on a failure must roll the transaction back
	if err := w.deleteParts(c, key); err != nil {
		return err
	}
	meta, err := secondary.Remove(w.tx, c, key)
	if err != nil {
		return err
	}
	if c.BlobRef == "" {
		return nil
	}
	if meta != nil {
		if v, err := buckets.DecodeValue(buckets.MetaBucket(c.Name), []byte(key), meta); err == nil {
			return w.adjustRefs(hashOf(c, &buckets.Record{Doc: v}), "")
		}
	}
	return w.recountRefs(c, key)
}

// recountRefs sets the refs bucket to the references of every document
// but skip of c (CountRefs). When a document's hash cannot be known, the
// counts are left as they are: check reports them, and kvtool gc
// --recount fixes them once the damage is gone.
func (w *Writer) recountRefs(c *schema.Collection, skip string) error {
	want, err := countRefs(w.tx, c.Name, skip)
	if errors.Is(err, buckets.ErrCorrupt) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = w.setRefs(want)
	return err
}

// RecountRefs rewrites the refs bucket from the attachments (CountRefs)
// and returns how many counts changed. A blob whose count falls to zero
// is reported by Zeroed.
func (w *Writer) RecountRefs() (changed int, err error) {
	want, err := CountRefs(w.tx)
	if err != nil {
		return 0, err
	}
	return w.setRefs(want)
}

// CountRefs derives the reference count of every blob hash from the
// documents that refer to blobs (the collections declaring a BlobRef:
// attachments). The hash of a document whose record cannot be decoded is
// taken from its metadata entry; when neither can be read, CountRefs
// fails with that error (errors.Is(err, buckets.ErrCorrupt)).
func CountRefs(tx *bolt.Tx) (map[string]uint64, error) {
	return countRefs(tx, "", "")
}

// countRefs is CountRefs leaving out document skip of collection
// skipColl.
func countRefs(tx *bolt.Tx, skipColl, skip string) (map[string]uint64, error) {
	want := map[string]uint64{}
	for _, c := range schema.Builtins() {
		if c.BlobRef == "" {
			continue
		}
		mname := buckets.MetaBucket(c.Name)
		mb := buckets.Lookup(tx, mname)
		err := buckets.EachRecord(tx, c, nil, true, func(k []byte, rec *buckets.Record, err error) error {
			if c.Name == skipColl && string(k) == skip {
				return nil
			}
			if err != nil {
				var raw []byte
				if mb != nil {
					raw = mb.Get(k)
				}
				if raw == nil {
					return err
				}
				doc, merr := buckets.DecodeValue(mname, k, raw)
				if merr != nil {
					return err
				}
				rec = &buckets.Record{Doc: doc}
			}
			if h := hashOf(c, rec); h != "" {
				want[h]++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return want, nil
}

// setRefs makes the refs bucket hold exactly want and returns how many
// counts it changed; a hash it removes is noted in Zeroed.
func (w *Writer) setRefs(want map[string]uint64) (changed int, err error) {
	b, err := w.bucket(buckets.RefsBucket)
	if err != nil {
		return 0, err
	}
	w.writes++ // from here on a failure must roll the transaction back
	var stale [][]byte
	cur := b.Cursor()
	for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
		if _, ok := want[string(k)]; !ok {
			stale = append(stale, append([]byte(nil), k...))
		}
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return changed, err
		}
		if w.zeroed == nil {
			w.zeroed = map[string]struct{}{}
		}
		w.zeroed[string(k)] = struct{}{}
		changed++
	}
	for h, n := range want {
		if cur, err := refCount(b.Get([]byte(h))); err == nil && cur == n {
			continue
		}
		if err := b.Put([]byte(h), buckets.EncodeCount(n)); err != nil {
			return changed, err
		}
		changed++
	}
	return changed, nil
}
