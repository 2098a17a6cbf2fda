package kv_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

func TestCache_validAndInvalidated(t *testing.T) {
	db := openTest(t)
	if _, err := db.Put(context.Background(), "sessions", kv.Document{"id": "s", "name": "a", "screenshots": []any{kv.Document{"id": "1"}}}); err != nil {
		t.Fatal(err)
	}
	p, err := db.Prefetch(context.Background(), "sessions", "s", "missing")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.Get(context.Background(), "sessions", "s")
	if err != nil {
		t.Fatal(err)
	}
	if db.CacheStats().Hits == 0 {
		t.Fatalf("prefetched document not served from the cache: %+v", db.CacheStats())
	}
	doc["name"] = "changed by the caller" // must not reach the cache
	doc["screenshots"].([]any)[0].(map[string]any)["id"] = "x"
	again, _, _ := db.Get(context.Background(), "sessions", "s")
	if again["name"] != "a" || again["screenshots"].([]any)[0].(map[string]any)["id"] != "1" {
		t.Fatalf("cache shared a document with a caller: %v", again)
	}
	if _, err := db.Append(context.Background(), "sessions", "s", "screenshots", kv.Document{"id": "2"}); err != nil {
		t.Fatal(err)
	}
	after, _, _ := db.Get(context.Background(), "sessions", "s")
	if n := len(after["screenshots"].([]any)); n != 2 {
		t.Fatalf("stale document after a commit: %d screenshots", n)
	}
}

// Queries decode metadata entries through the cache: a query after a
// change sees the new entry, and results are those of a store without a
// cache.
func TestCache_queryMetadata(t *testing.T) {
	db := openTest(t)
	plain, err := kv.Open(t.TempDir(), &kv.Options{CacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	ctx := context.Background()
	q := kv.Query{Collection: "sessions", Filters: []kv.Filter{
		{Field: "status", Op: "=", Value: "completed"},
		{Field: "tags", Op: "=", Value: "x"},
	}, Sort: "startTime", Desc: true, Limit: 3, Offset: 1}
	put := func(doc kv.Document) {
		t.Helper()
		for _, d := range []*kv.DB{db, plain} {
			if _, err := d.Put(ctx, "sessions", doc); err != nil {
				t.Fatal(err)
			}
		}
	}
	same := func(want int) {
		t.Helper()
		for range 2 { // the second query reads the cached entries
			a, err := db.Query(ctx, q, &kv.QueryOptions{Header: true})
			if err != nil {
				t.Fatal(err)
			}
			b, err := plain.Query(ctx, q, &kv.QueryOptions{Header: true})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.IDs, b.IDs) || len(a.IDs) != want || a.Explain.DocsRead == 0 {
				t.Fatalf("cached %v (%+v), uncached %v, want %d ids", a.IDs, a.Explain, b.IDs, want)
			}
			if !jsonEqual(t, a.Docs, b.Docs) {
				t.Fatalf("documents differ: %v and %v", a.Docs, b.Docs)
			}
		}
	}
	status := func(i int) string {
		if i%4 == 0 {
			return "completed"
		}
		return "active"
	}
	for i := range 300 {
		tags := []any{"y"}
		if i%3 == 0 {
			tags = []any{"x", "y"}
		}
		put(kv.Document{"id": fmt.Sprintf("s%03d", i), "status": status(i), "tags": tags,
			"startTime": fmt.Sprintf("2025-01-01T10:%02d:%02dZ", i/60, i%60)})
	}
	same(3)
	// Two of the matches read above change: one stops matching, one moves
	// first (its stale entry would put it back in place).
	put(kv.Document{"id": "s276", "status": "active", "tags": []any{"x"}, "startTime": "2025-01-01T10:04:36Z"})
	put(kv.Document{"id": "s264", "status": "completed", "tags": []any{"x"}, "startTime": "2025-02-01T10:00:00Z"})
	same(3)
	if hits := db.CacheStats().Hits; hits == 0 {
		t.Fatalf("no cache hits: %+v", db.CacheStats())
	}
}

// Documents read once (a query over many, as a listing or a fresh
// process's first screen does) are not copied into the cache; read again,
// they are, and a third read is a hit.
func TestCache_admitsOnSecondRead(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for i := range 40 {
		if _, err := db.Put(ctx, "sessions", kv.Document{"id": fmt.Sprintf("s%02d", i), "status": "completed",
			"startTime": fmt.Sprintf("2025-01-01T10:00:%02dZ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	q := kv.Query{Collection: "sessions", Filters: []kv.Filter{{Field: "status", Op: "=", Value: "completed"}}, Sort: "startTime", Desc: true, Limit: 25}
	for i, want := range []struct {
		entries bool
		hits    bool
	}{{false, false}, {true, false}, {true, true}} {
		if _, err := db.Query(ctx, q, &kv.QueryOptions{Header: true}); err != nil {
			t.Fatal(err)
		}
		st := db.CacheStats()
		if (st.Entries > 0) != want.entries || (st.Hits > 0) != want.hits {
			t.Fatalf("after query %d: %+v, want entries %v, hits %v", i+1, st, want.entries, want.hits)
		}
	}
}
