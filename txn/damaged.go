package txn

import (
	"errors"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/secondary"
)

// readOrDrop reads the primary record of key for a Put or a Delete, which
// replace or remove the whole document. A record that cannot be decoded
// (its checksum fails: errors.Is(err, buckets.ErrCorrupt)) does not stop
// them: what it derived is removed without decoding it (dropDamaged), and
// damaged reports that the write goes on as if the document were absent.
// With expect non-zero the stored revision cannot be compared, so the
// corruption error is returned instead.
func (w *Writer) readOrDrop(c *buckets.Collection, key string, expect uint64) (old *buckets.Record, damaged bool, err error) {
	old, err = ReadRecord(w.tx, c, key, true)
	if err == nil || !errors.Is(err, buckets.ErrCorrupt) || expect != 0 {
		return old, false, err
	}
	if err := w.dropDamaged(c, key); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}

// dropDamaged removes everything stored for key except its primary value,
// which cannot be decoded: its parts (by key prefix), its metadata entry
// and index keys (secondary.Remove), and for an attachment the blob
// reference it held, taken from its metadata entry (or, when that is gone
// too, by recounting the other attachments). The caller then overwrites or
// deletes the primary value as for an absent document, and the store stays
// exact (secondary.Verify clean).
func (w *Writer) dropDamaged(c *buckets.Collection, key string) error {
	if err := w.deleteParts(c, key); err != nil {
		return err
	}
	meta, err := secondary.Remove(w.tx, c.Name, key)
	if err != nil {
		return err
	}
	w.writes++
	if c.Name != "attachments" {
		return nil
	}
	if meta != nil {
		if v, err := buckets.DecodeValue(buckets.MetaBucket(c.Name), []byte(key), meta); err == nil {
			return w.adjustRefs(hashOf(&buckets.Record{Doc: v}), "")
		}
	}
	return w.recountRefs(key)
}

// recountRefs sets the refs bucket to the references of every attachment
// but skip: from its record, or from its metadata entry when the record
// cannot be decoded. When an attachment's hash cannot be known from
// either, the counts are left as they are (check reports them and
// kvtool gc --recount fixes them once the damage is gone).
func (w *Writer) recountRefs(skip string) error {
	name := buckets.PrimaryBucket("attachments")
	pb := w.tx.Bucket(name)
	want := map[string]uint64{}
	if pb != nil {
		mb := w.tx.Bucket(buckets.MetaBucket("attachments"))
		cur := pb.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			if string(k) == skip {
				continue
			}
			rec, err := buckets.DecodeRecord(name, k, v, true)
			if err != nil {
				var raw []byte
				if mb != nil {
					raw = mb.Get(k)
				}
				if raw == nil {
					return nil
				}
				doc, err := buckets.DecodeValue(buckets.MetaBucket("attachments"), k, raw)
				if err != nil {
					return nil
				}
				rec = &buckets.Record{Doc: doc}
			}
			if h := hashOf(rec); h != "" {
				want[h]++
			}
		}
	}
	b, err := w.bucket(buckets.RefsBucket)
	if err != nil {
		return err
	}
	var stale [][]byte
	cur := b.Cursor()
	for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
		if _, ok := want[string(k)]; !ok {
			stale = append(stale, append([]byte(nil), k...))
		}
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return err
		}
		if w.zeroed == nil {
			w.zeroed = map[string]struct{}{}
		}
		w.zeroed[string(k)] = struct{}{}
	}
	for h, n := range want {
		if cur, err := refCount(b.Get([]byte(h))); err == nil && cur == n {
			continue
		}
		if err := b.Put([]byte(h), buckets.EncodeCount(n)); err != nil {
			return err
		}
	}
	w.writes++
	return nil
}
