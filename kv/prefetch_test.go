package kv_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// putSessions writes n sessions with some text, tags and a few parts.
func putSessions(t testing.TB, db *kv.DB, n int) []string {
	t.Helper()
	ids := make([]string, n)
	err := db.Update(context.Background(), func(tx *kv.Tx) error {
		for i := range n {
			ids[i] = fmt.Sprintf("s%05d", i)
			shots := make([]any, 5)
			for j := range shots {
				shots[j] = kv.Document{"id": fmt.Sprint(j), "analysis": strings.Repeat(fmt.Sprintf("screen %d of session %d ", j, i), 20), "score": float64(j) + 0.5}
			}
			doc := kv.Document{"id": ids[i], "name": fmt.Sprintf("session %d", i), "tags": []any{"a", "b"},
				"status": "completed", "startTime": "2025-01-02T03:04:05Z", "screenshots": shots}
			if _, err := tx.Put("sessions", doc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestPrefetch_background(t *testing.T) {
	db := openTest(t)
	ids := putSessions(t, db, 300)
	p, err := db.Prefetch(context.Background(), "sessions", append(ids, "missing")...)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if p.Loaded() != len(ids)+1 {
		t.Fatalf("Loaded %d, want %d", p.Loaded(), len(ids)+1)
	}
	st := db.CacheStats()
	if st.Entries != len(ids) {
		t.Fatalf("cache holds %d entries, want %d", st.Entries, len(ids))
	}
	hits := st.Hits
	if _, _, err := db.Get(context.Background(), "sessions", ids[7]); err != nil {
		t.Fatal(err)
	}
	if db.CacheStats().Hits != hits+1 {
		t.Fatal("prefetched document not served from the cache")
	}

	db.ClearCache()
	if st := db.CacheStats(); st.Entries != 0 || st.Bytes != 0 {
		t.Fatalf("after ClearCache: %+v", st)
	}
	// Not prefetched, a document enters the cache on its second miss.
	for i, want := range []kv.CacheStats{{Entries: 0, Hits: hits + 1}, {Entries: 1, Hits: hits + 1}, {Entries: 1, Hits: hits + 2}} {
		if _, _, err := db.Get(context.Background(), "sessions", ids[7]); err != nil {
			t.Fatal(err)
		}
		if st := db.CacheStats(); st.Entries != want.Entries || st.Hits != want.Hits {
			t.Fatalf("Get %d after ClearCache: %+v, want %d entries and %d hits", i+1, st, want.Entries, want.Hits)
		}
	}
}

func TestPrefetch_badInput(t *testing.T) {
	db := openTest(t)
	if _, err := db.Prefetch(context.Background(), "no such collection", "x"); err == nil {
		t.Fatal("unknown collection accepted")
	}
	var ee *kv.EntityError
	if _, err := db.Prefetch(context.Background(), "sessions", "ok", ""); !errors.As(err, &ee) || ee.Field != "id" {
		t.Fatalf("empty id: %v", err)
	}
	if db.CacheStats().Entries != 0 {
		t.Fatal("a refused prefetch loaded something")
	}
}

func TestPrefetch_cancelAndClose(t *testing.T) {
	db, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := putSessions(t, db, 200)
	many := make([]string, 0, 100*len(ids))
	for range 100 {
		many = append(many, ids...)
	}
	p, err := db.Prefetch(context.Background(), "sessions", many...)
	if err != nil {
		t.Fatal(err)
	}
	p.Cancel()
	if err := p.Wait(); !errors.Is(err, context.Canceled) && err != nil {
		t.Fatalf("Wait after Cancel: %v", err)
	}
	if p.Loaded() == len(many) {
		t.Logf("prefetch finished before Cancel reached it")
	}
	q, err := db.Prefetch(context.Background(), "sessions", many...)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Wait(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("Wait after Close: %v", err)
	}
}

// The cache bound counts the heap its documents hold: after filling the
// cache, the heap has grown by about what CacheStats reports.
func TestCache_boundCountsHeap(t *testing.T) {
	db, err := kv.Open(t.TempDir(), &kv.Options{CacheBytes: 256 << 20, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := putSessions(t, db, 2000)
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	p, err := db.Prefetch(context.Background(), "sessions", ids...)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	grown := float64(heap()) - float64(before)
	st := db.CacheStats()
	if st.Entries != len(ids) {
		t.Fatalf("cache holds %d of %d documents", st.Entries, len(ids))
	}
	ratio := grown / float64(st.Bytes)
	t.Logf("heap grew %.1f MB, cache reports %.1f MB (ratio %.2f)", grown/1e6, float64(st.Bytes)/1e6, ratio)
	if ratio < 0.75 || ratio > 1.33 {
		t.Fatalf("heap grew %.0f bytes for a cache reporting %d (ratio %.2f, want 0.75–1.33)", grown, st.Bytes, ratio)
	}
	db.ClearCache()
	after := float64(heap()) - float64(before)
	if after > grown/4 {
		t.Fatalf("ClearCache left %.0f of %.0f bytes on the heap", after, grown)
	}
	runtime.KeepAlive(db)
}
