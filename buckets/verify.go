package buckets

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// VerifyTx reads every value in the store through tx, checks every checksum
// and envelope, and returns the number of documents per collection (primary
// bucket key counts) with every problem found. It never panics on damaged
// bytes. Snapshot verification and kvtool check both use it; bbolt's own
// structural check (tx.Check) is separate.
func VerifyTx(tx *bolt.Tx) (counts map[string]int, problems []Problem) {
	counts = map[string]int{}
	for _, c := range collections {
		counts[c.Name] = 0
	}
	add := func(kind, coll, id, detail string) {
		problems = append(problems, Problem{Kind: kind, Collection: coll, ID: id, Detail: detail})
	}
	corrupt := func(coll, id string, err error) {
		var ce *CorruptError
		if errors.As(err, &ce) {
			if id == "" && ce.Key != "" { // say which entry (a log sequence, a ref hash)
				add("corrupt", coll, id, fmt.Sprintf("bucket %s key %q: %s", ce.Bucket, ce.Key, ce.Detail))
				return
			}
			add("corrupt", coll, id, fmt.Sprintf("bucket %s: %s", ce.Bucket, ce.Detail))
			return
		}
		add("corrupt", coll, id, err.Error())
	}
	err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		kind, coll, _, ok := ParseBucket(name)
		if !ok {
			add("unknown-bucket", "", "", fmt.Sprintf("bucket %q is not written by Cairn", name))
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				add("unexpected-bucket", coll, "", fmt.Sprintf("nested bucket %q in %q", k, name))
				return nil
			}
			switch kind {
			case BucketPrimary:
				counts[coll]++
				if _, err := DecodeRecord(name, k, v, true); err != nil {
					corrupt(coll, string(k), err)
				}
			case BucketMeta:
				if _, err := DecodeValue(name, k, v); err != nil {
					corrupt(coll, string(k), err)
				}
			case BucketParts:
				id, _, _, err := ParsePartKey(k)
				if err != nil {
					corrupt(coll, "", err)
					return nil
				}
				if _, err := DecodeValue(name, k, v); err != nil {
					corrupt(coll, id, err)
				}
			case BucketIndex:
				if _, _, err := SplitIndexKey(k); err != nil {
					corrupt(coll, "", fmt.Errorf("bucket %s: %w", name, err))
				}
			case BucketLog:
				if _, err := DecodeChange(k, v); err != nil {
					corrupt("", "", err)
				}
			case BucketRefs:
				if _, err := ParseRefKey(k); err != nil {
					corrupt("", "", err)
				} else if _, err := ParseCount(v); err != nil {
					corrupt("", string(k), err)
				}
			}
			return nil
		})
	})
	if err != nil {
		add("read", "", "", err.Error())
	}
	return counts, problems
}
