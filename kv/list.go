package kv

import (
	"context"
	"errors"
	"github.com/cairnkv/cairn/buckets"
	bolt "go.etcd.io/bbolt"
)

// List calls fn with the metadata summary of each document of coll, in id
// order, skipping offset and stopping after limit (0: no limit) or when fn
// returns a non-nil error (ErrStop ends the listing without an error). It
// never decodes a whole document.
func (db *DB) List(ctx context.Context, coll string, offset, limit int, fn func(summary Document) error) error {
	if _, err := db.lookup(coll); err != nil {
		return err
	}
	if offset < 0 || limit < 0 {
		return &EntityError{Op: "list", Collection: coll, Err: errNegative}
	}
	return db.View(ctx, func(tx *Tx) error {
		name := buckets.MetaBucket(coll)
		b := buckets.Lookup(tx.tx, name)
		if b == nil {
			return nil
		}
		return listBucket(ctx, b, name, offset, limit, fn)
	})
}

// Summaries returns the metadata summaries of the documents ids of coll, in
// the order given, read in one transaction; an id with no document has a
// nil entry. With a Query for ids only (QueryOptions.IDsOnly), it lists a
// sorted or filtered page of summaries without decoding whole documents.
// A singleton collection has no summaries: every entry is nil.
func (db *DB) Summaries(ctx context.Context, coll string, ids []string) ([]Document, error) {
	if _, err := db.lookup(coll); err != nil {
		return nil, err
	}
	out := make([]Document, len(ids))
	err := db.View(ctx, func(tx *Tx) error {
		name := buckets.MetaBucket(coll)
		b := buckets.Lookup(tx.tx, name)
		if b == nil {
			return nil
		}
		for i, id := range ids {
			v := b.Get([]byte(id))
			if v == nil {
				continue
			}
			s, err := buckets.DecodeValue(name, []byte(id), v)
			if err != nil {
				return err
			}
			m, ok := s.(map[string]any)
			if !ok {
				return &buckets.CorruptError{Bucket: string(name), Key: id, Detail: "summary is not an object"}
			}
			out[i] = m
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func listBucket(ctx context.Context, b *bolt.Bucket, name []byte, offset, limit int, fn func(Document) error) error {
	c := b.Cursor()
	n, seen := 0, 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := checkCtx(ctx, &seen); err != nil {
			return err
		}
		if offset > 0 {
			offset--
			continue
		}
		if limit > 0 && n >= limit {
			return nil
		}
		s, err := buckets.DecodeValue(name, k, v)
		if err != nil {
			return err
		}
		m, ok := s.(map[string]any)
		if !ok {
			return &buckets.CorruptError{Bucket: string(name), Key: string(k), Detail: "summary is not an object"}
		}
		if err := fn(m); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
		n++
	}
	return nil
}

// checkCtx returns ctx.Err() every 256th call (counted in *n): loops over
// keys stop soon after their context is cancelled without paying for a
// check on every key.
func checkCtx(ctx context.Context, n *int) error {
	*n++
	if *n&255 != 0 {
		return nil
	}
	return ctx.Err()
}
