package webui

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn/internal/docmodel"
	"github.com/cairnkv/cairn/kv"
)

// This file holds every call into kv, so that a change of kv's API
// (context-first signatures, user collections) is adapted here alone.

// store gives the handlers short access to the store: reads share one
// read-only handle, opened on demand and closed once no request has used it
// for linger, or between two requests once it has been open that long; a
// write (backup, restore, patch) waits for the reads in
// flight, closes that handle, opens the store for writing and closes it
// again when done. Between requests the inspector holds no lock, so an
// application can open the store for writing at any moment, waiting at most
// for the request in flight and the linger.
type store struct {
	dir    string
	opts   func(readOnly bool) *kv.Options
	linger time.Duration
	onErr  func(error) // an error no request is waiting for (closing an idle handle)

	// gate: reads hold it shared for their request, writes exclusively.
	gate sync.RWMutex

	mu struct {
		sync.Mutex
		db     *kv.DB
		opened time.Time // when db was opened
		users  int
		idle   *time.Timer
		// failed is the last failed open, returned without opening again
		// for a moment, so that a burst of requests beside a process that
		// holds the store does not each wait out the lock timeout.
		failed   error
		failedAt time.Time
		closed   bool // close was called: no more opens
	}
}

// errClosed is returned by a read after close (a request outlived the
// server's shutdown).
var errClosed = errors.New("webui: the inspector is shutting down")

// retryOpen is how long a failed open is reported without trying again.
const retryOpen = 500 * time.Millisecond

// writerGap is how long the inspector leaves the store unlocked when it
// closes a read handle it has held for a whole linger: longer than a
// writer's wait between two tries of the lock (kv polls every 16 ms at
// most), so that requests that never pause still let a writer in.
const writerGap = 50 * time.Millisecond

// read runs fn with the shared read-only handle.
func (s *store) read(fn func(db *kv.DB) error) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	db, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release(db)
	return fn(db)
}

func (s *store) acquire() (*kv.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.idle != nil {
		s.mu.idle.Stop()
		s.mu.idle = nil
	}
	if s.mu.closed {
		return nil, errClosed
	}
	if s.mu.db != nil && s.mu.users == 0 && time.Since(s.mu.opened) >= s.linger {
		// Held for a whole linger by requests that never paused (a page
		// polling faster than the linger): a writer may be waiting.
		if err := s.closeLocked(); err != nil {
			s.onErr(err)
		}
		time.Sleep(writerGap)
	}
	if s.mu.db == nil {
		if s.mu.failed != nil && time.Since(s.mu.failedAt) < retryOpen {
			return nil, s.mu.failed
		}
		db, err := kv.Open(s.dir, s.opts(true))
		if err != nil {
			s.mu.failed, s.mu.failedAt = err, time.Now()
			return nil, err
		}
		s.mu.db, s.mu.opened, s.mu.failed = db, time.Now(), nil
	}
	s.mu.users++
	return s.mu.db, nil
}

func (s *store) release(db *kv.DB) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.users--
	if s.mu.users == 0 {
		s.mu.idle = time.AfterFunc(s.linger, func() { s.closeIdle(db) })
	}
}

// closeIdle closes db if it is still the idle handle.
func (s *store) closeIdle(db *kv.DB) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.db != db || s.mu.users > 0 {
		return
	}
	if err := s.closeLocked(); err != nil {
		s.onErr(err)
	}
}

// closeLocked closes the read handle, if open; s.mu is held and no
// request uses the handle.
func (s *store) closeLocked() error {
	if s.mu.idle != nil {
		s.mu.idle.Stop()
		s.mu.idle = nil
	}
	db := s.mu.db
	s.mu.db = nil
	if db == nil {
		return nil
	}
	return db.Close()
}

// exclusive runs fn with no read in flight and the read handle closed.
func (s *store) exclusive(fn func() error) error {
	s.gate.Lock()
	defer s.gate.Unlock()
	s.mu.Lock()
	closed := s.mu.closed
	err := s.closeLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if closed {
		return errClosed
	}
	defer func() {
		s.mu.Lock()
		s.mu.failed = nil // fn may have mended what the last open failed on (a restore)
		s.mu.Unlock()
	}()
	return fn()
}

// write runs fn with the store open for writing (never creating one).
func (s *store) write(fn func(db *kv.DB) error) error {
	return s.exclusive(func() (err error) {
		db, err := kv.Open(s.dir, s.opts(false))
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, db.Close()) }()
		return fn(db)
	})
}

// close closes the read handle for good (the server is shutting down):
// later reads and writes fail with errClosed.
func (s *store) close() error {
	s.gate.Lock()
	defer s.gate.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.closed = true
	return s.closeLocked()
}

// probe opens the store read-only once, to tell at start-up whether there
// is a store at all (kv.ErrNoStore).
func (s *store) probe() error { return s.read(func(*kv.DB) error { return nil }) }

// tally counts c's documents and adds up their sizes from the metadata
// summaries (each carries its document's size): one walk of the small
// metadata bucket, where a query's count walks the primary keys, among
// the documents themselves, and Stats decodes every record's header.
func (s *store) tally(c Collection) (t tally, err error) {
	err = s.read(func(db *kv.DB) error {
		if c.Singleton {
			v, _, err := db.GetValue(context.Background(), c.Name, "")
			if errors.Is(err, kv.ErrNotFound) {
				return nil
			}
			t = tally{Count: 1, Bytes: uint64(docmodel.JSONSize(v))}
			return err
		}
		return db.List(context.Background(), c.Name, 0, 0, func(sum kv.Document) error {
			t.Count++
			if n, ok := sum["size"].(int64); ok && n > 0 {
				t.Bytes += uint64(n)
			}
			return nil
		})
	})
	return t, err
}

// userCollections returns the names of the user collections the store
// holds, sorted.
func (s *store) userCollections() (names []string, err error) {
	err = s.read(func(db *kv.DB) error {
		return db.View(context.Background(), func(tx *kv.Tx) error {
			builtin := kv.BuiltinCollections()
			for _, name := range tx.Collections() {
				if !slices.Contains(builtin, name) {
					names = append(names, name)
				}
			}
			return nil
		})
	})
	sort.Strings(names)
	return names, err
}

func (s *store) stats() (st *kv.Stats, err error) {
	err = s.read(func(db *kv.DB) error {
		st, err = db.Stats(context.Background())
		return err
	})
	return st, err
}

// list returns the summaries of coll in id order.
func (s *store) list(coll string, offset, limit int) ([]kv.Document, error) {
	rows := []kv.Document{}
	err := s.read(func(db *kv.DB) error {
		return db.List(context.Background(), coll, offset, limit, func(sum kv.Document) error {
			rows = append(rows, sum)
			return nil
		})
	})
	return rows, err
}

// sortedIDs returns every id of coll ordered by field (descending with
// desc), ties by id, documents without the field last.
func (s *store) sortedIDs(ctx context.Context, coll, field string, desc bool) (ids []string, err error) {
	err = s.read(func(db *kv.DB) error {
		res, err := db.Query(ctx, kv.Query{Collection: coll, Sort: field, Desc: desc}, &kv.QueryOptions{IDsOnly: true})
		if err != nil {
			return err
		}
		ids = res.IDs
		return nil
	})
	return ids, err
}

// summaries returns the summaries of ids, leaving out ids without one.
func (s *store) summaries(coll string, ids []string) ([]kv.Document, error) {
	rows := []kv.Document{}
	err := s.read(func(db *kv.DB) error {
		got, err := db.Summaries(context.Background(), coll, ids)
		for _, r := range got {
			if r != nil {
				rows = append(rows, r)
			}
		}
		return err
	})
	return rows, err
}

// parseQuery turns a request into a kv.Query the way kvtool query does.
func parseQuery(r queryRequest) (kv.Query, error) {
	q := kv.Query{Collection: r.Collection, Limit: r.Limit, Offset: r.Offset}
	for _, w := range r.Where {
		if strings.TrimSpace(w) == "" {
			continue
		}
		f, tf, err := kv.ParseWhere(r.Collection, w)
		if err != nil {
			return q, err
		}
		if tf.Text != "" {
			q.TextFilters = append(q.TextFilters, tf)
		} else {
			q.Filters = append(q.Filters, f)
		}
	}
	q.Sort, q.Desc = strings.CutPrefix(r.Sort, "-")
	return q, nil
}

func (s *store) query(ctx context.Context, r queryRequest) (*queryResult, error) {
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	out := &queryResult{Rows: []kv.Document{}}
	err = s.read(func(db *kv.DB) error {
		if len(q.Text) > 0 || len(q.TextFilters) > 0 {
			if err := waitIndex(ctx, db); err != nil {
				return err
			}
		}
		res, err := db.Query(ctx, q, &kv.QueryOptions{IDsOnly: true})
		if err != nil {
			return err
		}
		out.Explain, out.Total, out.IDs = res.Explain, res.Total, res.IDs
		sums, err := db.Summaries(ctx, q.Collection, res.IDs)
		for i, sum := range sums {
			if sum == nil { // a collection without summaries: show the id
				sum = kv.Document{"id": res.IDs[i]}
			}
			out.Rows = append(out.Rows, sum)
		}
		return err
	})
	if out.IDs == nil {
		out.IDs = []string{}
	}
	return out, err
}

// errIndexing answers a search while the index is still being rebuilt.
var errIndexing = errors.New("webui: the search index is being rebuilt (a restore or a reindex dropped it); this page asks again every few seconds, and the inspector lets go of the store between asks so that an application can write")

// indexWait is how long a search waits for the index to catch up with the
// store before it answers errIndexing. A rebuild (after a restore) takes
// seconds or minutes: waiting for it would hold the store past the linger
// an application's writes wait for. The rebuild goes on while the handle
// is open, and resumes where it stopped at the next search.
var indexWait = 1500 * time.Millisecond

// waitIndex waits up to indexWait for db's search index to hold every
// change, and returns errIndexing if it does not by then.
func waitIndex(ctx context.Context, db *kv.DB) error {
	seq, err := db.LastSeq(ctx)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, indexWait)
	defer cancel()
	err = db.WaitIndexed(wctx, seq)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return errIndexing
	case errors.Is(err, kv.ErrNoSearch):
		return nil // Search says so
	}
	return err
}

func (s *store) search(ctx context.Context, text string, colls []string, offset, limit int) (total uint64, hits []searchHit, err error) {
	hits = []searchHit{}
	err = s.read(func(db *kv.DB) error {
		if err := waitIndex(ctx, db); err != nil {
			return err
		}
		res, err := db.Search(ctx, text, kv.SearchOptions{Collections: colls, Offset: offset, Limit: limit, Highlight: true})
		if err != nil {
			return err
		}
		total = res.Total
		byColl := map[string][]int{}
		for i, h := range res.Hits {
			hit := searchHit{Collection: h.Collection, ID: h.ID, Score: h.Score, Fragments: [][]segment{}}
			fields := make([]string, 0, len(h.Fragments))
			for f := range h.Fragments {
				fields = append(fields, f)
			}
			sort.Strings(fields)
			for _, f := range fields {
				for _, frag := range h.Fragments[f] {
					hit.Fragments = append(hit.Fragments, highlighted(frag))
				}
			}
			hits = append(hits, hit)
			byColl[h.Collection] = append(byColl[h.Collection], i)
		}
		for coll, idx := range byColl {
			ids := make([]string, len(idx))
			for k, i := range idx {
				ids[k] = hits[i].ID
			}
			sums, err := db.Summaries(ctx, coll, ids)
			if err != nil {
				return err
			}
			for k, i := range idx {
				hits[i].Summary = sums[k]
			}
		}
		return nil
	})
	return total, hits, err
}

func (s *store) document(c Collection, id string) (*document, error) {
	d := &document{Collection: c.Name, ID: id}
	err := s.read(func(db *kv.DB) error {
		var v any
		var err error
		if c.Singleton {
			v, d.Rev, err = db.GetValue(context.Background(), c.Name, "")
		} else {
			v, d.Rev, err = db.GetHeader(context.Background(), c.Name, id)
			if errors.Is(err, kv.ErrInvalid) {
				v, d.Rev, err = db.GetValue(context.Background(), c.Name, id) // extras may hold any value
			}
		}
		if err != nil {
			return err
		}
		d.JSON, err = indentJSON(v)
		return err
	})
	return d, err
}

// whole reads a whole document (parts included) and its header, to tell
// the parts from the rest.
func (s *store) whole(c Collection, id string) (full, header kv.Document, err error) {
	err = s.read(func(db *kv.DB) error {
		if c.Singleton {
			return nil // a singleton has no parts
		}
		if full, _, err = db.Get(context.Background(), c.Name, id); err != nil {
			if errors.Is(err, kv.ErrInvalid) {
				return nil // not an object: no parts
			}
			return err
		}
		header, _, err = db.GetHeader(context.Background(), c.Name, id)
		return err
	})
	return full, header, err
}

// parts lists the fields a document has beyond its header, with their
// sizes, in name order.
func (s *store) parts(c Collection, id string) ([]partInfo, error) {
	full, header, err := s.whole(c, id)
	if err != nil {
		return nil, err
	}
	parts := []partInfo{}
	for f, v := range full {
		if _, ok := header[f]; ok {
			continue
		}
		p := partInfo{Field: f, Type: jsonType(v), Bytes: docmodel.JSONSize(v)}
		switch x := v.(type) {
		case []any:
			p.Len = len(x)
		case string:
			p.Len = len(x)
		}
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Field < parts[j].Field })
	return parts, nil
}

// attachment calls fn with the content of attachment id and its document;
// the reader verifies the content's hash as it reaches the end.
func (s *store) attachment(id string, fn func(content io.Reader, doc kv.Document) error) error {
	return s.read(func(db *kv.DB) error {
		rc, doc, err := db.OpenAttachment(context.Background(), id)
		if err != nil {
			return err
		}
		ferr := fn(rc, doc)
		return errors.Join(ferr, rc.Close())
	})
}

func (s *store) check(ctx context.Context) (rep *kv.CheckReport, err error) {
	err = s.read(func(db *kv.DB) error {
		rep, err = db.Check(ctx)
		return err
	})
	return rep, err
}

// backups lists the backups without opening the store, so that a store
// too damaged to open still shows what it can be restored from.
func (s *store) backups() ([]kv.Manifest, error) { return kv.ListBackups(s.dir) }

func (s *store) verifyBackup(ctx context.Context, name string) (kv.Manifest, []kv.Problem, error) {
	return kv.VerifyBackupIn(ctx, s.dir, name)
}

func (s *store) createBackup(ctx context.Context) (m kv.Manifest, err error) {
	err = s.write(func(db *kv.DB) error {
		m, err = db.Backup(ctx, kv.ReasonManual)
		return err
	})
	return m, err
}

// restore restores backup name as kvtool backup restore does: through
// DB.Restore (which backs the current state up first), or, when data.db
// is too damaged to open, through kv.RestoreDamaged.
func (s *store) restore(ctx context.Context, name string) (res restoreResult, err error) {
	err = s.exclusive(func() (err error) {
		db, err := kv.Open(s.dir, s.opts(false))
		if errors.Is(err, kv.ErrCorrupt) {
			res.Restored, res.Damaged, err = kv.RestoreDamaged(ctx, s.dir, name)
			return err
		}
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, db.Close()) }()
		var previous string
		res.Restored, previous, err = db.Restore(ctx, name)
		if strings.HasPrefix(filepath.Base(previous), kv.DamagedPrefix) {
			res.Damaged = previous
		} else {
			res.PreviousBackup = previous
		}
		return err
	})
	return res, err
}

// patch applies a JSON merge patch (exact JSON, as kvtool patch reads it)
// to one document if its revision is still rev.
func (s *store) patch(c Collection, id string, rev uint64, patch []byte) (newRev uint64, err error) {
	p, err := kv.ParseJSON(patch)
	if err != nil {
		return 0, err
	}
	if c.Singleton {
		id = ""
	}
	err = s.write(func(db *kv.DB) error {
		newRev, err = db.Patch(context.Background(), c.Name, id, p, kv.IfRev(rev))
		return err
	})
	return newRev, err
}
