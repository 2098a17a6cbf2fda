package kv

import (
	"context"
	"errors"
	"iter"
)

// The iterators below are the callbacks' range-over-func forms. Each runs
// its read transaction while the loop runs and ends it when the loop ends,
// by break or return included (no goroutine, nothing left open). An error
// is yielded once, as the last pair, with a zero value. A panic in the
// loop body comes out of the loop as a panic, after the transaction ended.

// errBodyPanicked stops a walk whose loop body panicked.
var errBodyPanicked = errors.New("cairn: loop body panicked")

// seq2 turns a walk that hands values to emit into an iter.Seq2.
func seq2[T any](walk func(emit func(T) error) error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var (
			stopped, panicked bool
			pv                any
		)
		err := walk(func(v T) error {
			ok := func() bool {
				defer func() {
					if p := recover(); p != nil {
						panicked, pv = true, p
					}
				}()
				return yield(v, nil)
			}()
			if panicked {
				return errBodyPanicked
			}
			if !ok {
				stopped = true
				return ErrStop
			}
			return nil
		})
		if panicked {
			panic(pv)
		}
		if err != nil && !stopped {
			var zero T
			yield(zero, err)
		}
	}
}

// All iterates over the whole documents of coll (parts assembled), in id
// order, in one read transaction: the range-over-func form of Tx.Each,
// yielding (document, nil) pairs and, if the walk fails, one (nil, err)
// pair last. For summaries only, which are much cheaper, use Summarize.
func (db *DB) All(ctx context.Context, coll string) iter.Seq2[Document, error] {
	return seq2(func(emit func(Document) error) error {
		return db.View(ctx, func(tx *Tx) error {
			return tx.Each(coll, func(id string, doc any) error {
				m, ok := doc.(map[string]any)
				if !ok { // extras may hold non-objects: wrap them
					m = Document{"id": id, "value": doc}
				}
				return emit(m)
			})
		})
	})
}

// Summarize iterates over the metadata summaries of coll in id order,
// never decoding a whole document: the range-over-func form of List with
// no offset or limit.
func (db *DB) Summarize(ctx context.Context, coll string) iter.Seq2[Document, error] {
	return seq2(func(emit func(Document) error) error {
		return db.List(ctx, coll, 0, 0, func(s Document) error { return emit(s) })
	})
}

// QueryAll runs q and yields its documents one by one, read in the same
// transaction as the plan, without holding them all in memory (Query's
// result holds every document at once). opts.Header is honoured; IDsOnly
// and Count are not iterations: use Query.
func (db *DB) QueryAll(ctx context.Context, q Query, opts *QueryOptions) iter.Seq2[Document, error] {
	o := QueryOptions{}
	if opts != nil {
		o.Header = opts.Header
	}
	return seq2(func(emit func(Document) error) error {
		_, err := db.query(ctx, q, &o, func(_ string, doc Document) error { return emit(doc) })
		return err
	})
}

// KeyValue is one raw pair of a bbolt bucket (DumpAll). The slices are
// copies the caller may keep.
type KeyValue struct {
	Key, Value []byte
}

// DumpAll iterates over the raw pairs of a bucket as Dump does (from
// prefix, while keys have it, at most limit pairs, 0: no limit).
func (db *DB) DumpAll(ctx context.Context, bucket string, prefix []byte, limit int) iter.Seq2[KeyValue, error] {
	return seq2(func(emit func(KeyValue) error) error {
		return db.Dump(ctx, bucket, prefix, limit, func(k, v []byte) error {
			return emit(KeyValue{Key: k, Value: v})
		})
	})
}

// All iterates over the result's ids and documents (documents are nil
// when the query asked for ids only).
func (r *QueryResult) All() iter.Seq2[string, Document] {
	return func(yield func(string, Document) bool) {
		for i, id := range r.IDs {
			var doc Document
			if i < len(r.Docs) {
				doc = r.Docs[i]
			}
			if !yield(id, doc) {
				return
			}
		}
	}
}
