package legacy_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/docmodel"
	"github.com/cairnkv/cairn/legacy"
)

// expectedFixture is testdata/expected/<name>.json: what the fixture of
// that name must migrate to (see fixtures_test.go, which writes both).
type expectedFixture struct {
	Entities       map[string]map[string]map[string]any `json:"entities"`
	NotResurrected []string                             `json:"notResurrected"`
	Extras         map[string]any                       `json:"extras"`
	NoContent      []string                             `json:"noContent"`
	RawValues      []legacy.RawValue                    `json:"rawValues"`
}

func loadExpected(t *testing.T) map[string]expectedFixture {
	t.Helper()
	files, _ := filepath.Glob("testdata/expected/*.json")
	if len(files) == 0 {
		t.Fatal("no expected fixtures")
	}
	out := map[string]expectedFixture{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var e expectedFixture
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber()
		if err := d.Decode(&e); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = e
	}
	return out
}

func sameValue(t *testing.T, a, b any) bool {
	t.Helper()
	x, err1 := docmodel.Normalize(a)
	y, err2 := docmodel.Normalize(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return docmodel.SameValue(x, y)
}

// TestExpectedFixtures: the clobbered-sessions and per-id-metadata
// fixtures scan to exactly their expected entities, field for field,
// none of the deleted ones; and migrate to a store holding every field of
// them (attachments also get their content's hash).
func TestExpectedFixtures(t *testing.T) {
	for name, want := range loadExpected(t) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata/risks", name)
			ds, rep, err := legacy.Scan(t.Context(), dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			for coll, docs := range want.Entities {
				got := ds.Collections[coll]
				if len(got) != len(docs) {
					ids := make([]string, 0, len(got))
					for id := range got {
						ids = append(ids, id)
					}
					slices.Sort(ids)
					t.Errorf("%s: got %v, want %d entities", coll, ids, len(docs))
				}
				for id, doc := range docs {
					e, ok := got[id]
					if !ok {
						t.Errorf("%s %s missing", coll, id)
					} else if !sameValue(t, e.Doc, doc) {
						t.Errorf("%s %s from %s:\n got %v\nwant %v", coll, id, e.Source, e.Doc, doc)
					}
				}
			}
			dropped := map[string]bool{}
			for _, d := range rep.NotResurrected {
				dropped[d.Collection+"/"+d.ID] = true
			}
			for _, d := range want.NotResurrected {
				coll, id, _ := strings.Cut(d, "/")
				if _, back := ds.Collections[coll][id]; back || !dropped[d] {
					t.Errorf("%s: resurrected %v, reported %v", d, back, dropped[d])
				}
			}
			for k, v := range want.Extras {
				if !sameValue(t, ds.Extras[k], v) {
					t.Errorf("extras %q: %v, want %v", k, ds.Extras[k], v)
				}
			}
			var raw []legacy.RawValue
			for _, r := range rep.RawValues {
				r.Source = ""
				raw = append(raw, r)
			}
			if !slices.Equal(raw, want.RawValues) {
				t.Errorf("report's raw values:\n got %+v\nwant %+v", raw, want.RawValues)
			}

			db := openStore(t)
			if _, err := legacy.Migrate(t.Context(), db, dir, nil, false); err != nil {
				t.Fatal(err)
			}
			for coll, docs := range want.Entities {
				for id, doc := range docs {
					stored, _, err := db.Get(context.Background(), coll, id)
					if err != nil {
						t.Errorf("%s %s: %v", coll, id, err)
						continue
					}
					for f, v := range doc {
						if !sameValue(t, stored[f], v) {
							t.Errorf("stored %s %s: %s is %v, want %v", coll, id, f, stored[f], v)
						}
					}
					if coll == "attachments" && (stored["hash"] == nil) != slices.Contains(want.NoContent, id) {
						t.Errorf("attachment %s: content hash %v", id, stored["hash"])
					}
				}
			}
			for k, v := range want.Extras {
				got, _, err := db.GetValue(context.Background(), "extras", k)
				if err != nil || !sameValue(t, got, v) {
					t.Errorf("stored extras %q: %v %v", k, got, err)
				}
			}
		})
	}
}
