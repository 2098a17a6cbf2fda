package kv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/search"
	"github.com/cairnkv/cairn/txn"
	bolt "go.etcd.io/bbolt"
)

// SearchDir is the directory of the full-text index inside a store.
const SearchDir = "search"

// How the indexer coalesces commits into Bleve batches: after the first
// change it has not applied, it waits up to coalesceWait, or until
// coalesceMax change-log entries are pending, or until someone waits for
// the index (a search, WaitIndexed, Close), then applies them all at once.
// Variables so tests can change them.
var (
	coalesceWait = 50 * time.Millisecond
	coalesceMax  = uint64(1000)
	trimEvery    = time.Minute // the change log is trimmed at most this often
)

// indexer feeds the Bleve index from the change log. It runs in its own
// goroutine: it opens the index (rebuilding it from bbolt if it is missing,
// damaged, of another mapping version, or out of reach of the change log),
// catches up, then applies the changes of the commits that followed,
// coalesced into large batches (coalesceWait, coalesceMax); a commit never
// waits for it. It records the last applied sequence inside the index, in
// the same Bleve batch as the documents, so it can never silently drift.
//
// The index is opened with search.Options.DeferSync: Bleve persists in the
// background, and a crash may lose the last batches it had not persisted.
// The change log is the durable record: the indexer trims it only up to
// what the index has made durable (search.Index.Durable), and catch-up at
// the next open re-applies the rest.
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
		retrim   bool // a trim waits for Bleve's persister: run the loop once more
		retrimAt bool // a retrim is scheduled
		waiters  int  // goroutines in wait: applying now beats coalescing
	}
	cond *sync.Cond
	done chan struct{}
	// work serialises catch-up and rebuilds, which both feed the index.
	work sync.Mutex
}

// searchable reports whether coll's documents go into the search index.
func (db *DB) searchable(coll string) bool {
	c, err := db.lookup(coll)
	return err == nil && c.Searched()
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
		for x.mu.ready && x.mu.applied >= x.mu.target && !x.mu.closing && !x.mu.retrim {
			x.cond.Wait()
		}
		x.mu.retrim = false
		x.coalesceLocked()
		closing := x.mu.closing
		x.mu.Unlock()
		x.work.Lock()
		err := x.catchUp(ix, !closing) // a trim would wait for Bleve's persister
		x.work.Unlock()
		if err != nil {
			x.db.log.Warn("search index catch-up failed; retried after the next commit", "err", err)
		}
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

// coalesceLocked lets commits pile up before the indexer applies them:
// it returns after coalesceWait, once coalesceMax entries are pending, or
// as soon as someone waits for the index or Close is called. The caller
// holds x.mu.
func (x *indexer) coalesceLocked() {
	if !x.mu.ready || x.mu.closing || x.mu.waiters > 0 || coalesceWait <= 0 {
		return
	}
	expired := false
	t := time.AfterFunc(coalesceWait, func() {
		x.mu.Lock()
		expired = true
		x.cond.Broadcast()
		x.mu.Unlock()
	})
	defer t.Stop()
	for !expired && !x.mu.closing && x.mu.waiters == 0 && x.mu.target-x.mu.applied < coalesceMax {
		x.cond.Wait()
	}
}

// errInterrupted ends a rebuild that Close interrupted; its progress is
// kept in the index and the next open resumes it.
var errInterrupted = errors.New("cairn: search rebuild interrupted by Close")

// closing reports whether Close has asked the indexer to stop.
func (x *indexer) closing() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.mu.closing
}

// open opens the index and decides whether the change log can bring it up
// to date; if not, it rebuilds it from the primary data, or resumes the
// rebuild an earlier open left unfinished. A rebuild stops at the next
// batch when Close is called (the data is served meanwhile; searches
// wait), so that a restore, or any command after it, does not have to
// wait for the whole index: whoever opens the store next goes on from
// where it stopped.
func (x *indexer) open() (*search.Index, error) {
	db := x.db
	ix, res, err := search.Open(filepath.Join(db.dir, SearchDir), &search.Options{DeferSync: true})
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
	raw, err := ix.RebuildCursor()
	if err != nil {
		return nil, errors.Join(err, ix.Close())
	}
	cur, resumable := x.parseRebuildCursor(raw)
	// A rebuild resumes only while the change log still holds everything
	// committed since it started, which catch-up applies after it.
	resumable = resumable && !res.Rebuilt && last == 0 && cur.seq <= seq && (first == 0 || first <= cur.seq+1 || seq == cur.seq)
	reason := res.Reason
	switch {
	case resumable:
		reason = "resuming an interrupted rebuild"
	case res.Rebuilt:
	case raw != nil:
		reason = "an interrupted rebuild cannot be resumed"
	case last > seq:
		reason = fmt.Sprintf("index is ahead of the store (applied %d, store at %d)", last, seq)
	case last < seq && (first == 0 || first > last+1):
		reason = fmt.Sprintf("index is behind the retained change log (applied %d, log starts at %d)", last, first)
	}
	if reason != "" {
		x.db.log.Info("search index rebuild", "reason", reason)
		if resumable {
			err = x.rebuild(ix, cur)
		} else {
			err = x.rebuildFresh(ix)
		}
		if err != nil {
			// Close waits for Bleve to persist the rebuild's progress,
			// which the next open resumes from.
			if errors.Is(err, errInterrupted) {
				return nil, errors.Join(err, ix.Close())
			}
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

// rebuildCursor is a rebuild's position, kept in the index with every
// batch (search.Index.ApplyRebuild): the change-log sequence it started at
// (catch-up applies what came after), how many documents it has indexed,
// and the last key indexed in collection coll (collections go in
// buckets.Collections order).
type rebuildCursor struct {
	seq, done uint64
	coll      string
	after     []byte
}

// encode lays the cursor out as seq and done (8 bytes big-endian each), the
// collection name's length (1 byte), the name, and the key.
func (c rebuildCursor) encode() []byte {
	b := make([]byte, 0, 17+len(c.coll)+len(c.after))
	b = binary.BigEndian.AppendUint64(b, c.seq)
	b = binary.BigEndian.AppendUint64(b, c.done)
	b = append(b, byte(len(c.coll)))
	b = append(b, c.coll...)
	return append(b, c.after...)
}

func (x *indexer) parseRebuildCursor(b []byte) (rebuildCursor, bool) {
	if len(b) < 17 || len(b) < 17+int(b[16]) {
		return rebuildCursor{}, false
	}
	n := int(b[16])
	c := rebuildCursor{seq: binary.BigEndian.Uint64(b), done: binary.BigEndian.Uint64(b[8:]), coll: string(b[17 : 17+n])}
	if rest := b[17+n:]; len(rest) > 0 {
		c.after = append([]byte(nil), rest...)
	}
	if c.coll != "" && !x.db.searchable(c.coll) {
		return rebuildCursor{}, false
	}
	return c, true
}

// rebuildFresh empties the index and rebuilds it from the whole store.
func (x *indexer) rebuildFresh(ix *search.Index) error {
	if err := ix.Reset(); err != nil {
		return err
	}
	var seq uint64
	err := x.db.bolt.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(buckets.LogBucket); b != nil {
			seq = b.Sequence()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return x.rebuild(ix, rebuildCursor{seq: seq})
}

// rebuild indexes every document from bbolt, from cur on, in batches that
// each record the cursor, and then records cur.seq as LastApplied: the
// change log after it brings the index up to date. Close interrupts it
// between batches (errInterrupted).
func (x *indexer) rebuild(ix *search.Index, cur rebuildCursor) error {
	db := x.db
	if err := ix.ApplyRebuild(nil, cur.encode()); err != nil {
		return err
	}
	total := cur.done
	started := cur.coll == ""
	var colls []*schema.Collection // the searched collections of the store, in buckets.CollectionsIn order
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		seen := started
		for _, name := range buckets.CollectionsIn(tx) {
			c, err := db.lookup(name)
			if err != nil || !c.Searched() {
				continue
			}
			colls = append(colls, c)
			seen = seen || c.Name == cur.coll
			if b := tx.Bucket(buckets.PrimaryBucket(c.Name)); b != nil && seen {
				total += uint64(b.Stats().KeyN)
			}
		}
		return nil
	})
	for _, c := range colls {
		if !started {
			if c.Name != cur.coll {
				continue
			}
			started = true
		} else {
			cur.coll, cur.after = c.Name, nil
		}
		for {
			if x.closing() {
				return errInterrupted
			}
			var changes []search.Change
			err := db.bolt.View(func(tx *bolt.Tx) error {
				b := tx.Bucket(buckets.PrimaryBucket(c.Name))
				if b == nil {
					return nil
				}
				kc := b.Cursor()
				k, _ := kc.First()
				if cur.after != nil {
					k, _ = kc.Seek(cur.after)
					if k != nil && bytes.Equal(k, cur.after) {
						k, _ = kc.Next()
					}
				}
				for ; k != nil && len(changes) < 500; k, _ = kc.Next() {
					ch, err := loadChange(tx, c, string(k))
					if err != nil {
						return err
					}
					changes = append(changes, ch)
					cur.after = append(cur.after[:0], k...)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if len(changes) == 0 {
				break
			}
			cur.done += uint64(len(changes))
			if err := ix.ApplyRebuild(changes, cur.encode()); err != nil {
				return err
			}
			if db.opts.Progress != nil {
				db.opts.Progress("search rebuild", int(cur.done), int(max(total, cur.done)))
			}
		}
	}
	return ix.Apply(nil, cur.seq)
}

// loadChange reads the current state of one document as a search change.
// A document that cannot be read (its value or a part fails its checksum)
// is left out of the index, as if deleted: check reports the damage, and
// the delete or put that repairs it is indexed like any change. Failing
// instead would stop the index for every other document.
func loadChange(tx *bolt.Tx, c *schema.Collection, id string) (search.Change, error) {
	coll := c.Name
	gone := search.Change{Collection: coll, ID: id, Deleted: true, Decl: c}
	rec, full, err := buckets.ReadDocument(tx, c, id)
	if errors.Is(err, ErrCorrupt) || err == nil && rec == nil {
		return gone, nil
	}
	if err != nil {
		return search.Change{}, err
	}
	body, _ := full.(map[string]any)
	return search.Change{Collection: coll, ID: id, Rev: rec.Rev, Body: body, Decl: c}, nil
}

// catchUp applies every change-log entry after LastApplied, in batches,
// and then, if trim, trims the change log.
func (x *indexer) catchUp(ix *search.Index, trim bool) error {
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
				c, err := db.lookup(ch.Collection)
				if err != nil || !c.Searched() {
					continue
				}
				key := [2]string{ch.Collection, ch.ID}
				if _, dup := seen[key]; dup {
					continue // the current state covers both changes
				}
				sc, err := loadChange(tx, c, ch.ID)
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
			if trim {
				x.trim(ix)
			}
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

// trim deletes change-log entries that the index has durably applied
// (search.Index.DurableApplied: entries the index holds only in memory must
// stay for catch-up after a crash) and that are older than the retention
// window, at most once a minute (trimEvery).
func (x *indexer) trim(ix *search.Index) {
	db := x.db
	if db.opts.ReadOnly || ix.LastApplied() == 0 {
		return
	}
	x.mu.Lock()
	if time.Since(x.mu.lastTrim) < trimEvery {
		x.mu.Unlock()
		return
	}
	// Bleve persists in the background (at most every half second), and
	// only what it has persisted may be trimmed. When entries are still
	// pending (a rebuild or a burst just ended), the trim is retried a
	// little later: waiting here would hold up Close and every search
	// behind the indexer, and skipping until the next commit would never
	// trim a store that stays idle after an open.
	if ix.DurableApplied() < ix.LastApplied() {
		if !x.mu.retrimAt {
			x.mu.retrimAt = true
			time.AfterFunc(time.Second, func() {
				x.mu.Lock()
				x.mu.retrimAt = false
				x.mu.retrim = true
				x.cond.Broadcast()
				x.mu.Unlock()
			})
		}
		x.mu.Unlock()
		return
	}
	x.mu.lastTrim = time.Now()
	x.mu.Unlock()
	applied := ix.DurableApplied()
	if applied == 0 {
		return
	}
	cutoff := db.opts.Now().Add(-db.opts.ChangeLogRetention).UnixMilli()
	// A failed trim is retried a minute later; the entries it left are
	// kept, which loses nothing.
	_ = db.commit.run(func(w *txn.Writer) error {
		_, err := w.TrimLog(applied, cutoff, 10000)
		return err
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
	x.mu.waiters++
	defer func() { x.mu.waiters-- }()
	if seq > x.mu.target {
		x.mu.target = seq
	}
	x.cond.Broadcast() // ends the indexer's coalescing wait
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
	ix := x.mu.ix
	x.mu.ix = nil
	x.mu.Unlock()
	if ix == nil {
		return nil
	}
	if ix.DurableApplied() >= ix.LastApplied() {
		return ix.Close()
	}
	// Bleve persists deferred batches after a pause of up to half a second
	// (search.Options.DeferSync), which every Close, and so every kvtool
	// command that wrote, would wait out. Instead the batches not yet on
	// disk are dropped and applied again from the change log, the durable
	// record, on the index opened without DeferSync, whose batches are on
	// disk when Apply returns: a few milliseconds for the little that was
	// pending. Nothing is lost either way: whatever is not applied here is
	// applied by the next open's catch-up.
	if err := ix.CloseUnpersisted(); err != nil {
		return err
	}
	safe, res, err := search.Open(ix.Dir(), nil)
	if err != nil {
		return err
	}
	if res.Rebuilt {
		return safe.Close() // the next open rebuilds it, as it would have
	}
	return errors.Join(x.catchUp(safe, false), safe.Close())
}
