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
	b := w.tx.Bucket(buckets.LogBucket)
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
