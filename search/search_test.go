package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
)

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
		{name: "user collection: every top-level string", text: "walrus", want: []string{"widgets/global"}},
		{name: "user collection: not nested strings", text: "invisible"},
		{name: "id with slashes", text: "pangolin", want: []string{"notes/a/b/c"}},
		{name: "punctuation is no word", text: `"planning" +meeting (-)`, set: []string{"notes/n1", "notes/n3"}},
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
		{"punctuation", `()[]{}+!`, SearchOptions{}, ErrEmptyQuery},
		{"only excluded", "-meeting", SearchOptions{}, ErrEmptyQuery},
		{"unterminated phrase", `planning "meet`, SearchOptions{}, ErrSyntax},
		{"unknown field", "titel:x", SearchOptions{Collections: []string{"notes"}}, ErrUnknownField},
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
	fx := fixture(t)
	apply(t, ix, 1, fx...)
	r := mustSearch(t, ix, "xylophone quarterly", SearchOptions{Highlight: true, Source: sourceOf(fx...)})
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
		got, err := ix.MatchIDs(context.Background(), tt.collection, "", tt.text)
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
	if _, err := ix.MatchIDs(context.Background(), "notes", "", "the"); !errors.Is(err, ErrEmptyQuery) {
		t.Errorf("stop word: got %v", err)
	}
	if _, err := ix.MatchIDs(context.Background(), "", "", "x"); !errors.Is(err, ErrBadOptions) {
		t.Errorf("empty collection: got %v", err)
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

// A text of plain words ranks first the documents whose name or title
// holds every word, by the name's score, then the others by score; ties
// by id; Total counts both. The oracle: every match ranked by score alone
// (forceUntiered), split by analysing each document's name here; the
// titled tier's order is that of the query that also requires the words
// in the text (forceTitledText), which the name-only query served by
// default must match hit for hit.
func TestIndex_Search_titledFirst(t *testing.T) {
	ix := openTest(t)
	c := newCorpus(11)
	cs := c.changes(800)
	// Short texts that repeat the words, titled with one of them: by score
	// alone they rank above titled documents.
	for i := range 60 {
		w := c.vocab[i%5] + " " + c.vocab[5+i%3] + " "
		cs = append(cs, Change{Collection: "tasks", ID: fmt.Sprintf("dense%02d", i), Rev: 1,
			Body: map[string]any{"title": c.vocab[i%5], "description": strings.Repeat(w, 4+i%5)}})
	}
	names := map[string]map[string]bool{} // collection/id → terms of its name
	for i := range cs {
		if i%7 == 0 { // names made of common words, so tiers fill
			switch cs[i].Collection {
			case "sessions":
				cs[i].Body["name"] = c.vocab[i%5] + " " + c.vocab[5+i%3] + " " + c.words(1)
			case "tasks":
				cs[i].Body["title"] = c.vocab[5+i%3] + " " + c.vocab[i%5]
			}
		}
		doc, _ := extract(cs[i].Decl, cs[i].Collection, cs[i].Rev, cs[i].Body)
		terms := map[string]bool{}
		if n, ok := doc[fieldName].(string); ok {
			for _, tok := range ix.mu.analyzer.Analyze([]byte(n)) {
				terms[string(tok.Term)] = true
			}
		}
		names[cs[i].Collection+"/"+cs[i].ID] = terms
	}
	apply(t, ix, uint64(len(cs)), cs...)
	defer func() { forceUntiered, forceTitledText = false, false }()
	titledFallbacks.Store(0)
	ctx := context.Background()
	reordered := 0 // texts whose tiers differ from the order by score
	for i := range 40 {
		w1, w2 := c.vocab[i%5], c.vocab[5+i%3]
		text := w1 + " " + w2
		switch i % 4 {
		case 1:
			text = w1
		case 2:
			text = w1 + " " + w2 + " -" + c.vocab[200+i]
		}
		var qterms []string
		for _, tok := range ix.mu.analyzer.Analyze([]byte(strings.ReplaceAll(text, "-"+c.vocab[200+i], ""))) {
			qterms = append(qterms, string(tok.Term))
		}
		var colls []string
		if i%5 == 3 {
			colls = []string{"sessions", "tasks"}
		}
		forceUntiered = true
		all, err := ix.Search(ctx, text, SearchOptions{Limit: MaxLimit, Collections: colls})
		if err != nil {
			t.Fatal(err)
		}
		forceUntiered = false
		var titled, rest []Hit
		for _, h := range all.Hits {
			in := true
			for _, q := range qterms {
				in = in && names[h.Collection+"/"+h.ID][q]
			}
			if in {
				titled = append(titled, h)
			} else {
				rest = append(rest, h)
			}
		}
		if len(titled) > 0 && len(rest) > 0 && rest[0].Score > titled[len(titled)-1].Score {
			reordered++
		}
		// The titled tier in its own order: the first hits of the
		// query that requires every word in the text too.
		forceTitledText = true
		slow, err := ix.Search(ctx, text, SearchOptions{Limit: MaxLimit, Collections: colls})
		forceTitledText = false
		if err != nil {
			t.Fatal(err)
		}
		if slow.Total != all.Total || len(slow.Hits) < len(titled) {
			t.Fatalf("%q: text-checked titled search: total %d, %d hits; want %d, at least %d", text, slow.Total, len(slow.Hits), all.Total, len(titled))
		}
		byName := slow.Hits[:len(titled)]
		for k, h := range byName {
			if !slices.ContainsFunc(titled, func(x Hit) bool { return x.Collection == h.Collection && x.ID == h.ID }) {
				t.Fatalf("%q: titled hit %d is %s/%s, whose name lacks a word", text, k, h.Collection, h.ID)
			}
			if k > 0 && (h.Score > byName[k-1].Score || h.Score == byName[k-1].Score && h.Collection+"/"+h.ID < byName[k-1].Collection+"/"+byName[k-1].ID) {
				t.Fatalf("%q: titled hits %d and %d out of order", text, k-1, k)
			}
		}
		want := append(slices.Clone(byName), rest...)
		for _, page := range []struct{ offset, limit int }{{0, 20}, {0, 1}, {len(titled) - 1, 5}, {len(titled), 3}, {3 + i, 7}, {len(want), 5}} {
			page.offset = max(page.offset, 0)
			got, err := ix.Search(ctx, text, SearchOptions{Offset: page.offset, Limit: page.limit, Collections: colls})
			if err != nil {
				t.Fatal(err)
			}
			w := want[min(page.offset, len(want)):min(page.offset+page.limit, len(want))]
			if got.Total != all.Total || len(got.Hits) != len(w) {
				t.Fatalf("%q %+v: total %d, %d hits; want %d, %d", text, page, got.Total, len(got.Hits), all.Total, len(w))
			}
			for k := range w {
				g := got.Hits[k]
				if g.Collection != w[k].Collection || g.ID != w[k].ID || math.Abs(g.Score-w[k].Score) > 1e-9*w[k].Score {
					t.Fatalf("%q %+v: hit %d is %s/%s %v, want %s/%s %v", text, page, k, g.Collection, g.ID, g.Score, w[k].Collection, w[k].ID, w[k].Score)
				}
			}
		}
	}
	// Highlighted: the same page, and the same excerpts as the query that
	// carries the text's locations itself.
	src := sourceOf(cs...)
	fragments := 0
	for i := range 10 {
		text := c.vocab[i%5] + " " + c.vocab[5+i%3]
		opts := SearchOptions{Limit: 20, Highlight: true, Source: src}
		forceTitledText = true
		want, err := ix.Search(ctx, text, opts)
		forceTitledText = false
		if err != nil {
			t.Fatal(err)
		}
		got, err := ix.Search(ctx, text, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), ids(want)) || got.Total != want.Total {
			t.Fatalf("%q highlighted: %d %v, want %d %v", text, got.Total, ids(got), want.Total, ids(want))
		}
		for k := range want.Hits {
			if g, w := fmt.Sprint(got.Hits[k].Fragments), fmt.Sprint(want.Hits[k].Fragments); g != w {
				t.Fatalf("%q hit %d: fragments %s, want %s", text, k, g, w)
			}
			fragments += len(want.Hits[k].Fragments)
		}
	}
	if fragments == 0 {
		t.Fatal("no excerpt in any highlighted page: the comparison proves nothing")
	}
	if n := titledFallbacks.Load(); n != 0 {
		t.Fatalf("%d titled searches fell back to the text-checked query: every name here is in its text", n)
	}
	if reordered < 5 {
		t.Fatalf("only %d texts rank an untitled document above a titled one by score: the test proves little", reordered)
	}
}

// A derived title cut in the middle of a word holds a word its text does
// not: the titled tier is then found by the query that checks the text,
// and the note, which does not match, is not returned.
func TestIndex_Search_titledWordNotInText(t *testing.T) {
	ix := openTest(t)
	long := strings.Repeat("x", 74) + " meetingroom plans"
	apply(t, ix, 3,
		upsert(t, "notes", "cut", 1, `{"content":"`+long+`"}`),
		upsert(t, "notes", "whole", 1, `{"content":"meeti planning"}`),
		upsert(t, "tasks", "t1", 1, `{"title":"meeti","description":"planning"}`),
	)
	doc, _ := extract(nil, "notes", 1, map[string]any{"content": long})
	if name, _ := doc[fieldName].(string); !strings.HasSuffix(name, " meeti") {
		t.Fatalf("derived title %q: the test needs it cut after \"meeti\"", name)
	}
	titledFallbacks.Store(0)
	res, err := ix.Search(context.Background(), "meeti", SearchOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range res.Hits {
		got = append(got, h.Collection+"/"+h.ID)
	}
	slices.Sort(got)
	if res.Total != 2 || !slices.Equal(got, []string{"notes/whole", "tasks/t1"}) {
		t.Fatalf("got total %d, hits %v; want 2: notes/whole and tasks/t1", res.Total, got)
	}
	if titledFallbacks.Load() != 1 {
		t.Fatalf("%d fallbacks, want 1", titledFallbacks.Load())
	}
}

// countPlan, which counts from the segments' postings bitmaps, agrees with
// Bleve's own count of the same query on an index of several segments,
// some in memory (DeferSync), with documents updated and deleted since:
// plain words, OR groups, excluded words, collections, and words no
// document holds.
func TestCountPlan(t *testing.T) {
	ix, _, err := Open(filepath.Join(t.TempDir(), "search"), &Options{DeferSync: true, BatchSize: 97})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	c := newCorpus(5)
	cs := c.changes(600)
	seq := uint64(0)
	for i := 0; i < len(cs); i += 150 {
		seq++
		apply(t, ix, seq, cs[i:i+150]...)
	}
	// Update a third, delete a tenth: older segments get deleted bits.
	var later []Change
	for i := 0; i < len(cs); i += 3 {
		u := c.change(1000 + i)
		u.Collection, u.ID, u.Rev = cs[i].Collection, cs[i].ID, 2
		later = append(later, u)
	}
	for i := 1; i < len(cs); i += 10 {
		later = append(later, Change{Collection: cs[i].Collection, ID: cs[i].ID, Rev: 3, Deleted: true})
	}
	apply(t, ix, seq+1, later...)

	a := analyzers{ix.mu.analyzer, ix.mu.raw}
	type counted struct {
		text  string
		colls []string
		b     built
		bleve uint64
	}
	bleveCount := func(c counted) uint64 {
		req := bleve.NewSearchRequestOptions(c.b.count, 0, 0, false)
		req.Score = bleve.ScoreNone
		sr, err := ix.mu.bi.Search(req)
		if err != nil {
			t.Fatal(err)
		}
		return sr.Total
	}
	var cases []counted
	for i := range 60 {
		w1, w2, w3 := c.vocab[i%7], c.vocab[3+i%11], c.vocab[20+i%13]
		for _, text := range []string{w1, w1 + " " + w2, w1 + " " + w2 + " -" + w3, w1 + " OR " + w3 + " " + w2, w2 + " zzznothing", "-" + w3 + " " + w1} {
			var colls []string
			switch i % 3 {
			case 1:
				colls = []string{"notes"}
			case 2:
				colls = []string{"sessions", "tasks"}
			}
			b, err := buildQuery(a, text, colls, true, "")
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, counted{text: text, colls: colls, b: b})
			cases[len(cases)-1].bleve = bleveCount(cases[len(cases)-1])
		}
	}
	planned := 0
	for _, k := range cases {
		p, ok := planOf(k.b.count)
		if !ok {
			t.Fatalf("%q: no term plan for %#v", k.text, k.b.count)
		}
		got, ok, err := countPlan(ix.mu.bi, p)
		if err != nil || !ok {
			t.Fatalf("%q: countPlan: %d, %v, %v", k.text, got, ok, err)
		}
		if got != k.bleve {
			t.Fatalf("%q %v: countPlan %d, Bleve %d", k.text, k.colls, got, k.bleve)
		}
		if got > 0 {
			planned++
		}
	}
	if planned < 100 {
		t.Fatalf("only %d queries matched anything: the test proves little", planned)
	}
	// Counting left the segments' bitmaps as they were.
	for _, k := range cases {
		if n := bleveCount(k); n != k.bleve {
			t.Fatalf("%q %v: Bleve counts %d after the counts, %d before", k.text, k.colls, n, k.bleve)
		}
	}
	// Phrases, prefixes and fuzzy words are not terms: no plan.
	for _, text := range []string{`"` + c.vocab[1] + " " + c.vocab[2] + `"`, c.vocab[1][:3] + "*", c.vocab[1] + "~1"} {
		b, err := buildQuery(a, text, nil, true, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := planOf(b.count); ok {
			t.Errorf("%q: a term plan for %#v", text, b.count)
		}
	}
}

// TestIndex_Search_profileText: a profile is searched whether it is an
// object of strings (companies, contacts) or free text (a topic's), in
// every field and in `profile:`.
func TestIndex_Search_profileText(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 1,
		upsert(t, "topics", "tp1", 1, `{"id":"tp1","name":"Birds","profile":"watching the marmot colony"}`),
		upsert(t, "contacts", "p1", 1, `{"id":"p1","name":"Ann","profile":["marmot keeper",{"role":"x"}]}`),
		upsert(t, "companies", "c1", 1, `{"id":"c1","name":"Zoo","profile":{"about":"marmot house","size":3}}`),
	)
	for _, text := range []string{"marmot", "profile:marmot"} {
		got := ids(mustSearch(t, ix, text, SearchOptions{}))
		sort.Strings(got)
		if want := []string{"companies/c1", "contacts/p1", "topics/tp1"}; !slices.Equal(got, want) {
			t.Errorf("%q: got %v, want %v", text, got, want)
		}
	}
}
