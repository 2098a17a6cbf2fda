package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// scanQuery answers a workload query the way a store without indexes
// must: decode every session (whole, parts assembled) in one read
// transaction, filter, sort and page in memory.
type scanQuery struct {
	match  func(doc map[string]any) bool
	sort   string
	desc   bool
	offset int
	limit  int
}

func (s scanQuery) run(db *kv.DB) ([]string, error) {
	type hit struct {
		id, key string
	}
	var hits []hit
	err := db.View(context.Background(), func(tx *kv.Tx) error {
		return tx.Each("sessions", func(id string, doc any) error {
			m, _ := doc.(map[string]any)
			if m != nil && s.match(m) {
				k, _ := m[s.sort].(string)
				hits = append(hits, hit{id, k})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if c := strings.Compare(a.key, b.key); c != 0 && s.sort != "" {
			if s.desc {
				return -c
			}
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	ids := make([]string, 0, len(hits))
	for i, h := range hits {
		if i < s.offset {
			continue
		}
		if s.limit > 0 && len(ids) >= s.limit {
			break
		}
		ids = append(ids, h.id)
	}
	return ids, nil
}

func hasTag(doc map[string]any, tag string) bool {
	tags, _ := doc["tags"].([]any)
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

func str(doc map[string]any, f string) string { s, _ := doc[f].(string); return s }

// qdef is one workload query: its planner form, its full-scan form and
// their targets.
type qdef struct {
	name, title string
	q           kv.Query
	scan        scanQuery
	targets     []Target
	ratio       []Target
}

// queries measures the three workload queries through the planner and as
// full scans, in the same run, and their ratio.
func (b *bench) queries(ctx context.Context) (err error) {
	db, err := b.openWork(true)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	w := b.wl
	defs := []qdef{
		{"query/complex", fmt.Sprintf("complex query: completed, tag %q, last six months, newest first, 20 after 20 (headers)", w.Tag), w.complexQuery(),
			scanQuery{match: func(d map[string]any) bool {
				return str(d, "status") == w.Status && hasTag(d, w.Tag) && str(d, "startTime") >= w.Since
			}, sort: "startTime", desc: true, offset: w.Offset, limit: w.Limit},
			[]Target{{Source: "plan", Op: "<", Value: 50}, {Source: "#3", Op: "<", Value: 0.5}, {Source: "#3", Op: ">=", Value: 3, Peer: "sqlite"}},
			[]Target{{Source: "plan", Op: ">=", Value: 40}}},
		{"query/month", "one-month date range, by start time (headers)", w.monthQuery(),
			scanQuery{match: func(d map[string]any) bool {
				s := str(d, "startTime")
				return s >= w.MonthFrom && s < w.MonthTo
			}, sort: "startTime"},
			nil,
			[]Target{{Source: "plan", Op: ">=", Value: 40}}},
		{"query/tag", fmt.Sprintf("tag lookup: every session tagged %q (headers)", w.LookupTag), w.tagQuery(),
			scanQuery{match: func(d map[string]any) bool { return hasTag(d, w.LookupTag) }},
			nil,
			[]Target{{Source: "plan", Op: ">=", Value: 40}}},
	}
	if b.cfg.Sessions >= 100000 {
		defs[0].ratio = append(defs[0].ratio, Target{Source: "#3", Op: ">=", Value: 1000})
		defs[0].targets[1].Value = 1
	}
	for _, d := range defs {
		if !b.wantAny([]string{d.name, d.name + "/fullscan", d.name + "/ratio"}) {
			continue
		}
		var qr *kv.QueryResult
		idx, err := perOp(b.cfg.Runs, b.minDur(), func() error {
			var err error
			qr, err = db.Query(ctx, d.q, &kv.QueryOptions{Header: true})
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		r := &Result{Name: d.name, Title: d.title, Unit: "ms", Runs: idx, Targets: d.targets,
			Note: fmt.Sprintf("%d docs; plan %s on %s: %d keys, %d docs read", len(qr.Docs), qr.Explain.Plan, qr.Explain.Index, qr.Explain.Scanned, qr.Explain.DocsRead)}
		fs := &Result{Name: d.name + "/fullscan", Title: "  the same as a full scan (every session decoded)", Unit: "ms"}
		ratio := &Result{Name: d.name + "/ratio", Title: "  full scan / index", Unit: "x", HigherBetter: true, Targets: d.ratio}
		var ids []string
		for i := range b.cfg.Runs {
			t := time.Now()
			ids, err = d.scan.run(db)
			if err != nil {
				return fmt.Errorf("%s full scan: %w", d.name, err)
			}
			fs.Runs = append(fs.Runs, msOf(time.Since(t)))
			ratio.Runs = append(ratio.Runs, fs.Runs[i]/idx[i])
		}
		r.IDs = idsHash(qr.IDs)
		if !slices.Equal(ids, qr.IDs) {
			r.Error = fmt.Sprintf("MISMATCH: the full scan found %d ids, the query %d", len(ids), len(qr.IDs))
		}
		b.add(r)
		b.add(fs)
		b.add(ratio)
	}
	return b.queriesNoCache(ctx, db, defs)
}

// queriesNoCache measures the same queries on the store opened without the
// document cache (Options.CacheBytes < 0): the figures above are served by
// the cache on repeats, which the peers do not have. It closes db first
// (the store admits one handle).
func (b *bench) queriesNoCache(ctx context.Context, db *kv.DB, defs []qdef) error {
	var todo []qdef
	for _, d := range defs {
		if b.want(d.name + "/nocache") {
			todo = append(todo, d)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if err := db.Close(); err != nil {
		return err
	}
	plain, err := kv.Open(b.st, &kv.Options{NoSearch: true, CacheBytes: -1})
	if err != nil {
		return err
	}
	defer plain.Close()
	for _, d := range todo {
		var qr *kv.QueryResult
		runs, err := perOp(b.cfg.Runs, b.minDur(), func() error {
			var err error
			qr, err = plain.Query(ctx, d.q, &kv.QueryOptions{Header: true})
			return err
		})
		if err != nil {
			return fmt.Errorf("%s/nocache: %w", d.name, err)
		}
		r := &Result{Name: d.name + "/nocache", Title: "  the same with the document cache off (CacheBytes -1)", Unit: "ms", Runs: runs,
			IDs: idsHash(qr.IDs), Note: fmt.Sprintf("%d docs read", qr.Explain.DocsRead)}
		if d.name == "query/complex" {
			r.Targets = []Target{{Source: "plan", Op: "<", Value: 50}, {Source: "#18", Op: ">=", Value: 2, Peer: "sqlite"}}
		}
		b.add(r)
	}
	return plain.Close()
}

// search measures full-text search, top 20 over every collection (the
// index has caught up when the store opens).
func (b *bench) search(ctx context.Context) (err error) {
	db, err := b.openWork(false)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	for _, s := range []struct {
		name, text string
		colls      []string
	}{
		{"search/1word", b.wl.Word1, nil},
		{"search/2words", b.wl.Words2, nil},
		// An application's search box is often scoped to one collection.
		{"search/2words/sessions", b.wl.Words2, []string{"sessions"}},
	} {
		if !b.want(s.name) {
			continue
		}
		var res kv.SearchResult
		runs, err := perOp(b.cfg.Runs, b.minDur(), func() error {
			var err error
			res, err = db.Search(ctx, s.text, kv.SearchOptions{Limit: 20, Collections: s.colls})
			return err
		})
		if err != nil {
			return err
		}
		scope := "every collection"
		if len(s.colls) > 0 {
			scope = strings.Join(s.colls, ", ")
		}
		r := &Result{Name: s.name, Title: fmt.Sprintf("full-text search %q, top 20, %s", s.text, scope), Unit: "ms", Runs: runs,
			Note: fmt.Sprintf("%d matches", res.Total)}
		if s.name == "search/2words" {
			r.Targets = []Target{{Source: "#4", Op: "<", Value: 1}, {Source: "#4", Op: ">=", Value: 4, Peer: "sqlite"}}
		}
		b.add(r)
	}
	return nil
}
