package kv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/search"
	"github.com/cairnkv/cairn/snapshot"
	"github.com/cairnkv/cairn/txn"
	bolt "go.etcd.io/bbolt"
)

// SearchDir is the directory of the full-text index inside a store.
const SearchDir = "search"

// trimEvery is how often the indexer trims the change log (0: the
// search.Feeder's default, a minute); tests shorten it.
var trimEvery time.Duration

// searchIndexer returns the running indexer, a search.Feeder fed from this
// store (searchSource), starting it if needed (the index is opened lazily,
// on the first commit, search or check, unless Options.EagerSearch), or
// nil with Options.NoSearch or after Close.
func (db *DB) searchIndexer() *search.Feeder {
	db.idx.Lock()
	defer db.idx.Unlock()
	if db.idx.x == nil && !db.opts.NoSearch && !db.idx.stopped {
		db.checkSearchRoot()
		db.idx.x = search.StartFeeder(searchSource{db}, search.FeederOptions{
			Dir:         filepath.Join(db.dir, SearchDir),
			Logger:      db.log,
			Progress:    db.opts.Progress,
			NoTrim:      db.opts.ReadOnly,
			TrimEvery:   trimEvery,
			LockTimeout: db.opts.Timeout,
		})
	}
	return db.idx.x
}

// searchRootFile is the bbolt file in which Bleve keeps the search index's
// snapshots.
const searchRootFile = "store/root.bolt"

// checkSearchRoot walks the page graph of the search index's root.bolt
// (snapshot.CheckPages) before Bleve opens it, and removes a damaged index
// (derived data: it is rebuilt from the store). Bleve reads that file from
// goroutines of its own, where a page pointer past the file's map is a
// memory fault no recover catches: the process dies. A file another
// process holds (its lock is not free within a moment) is left to it.
func (db *DB) checkSearchRoot() {
	dir := filepath.Join(db.dir, SearchDir)
	path := filepath.Join(dir, searchRootFile)
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return // none yet, or not a file: search.Open rebuilds the index
	}
	why := ""
	if err := snapshot.CheckMeta(path); err != nil {
		why = err.Error()
	} else if bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 100 * time.Millisecond}); err == nil {
		_ = guard(func() error {
			return bdb.View(func(tx *bolt.Tx) error {
				if pp, err := snapshot.CheckPages(tx); err == nil && len(pp) > 0 {
					why = pp[0]
				}
				return nil
			})
		})
		_ = bdb.Close() // read-only
	}
	if why == "" {
		return
	}
	db.log.Warn("search: the index's root.bolt is damaged; the index is rebuilt", "file", path, "problem", why)
	// The caller holds db.idx.
	db.idx.rootDamage = searchRootFile + ": " + why
	_ = os.RemoveAll(dir) // search.Open creates it again, empty, and the feeder rebuilds it
}

// takeSearchRootDamage returns, once, why checkSearchRoot removed a
// damaged index.
func (db *DB) takeSearchRootDamage() string {
	db.idx.Lock()
	defer db.idx.Unlock()
	d := db.idx.rootDamage
	db.idx.rootDamage = ""
	return d
}

// runningIndexer returns the indexer if it was started, without starting it.
func (db *DB) runningIndexer() *search.Feeder {
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
	return x.Close()
}

// waitIndexed waits for x to have applied seq and returns its index; a
// Feeder closed meanwhile is a closed store.
func waitIndexed(ctx context.Context, x *search.Feeder, seq uint64) (*search.Index, error) {
	ix, err := x.Wait(ctx, seq)
	if errors.Is(err, search.ErrFeederClosed) {
		return nil, ErrClosed
	}
	return ix, err
}

// searchSource is the search.Source of a store: its change log and
// primary data, each call in one bbolt read transaction, and its trims
// through the group commit.
type searchSource struct{ db *DB }

// view runs fn in a read transaction under guard: a damaged page that
// makes bbolt panic (a page header that is not the page, an element past
// its page) fails the catch-up or rebuild with an error wrapping
// ErrCorrupt, which the Feeder reports to whoever waits for the index,
// instead of crashing the process from the Feeder's goroutine, whatever
// command runs (docs/DESIGN.md invariant 4).
func (s searchSource) view(fn func(*bolt.Tx) error) error {
	return guard(func() error { return s.db.bolt.View(fn) })
}

// LogBounds implements search.Source.
func (s searchSource) LogBounds() (oldest, newest uint64, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		if b := buckets.Lookup(tx, buckets.LogBucket); b != nil {
			newest = b.Sequence()
			if k, _ := b.Cursor().First(); k != nil {
				oldest, _ = buckets.ParseLogKey(k)
			}
		}
		return nil
	})
	return oldest, newest, err
}

// ReadLog implements search.Source.
func (s searchSource) ReadLog(after uint64, max int) (refs []search.DocRef, upTo uint64, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		b := buckets.Lookup(tx, buckets.LogBucket)
		if b == nil {
			return nil
		}
		seen := map[search.DocRef]bool{}
		cur := b.Cursor()
		for k, v := cur.Seek(buckets.LogKey(after + 1)); k != nil && len(refs) < max; k, v = cur.Next() {
			ch, err := buckets.DecodeChange(k, v)
			if err != nil {
				return fmt.Errorf("%w: %w", search.ErrLogGap, err)
			}
			if upTo == 0 && ch.Seq > after+1 {
				return fmt.Errorf("%w: the entries after %d up to %d are gone", search.ErrLogGap, after, ch.Seq)
			}
			upTo = ch.Seq
			c, err := s.db.lookup(ch.Collection)
			if err != nil || !c.Searched() {
				continue
			}
			ref := search.DocRef{Collection: ch.Collection, ID: ch.ID}
			if seen[ref] {
				continue // the current state covers both changes
			}
			seen[ref] = true
			refs = append(refs, ref)
		}
		return nil
	})
	return refs, upTo, err
}

// Load implements search.Source.
func (s searchSource) Load(refs []search.DocRef) ([]search.Change, error) {
	out := make([]search.Change, 0, len(refs))
	err := s.view(func(tx *bolt.Tx) error {
		for _, r := range refs {
			ch, err := s.loadChange(tx, r.Collection, r.ID)
			if err != nil {
				return err
			}
			out = append(out, ch)
		}
		return nil
	})
	return out, err
}

// Collections implements search.Source: the searched collections in
// buckets.CollectionsIn order.
func (s searchSource) Collections() ([]search.SourceCollection, error) {
	var out []search.SourceCollection
	err := s.view(func(tx *bolt.Tx) error {
		for _, name := range buckets.CollectionsIn(tx) {
			c, err := s.db.lookup(name)
			if err != nil || !c.Searched() {
				continue
			}
			// A rebuild reads every page of the collection: they are
			// walked from the file first, since bbolt recurses for ever
			// (a stack overflow no recover catches) on a page that is
			// its own child. A damaged collection is left out of the
			// index; check reports its pages.
			if pp, err := snapshot.CheckPages(tx, buckets.PrimaryBucket(c.Name), buckets.PartsBucket(c.Name)); err != nil || len(pp) > 0 {
				why := fmt.Sprint(err)
				if len(pp) > 0 {
					why = pp[0]
				}
				s.db.log.Warn("search: a collection's pages are damaged; left out of the index", "collection", c.Name, "problem", why)
				s.db.idx.Lock()
				if s.db.idx.leftColls != nil {
					s.db.idx.leftColls[c.Name] = why
				}
				s.db.idx.Unlock()
				continue
			}
			sc := search.SourceCollection{Name: c.Name}
			if b := buckets.Lookup(tx, buckets.PrimaryBucket(c.Name)); b != nil {
				// Docs only sizes a rebuild's progress.
				_ = guard(func() error {
					sc.Docs = uint64(b.Stats().KeyN)
					return nil
				})
			}
			out = append(out, sc)
		}
		return nil
	})
	return out, err
}

// Scan implements search.Source.
func (s searchSource) Scan(coll, after string, max int) ([]search.Change, error) {
	var out []search.Change
	err := s.view(func(tx *bolt.Tx) error {
		b := buckets.Lookup(tx, buckets.PrimaryBucket(coll))
		if b == nil {
			return nil
		}
		kc := b.Cursor()
		k, _ := kc.First()
		if after != "" {
			k, _ = kc.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, _ = kc.Next()
			}
		}
		for ; k != nil && len(out) < max; k, _ = kc.Next() {
			ch, err := s.loadChange(tx, coll, string(k))
			if err != nil {
				return err
			}
			out = append(out, ch)
		}
		return nil
	})
	return out, err
}

// Trim implements search.Source: it deletes the entries up to seq that
// are also older than Options.ChangeLogRetention, at most 10,000 at a time.
func (s searchSource) Trim(seq uint64) error {
	cutoff := s.db.opts.Now().Add(-s.db.opts.ChangeLogRetention).UnixMilli()
	return s.db.commit.run(func(w *txn.Writer) error {
		_, err := w.TrimLog(seq, cutoff, 10000)
		return err
	})
}

// noteUnindexed records, while ReindexSearch collects them, a document the
// indexer left out because it cannot be read.
func (db *DB) noteUnindexed(coll, id string, err error) {
	db.idx.Lock()
	defer db.idx.Unlock()
	if db.idx.left != nil {
		db.idx.left[docRef{coll, id}] = err
	}
}

// loadChange reads the current state of one document as a search change.
// A document that cannot be read (its value or a part fails its checksum)
// is left out of the index, as if deleted: check reports the damage, and
// the delete or put that repairs it is indexed like any change. Failing
// instead would stop the index for every other document.
func (s searchSource) loadChange(tx *bolt.Tx, coll, id string) (search.Change, error) {
	c, err := s.db.lookup(coll)
	if err != nil {
		return search.Change{}, err
	}
	gone := search.Change{Collection: coll, ID: id, Deleted: true, Decl: c}
	rec, full, err := buckets.ReadDocument(tx, c, id)
	if errors.Is(err, ErrCorrupt) {
		s.db.noteUnindexed(coll, id, err)
		return gone, nil
	}
	if err == nil && rec == nil {
		return gone, nil
	}
	if err != nil {
		return search.Change{}, err
	}
	body, _ := full.(map[string]any)
	return search.Change{Collection: coll, ID: id, Rev: rec.Rev, Body: body, Decl: c}, nil
}
