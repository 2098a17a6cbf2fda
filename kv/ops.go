package kv

import (
	"context"
	"github.com/cairnkv/cairn/txn"
	bolt "go.etcd.io/bbolt"
)

// Update runs fn in a read-write transaction and commits it durably: every
// change fn makes, across collections, is applied together or not at all.
// If fn returns an error nothing is applied.
//
// Concurrent Updates are grouped into one bbolt transaction (group
// commit). When another function of the same group fails after writing, the
// group is rolled back and run again without it, so fn may be called more
// than once: it must not have effects outside the transaction.
//
// A ctx cancelled before fn runs makes Update return ctx.Err() without
// calling fn; fn can read ctx back with tx.Context() to stop a long change.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.enter(); err != nil {
		return err
	}
	defer db.leave()
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	pend := map[string]bool{}
	defer db.releasePending(pend)
	return db.commit.run(func(w *txn.Writer) error {
		if err := ctx.Err(); err != nil { // cancelled while queued for the commit
			return err
		}
		return fn(&Tx{ctx: ctx, db: db, w: w, tx: w.Tx(), pend: pend})
	})
}

// View runs fn in a read-only transaction: a consistent snapshot that
// writers do not block. A ctx already cancelled makes View return
// ctx.Err() without calling fn; fn can read ctx back with tx.Context().
func (db *DB) View(ctx context.Context, fn func(tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.enter(); err != nil {
		return err
	}
	defer db.leave()
	return db.bolt.View(func(btx *bolt.Tx) error {
		return guardRead(func() error { return fn(&Tx{ctx: ctx, db: db, tx: btx}) })
	})
}

// Put creates or replaces one document (see Tx.Put).
func (db *DB) Put(ctx context.Context, coll string, doc any, opts ...Option) (rev uint64, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		rev, err = tx.Put(coll, doc, opts...)
		return err
	})
	return rev, err
}

// Get returns a whole document and its revision.
func (db *DB) Get(ctx context.Context, coll, id string) (doc Document, rev uint64, err error) {
	err = db.View(ctx, func(tx *Tx) error {
		doc, rev, err = tx.Get(coll, id)
		return err
	})
	return doc, rev, err
}

// GetHeader returns a document without its part fields (see Tx.GetHeader).
func (db *DB) GetHeader(ctx context.Context, coll, id string) (doc Document, rev uint64, err error) {
	err = db.View(ctx, func(tx *Tx) error {
		doc, rev, err = tx.GetHeader(coll, id)
		return err
	})
	return doc, rev, err
}

// GetValue returns any stored value with its revision.
func (db *DB) GetValue(ctx context.Context, coll, id string) (v any, rev uint64, err error) {
	err = db.View(ctx, func(tx *Tx) error {
		v, rev, err = tx.GetValue(coll, id)
		return err
	})
	return v, rev, err
}

// Delete removes documents atomically and returns how many existed.
func (db *DB) Delete(ctx context.Context, coll string, ids ...string) (n int, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		n = 0
		for _, id := range ids {
			ok, err := tx.Delete(coll, id)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return nil
	})
	return n, err
}

// Patch applies a JSON merge patch to one document (see Tx.Patch).
func (db *DB) Patch(ctx context.Context, coll, id string, patch any, opts ...Option) (rev uint64, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		rev, err = tx.Patch(coll, id, patch, opts...)
		return err
	})
	return rev, err
}

// Modify runs a read-modify-write of one document (see Tx.Modify).
func (db *DB) Modify(ctx context.Context, coll, id string, fn func(doc Document) error) (rev uint64, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		rev, err = tx.Modify(coll, id, fn)
		return err
	})
	return rev, err
}

// Append adds elements to an array part of a document (see Tx.Append).
func (db *DB) Append(ctx context.Context, coll, id, field string, elems ...any) (rev uint64, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		rev, err = tx.Append(coll, id, field, elems...)
		return err
	})
	return rev, err
}
