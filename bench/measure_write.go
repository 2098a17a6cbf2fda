package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// sampleIDs returns up to n session ids spread over the dataset.
func (b *bench) sampleIDs(n int) []string {
	total := b.g.Count("sessions")
	n = min(n, total)
	ids := make([]string, 0, n)
	for i := range n {
		ids = append(ids, b.g.ID("sessions", i*total/n))
	}
	return ids
}

// codec measures the cost of a stored session in each direction through
// the store: decode is a Get of a whole session (read, checksum, snappy,
// msgpack, parts assembled); encode is a Put of a whole session inside a
// batch of 50 (encode, compress, checksum, metadata and index upkeep, the
// commit shared by the batch).
func (b *bench) codec(ctx context.Context) error {
	ids := b.sampleIDs(200)
	var jsonBytes int
	if b.want("codec/decode") {
		db, err := b.openWork(true)
		if err != nil {
			return err
		}
		i := 0
		runs, err := perOp(b.cfg.Runs, b.minDur(), func() error {
			doc, _, err := db.Get(ctx, "sessions", ids[i%len(ids)])
			if i < len(ids) {
				bs, _ := json.Marshal(doc)
				jsonBytes += len(bs)
			}
			i++
			return err
		})
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		b.add(&Result{Name: "codec/decode", Title: "decode: Get of a whole session (checksum, decompress, decode)", Unit: "ms", Runs: runs,
			Targets: []Target{{Source: "plan", Op: "<", Value: 5}},
			Note:    fmt.Sprintf("%d sessions sampled, mean %s of JSON", len(ids), humanBytes(int64(jsonBytes/max(1, min(i, len(ids))))))})
	}
	if b.want("codec/encode") {
		dir := filepath.Join(b.work, "encode")
		defer os.RemoveAll(dir)
		db, err := kv.Open(dir, &kv.Options{NoSearch: true})
		if err != nil {
			return err
		}
		const batch = 50
		total := b.g.Count("sessions")
		next := 0
		var runs []float64
		for r := 0; r <= b.cfg.Runs; r++ { // run 0 warms up
			var d time.Duration
			n := 0
			for n == 0 || d < b.minDur() {
				docs := make([]map[string]any, batch)
				for k := range docs {
					docs[k] = b.g.Session(next % total)
					next++
				}
				t := time.Now()
				err := db.Update(ctx, func(tx *kv.Tx) error {
					for _, doc := range docs {
						if _, err := tx.Put("sessions", doc); err != nil {
							return err
						}
					}
					return nil
				})
				d += time.Since(t)
				n += batch
				if err != nil {
					_ = db.Close()
					return err
				}
			}
			if r > 0 {
				runs = append(runs, msOf(d)/float64(n))
			}
		}
		if err := db.Close(); err != nil {
			return err
		}
		b.add(&Result{Name: "codec/encode", Title: "encode: Put of a whole session in a batch of 50 (compress, index, shared commit)", Unit: "ms", Runs: runs,
			Targets: []Target{{Source: "plan", Op: "<", Value: 10}}, Note: "generated sessions, new ids: inserts"})
	}
	return nil
}

// patch measures an enrichment patch (summary and enrichmentStatus of a
// session), one durable commit each, with the search index on.
func (b *bench) patch(ctx context.Context) (err error) {
	db, err := b.openWork(false)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	ids := b.sampleIDs(500)
	i := 0
	runs, err := perOp(b.cfg.Runs, b.minDur(), func() error {
		id := ids[i%len(ids)]
		i++
		_, err := db.Patch(ctx, "sessions", id, map[string]any{
			"summary": map[string]any{"narrative": fmt.Sprintf("Enriched narrative %d: planning review of the budget and the roadmap.", i),
				"achievements": []any{"shipped the migration"}, "blockers": []any{}},
			"enrichmentStatus": map[string]any{"status": "completed", "stage": "summary", "progress": 100, "completedAt": "2025-12-31T12:00:00.000Z"},
		})
		return err
	})
	if err != nil {
		return err
	}
	b.add(&Result{Name: "write/patch-enrichment", Title: "enrichment patch of a session (summary + enrichmentStatus), durable", Unit: "ms", Runs: runs,
		Note: "one commit each; search indexing follows asynchronously"})
	return nil
}

// commits measures durable single-document commits per second with one
// writer and with 8 concurrent writers (group commit), on a new store with
// the default options (search index on, as an application gets it), and
// with one writer again without the search index (Options.NoSearch) for
// the ratio, writing generated notes. Each run starts after an untimed
// sync, with the index already created (a search), as an application's
// commits find it.
func (b *bench) commits(ctx context.Context) error {
	dur := 1500 * time.Millisecond
	if b.quick() {
		dur = 100 * time.Millisecond
	}
	notes := b.g.Count("notes")
	one := &Result{Name: "write/commit/1w", Title: "durable commits/s, 1 writer (one Put of a note each)", Unit: "ops/s", HigherBetter: true}
	eight := &Result{Name: "write/commit/8w", Title: "durable commits/s, 8 concurrent writers", Unit: "ops/s", HigherBetter: true,
		Targets: []Target{{Source: "#2", Op: ">=", Value: 4, Of: "write/commit/1w"}}}
	bare := &Result{Name: "write/commit/1w-nosearch", Title: "durable commits/s, 1 writer, search index off (Options.NoSearch)", Unit: "ops/s", HigherBetter: true}
	one.Targets = []Target{{Source: "#18", Op: ">=", Value: 0.9, Of: bare.Name}, {Source: "#18", Op: ">=", Value: 1, Peer: "sqlite"}}
	var p99s [3][]float64
	for r := range b.cfg.Runs {
		for k, writers := range []int{1, 8, 1} {
			res := []*Result{one, eight, bare}[k]
			if !b.want(res.Name) && !(k != 1 && b.want(eight.Name)) && !(k == 2 && b.want(one.Name)) {
				continue
			}
			dir := filepath.Join(b.work, fmt.Sprintf("commits-%d-%d", r, k))
			db, err := kv.Open(dir, &kv.Options{NoSearch: res == bare})
			if err != nil {
				return err
			}
			if res != bare {
				// An application opens its index once, at startup; here
				// the store is new each run, and creating its index
				// (files, fsyncs) is not a commit's cost.
				if _, err := db.Search(ctx, "warm", kv.SearchOptions{}); err != nil {
					return errors.Join(err, db.Close())
				}
			}
			settle() // the previous run's writes and deletes are not this one's
			var mu sync.Mutex
			var lat []float64
			var wg sync.WaitGroup
			var firstErr error
			start := time.Now()
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var mine []float64
					for i := 0; time.Since(start) < dur; i++ {
						doc := b.g.Note((w*7919 + i) % notes)
						doc["id"] = fmt.Sprintf("w%d-%07d", w, i)
						t := time.Now()
						if _, err := db.Put(ctx, "notes", doc); err != nil {
							mu.Lock()
							firstErr = err
							mu.Unlock()
							return
						}
						mine = append(mine, msOf(time.Since(t)))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			el := time.Since(start)
			if err := db.Close(); err != nil && firstErr == nil {
				firstErr = err
			}
			if err := os.RemoveAll(dir); err != nil && firstErr == nil {
				firstErr = err
			}
			if firstErr != nil {
				return firstErr
			}
			res.Runs = append(res.Runs, float64(len(lat))/el.Seconds())
			p99s[k] = append(p99s[k], percentile(lat, 99))
		}
	}
	p1, _, _ := stats(p99s[0])
	p8, _, _ := stats(p99s[1])
	p0, _, _ := stats(p99s[2])
	one.Note = fmt.Sprintf("p99 %s ms; search index on (the default)", trimFloat(p1))
	eight.Note = fmt.Sprintf("p99 %s ms (#2: < 10 ms); search index on", trimFloat(p8))
	bare.Note = fmt.Sprintf("p99 %s ms", trimFloat(p0))
	for _, res := range []*Result{one, eight, bare} {
		if len(res.Runs) > 0 {
			b.add(res)
		}
	}
	return b.commitsLoaded(ctx, dur)
}

// commitsLoaded measures single-writer commits into the dataset's store
// as loaded (its free pages and its full buckets), where the rows above
// commit into a new, empty store: what an application with a year of data
// pays per save. Search is off, so that the row shows the store alone.
// The notes it adds stay in the working copy (about a thousand per run,
// against the tens of thousands there).
func (b *bench) commitsLoaded(ctx context.Context, dur time.Duration) error {
	res := &Result{Name: "write/commit/loaded", Title: "durable commits/s, 1 writer, into the dataset's store as loaded (search off)", Unit: "ops/s", HigherBetter: true}
	if !b.want(res.Name) {
		return nil
	}
	db, err := b.openWork(true)
	if err != nil {
		return err
	}
	notes := b.g.Count("notes")
	var lat []float64
	for r := 0; r < b.cfg.Runs && err == nil; r++ {
		n := 0
		start := time.Now()
		for ; time.Since(start) < dur && err == nil; n++ {
			doc := b.g.Note((r*7919 + n) % notes)
			doc["id"] = fmt.Sprintf("loaded%d-%07d", r, n)
			t := time.Now()
			_, err = db.Put(ctx, "notes", doc)
			lat = append(lat, msOf(time.Since(t)))
		}
		res.Runs = append(res.Runs, float64(n)/time.Since(start).Seconds())
	}
	if err = errors.Join(err, db.Close()); err != nil {
		return err
	}
	res.Note = fmt.Sprintf("p99 %s ms", trimFloat(percentile(lat, 99)))
	b.add(res)
	return nil
}
