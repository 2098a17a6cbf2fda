package legacy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

type walked struct {
	coll, id string
	e        Entity
}

func walkAll(t *testing.T, dir string, opts *ScanOptions) ([]walked, *Dataset, *Report) {
	t.Helper()
	var got []walked
	ds, rep, err := Walk(context.Background(), dir, opts, func(coll, id string, e Entity) error {
		got = append(got, walked{coll, id, e})
		return nil
	})
	if err != nil {
		t.Fatalf("Walk(%s): %v", dir, err)
	}
	return got, ds, rep
}

// walkDirs are every fixture, db/ itself and a generated chunked store.
func walkDirs(t *testing.T) []string {
	dirs := []string{"testdata/eras/era-g/db"}
	for name := range fixtureGenerators {
		dirs = append(dirs, filepath.Join("testdata", name))
	}
	sort.Strings(dirs)
	gen := t.TempDir()
	genChunkedDir(t, gen, 40)
	return append(dirs, gen)
}

// TestWalk_sameAsScan: Walk hands over exactly Scan's entities, collection
// by collection in the order of Collections, ids ascending, with the same
// Dataset (but Collections) and Report.
func TestWalk_sameAsScan(t *testing.T) {
	for _, dir := range walkDirs(t) {
		for _, workers := range []int{1, 4} {
			opts := &ScanOptions{Workers: workers}
			got, wds, wrep := walkAll(t, dir, opts)
			ds, rep, err := Scan(context.Background(), dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, m := range ds.Collections {
				n += len(m)
			}
			if len(got) != n {
				t.Errorf("%s: walked %d entities, scanned %d", dir, len(got), n)
			}
			for i, w := range got {
				if i > 0 {
					prev := got[i-1]
					pc, c := slices.Index(Collections, prev.coll), slices.Index(Collections, w.coll)
					if c < pc || c == pc && w.id <= prev.id {
						t.Errorf("%s: %s/%s walked after %s/%s", dir, w.coll, w.id, prev.coll, prev.id)
					}
				}
				e, ok := ds.Collections[w.coll][w.id]
				if !ok || e.Source != w.e.Source || e.Time != w.e.Time || !reflect.DeepEqual(e.Doc, w.e.Doc) {
					t.Errorf("%s: %s/%s differs from Scan's", dir, w.coll, w.id)
				}
			}
			if wds.Collections != nil {
				t.Errorf("%s: Walk's Dataset has Collections", dir)
			}
			if !reflect.DeepEqual(wrep, rep) {
				t.Errorf("%s: Walk's report differs from Scan's", dir)
			}
			if !reflect.DeepEqual(wds.Settings, ds.Settings) || !reflect.DeepEqual(wds.AISettings, ds.AISettings) ||
				!reflect.DeepEqual(wds.Preferences, ds.Preferences) || !reflect.DeepEqual(wds.Extras, ds.Extras) ||
				len(wds.Blobs) != len(ds.Blobs) {
				t.Errorf("%s: Walk's dataset differs from Scan's", dir)
			}
			for c, m := range ds.Collections {
				if rep.Counts[c] != len(m) {
					t.Errorf("%s: count of %s %d, want %d", dir, c, rep.Counts[c], len(m))
				}
			}
		}
	}
}

// TestWalk_fnError: an error from fn stops the walk and is returned.
func TestWalk_fnError(t *testing.T) {
	stop := errors.New("stop")
	for _, workers := range []int{1, 4} {
		calls := 0
		ds, rep, err := Walk(context.Background(), "testdata/eras/era-g", &ScanOptions{Workers: workers}, func(coll, id string, e Entity) error {
			calls++
			if coll == "sessions" {
				return stop
			}
			return nil
		})
		if err != stop || ds != nil || rep != nil {
			t.Errorf("workers %d: err %v", workers, err)
		}
		got, _, _ := walkAll(t, "testdata/eras/era-g", nil)
		want := 0
		for _, w := range got {
			want++
			if w.coll == "sessions" {
				break
			}
		}
		if calls != want {
			t.Errorf("workers %d: fn called %d times, want %d", workers, calls, want)
		}
	}
}

// TestWalk_cancel: a context cancelled before or during the walk stops it.
func TestWalk_cancel(t *testing.T) {
	dir := t.TempDir()
	genChunkedDir(t, dir, 200)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Walk(ctx, dir, nil, func(string, string, Entity) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before: %v", err)
	}
	for _, workers := range []int{1, 4} {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		_, _, err := Walk(ctx, dir, &ScanOptions{Workers: workers}, func(string, string, Entity) error {
			if calls++; calls == 10 {
				cancel()
			}
			return nil
		})
		cancel()
		if !errors.Is(err, context.Canceled) || calls != 10 {
			t.Errorf("workers %d: cancelled during: %v after %d entities", workers, err, calls)
		}
	}
}

// copyDir copies a fixture into a temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755)
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestWalk_changed: a session's metadata or a per-entity file rewritten
// between the indexing and the emission fails the walk with ErrChanged
// rather than handing over entities the choice was not made on. A
// collection file is read once (its text is kept, spilled): rewriting it
// changes nothing the walk hands over.
func TestWalk_changed(t *testing.T) {
	for _, tc := range []struct{ fixture, victim, other string }{
		{"era-g", "db/sessions/g1/metadata.json", "db/sessions/g2/metadata.json"},
		{"era-ef", "db/notes/note-n1.json", "db/companies/companie-co1.json"},
	} {
		for _, workers := range []int{1, 4} {
			dir := copyDir(t, "testdata/eras/"+tc.fixture)
			other, _ := os.ReadFile(filepath.Join(dir, tc.other))
			first := true
			_, _, err := Walk(context.Background(), dir, &ScanOptions{Workers: workers}, func(coll, id string, e Entity) error {
				if first {
					first = false
					return os.WriteFile(filepath.Join(dir, tc.victim), other, 0o644)
				}
				return nil
			})
			if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), tc.victim) {
				t.Errorf("%s rewritten, workers %d: %v", tc.victim, workers, err)
			}
		}
	}
	for _, workers := range []int{1, 4} {
		dir := copyDir(t, "testdata/eras/era-g")
		intruder, _ := EncodeEnvelope([]any{map[string]any{"id": "intruder"}}, EncodingGzip, T0, false)
		first := true
		var got []string
		_, _, err := Walk(context.Background(), dir, &ScanOptions{Workers: workers}, func(coll, id string, e Entity) error {
			if first {
				first = false
				return os.WriteFile(filepath.Join(dir, "db/attachments.json"), intruder, 0o644)
			}
			if coll == "attachments" {
				got = append(got, id)
			}
			return nil
		})
		if err != nil || !reflect.DeepEqual(got, []string{"att-doc"}) {
			t.Errorf("attachments.json rewritten during the walk, workers %d: %v, attachments %v", workers, err, got)
		}
	}
}

// TestPrefetcher: results handed over are the files' contents whatever
// the order of the takes; skipped and unplanned files are read by the
// caller.
func TestPrefetcher(t *testing.T) {
	dir := t.TempDir()
	size := map[string]int64{}
	var rels []string
	for i := 0; i < 300; i++ {
		rel := fmt.Sprintf("d/%d/f%03d.json", i%7, i)
		b, _ := EncodeEnvelope([]any{map[string]any{"id": rel}}, EncodingGzip, T0, false)
		p := filepath.Join(dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		size[rel] = int64(len(b))
		rels = append(rels, rel)
	}
	p := newPrefetcher(dir, size, nil, 3)
	for i, rel := range rels {
		p.add(rel, fetchEnvelope)
		if i%5 == 0 {
			p.add(rel, fetchRaw)
		}
	}
	for i := 0; i < 100; i++ { // let the workers read ahead
		p.mu.Lock()
		started := p.next >= 32
		p.mu.Unlock()
		if started {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	taken := 0
	for i, rel := range rels {
		switch {
		case i%11 == 0:
			continue // never taken: dropped when passed
		case i%13 == 0:
			if p.take(rel, fetchLazy) != nil {
				t.Fatal("a result for an unplanned mode")
			}
			continue
		}
		r := p.take(rel, fetchEnvelope)
		if r == nil { // not started yet: the caller reads it
			r = &fetched{}
			*r = readAhead(filepath.Join(dir, filepath.FromSlash(rel)), fetchEnvelope, nil)
		} else {
			taken++
		}
		if r.err != nil || r.envErr != nil {
			t.Fatal(r.err, r.envErr)
		}
		a := r.env.Data.([]any)
		if a[0].(map[string]any)["id"] != rel {
			t.Fatalf("%s: got %v", rel, a)
		}
		if p.take(rel, fetchEnvelope) != nil {
			t.Fatalf("%s handed over twice", rel)
		}
	}
	if taken == 0 {
		t.Error("nothing was read ahead")
	}
	p.skipAll()
	p.close()
	if p.held != 0 {
		t.Errorf("%d bytes still counted as held", p.held)
	}
}

// TestWalk_dir walks CAIRN_LEGACY_DIR discarding every entity (with
// CAIRN_LEGACY_WORKERS read-ahead goroutines, default GOMAXPROCS) and
// logs the counts and the heap. To see the walk's peak RSS without the
// compiler's, build the test binary first:
//
//	go test -c -o /tmp/legacy.test ./legacy/
//	CAIRN_LEGACY_DIR=dir /usr/bin/time -v /tmp/legacy.test -test.run '^TestWalk_dir$' -test.v
//
// Skipped without the variable.
func TestWalk_dir(t *testing.T) {
	dir := os.Getenv("CAIRN_LEGACY_DIR")
	if dir == "" {
		t.Skip("set CAIRN_LEGACY_DIR to a legacy directory")
	}
	workers, _ := strconv.Atoi(os.Getenv("CAIRN_LEGACY_WORKERS"))
	n := 0
	_, rep, err := Walk(context.Background(), dir, &ScanOptions{Workers: workers}, func(coll, id string, e Entity) error {
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d entities %v; heap in use now %d MB, total allocated %d MB, GC cycles %d",
		n, rep.Counts, ms.HeapInuse>>20, ms.TotalAlloc>>20, ms.NumGC)
}

// TestScan_dir is TestWalk_dir with Scan, which holds every entity, for
// comparison.
func TestScan_dir(t *testing.T) {
	dir := os.Getenv("CAIRN_LEGACY_DIR")
	if dir == "" {
		t.Skip("set CAIRN_LEGACY_DIR to a legacy directory")
	}
	ds, rep, err := Scan(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("counts %v; live heap %d MB", rep.Counts, ms.HeapAlloc>>20)
	runtime.KeepAlive(ds)
}

// TestWalk_progress: Progress counts every entity handed over, never
// shrinks, and ends with done equal to total.
func TestWalk_progress(t *testing.T) {
	var calls [][2]int
	n := 0
	opts := &ScanOptions{Progress: func(stage string, done, total int) {
		if stage != "entities" {
			t.Errorf("stage %q", stage)
		}
		calls = append(calls, [2]int{done, total})
	}}
	_, _, err := Walk(t.Context(), "testdata/eras/era-g", opts, func(string, string, Entity) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != n+1 || n == 0 {
		t.Fatalf("%d progress calls for %d entities", len(calls), n)
	}
	for i, c := range calls {
		if c[0] > c[1] || (i > 0 && c[0] < calls[i-1][0]) || (i < n && c[0] >= c[1]) {
			t.Fatalf("call %d: done %d of %d (previous %v)", i, c[0], c[1], calls[max(i-1, 0)])
		}
	}
	if last := calls[len(calls)-1]; last[0] != n || last[1] != n {
		t.Fatalf("last call %v, want %d of %d", last, n, n)
	}
}
