package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cairnkv/cairn/buckets"
	bolt "go.etcd.io/bbolt"
)

// BucketInfo describes one bbolt bucket of the store.
type BucketInfo struct {
	Name      string `json:"name"`
	Keys      int    `json:"keys"`
	Bytes     int    `json:"bytes"`      // bytes of pages in use (branch and leaf; an inline bucket's, inside its parent's page)
	DataBytes int    `json:"data_bytes"` // bytes of keys and values
	// PageBytes is the bytes of the pages the bucket takes in the file,
	// overflow pages included: what it costs on disk. The part of them
	// Bytes does not use is the slack of partly filled pages. It is 0 for
	// a small bucket bbolt keeps inline, inside the page of its parent.
	PageBytes int `json:"page_bytes"`
}

// Buckets lists the buckets of the store, in name order.
func (db *DB) Buckets(ctx context.Context) ([]BucketInfo, error) {
	var out []BucketInfo
	err := db.View(ctx, func(t *Tx) error {
		return buckets.Each(t.tx, func(name []byte, b *bolt.Bucket) error {
			s := b.Stats()
			info := BucketInfo{Name: string(name), Keys: s.KeyN, Bytes: s.BranchInuse + s.LeafInuse + s.InlineBucketInuse, PageBytes: s.BranchAlloc + s.LeafAlloc}
			_ = b.ForEach(func(k, v []byte) error {
				info.DataBytes += len(k) + len(v)
				return nil
			})
			out = append(out, info)
			return nil
		})
	})
	return out, err
}

// Dump calls fn with the raw keys and values of a bucket, in key order,
// starting at prefix and stopping when keys no longer have it, after limit
// pairs (0: no limit), or when fn returns an error (ErrStop: no error). The
// slices are copies the callback may keep.
func (db *DB) Dump(ctx context.Context, bucket string, prefix []byte, limit int, fn func(k, v []byte) error) error {
	if limit < 0 {
		return errNegative
	}
	return db.View(ctx, func(t *Tx) error {
		b := buckets.Lookup(t.tx, []byte(bucket))
		if b == nil {
			return fmt.Errorf("%w: no bucket %q (see kvtool buckets)", ErrNotFound, bucket)
		}
		c := b.Cursor()
		n, seen := 0, 0
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if err := checkCtx(ctx, &seen); err != nil {
				return err
			}
			if limit > 0 && n >= limit {
				return nil
			}
			if err := fn(append([]byte(nil), k...), append([]byte(nil), v...)); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
			n++
		}
		return nil
	})
}
