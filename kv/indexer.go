package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/search"
	"github.com/cairnkv/cairn/txn"
	bolt "go.etcd.io/bbolt"
)

// SearchDir is the directory of the full-text index inside a store.
const SearchDir = "search"

// indexer feeds the Bleve index from the change log. It runs in its own
// goroutine: it opens the index (rebuilding it from bbolt if it is missing,
// damaged, of another mapping version, or out of reach of the change log),
// catches up, then applies each commit's changes after the commit. It
// records the last applied sequence inside the index, in the same Bleve
// batch as the documents, so it can never silently drift.
type indexer struct {
	db *DB

	mu struct {
		sync.Mutex
		ix       *search.Index
		ready    bool   // opened and caught up once
		target   uint64 // newest committed sequence known
		applied  uint64 // LastApplied
		err      error  // last failure (retried on the next commit)
		closing  bool
		rebuilt  string // why the index was rebuilt at open, if it was
		lastTrim time.Time
	}
	cond *sync.Cond
	done chan struct{}
	// work serialises catch-up and rebuilds, which both feed the index.
	work sync.Mutex
}

// searchable reports whether coll's documents go into the search index.
func searchable(coll string) bool {
	c, err := buckets.Lookup(coll)
	return err == nil && c.Kind == buckets.KindEntity
}

// searchIndexer returns the running indexer, starting it if needed (the
// index is opened lazily, on the first commit, search or check, unless
// Options.EagerSearch), or nil with Options.NoSearch or after Close.
func (db *DB) searchIndexer() *indexer {
	db.idx.Lock()
	defer db.idx.Unlock()
	if db.idx.x == nil && !db.opts.NoSearch && !db.idx.stopped {
		x := &indexer{db: db, done: make(chan struct{})}
		x.cond = sync.NewCond(&x.mu.Mutex)
		db.idx.x = x
		go x.run()
	}
	return db.idx.x
}

// runningIndexer returns the indexer if it was started, without starting it.
func (db *DB) runningIndexer() *indexer {
	db.idx.Lock()
	defer db.idx.Unlock()
	return db.idx.x
}

// stopIndexer drains and closes the indexer, if it runs; restart allows a
// later searchIndexer to start a new one.
func (db *DB) stopIndexer(restart bool) error {
	db.idx.Lock()
	x := db.idx.x
	db.idx.x = nil
	db.idx.stopped = !restart
	db.idx.Unlock()
	if x == nil {
		return nil
	}
	return x.close()
}

func (x *indexer) run() {
	defer close(x.done)
	x.work.Lock()
	ix, err := x.open()
	x.work.Unlock()
	x.mu.Lock()
	x.mu.ix = ix
	x.mu.err = err
	x.mu.Unlock()
	if err != nil {
		x.mu.Lock()
		x.mu.ready = true
		x.cond.Broadcast()
		x.mu.Unlock()
		return
	}
	for {
		x.mu.Lock()
		for x.mu.ready && x.mu.applied >= x.mu.target && !x.mu.closing {
			x.cond.Wait()
		}
		closing := x.mu.closing
		x.mu.Unlock()
		x.work.Lock()
		err := x.catchUp(ix)
		x.work.Unlock()
		x.mu.Lock()
		x.mu.err = err
		x.mu.ready = true
		x.cond.Broadcast()
		stuck := err != nil
		x.mu.Unlock()
		if closing {
			return
		}
		if stuck {
			// Wait for the next commit before trying again.
			x.mu.Lock()
			t := x.mu.target
			for x.mu.target == t && !x.mu.closing {
				x.cond.Wait()
			}
			x.mu.Unlock()
		}
	}
}

// open opens the index and decides whether the change log can bring it up
// to date; if not, it rebuilds it from the primary data.
func (x *indexer) open() (*search.Index, error) {
	db := x.db
	ix, res, err := search.Open(filepath.Join(db.dir, SearchDir), nil)
	if err != nil {
		return nil, err
	}
	var first, seq uint64
	err = db.bolt.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(buckets.LogBucket); b != nil {
			seq = b.Sequence()
			if k, _ := b.Cursor().First(); k != nil {
				first, _ = buckets.ParseLogKey(k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.Join(err, ix.Close())
	}
	last := ix.LastApplied()
	reason := res.Reason
	switch {
	case res.Rebuilt:
	case last > seq:
		reason = fmt.Sprintf("index is ahead of the store (applied %d, store at %d)", last, seq)
	case last < seq && (first == 0 || first > last+1):
		reason = fmt.Sprintf("index is behind the retained change log (applied %d, log starts at %d)", last, first)
	}
	if reason != "" {
		if err := x.rebuild(ix); err != nil {
			return nil, errors.Join(fmt.Errorf("cairn: rebuild search index (%s): %w", reason, err), ix.Close())
		}
	}
	x.mu.Lock()
	x.mu.rebuilt = reason
	x.mu.applied = ix.LastApplied()
	if seq > x.mu.target {
		x.mu.target = seq
	}
	x.mu.Unlock()
	return ix, nil
}

// rebuild re-indexes every document from bbolt. Intermediate batches record
// sequence 0, so a crash mid-way leaves an index that the next open
// rebuilds again rather than trusts.
func (x *indexer) rebuild(ix *search.Index) error {
	db := x.db
	if err := ix.Reset(); err != nil {
		return err
	}
	var seq uint64
	total := 0
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(buckets.LogBucket); b != nil {
			seq = b.Sequence()
		}
		for _, c := range buckets.Collections() {
			if b := tx.Bucket(buckets.PrimaryBucket(c.Name)); b != nil && searchable(c.Name) {
				total += b.Stats().KeyN
			}
		}
		return nil
	})
	done := 0
	for _, c := range buckets.Collections() {
		if !searchable(c.Name) {
			continue
		}
		var after []byte
		for {
			var changes []search.Change
			err := db.bolt.View(func(tx *bolt.Tx) error {
				b := tx.Bucket(buckets.PrimaryBucket(c.Name))
				if b == nil {
					return nil
				}
				cur := b.Cursor()
				k, _ := cur.First()
				if after != nil {
					k, _ = cur.Seek(after)
					if k != nil && bytes.Equal(k, after) {
						k, _ = cur.Next()
					}
				}
				for ; k != nil && len(changes) < 500; k, _ = cur.Next() {
					ch, err := loadChange(tx, c.Name, string(k))
					if err != nil {
						return err
					}
					changes = append(changes, ch)
					after = append(after[:0], k...)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if len(changes) == 0 {
				break
			}
			if err := ix.Apply(changes, 0); err != nil {
				return err
			}
			done += len(changes)
			if db.opts.Progress != nil {
				db.opts.Progress("search rebuild", done, total)
			}
		}
	}
	return ix.Apply(nil, seq)
}

// loadChange reads the current state of one document as a search change.
func loadChange(tx *bolt.Tx, coll, id string) (search.Change, error) {
	c, _ := buckets.Lookup(coll)
	rec, err := txn.ReadRecord(tx, c, id, true)
	if err != nil {
		return search.Change{}, err
	}
	if rec == nil {
		return search.Change{Collection: coll, ID: id, Deleted: true}, nil
	}
	full, err := txn.LoadParts(tx, c, id, rec, nil)
	if err != nil {
		return search.Change{}, err
	}
	body, _ := full.(map[string]any)
	return search.Change{Collection: coll, ID: id, Rev: rec.Rev, Body: body}, nil
}

// catchUp applies every change-log entry after LastApplied, in batches.
func (x *indexer) catchUp(ix *search.Index) error {
	db := x.db
	for {
		last := ix.LastApplied()
		var changes []search.Change
		var upTo uint64
		seen := map[[2]string]int{}
		err := db.bolt.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(buckets.LogBucket)
			if b == nil {
				return nil
			}
			cur := b.Cursor()
			for k, v := cur.Seek(buckets.LogKey(last + 1)); k != nil && len(changes) < 500; k, v = cur.Next() {
				ch, err := buckets.DecodeChange(k, v)
				if err != nil {
					return err
				}
				upTo = ch.Seq
				if !searchable(ch.Collection) {
					continue
				}
				key := [2]string{ch.Collection, ch.ID}
				if _, dup := seen[key]; dup {
					continue // the current state covers both changes
				}
				sc, err := loadChange(tx, ch.Collection, ch.ID)
				if err != nil {
					return err
				}
				seen[key] = len(changes)
				changes = append(changes, sc)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if upTo == 0 {
			x.trim(ix.LastApplied())
			return nil
		}
		if err := ix.Apply(changes, upTo); err != nil {
			return err
		}
		x.mu.Lock()
		x.mu.applied = upTo
		if upTo > x.mu.target {
			x.mu.target = upTo
		}
		x.cond.Broadcast()
		x.mu.Unlock()
	}
}

// trim deletes change-log entries the index has applied and that are older
// than the retention window, at most once a minute.
func (x *indexer) trim(applied uint64) {
	db := x.db
	if db.opts.ReadOnly || applied == 0 {
		return
	}
	x.mu.Lock()
	if time.Since(x.mu.lastTrim) < time.Minute {
		x.mu.Unlock()
		return
	}
	x.mu.lastTrim = time.Now()
	x.mu.Unlock()
	cutoff := db.opts.Now().Add(-db.opts.ChangeLogRetention).UnixMilli()
	_ = db.commit.run(func(w *txn.Writer) error {
		b := w.Tx().Bucket(buckets.LogBucket)
		if b == nil {
			return nil
		}
		cur := b.Cursor()
		n := 0
		for k, v := cur.First(); k != nil && n < 10000; k, v = cur.Next() {
			ch, err := buckets.DecodeChange(k, v)
			if err != nil || ch.Seq > applied || ch.TimeMs > cutoff {
				break
			}
			if err := cur.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
}

// notify tells the indexer that seq is committed.
func (x *indexer) notify(seq uint64) {
	x.mu.Lock()
	if seq > x.mu.target {
		x.mu.target = seq
		x.cond.Broadcast()
	}
	x.mu.Unlock()
}

// wait blocks until the index has applied seq (or failed), or ctx ends.
func (x *indexer) wait(ctx context.Context, seq uint64) (*search.Index, error) {
	stop := context.AfterFunc(ctx, func() {
		x.mu.Lock()
		x.cond.Broadcast()
		x.mu.Unlock()
	})
	defer stop()
	x.mu.Lock()
	defer x.mu.Unlock()
	if seq > x.mu.target {
		x.mu.target = seq
		x.cond.Broadcast()
	}
	for {
		if x.mu.ready && x.mu.ix == nil {
			return nil, x.mu.err
		}
		if x.mu.ready && x.mu.applied >= seq {
			return x.mu.ix, nil
		}
		if x.mu.ready && x.mu.err != nil {
			return nil, fmt.Errorf("cairn: search index: %w", x.mu.err)
		}
		if x.mu.closing {
			return nil, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x.cond.Wait()
	}
}

// close drains the indexer (brings the index up to date) and closes it.
func (x *indexer) close() error {
	x.mu.Lock()
	x.mu.closing = true
	x.cond.Broadcast()
	x.mu.Unlock()
	<-x.done
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.mu.ix == nil {
		return nil
	}
	err := x.mu.ix.Close()
	x.mu.ix = nil
	return err
}
