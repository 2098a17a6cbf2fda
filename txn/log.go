package txn

import (
	"github.com/cairnkv/cairn/buckets"
)

// TrimLog deletes change-log entries from the oldest on, as long as their
// sequence is at most upTo and their time at most cutoffMs, and at most max
// of them (max <= 0: no limit). It returns how many it deleted. It counts as
// a change of the transaction, so the deletions are committed (a trim done
// behind the Writer's back left it clean, and the committer rolled back a
// clean transaction: the log was never trimmed).
func (w *Writer) TrimLog(upTo uint64, cutoffMs int64, max int) (int, error) {
	b := buckets.Lookup(w.tx, buckets.LogBucket)
	if b == nil {
		return 0, nil
	}
	// Collect first, then delete: deleting under a cursor that moves on
	// with Next skips entries in bbolt.
	var keys [][]byte
	cur := b.Cursor()
	for k, v := cur.First(); k != nil && (max <= 0 || len(keys) < max); k, v = cur.Next() {
		ch, err := buckets.DecodeChange(k, v)
		if err != nil || ch.Seq > upTo || ch.TimeMs > cutoffMs {
			break
		}
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
		w.writes++
	}
	return len(keys), nil
}

// DropDamagedLog deletes the change-log entries, from the oldest on,
// through the last one up to sequence upTo that cannot be read (its value
// fails its checksum or its key is not a sequence). Which document such an
// entry changed is lost, so a reader of the log cannot go past it; once
// the entries before it go too, the log reads as trimmed there, and its
// readers start over from the current state (the search index rebuilds,
// sync sends every document). It returns how many entries it deleted, 0
// when every entry up to upTo reads.
func (w *Writer) DropDamagedLog(upTo uint64) (int, error) {
	b := buckets.Lookup(w.tx, buckets.LogBucket)
	if b == nil {
		return 0, nil
	}
	var keys [][]byte
	through := -1
	cur := b.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		ch, err := buckets.DecodeChange(k, v)
		if err == nil && ch.Seq > upTo {
			break
		}
		keys = append(keys, append([]byte(nil), k...))
		if err != nil {
			through = len(keys) - 1
		}
	}
	for _, k := range keys[:through+1] {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
		w.writes++
	}
	return through + 1, nil
}
