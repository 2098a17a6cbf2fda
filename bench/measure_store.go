package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// openWork opens the working copy in this process.
func (b *bench) openWork(noSearch bool) (*kv.DB, error) {
	return kv.Open(b.st, &kv.Options{NoSearch: noSearch})
}

// sizes reports the stored size against JSON, the file against JSON and
// the attachment deduplication saving, from Stats.
func (b *bench) sizes(ctx context.Context) (err error) {
	db, err := b.openWork(true)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	st, err := db.Stats(ctx)
	if err != nil {
		return err
	}
	pct := func(part, whole float64) float64 {
		if whole == 0 {
			return 0
		}
		return 100 * (1 - part/whole)
	}
	red := &Result{Name: "size/reduction", Title: "stored size of every document vs its JSON (saving)", Unit: "%", HigherBetter: true,
		Targets: []Target{{Source: "plan", Op: ">=", Value: 60}},
		Runs:    []float64{pct(float64(st.StoredBytes), float64(st.LogicalBytes))}}
	ss := st.Collections["sessions"]
	red.Note = fmt.Sprintf("%s of JSON stored in %s; sessions %.0f%%", humanBytes(int64(st.LogicalBytes)), humanBytes(int64(st.StoredBytes)),
		pct(float64(ss.StoredBytes), float64(ss.LogicalBytes)))
	b.add(red)
	search := dirSize(filepath.Join(b.st, kv.SearchDir))
	file := &Result{Name: "size/file-vs-json", Title: "data.db (indexes included) vs the documents' JSON (saving)", Unit: "%", HigherBetter: true,
		Targets: []Target{{Source: "plan", Op: ">=", Value: 50}},
		Runs:    []float64{pct(float64(st.FileBytes), float64(st.LogicalBytes))}}
	file.Note = fmt.Sprintf("data.db %s (%s free); search index %s more", humanBytes(st.FileBytes), humanBytes(st.FreeBytes), humanBytes(search))
	b.add(file)
	ratio := func(part, whole float64) float64 {
		if whole == 0 {
			return 0
		}
		return part / whole
	}
	db1 := &Result{Name: "size/db-per-json", Title: "data.db / the documents' JSON", Unit: "x",
		Targets: []Target{{Source: "#18", Op: "<=", Value: 0.7}},
		Runs:    []float64{ratio(float64(st.FileBytes), float64(st.LogicalBytes))}}
	db1.Note = fmt.Sprintf("data.db %s, JSON %s; as the store was loaded, not compacted (kvtool compact, or an import or migration, compacts)",
		humanBytes(st.FileBytes), humanBytes(int64(st.LogicalBytes)))
	b.add(db1)
	db2 := &Result{Name: "size/db+search-per-json", Title: "data.db + search index / the documents' JSON", Unit: "x",
		Targets: []Target{{Source: "#18", Op: "<=", Value: 1.0}},
		Runs:    []float64{ratio(float64(st.FileBytes+search), float64(st.LogicalBytes))}}
	db2.Note = fmt.Sprintf("data.db %s + search index %s", humanBytes(st.FileBytes), humanBytes(search))
	b.add(db2)
	dd := &Result{Name: "attach/dedup-saving", Title: "attachment bytes saved by content addressing", Unit: "%", HigherBetter: true,
		Targets: []Target{{Source: "plan", Op: ">=", Value: 45}},
		Runs:    []float64{pct(float64(st.Blobs.PhysicalBytes), float64(st.Blobs.LogicalBytes))}}
	dd.Note = fmt.Sprintf("%d attachments, %s logical, %s in %d blobs", st.Collections["attachments"].Count,
		humanBytes(int64(st.Blobs.LogicalBytes)), humanBytes(int64(st.Blobs.PhysicalBytes)), st.Blobs.Count)
	b.add(dd)
	return nil
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// perOp runs fn in a loop for at least d (and at least once) per run,
// after one warm-up call, and returns each run's mean milliseconds per call.
func perOp(runs int, d time.Duration, fn func() error) ([]float64, error) {
	if err := fn(); err != nil {
		return nil, err
	}
	out := make([]float64, 0, runs)
	for range runs {
		n := 0
		start := time.Now()
		for n == 0 || time.Since(start) < d {
			if err := fn(); err != nil {
				return nil, err
			}
			n++
		}
		out = append(out, msOf(time.Since(start))/float64(n))
	}
	return out, nil
}
