package kv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/search"
	"github.com/cairnkv/cairn/secondary"
	"github.com/cairnkv/cairn/snapshot"
	bolt "go.etcd.io/bbolt"
)

// SearchOptions narrow and page a full-text search: Collections (empty:
// all), Limit (0: 20), Offset, Highlight (fill Hit.Fragments).
type SearchOptions = search.SearchOptions

// SearchResult is one page of hits, best first.
type SearchResult = search.Result

// SearchHit is one matching document with its score and, if asked,
// highlighted fragments.
type SearchHit = search.Hit

// Search finds the documents matching text, in search syntax: plain
// words all required (English stemming: "meetings" finds "meeting"),
// "phrases", pre*, word~ and word~1, field:word, -word, a OR b (see the
// search package); malformed text fails with a *SearchSyntaxError
// (ErrSearchSyntax). Highlight excerpts are cut from the documents
// as stored now (the index keeps no text). It first waits until the index
// holds every change committed before the call (read-your-writes).
func (db *DB) Search(ctx context.Context, text string, opts SearchOptions) (SearchResult, error) {
	ix, err := db.searchIndex(ctx)
	if err != nil {
		return SearchResult{}, err
	}
	if opts.Highlight && opts.Source == nil {
		opts.Source = db.highlightSource
	}
	res, err := ix.Search(ctx, text, opts)
	if err != nil && indexDamaged(ctx, err) && !db.opts.ReadOnly {
		// The index itself failed (a damaged segment): it is derived data,
		// so rebuild it from the documents and answer from the new one.
		if _, rerr := db.ReindexSearch(ctx); rerr != nil {
			return SearchResult{}, errors.Join(err, fmt.Errorf("cairn: rebuilding the search index: %w", rerr))
		}
		if ix, err = db.searchIndex(ctx); err != nil {
			return SearchResult{}, err
		}
		if res, err = ix.Search(ctx, text, opts); err != nil {
			return res, err
		}
		return res, db.hitsReadable(res)
	}
	if err != nil && indexDamaged(ctx, err) {
		// Read-only: the index cannot be rebuilt here.
		return res, fmt.Errorf("%w: the search index failed (%v); kvtool reindex --search rebuilds it", ErrCorrupt, err)
	}
	if err != nil {
		return res, err
	}
	return res, db.hitsReadable(res)
}

// hitsReadable returns the error of a collection of res's hits whose
// documents the store refuses (a damaged bucket, buckets.GatePages): the
// index, built before the damage, would otherwise answer with documents
// that no longer read, as if they did.
func (db *DB) hitsReadable(res SearchResult) error {
	seen := map[string]bool{}
	return searchSource{db}.view(func(tx *bolt.Tx) error {
		for _, h := range res.Hits {
			if !seen[h.Collection] {
				seen[h.Collection] = true
				buckets.Lookup(tx, buckets.PrimaryBucket(h.Collection))
			}
		}
		return nil
	})
}

// highlightSource loads a document's current state for the highlighter
// (search.SearchOptions.Source): the index stores no text.
func (db *DB) highlightSource(coll, id string) (search.Change, error) {
	if _, err := db.lookup(coll); err != nil {
		return search.Change{Collection: coll, ID: id, Deleted: true}, nil // a collection dropped since: no excerpt
	}
	if err := db.enter(); err != nil {
		return search.Change{}, err
	}
	defer db.leave()
	var ch search.Change
	err := searchSource{db}.view(func(tx *bolt.Tx) error {
		var err error
		ch, err = searchSource{db}.loadChange(tx, coll, id)
		return err
	})
	return ch, err
}

// indexDamaged tells a failure of the index from a bad query or a
// cancelled call.
func indexDamaged(ctx context.Context, err error) bool {
	switch {
	case ctx.Err() != nil, errors.Is(err, search.ErrEmptyQuery), errors.Is(err, search.ErrQueryTooLong),
		errors.Is(err, search.ErrBadOptions), errors.Is(err, search.ErrClosed),
		errors.Is(err, search.ErrSyntax), errors.Is(err, search.ErrUnknownField):
		return false
	}
	return true
}

// searchIndex returns the index once it has caught up with every commit
// made before the call.
func (db *DB) searchIndex(ctx context.Context) (*search.Index, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.leave()
	x := db.searchIndexer()
	if x == nil {
		return nil, ErrNoSearch
	}
	return waitIndexed(ctx, x, db.lastSeq())
}

// WaitIndexed blocks until the full-text index has applied the change with
// sequence (revision) seq, for read-your-writes after a write that
// returned seq.
func (db *DB) WaitIndexed(ctx context.Context, seq uint64) error {
	x := db.searchIndexer()
	if x == nil {
		return ErrNoSearch
	}
	_, err := waitIndexed(ctx, x, seq)
	return err
}

// lastSeq returns the sequence of the newest committed change.
func (db *DB) lastSeq() uint64 {
	var seq uint64
	_ = searchSource{db}.view(func(tx *bolt.Tx) error {
		if b := buckets.Lookup(tx, buckets.LogBucket); b != nil {
			seq = b.Sequence()
		}
		return nil
	})
	return seq
}

// matchIDs returns the ids of coll whose search field (all: "") matches
// text.
func (db *DB) matchIDs(ctx context.Context, coll, field, text string) (map[string]struct{}, error) {
	ix, err := db.searchIndex(ctx)
	if err != nil {
		return nil, err
	}
	return ix.MatchIDs(ctx, coll, field, text)
}

// checkSearch compares the search index with the primary data: every
// searchable document indexed at its current revision, nothing else. It
// also returns the damage the index was rebuilt for before it looked
// (repaired: not a problem).
func (db *DB) checkSearch(ctx context.Context) (problems []Problem, repaired []string, err error) {
	ix, err := db.searchIndex(ctx)
	if err != nil {
		if errors.Is(err, ErrNoSearch) {
			return nil, nil, nil
		}
		if errors.Is(err, search.ErrBusy) {
			// Another process holds the index (rebuilding it, say):
			// that is a wait that ran out, not damage to report.
			return nil, nil, fmt.Errorf("%w: check the search index: %v", ErrLocked, err)
		}
		if errors.Is(err, search.ErrNotWritable) {
			// Not damage: the index is there, this process may not write
			// it (a read-only copy of the store, another user's).
			db.log.Warn("the search index was not checked: it cannot be written here", "problem", err)
			return nil, nil, nil
		}
		return []Problem{{Kind: "search", Detail: err.Error() + " (kvtool reindex --search rebuilds it)"}}, nil, nil
	}
	if d := db.takeSearchRootDamage(); d != "" {
		repaired = append(repaired, "search index damaged on disk ("+d+"): rebuilt from the store")
	}
	if x := db.runningIndexer(); x != nil {
		if d := x.TakeDamage(); d != "" {
			// Found and repaired (as the index opened, or once the merge
			// guard found it): catching up fixed it, so it is not a
			// problem, but the disk damaged it.
			repaired = append(repaired, "search index damaged on disk ("+d+"): rebuilt from the store")
		}
	}
	want := map[[2]string]uint64{}
	err = searchSource{db}.view(func(tx *bolt.Tx) error {
		for _, name := range buckets.CollectionsIn(tx) {
			c, err := db.lookup(name)
			if err != nil || !c.Searched() {
				continue
			}
			// Documents read whole, as the indexer reads them
			// (searchSource.loadChange): one it cannot read (its value,
			// its key or a part damaged) is left out of the index, and
			// reported as corrupt by VerifyTx, not as missing from the
			// index, which no reindex would change.
			err = buckets.EachRecord(tx, c, nil, true, func(k []byte, rec *buckets.Record, err error) error {
				if err == nil { // parts: their checksums, without decoding them again
					err = buckets.CheckParts(tx, c, string(k), rec, nil)
				}
				if err != nil {
					// Its revision is unknown.
					want[[2]string{c.Name, string(k)}] = unknownRev
					return nil
				}
				want[[2]string{c.Name, string(k)}] = rec.Rev
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var out []Problem
	const fix = " (kvtool reindex --search)"
	damaged, err := ix.VerifySegments(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range damaged {
		out = append(out, Problem{Kind: "search", Detail: "search index segment " + d + fix})
	}
	err = ix.Walk(func(coll, id string, rev uint64) error {
		key := [2]string{coll, id}
		w, ok := want[key]
		switch {
		case !ok:
			out = append(out, Problem{Kind: "search-extra", Collection: coll, ID: id, Detail: "indexed but not in the store" + fix})
		case w == unknownRev:
		case w != rev:
			out = append(out, Problem{Kind: "search-stale", Collection: coll, ID: id, Detail: fmt.Sprintf("indexed at revision %d, stored at %d%s", rev, w, fix)})
		}
		delete(want, key)
		return ctx.Err()
	})
	if err != nil {
		return append(out, Problem{Kind: "search", Detail: "walk: " + err.Error() + fix}), repaired, nil
	}
	for key, w := range want {
		if w != unknownRev {
			out = append(out, Problem{Kind: "search-missing", Collection: key[0], ID: key[1], Detail: "stored but not indexed" + fix})
		}
	}
	sortProblems(out)
	return out, repaired, nil
}

// ReindexSearch rebuilds the full-text index from the primary data and
// returns how many documents it indexed. Documents that cannot be read
// (their value, key or a part damaged) are left out of the index and the
// rest indexed; then the error wraps ErrCorrupt and names them, beside the
// count. Change-log entries that cannot be read are dropped once the index
// is rebuilt past them, with every older entry (see Changes: its readers
// start over from the current state), so that Check and Backup pass again.
func (db *DB) ReindexSearch(ctx context.Context) (int, error) {
	ix, err := db.searchIndex(ctx)
	if err != nil {
		return 0, err
	}
	db.idx.Lock()
	db.idx.left, db.idx.leftColls = map[docRef]error{}, map[string]string{}
	db.idx.Unlock()
	err = db.searchIndexer().Rebuild()
	db.idx.Lock()
	left, leftColls := db.idx.left, db.idx.leftColls
	db.idx.left, db.idx.leftColls = nil, nil
	db.idx.Unlock()
	if err != nil {
		if errors.Is(err, search.ErrFeederClosed) {
			return 0, ErrClosed
		}
		return 0, err
	}
	if !db.opts.ReadOnly {
		// Only entries the index holds on disk may go: after a crash, it
		// must find the rest still in the log.
		if err := ix.Durable(); err != nil {
			return 0, err
		}
		upTo := ix.DurableApplied()
		if err := db.commit.run(func(w *txnWriter) error {
			_, err := w.DropDamagedLog(upTo)
			return err
		}); err != nil {
			return 0, fmt.Errorf("cairn: drop the change-log entries that cannot be read: %w", err)
		}
	}
	n, err := ix.Count()
	if err == nil && len(leftColls) > 0 {
		names := slices.Sorted(maps.Keys(leftColls))
		return int(n), fmt.Errorf("%w: collection(s) %s left out of the search index, their pages damaged (%s: %s); every other collection indexed; check names the pages", ErrCorrupt, strings.Join(names, ", "), names[0], leftColls[names[0]])
	}
	if err != nil || len(left) == 0 {
		return int(n), err
	}
	refs := make([]docRef, 0, len(left))
	for r := range left {
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool {
		return refs[i].coll < refs[j].coll || refs[i].coll == refs[j].coll && refs[i].id < refs[j].id
	})
	var names []string
	for _, r := range refs[:min(len(refs), 5)] {
		names = append(names, fmt.Sprintf("%s %q", r.coll, r.id))
	}
	if len(refs) > 5 {
		names = append(names, fmt.Sprintf("and %d more", len(refs)-5))
	}
	return int(n), fmt.Errorf("%w: %d damaged document(s) left out of the search index, every other one indexed: %s (the first: %v); check names each, and a delete or put of it repairs it", ErrCorrupt, len(refs), strings.Join(names, ", "), left[refs[0]])
}

// ReindexSecondary takes a verified backup, then drops and recomputes every
// metadata summary and secondary index from the documents, in one
// transaction. It returns how many documents it read.
func (db *DB) ReindexSecondary(ctx context.Context) (int, error) {
	if err := db.enter(); err != nil {
		return 0, err
	}
	defer db.leave()
	if db.opts.ReadOnly {
		return 0, ErrReadOnly
	}
	if _, err := db.backupLocked(ctx, ReasonPreReindex); err != nil && !db.derivedDamageOnly(err) {
		return 0, fmt.Errorf("cairn: reindex refused: the pre-reindex backup failed: %w", err)
	}
	n := 0
	err := db.commit.run(func(w *txnWriter) error {
		var err error
		n, err = secondary.Rebuild(w.Tx(), db.schema(), nil, nil)
		w.Poison()
		return err
	})
	return n, err
}

// derivedDamageOnly reports whether err, a failed backup, failed only
// because of damage to what ReindexSecondary rebuilds: metadata entries
// of documents that read whole, and index keys; or to change-log entries,
// which no document depends on (ReindexSearch drops them, and kvtool
// reindex runs it after this one). The reindex then goes on
// without its backup, since it replaces exactly that damage and changes
// nothing else; refusing it would leave check's advice for such damage
// (reindex --secondary) unable to work.
func (db *DB) derivedDamageOnly(err error) bool {
	var ve *snapshot.VerifyError
	if !errors.As(err, &ve) || ve.Stage != "source" || len(ve.Problems) == 0 {
		return false
	}
	ok := true
	verr := db.bolt.View(func(btx *bolt.Tx) error {
		return guard(func() error {
			t := &Tx{ctx: context.Background(), db: db, tx: btx}
			for _, p := range ve.Problems {
				switch {
				case buckets.IsLogProblem(p): // ReindexSearch drops it
				case p.Kind != "corrupt" || p.Collection == "":
					ok = false
				case p.ID == "": // an index key
				default: // a metadata entry, if the document itself reads
					ok = ok && t.damagedDocument(p.Collection, p.ID) == nil
				}
			}
			return nil
		})
	})
	return ok && verr == nil
}

// unknownRev stands for the revision of a record that cannot be decoded.
const unknownRev = ^uint64(0)
