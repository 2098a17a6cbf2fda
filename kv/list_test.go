package kv_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// Summaries returns, in the order asked, the same summaries List gives,
// nil for an id without a document, and nothing for a singleton.
func TestStore_Summaries(t *testing.T) {
	db := openTest(t)
	for i := range 20 {
		doc := kv.Document{"id": fmt.Sprintf("s%02d", i), "name": fmt.Sprintf("session %d", 19-i),
			"startTime": fmt.Sprintf("2025-01-%02dT10:00:00Z", 20-i), "status": "completed",
			"screenshots": []any{kv.Document{"id": "x"}}}
		if _, err := db.Put(context.Background(), "sessions", doc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Put(context.Background(), "settings", kv.Document{"theme": "dark"}); err != nil {
		t.Fatal(err)
	}
	listed := map[string]kv.Document{}
	if err := db.List(context.Background(), "sessions", 0, 0, func(s kv.Document) error {
		listed[s["id"].(string)] = s
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	res, err := db.Query(context.Background(), kv.Query{Collection: "sessions", Sort: "startTime", Offset: 5, Limit: 5}, &kv.QueryOptions{IDsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ids := append(res.IDs, "missing")
	got, err := db.Summaries(context.Background(), "sessions", ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Fatalf("%d summaries for %d ids", len(got), len(ids))
	}
	for i, id := range res.IDs {
		if !jsonEqual(t, got[i], listed[id]) {
			t.Errorf("summary %d (%s) = %v, List says %v", i, id, got[i], listed[id])
		}
	}
	if want := []string{"s14", "s13", "s12", "s11", "s10"}; fmt.Sprint(res.IDs) != fmt.Sprint(want) {
		t.Errorf("sorted page %v, want %v", res.IDs, want)
	}
	if got[len(got)-1] != nil {
		t.Errorf("missing id: %v, want nil", got[len(got)-1])
	}
	if got[0]["screenshotCount"] != int64(1) {
		t.Errorf("summary lacks its derived count: %v", got[0])
	}
	s, err := db.Summaries(context.Background(), "settings", []string{"settings"})
	if err != nil || len(s) != 1 || s[0] != nil {
		t.Errorf("singleton: %v, %v; want one nil entry", s, err)
	}
	if _, err := db.Summaries(context.Background(), "no/such", []string{"a"}); !errors.Is(err, kv.ErrUnknownCollection) {
		t.Errorf("unknown collection: %v", err)
	}
}
