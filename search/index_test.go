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

// openTest opens an index in a fresh temporary directory and closes it when
// the test ends, after checking that Walk and Count agree.
func openTest(t testing.TB) *Index {
	t.Helper()
	ix, res, err := Open(filepath.Join(t.TempDir(), "search"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rebuilt || res.Reason == "" {
		t.Fatalf("new index: got %+v, want Rebuilt with a reason", res)
	}
	t.Cleanup(func() {
		checkConsistent(t, ix)
		if err := ix.Close(); err != nil {
			t.Error(err)
		}
	})
	return ix
}

// checkConsistent fails t if Walk and Count disagree on an open index.
func checkConsistent(t testing.TB, ix *Index) {
	t.Helper()
	n, err := ix.Count()
	if errors.Is(err, ErrClosed) {
		return
	}
	if err != nil {
		t.Error(err)
		return
	}
	walked := 0
	if err := ix.Walk(func(c, id string, rev uint64) error { walked++; return nil }); err != nil {
		t.Error(err)
		return
	}
	if uint64(walked) != n {
		t.Errorf("Walk saw %d documents, Count says %d", walked, n)
	}
}

// body decodes a JSON object the way the primary store hands it over.
func body(t testing.TB, js string) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(js))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad fixture %s: %v", js, err)
	}
	return m
}

func upsert(t testing.TB, collection, id string, rev uint64, js string) Change {
	return Change{Collection: collection, ID: id, Rev: rev, Body: body(t, js)}
}

func apply(t testing.TB, ix *Index, seq uint64, changes ...Change) {
	t.Helper()
	if err := ix.Apply(changes, seq); err != nil {
		t.Fatal(err)
	}
}

// ids returns "collection/id" of each hit, in order.
func ids(r Result) []string {
	out := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		out[i] = h.Collection + "/" + h.ID
	}
	return out
}

func mustSearch(t testing.TB, ix *Index, text string, opts SearchOptions) Result {
	t.Helper()
	r, err := ix.Search(context.Background(), text, opts)
	if err != nil {
		t.Fatalf("Search(%q): %v", text, err)
	}
	return r
}

// fixture is a small mixed corpus in the shapes of FORMAT.md section 7.
func fixture(t testing.TB) []Change {
	return []Change{
		upsert(t, "notes", "n1", 1, `{"id":"n1","content":"Weekly planning meeting with the design team","summary":"planning","tags":["work","Planning"],"timestamp":"2024-03-01T10:00:00.000Z","lastUpdated":1709290800000}`),
		upsert(t, "notes", "n2", 1, `{"id":"n2","content":"Grocery list: apples, bread","summary":"shopping","tags":["home"],"updates":[{"content":"added zucchini"}]}`),
		upsert(t, "notes", "n3", 1, `{"id":"n3","content":"Meetings are too long; the planning of meetings needs a fix","tags":"not-an-array","timestamp":"yesterday"}`),
		upsert(t, "tasks", "t1", 3, `{"id":"t1","title":"Prepare quarterly meeting agenda","description":"include budget","subtasks":[{"title":"book the xylophone room"},{"title":7}],"tags":["work"],"createdAt":"2024-02-01T00:00:00Z","dueDate":"2024-02-10"}`),
		upsert(t, "sessions", "s1", 2, `{"id":"s1","name":"Deep work on the parser","description":"refactoring","summary":{"narrative":"Rewrote the tokenizer","achievements":["tokenizer done"],"blockers":["flaky quokka test"]},"fullTranscription":"talking about lexers","screenshots":[{"aiAnalysis":{"summary":"editor open","detectedActivity":"coding","extractedText":"func lex()"}},{"aiAnalysis":null},"junk"],"audioSegments":[{"transcription":"I think the parser is ready"}],"startTime":"2024-03-02T08:00:00.000Z","endTime":"2024-03-02T10:00:00.000Z"}`),
		upsert(t, "companies", "c1", 1, `{"id":"c1","name":"Acme Corp","profile":{"industry":"anvils","website":"acme.example","size":42}}`),
		upsert(t, "contacts", "p1", 1, `{"id":"p1","name":"Wile E. Coyote","profile":{"role":"customer","email":"wile@acme.example"}}`),
		upsert(t, "topics", "tp1", 1, `{"id":"tp1","name":"Planning","lastUpdated":"2024-01-01T00:00:00Z"}`),
		upsert(t, "attachments", "a1", 1, `{"id":"a1","name":"whiteboard.png","aiAnalysis":{"description":"diagram of a pipeline","extractedText":"stage one stage two"}}`),
		upsert(t, "settings", "global", 1, `{"id":"global","theme":"dark","note":"remember the walrus","nested":{"hidden":"invisible"}}`),
		upsert(t, "notes", "a/b/c", 1, `{"content":"an id with slashes and a pangolin"}`),
	}
}

func TestIndex_Search(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 11, fixture(t)...)

	tests := []struct {
		name string
		text string
		opts SearchOptions
		want []string // exact ids in order, or nil to check wantSet
		set  []string // ids in any order
	}{
		{name: "stemming plural finds singular", text: "meetings", set: []string{"notes/n1", "notes/n3", "tasks/t1"}},
		{name: "stemming singular finds plural", text: "meeting", set: []string{"notes/n1", "notes/n3", "tasks/t1"}},
		{name: "two words both required", text: "planning meeting", set: []string{"notes/n1", "notes/n3"}},
		{name: "word in different fields", text: "quarterly xylophone", want: []string{"tasks/t1"}},
		{name: "case insensitive", text: "ACME", want: []string{"companies/c1"}}, // "wile@acme.example" is one token
		{name: "session summary", text: "quokka", want: []string{"sessions/s1"}},
		{name: "session screenshot text", text: "coding", want: []string{"sessions/s1"}},
		{name: "session audio", text: "ready", want: []string{"sessions/s1"}},
		{name: "note update", text: "zucchini", want: []string{"notes/n2"}},
		{name: "company profile", text: "anvils", want: []string{"companies/c1"}},
		{name: "attachment analysis", text: "pipeline", want: []string{"attachments/a1"}},
		{name: "other collection shallow", text: "walrus", want: []string{"settings/global"}},
		{name: "other collection not deep", text: "invisible"},
		{name: "id with slashes", text: "pangolin", want: []string{"notes/a/b/c"}},
		{name: "query syntax is just text", text: `"planning" +meeting: (-) ~*`, set: []string{"notes/n1", "notes/n3"}},
		{name: "no match", text: "nonexistentword"},
		{name: "collection filter", text: "planning", opts: SearchOptions{Collections: []string{"topics"}}, want: []string{"topics/tp1"}},
		{name: "two collections", text: "meeting", opts: SearchOptions{Collections: []string{"tasks", "companies"}}, want: []string{"tasks/t1"}},
		{name: "unknown collection", text: "meeting", opts: SearchOptions{Collections: []string{"nope"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustSearch(t, ix, tt.text, tt.opts)
			got := ids(r)
			if uint64(len(got)) != r.Total {
				t.Errorf("Total %d, %d hits", r.Total, len(got))
			}
			if tt.set != nil {
				sort.Strings(got)
				want := slices.Clone(tt.set)
				sort.Strings(want)
				if !slices.Equal(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIndex_Search_distinctivePhraseTopHit(t *testing.T) {
	ix := openTest(t)
	var cs []Change
	for i := range 200 {
		cs = append(cs, upsert(t, "notes", fmt.Sprintf("n%03d", i), 1,
			fmt.Sprintf(`{"content":"status update number %d about the project and the budget review"}`, i)))
	}
	cs = append(cs, upsert(t, "notes", "target", 1, `{"content":"the budget review found a purple elephant in the spreadsheet"}`))
	apply(t, ix, uint64(len(cs)), cs...)
	r := mustSearch(t, ix, "purple elephant budget", SearchOptions{})
	if len(r.Hits) == 0 || r.Hits[0].ID != "target" {
		t.Fatalf("top hit: got %v", ids(r))
	}
	r = mustSearch(t, ix, "budget review", SearchOptions{Limit: 5})
	if r.Total != 201 || len(r.Hits) != 5 {
		t.Fatalf("budget review: total %d hits %d, want 201 and 5", r.Total, len(r.Hits))
	}
}

func TestIndex_Search_nameWeighsMore(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 2,
		upsert(t, "tasks", "body", 1, `{"title":"something else","description":"call the dentist"}`),
		upsert(t, "tasks", "title", 1, `{"title":"dentist","description":"call them"}`),
	)
	r := mustSearch(t, ix, "dentist", SearchOptions{})
	if got := ids(r); !slices.Equal(got, []string{"tasks/title", "tasks/body"}) {
		t.Fatalf("got %v, want the title match first", got)
	}
}

func TestIndex_Search_offsetLimit(t *testing.T) {
	ix := openTest(t)
	var cs []Change
	for i := range 50 {
		// Same text: equal scores, so order is by id.
		cs = append(cs, upsert(t, "notes", fmt.Sprintf("n%02d", i), 1, `{"content":"identical lighthouse text"}`))
	}
	apply(t, ix, 50, cs...)
	all := mustSearch(t, ix, "lighthouse", SearchOptions{Limit: 100})
	if len(all.Hits) != 50 || all.Total != 50 {
		t.Fatalf("got %d hits total %d", len(all.Hits), all.Total)
	}
	for i, h := range all.Hits {
		if want := fmt.Sprintf("n%02d", i); h.ID != want {
			t.Fatalf("hit %d: %s, want %s (ties must be ordered by id)", i, h.ID, want)
		}
	}
	tests := []struct {
		limit, offset int
		wantFirst     string
		wantN         int
	}{
		{0, 0, "n00", DefaultLimit},
		{10, 0, "n00", 10},
		{10, 45, "n45", 5},
		{10, 50, "", 0},
		{10, 1000, "", 0},
		{1 << 30, 0, "n00", 50},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit%d_offset%d", tt.limit, tt.offset), func(t *testing.T) {
			r := mustSearch(t, ix, "lighthouse", SearchOptions{Limit: tt.limit, Offset: tt.offset})
			if len(r.Hits) != tt.wantN || r.Total != 50 {
				t.Fatalf("got %d hits total %d, want %d and 50", len(r.Hits), r.Total, tt.wantN)
			}
			if tt.wantN > 0 && r.Hits[0].ID != tt.wantFirst {
				t.Fatalf("first %s, want %s", r.Hits[0].ID, tt.wantFirst)
			}
		})
	}
}

func TestIndex_Search_badInput(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 1, fixture(t)...)
	tests := []struct {
		name string
		text string
		opts SearchOptions
		want error
	}{
		{"empty", "", SearchOptions{}, ErrEmptyQuery},
		{"blank", "  \t\n", SearchOptions{}, ErrEmptyQuery},
		{"punctuation", `:"()[]{}+-!`, SearchOptions{}, ErrEmptyQuery},
		{"stop words", "the and of", SearchOptions{}, ErrEmptyQuery},
		{"too long", strings.Repeat("a", MaxQueryBytes+1), SearchOptions{}, ErrQueryTooLong},
		{"too many words", strings.Repeat("word ", 10) + strings.Join(strings.Fields(fmt.Sprint(rangeN(40))), " x"), SearchOptions{}, ErrQueryTooLong},
		{"negative limit", "meeting", SearchOptions{Limit: -1}, ErrBadOptions},
		{"negative offset", "meeting", SearchOptions{Offset: -1}, ErrBadOptions},
		{"bad collection", "meeting", SearchOptions{Collections: []string{"a/b"}}, ErrBadOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ix.Search(context.Background(), tt.text, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func rangeN(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestIndex_Search_highlight(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 1, fixture(t)...)
	r := mustSearch(t, ix, "xylophone quarterly", SearchOptions{Highlight: true})
	if len(r.Hits) != 1 {
		t.Fatalf("got %v", ids(r))
	}
	f := strings.Join(r.Hits[0].Fragments["text"], " … ")
	for _, w := range []string{"<mark>quarterly</mark>", "<mark>xylophone</mark>"} {
		if !strings.Contains(f, w) {
			t.Errorf("fragments %q lack %s", f, w)
		}
	}
	r = mustSearch(t, ix, "xylophone", SearchOptions{})
	if r.Hits[0].Fragments != nil {
		t.Errorf("fragments without Highlight: %v", r.Hits[0].Fragments)
	}
}

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

func TestIndex_MatchIDs(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 11, fixture(t)...)
	var cs []Change
	for i := range 12000 { // more than one page
		cs = append(cs, Change{Collection: "bulk", ID: fmt.Sprintf("b%05d", i), Rev: 1, Body: map[string]any{"text": fmt.Sprintf("common word%d", i%2)}})
	}
	apply(t, ix, 12, cs...)
	tests := []struct {
		collection, text string
		want             int
		has              string
	}{
		{"notes", "meetings", 2, "n3"},
		{"tasks", "meetings", 1, "t1"},
		{"notes", "pangolin", 1, "a/b/c"},
		{"sessions", "meetings", 0, ""},
		{"bulk", "common", 12000, "b11999"},
		{"bulk", "common word1", 6000, "b00001"},
	}
	for _, tt := range tests {
		got, err := ix.MatchIDs(context.Background(), tt.collection, tt.text)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("MatchIDs(%s, %q): %d ids, want %d", tt.collection, tt.text, len(got), tt.want)
		}
		if _, ok := got[tt.has]; tt.has != "" && !ok {
			t.Errorf("MatchIDs(%s, %q): %q missing", tt.collection, tt.text, tt.has)
		}
	}
	if _, err := ix.MatchIDs(context.Background(), "notes", "the"); !errors.Is(err, ErrEmptyQuery) {
		t.Errorf("stop word: got %v", err)
	}
	if _, err := ix.MatchIDs(context.Background(), "", "x"); !errors.Is(err, ErrBadOptions) {
		t.Errorf("empty collection: got %v", err)
	}
}

// walkAll returns collection/id → rev.
func walkAll(t testing.TB, ix *Index) map[string]uint64 {
	t.Helper()
	m := map[string]uint64{}
	err := ix.Walk(func(c, id string, rev uint64) error {
		k := c + "/" + id
		if _, dup := m[k]; dup {
			t.Errorf("Walk saw %s twice", k)
		}
		m[k] = rev
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
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
			doc, _ := extract(c, 9, b)
			if doc[fieldCollection] != c || doc[fieldRev] != "9" {
				t.Fatalf("%s: %v", c, doc)
			}
		}
		if doc, _ := extract(c, 1, nil); doc[fieldCollection] != c {
			t.Fatalf("nil body: %v", doc)
		}
	}
}

// The fast path of searchSorted (score-only search, sorted here) must give
// exactly the pages of the slow path (Bleve sorting by score and id).
func TestIndex_Search_fastPathMatchesSlowPath(t *testing.T) {
	ix := openTest(t)
	c := newCorpus(9)
	cs := c.changes(600)
	// Some exact duplicates, to have ties.
	for i := range 40 {
		d := cs[i]
		d.ID += "-dup"
		cs = append(cs, d)
	}
	apply(t, ix, uint64(len(cs)), cs...)
	defer func() { forceSlowPath = false }()
	for i := range 60 {
		q := c.vocab[5+i%40] + " " + c.vocab[30+(i*13)%300]
		if i%3 == 0 {
			q = c.vocab[i%20]
		}
		opts := SearchOptions{Offset: (i * 7) % 30, Limit: 1 + i%25}
		forceSlowPath = false
		fast, err := ix.Search(context.Background(), q, opts)
		if err != nil {
			t.Fatal(err)
		}
		forceSlowPath = true
		slow, err := ix.Search(context.Background(), q, opts)
		if err != nil {
			t.Fatal(err)
		}
		if fast.Total != slow.Total || !slices.Equal(ids(fast), ids(slow)) {
			t.Fatalf("%q %+v:\nfast %d %v\nslow %d %v", q, opts, fast.Total, ids(fast), slow.Total, ids(slow))
		}
	}
}
