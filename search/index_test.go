package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
)

func TestIndex_Apply_delete(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 11, fixture(t)...)
	apply(t, ix, 12, Change{Collection: "notes", ID: "n1", Deleted: true})
	if got := ids(mustSearch(t, ix, "weekly", SearchOptions{})); len(got) != 0 {
		t.Fatalf("deleted doc found: %v", got)
	}
	// Upsert then delete in one call: the last change wins.
	apply(t, ix, 14,
		upsert(t, "notes", "tmp", 1, `{"content":"ephemeral marmot"}`),
		Change{Collection: "notes", ID: "tmp", Deleted: true},
	)
	if got := ids(mustSearch(t, ix, "marmot", SearchOptions{})); len(got) != 0 {
		t.Fatalf("deleted doc found: %v", got)
	}
	// Delete then re-create.
	apply(t, ix, 16,
		Change{Collection: "notes", ID: "n2", Deleted: true},
		upsert(t, "notes", "n2", 5, `{"content":"reborn marmot"}`),
	)
	if got := ids(mustSearch(t, ix, "marmot", SearchOptions{})); !slices.Equal(got, []string{"notes/n2"}) {
		t.Fatalf("got %v", got)
	}
	// Deleting what is not there is fine.
	apply(t, ix, 17, Change{Collection: "notes", ID: "never", Deleted: true})
	n, err := ix.Count()
	if err != nil || n != 10 {
		t.Fatalf("Count = %d, %v; want 10", n, err)
	}
}

func TestIndex_Apply_update(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 1, upsert(t, "tasks", "t", 1, `{"title":"old platypus"}`))
	apply(t, ix, 2, upsert(t, "tasks", "t", 2, `{"title":"new wombat"}`))
	if got := ids(mustSearch(t, ix, "platypus", SearchOptions{})); len(got) != 0 {
		t.Fatalf("old text still found: %v", got)
	}
	if got := ids(mustSearch(t, ix, "wombat", SearchOptions{})); len(got) != 1 {
		t.Fatalf("new text not found: %v", got)
	}
}

func TestIndex_Apply_idempotent(t *testing.T) {
	ix := openTest(t)
	cs := fixture(t)
	apply(t, ix, 11, cs...)
	before := walkAll(t, ix)
	apply(t, ix, 11, cs...)
	apply(t, ix, 11, cs...)
	if after := walkAll(t, ix); !reflect.DeepEqual(before, after) {
		t.Fatalf("re-applying changed the index:\n%v\n%v", before, after)
	}
}

func TestIndex_Apply_invalid(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 5, upsert(t, "notes", "keep", 1, `{"content":"keep"}`))
	good := upsert(t, "notes", "ok", 1, `{"content":"fine"}`)
	tests := []struct {
		name string
		c    Change
	}{
		{"empty collection", Change{ID: "x"}},
		{"slash in collection", Change{Collection: "a/b", ID: "x"}},
		{"empty id", Change{Collection: "notes"}},
		{"long id", Change{Collection: "notes", ID: strings.Repeat("x", MaxIDBytes+1)}},
		{"NUL in id", Change{Collection: "notes", ID: "a\x00b"}},
		{"bad UTF-8 id", Change{Collection: "notes", ID: "a\xffb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ix.Apply([]Change{good, tt.c}, 99)
			if !errors.Is(err, ErrInvalidChange) {
				t.Fatalf("got %v, want ErrInvalidChange", err)
			}
			if ix.LastApplied() != 5 {
				t.Fatalf("LastApplied moved to %d", ix.LastApplied())
			}
			if n, _ := ix.Count(); n != 1 {
				t.Fatalf("Count %d: part of a rejected call was applied", n)
			}
		})
	}
	// The longest legal id works.
	apply(t, ix, 6, upsert(t, "notes", strings.Repeat("é", MaxIDBytes/2), 1, `{"content":"long id"}`))
}

func TestIndex_Apply_smallBatches(t *testing.T) {
	ix, _, err := Open(filepath.Join(t.TempDir(), "s"), &Options{BatchSize: 3, BatchBytes: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	cs := fixture(t)
	apply(t, ix, 42, cs...)
	if n, _ := ix.Count(); n != uint64(len(cs)) {
		t.Fatalf("Count %d, want %d", n, len(cs))
	}
	if ix.LastApplied() != 42 {
		t.Fatalf("LastApplied %d", ix.LastApplied())
	}
}

func TestIndex_Walk(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 11, fixture(t)...)
	apply(t, ix, 13,
		upsert(t, "tasks", "t1", 1<<40, `{"title":"big rev"}`),
		Change{Collection: "notes", ID: "n2", Deleted: true},
	)
	got := walkAll(t, ix)
	want := map[string]uint64{}
	for _, c := range fixture(t) {
		want[c.Collection+"/"+c.ID] = c.Rev
	}
	want["tasks/t1"] = 1 << 40
	delete(want, "notes/n2")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Walk:\n got %v\nwant %v", got, want)
	}
	stop := errors.New("stop")
	n := 0
	err := ix.Walk(func(string, string, uint64) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("stop: err %v after %d calls", err, n)
	}
}

func TestIndex_LastApplied_persists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "search")
	ix, _, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ix.LastApplied() != 0 {
		t.Fatalf("new index LastApplied %d", ix.LastApplied())
	}
	apply(t, ix, 11, fixture(t)...)
	apply(t, ix, 12) // no changes, only the mark
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := ix.Search(context.Background(), "x", SearchOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Search after Close: %v", err)
	}
	if err := ix.Apply(nil, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Apply after Close: %v", err)
	}

	ix, res, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if res.Rebuilt {
		t.Fatalf("reopen rebuilt: %s", res.Reason)
	}
	if ix.LastApplied() != 12 {
		t.Fatalf("LastApplied %d after reopen, want 12", ix.LastApplied())
	}
	if got := ids(mustSearch(t, ix, "quokka", SearchOptions{})); !slices.Equal(got, []string{"sessions/s1"}) {
		t.Fatalf("after reopen: %v", got)
	}
}

func TestIndex_Reset(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 11, fixture(t)...)
	if err := ix.Reset(); err != nil {
		t.Fatal(err)
	}
	if ix.LastApplied() != 0 {
		t.Fatalf("LastApplied %d after Reset", ix.LastApplied())
	}
	if n, err := ix.Count(); err != nil || n != 0 {
		t.Fatalf("Count %d, %v after Reset", n, err)
	}
	apply(t, ix, 3, fixture(t)[:3]...)
	if n, _ := ix.Count(); n != 3 {
		t.Fatalf("Count %d after re-feed", n)
	}
}

func TestIndex_Open_busy(t *testing.T) {
	old := lockTimeout
	lockTimeout = 50 * time.Millisecond
	defer func() { lockTimeout = old }()
	dir := filepath.Join(t.TempDir(), "search")
	ix, _, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	apply(t, ix, 7, fixture(t)...)
	if _, _, err := Open(dir, nil); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Open: %v, want ErrBusy", err)
	}
	// The held index was not wiped.
	if n, _ := ix.Count(); n != uint64(len(fixture(t))) || ix.LastApplied() != 7 {
		t.Fatalf("busy Open damaged the index: count %d last %d", n, ix.LastApplied())
	}
}

func TestIndex_Open_badOptions(t *testing.T) {
	if _, _, err := Open(t.TempDir(), &Options{BatchSize: -1}); err == nil {
		t.Fatal("negative BatchSize accepted")
	}
	if _, _, err := Open("", nil); err == nil {
		t.Fatal("empty dir accepted")
	}
}

func TestIndex_dates(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 11, fixture(t)...)
	// Dates are indexed as datetime fields; query them through Bleve.
	tests := []struct {
		field    string
		from, to string
		want     []string
	}{
		{"timestamp", "2024-02-29T00:00:00Z", "2024-03-02T00:00:00Z", []string{"notes/n1"}},
		{"lastUpdated", "2024-03-01T10:59:00Z", "2024-03-01T11:01:00Z", []string{"notes/n1"}}, // epoch ms
		{"dueDate", "2024-02-09T00:00:00Z", "2024-02-11T00:00:00Z", []string{"tasks/t1"}},
		{"startTime", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", []string{"sessions/s1"}},
		{"lastUpdated", "2023-12-31T00:00:00Z", "2024-01-02T00:00:00Z", []string{"topics/tp1"}},
	}
	for _, tt := range tests {
		from, _ := time.Parse(time.RFC3339, tt.from)
		to, _ := time.Parse(time.RFC3339, tt.to)
		q := bleve.NewDateRangeQuery(from, to)
		q.SetField(tt.field)
		ix.mu.RLock()
		sr, err := ix.mu.bi.Search(bleve.NewSearchRequest(q))
		ix.mu.RUnlock()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range sr.Hits {
			got = append(got, h.ID)
		}
		sort.Strings(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s in [%s, %s]: got %v, want %v", tt.field, tt.from, tt.to, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   any
		want string // RFC3339Nano, or "" for skipped
	}{
		{"2024-03-01T10:00:00.000Z", "2024-03-01T10:00:00Z"},
		{"2024-03-01T10:00:00+02:00", "2024-03-01T08:00:00Z"},
		{"2024-03-01T10:00:00.123", "2024-03-01T10:00:00.123Z"},
		{"2024-03-01", "2024-03-01T00:00:00Z"},
		{"2024-03-01T10:00", "2024-03-01T10:00:00Z"},
		{float64(1709290800000), "2024-03-01T11:00:00Z"},
		{int64(1709290800000), "2024-03-01T11:00:00Z"},
		{uint64(1709290800000), "2024-03-01T11:00:00Z"},
		{json.Number("1709290800000"), "2024-03-01T11:00:00Z"},
		{json.Number("1709290800000.5"), "2024-03-01T11:00:00Z"},
		{"yesterday", ""},
		{"", ""},
		{nil, ""},
		{true, ""},
		{float64(1e300), ""},
		{json.Number("1e300"), ""},
		{uint64(1 << 63), ""},
		{"9999-12-31T00:00:00Z", ""}, // beyond Bleve's int64 nanoseconds
	}
	for _, tt := range tests {
		got, ok := parseDate(tt.in)
		if tt.want == "" {
			if ok {
				t.Errorf("parseDate(%#v) = %v, want skipped", tt.in, got)
			}
			continue
		}
		if !ok || got.Format(time.RFC3339Nano) != tt.want {
			t.Errorf("parseDate(%#v) = %v %v, want %s", tt.in, got, ok, tt.want)
		}
	}
}

func TestExtract_messy(t *testing.T) {
	// Every collection, every field of the wrong type: nothing panics and
	// collection/rev are always there.
	weird := []any{nil, true, 3.5, "str", []any{1, nil, map[string]any{}}, map[string]any{"x": []any{}}}
	keys := []string{"name", "title", "description", "summary", "content", "tags", "updates", "subtasks",
		"screenshots", "audioSegments", "fullTranscription", "profile", "aiAnalysis", "startTime", "dueDate"}
	for _, c := range []string{"sessions", "notes", "tasks", "topics", "companies", "contacts", "attachments", "other"} {
		for _, w := range weird {
			b := map[string]any{}
			for _, k := range keys {
				b[k] = w
			}
			doc, _ := extract(nil, c, 9, b)
			if doc[fieldCollection] != c || doc[fieldRev] != "9" {
				t.Fatalf("%s: %v", c, doc)
			}
		}
		if doc, _ := extract(nil, c, 1, nil); doc[fieldCollection] != c {
			t.Fatalf("nil body: %v", doc)
		}
	}
}

// Searches, walks and counts run while Apply and Reset do; run with -race.
func TestIndex_concurrent(t *testing.T) {
	ix := openTest(t)
	fx := fixture(t)
	apply(t, ix, 11, fx...)
	src := sourceOf(fx...)
	done := make(chan struct{})
	errs := make(chan error, 8)
	for range 3 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				if _, err := ix.Search(context.Background(), "meeting planning", SearchOptions{Highlight: true, Source: src}); err != nil {
					errs <- err
					return
				}
				if err := ix.Walk(func(string, string, uint64) error { return nil }); err != nil {
					errs <- err
					return
				}
				if _, err := ix.MatchIDs(context.Background(), "notes", "", "meeting"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 10 {
		seq := uint64(100 + i)
		apply(t, ix, seq, upsert(t, "notes", fmt.Sprintf("c%d", i), seq, `{"content":"concurrent meeting planning"}`))
		if i == 5 {
			if err := ix.Reset(); err != nil {
				t.Error(err)
			}
		}
	}
	close(done)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if ix.LastApplied() != 109 {
		t.Fatalf("LastApplied %d", ix.LastApplied())
	}
	if n, _ := ix.Count(); n != 4 {
		t.Fatalf("Count %d, want 4 (applied after the Reset)", n)
	}
}
