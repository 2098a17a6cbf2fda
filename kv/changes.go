package kv

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/cairnkv/cairn/buckets"
	bolt "go.etcd.io/bbolt"
)

// Change is one committed change of a document, from the change log.
type Change struct {
	// Seq is the change-log sequence of the commit; it is also the
	// document's new revision (Rev) for a put. Sequences increase by one
	// per change of any document.
	Seq        uint64
	Collection string
	ID         string
	// Rev is the document's revision after the change (0 for a delete).
	Rev     uint64
	Deleted bool
	Time    time.Time
	// Fields names the top-level fields the change set, replaced or
	// removed, sorted (for a new document: all of them, "id" included).
	// It is nil for a delete, for an extras value, and for changes
	// committed before the change log recorded fields; empty when a put
	// left the document as it was.
	Fields []string
}

// changesBatch is how many change-log entries one read transaction reads:
// each batch is copied out and the transaction ended before any is
// yielded, so a slow consumer never holds bbolt's read lock.
const changesBatch = 256

// Changes iterates over the committed changes after sequence afterSeq, in
// order, and then blocks for new commits until ctx ends: a change feed.
// Resume a stopped feed by passing the Seq of the last change handled. The
// iterator ends after yielding ctx's error, ErrClosed when the store is
// closed, or ErrChangesTrimmed when entries after afterSeq were already
// trimmed from the log (Options.ChangeLogRetention): the reader has to
// start over from the current state then. Breaking out of the loop ends it
// at once.
func (db *DB) Changes(ctx context.Context, afterSeq uint64) iter.Seq2[Change, error] {
	return db.changes(ctx, afterSeq, true)
}

// ChangesSoFar is Changes without the wait: it ends once it has yielded
// every change committed when it reached the end of the log.
func (db *DB) ChangesSoFar(ctx context.Context, afterSeq uint64) iter.Seq2[Change, error] {
	return db.changes(ctx, afterSeq, false)
}

func (db *DB) changes(ctx context.Context, after uint64, wait bool) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		for {
			// Take the wake-up channel before reading, so a commit that
			// lands after the read is never missed.
			wake := db.feedChan()
			batch, err := db.readChanges(after)
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				yield(Change{}, err)
				return
			}
			for _, ch := range batch {
				if !yield(ch, nil) {
					return
				}
				after = ch.Seq
			}
			if len(batch) == changesBatch {
				continue
			}
			if !wait {
				return
			}
			select {
			case <-ctx.Done():
				yield(Change{}, ctx.Err())
				return
			case <-wake:
			}
		}
	}
}

// readChanges copies out up to changesBatch change-log entries after
// sequence after.
func (db *DB) readChanges(after uint64) ([]Change, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.leave()
	var out []Change
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return guard(func() error {
			b := buckets.Lookup(tx, buckets.LogBucket)
			if b == nil {
				return nil
			}
			last := b.Sequence()
			if after >= last {
				return nil
			}
			cur := b.Cursor()
			k, v := cur.Seek(buckets.LogKey(after + 1))
			first := uint64(0)
			if k != nil {
				first, _ = buckets.ParseLogKey(k)
			}
			if k == nil || first > after+1 {
				return fmt.Errorf("%w: changes after %d were asked for, the log starts at %d (last %d)", ErrChangesTrimmed, after, first, last)
			}
			for ; k != nil && len(out) < changesBatch; k, v = cur.Next() {
				ch, err := buckets.DecodeChange(k, v)
				if err != nil {
					// Which document it changed is lost: to its
					// reader, the log is trimmed there.
					return fmt.Errorf("%w: a change after %d cannot be read (%w); start over from the current state", ErrChangesTrimmed, after, err)
				}
				c := Change{Seq: ch.Seq, Collection: ch.Collection, ID: ch.ID, Deleted: ch.Op == buckets.OpDelete, Time: time.UnixMilli(ch.TimeMs), Fields: ch.Fields}
				if !c.Deleted {
					c.Rev = ch.Seq
				}
				out = append(out, c)
			}
			return nil
		})
	})
	return out, err
}

// LastSeq returns the sequence of the newest committed change (0 for a
// store that has never been written).
func (db *DB) LastSeq(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := db.enter(); err != nil {
		return 0, err
	}
	defer db.leave()
	var seq uint64
	err := guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			if b := buckets.Lookup(tx, buckets.LogBucket); b != nil {
				seq = b.Sequence()
			}
			return nil
		})
	})
	return seq, err
}

// Watch yields q's result (as Query returns it, with opts) at once, and
// again after every commit that changes a document of q's collection,
// until ctx ends (the iterator then yields ctx's error and stops) or the
// store is closed (ErrClosed). Commits that arrive while the consumer is
// busy are folded into one new result: a live list sees the latest state,
// not every intermediate one. Breaking out of the loop ends it.
func (db *DB) Watch(ctx context.Context, q Query, opts *QueryOptions) iter.Seq2[*QueryResult, error] {
	return func(yield func(*QueryResult, error) bool) {
		if _, err := db.lookup(q.Collection); err != nil {
			yield(nil, err)
			return
		}
		seq, err := db.LastSeq(ctx)
		if err != nil {
			yield(nil, err)
			return
		}
		for {
			wake := db.feedChan()
			res, err := db.Query(ctx, q, opts)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(res, nil) {
				return
			}
			// Wait for a commit that touches the collection.
			for touched := false; !touched; {
				select {
				case <-ctx.Done():
					yield(nil, ctx.Err())
					return
				case <-wake:
				}
				wake = db.feedChan()
				for ch, err := range db.ChangesSoFar(ctx, seq) {
					if err != nil {
						if errors.Is(err, ErrChangesTrimmed) {
							touched = true // cannot tell: query again
							if s, e := db.LastSeq(ctx); e == nil {
								seq = s
							}
							break
						}
						yield(nil, err)
						return
					}
					seq = ch.Seq
					touched = touched || ch.Collection == q.Collection
				}
			}
		}
	}
}

// feedChan returns the channel the next commit (or Close) closes.
func (db *DB) feedChan() chan struct{} {
	db.feed.Lock()
	defer db.feed.Unlock()
	if db.feed.ch == nil {
		db.feed.ch = make(chan struct{})
	}
	return db.feed.ch
}

// wakeFeed wakes every Changes and Watch reader waiting for a commit.
func (db *DB) wakeFeed() {
	db.feed.Lock()
	defer db.feed.Unlock()
	if db.feed.ch != nil {
		close(db.feed.ch)
		db.feed.ch = nil
	}
}
