package kv_test

import (
	"testing"

	"github.com/cairnkv/cairn/kv"
)

func TestCache_validAndInvalidated(t *testing.T) {
	db := openTest(t)
	if _, err := db.Put("sessions", kv.Document{"id": "s", "name": "a", "screenshots": []any{kv.Document{"id": "1"}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Prefetch("sessions", "s", "missing"); err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.Get("sessions", "s")
	if err != nil {
		t.Fatal(err)
	}
	if db.CacheStats().Hits == 0 {
		t.Fatalf("prefetched document not served from the cache: %+v", db.CacheStats())
	}
	doc["name"] = "changed by the caller" // must not reach the cache
	doc["screenshots"].([]any)[0].(map[string]any)["id"] = "x"
	again, _, _ := db.Get("sessions", "s")
	if again["name"] != "a" || again["screenshots"].([]any)[0].(map[string]any)["id"] != "1" {
		t.Fatalf("cache shared a document with a caller: %v", again)
	}
	if _, err := db.Append("sessions", "s", "screenshots", kv.Document{"id": "2"}); err != nil {
		t.Fatal(err)
	}
	after, _, _ := db.Get("sessions", "s")
	if n := len(after["screenshots"].([]any)); n != 2 {
		t.Fatalf("stale document after a commit: %d screenshots", n)
	}
}
