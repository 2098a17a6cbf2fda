package webui

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// This file holds every call into kv, so that a change of kv's API
// (context-first signatures, user collections) is adapted here alone.

// store gives the handlers short access to the store: reads share one
// read-only handle, opened on demand and closed once no request has used it
// for linger; a write (backup, restore, patch) waits for the reads in
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
		db    *kv.DB
		users int
		idle  *time.Timer
		// failed is the last failed open, returned without opening again
		// for a moment, so that a burst of requests beside a process that
		// holds the store does not each wait out the lock timeout.
		failed   error
		failedAt time.Time
	}
}

// retryOpen is how long a failed open is reported without trying again.
const retryOpen = 500 * time.Millisecond

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
	if s.mu.db == nil {
		if s.mu.failed != nil && time.Since(s.mu.failedAt) < retryOpen {
			return nil, s.mu.failed
		}
		db, err := kv.Open(s.dir, s.opts(true))
		if err != nil {
			s.mu.failed, s.mu.failedAt = err, time.Now()
			return nil, err
		}
		s.mu.db, s.mu.failed = db, nil
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
	err := s.closeLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
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

// close closes the read handle for good (the server is shutting down).
func (s *store) close() error {
	return s.exclusive(func() error { return nil })
}

// probe opens the store read-only once, to tell at start-up whether there
// is a store at all (kv.ErrNoStore).
func (s *store) probe() error { return s.read(func(*kv.DB) error { return nil }) }

// Collection describes one collection of the store for the inspector.
type Collection struct {
	Name string `json:"name"`
	// Singleton: one document, addressed without an id (settings).
	Singleton bool `json:"singleton"`
}

// count returns the number of documents of c.
func (s *store) count(ctx context.Context, c Collection) (n int, err error) {
	err = s.read(func(db *kv.DB) error {
		if c.Singleton {
			_, _, err := db.GetValue(c.Name, "")
			if errors.Is(err, kv.ErrNotFound) {
				return nil
			}
			n = 1
			return err
		}
		res, err := db.Query(ctx, kv.Query{Collection: c.Name}, &kv.QueryOptions{Count: true})
		if err != nil {
			return err
		}
		n = res.Total
		return nil
	})
	return n, err
}

func (s *store) stats() (st *kv.Stats, err error) {
	err = s.read(func(db *kv.DB) error {
		st, err = db.Stats()
		return err
	})
	return st, err
}

// list returns the summaries of coll in id order.
func (s *store) list(coll string, offset, limit int) ([]kv.Document, error) {
	rows := []kv.Document{}
	err := s.read(func(db *kv.DB) error {
		return db.List(coll, offset, limit, func(sum kv.Document) error {
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
		got, err := db.Summaries(coll, ids)
		for _, r := range got {
			if r != nil {
				rows = append(rows, r)
			}
		}
		return err
	})
	return rows, err
}

// queryRequest is a query as kvtool query takes it.
type queryRequest struct {
	Collection string
	Where      []string // kvtool --where expressions, ANDed
	Sort       string   // [-]field
	Limit      int
	Offset     int
}

// queryResult is one page of a query: its plan and the page's summaries.
type queryResult struct {
	Explain kv.Explain    `json:"explain"`
	Total   int           `json:"total"` // -1 when the plan did not count
	IDs     []string      `json:"ids"`
	Rows    []kv.Document `json:"rows"`
}

// parseQuery turns a request into a kv.Query the way kvtool query does.
func parseQuery(r queryRequest) (kv.Query, error) {
	q := kv.Query{Collection: r.Collection, Limit: r.Limit, Offset: r.Offset}
	for _, w := range r.Where {
		if strings.TrimSpace(w) == "" {
			continue
		}
		f, text, err := kv.ParseWhere(r.Collection, w)
		if err != nil {
			return q, err
		}
		if text != "" {
			q.Text = append(q.Text, text)
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
		res, err := db.Query(ctx, q, &kv.QueryOptions{IDsOnly: true})
		if err != nil {
			return err
		}
		out.Explain, out.Total, out.IDs = res.Explain, res.Total, res.IDs
		sums, err := db.Summaries(q.Collection, res.IDs)
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

// searchHit is one search result with what the page shows of it.
type searchHit struct {
	Collection string      `json:"collection"`
	ID         string      `json:"id"`
	Score      float64     `json:"score"`
	Summary    kv.Document `json:"summary,omitempty"`
	Fragments  [][]segment `json:"fragments"`
}

func (s *store) search(ctx context.Context, text string, colls []string, offset, limit int) (total uint64, hits []searchHit, err error) {
	hits = []searchHit{}
	err = s.read(func(db *kv.DB) error {
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
			sums, err := db.Summaries(coll, ids)
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

// document is a document as the page shows it: without its large parts,
// which are read on demand (parts, part).
type document struct {
	Collection string `json:"collection"`
	ID         string `json:"id"`
	Rev        uint64 `json:"rev"`
	// JSON is the document (for a session, without its parts), indented,
	// with every number exactly as stored.
	JSON string `json:"json"`
}

func (s *store) document(c Collection, id string) (*document, error) {
	d := &document{Collection: c.Name, ID: id}
	err := s.read(func(db *kv.DB) error {
		var v any
		var err error
		if c.Singleton {
			v, d.Rev, err = db.GetValue(c.Name, "")
		} else {
			v, d.Rev, err = db.GetHeader(c.Name, id)
			if errors.Is(err, kv.ErrInvalid) {
				v, d.Rev, err = db.GetValue(c.Name, id) // extras may hold any value
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
		if full, _, err = db.Get(c.Name, id); err != nil {
			if errors.Is(err, kv.ErrInvalid) {
				return nil // not an object: no parts
			}
			return err
		}
		header, _, err = db.GetHeader(c.Name, id)
		return err
	})
	return full, header, err
}

// attachment calls fn with the content of attachment id and its document;
// the reader verifies the content's hash as it reaches the end.
func (s *store) attachment(id string, fn func(content io.Reader, doc kv.Document) error) error {
	return s.read(func(db *kv.DB) error {
		rc, doc, err := db.OpenAttachment(id)
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

// restoreResult says what a restore did: the backup restored, and where the
// state it replaced went (a pre-restore backup, or the damaged file kept
// beside the store).
type restoreResult struct {
	Restored kv.Manifest `json:"restored"`
	// PreviousBackup names the verified backup of the replaced state.
	PreviousBackup string `json:"previous_backup,omitempty"`
	// Damaged is the path the damaged data file was kept under, when the
	// replaced state could not be backed up because it was damaged.
	Damaged string `json:"damaged,omitempty"`
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
		newRev, err = db.Patch(c.Name, id, p, kv.IfRev(rev))
		return err
	})
	return newRev, err
}
