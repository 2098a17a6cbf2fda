package search

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestPhraseQuery_matchesBleve checks phraseQuery against Bleve's
// match-phrase query, on generated documents and on English text with
// stop words and repeated words: the same hits, totals, scores and
// excerpts, alone, in a field, excluded and in OR.
func TestPhraseQuery_matchesBleve(t *testing.T) {
	ix := openTest(t)
	c := newCorpus(3)
	cs := c.changes(1500)
	for i, text := range []string{
		"The state of the art is the art of the state.",
		"buffalo buffalo good, buffalo good indeed, good buffalo buffalo",
		"budget meeting about the budget meeting; the meeting budget",
		"State of the union. The art of war. Art of the state of things.",
		"meeting meeting meeting budget budget",
	} {
		cs = append(cs,
			upsert(t, "notes", fmt.Sprintf("en%d", i), 1, fmt.Sprintf(`{"content":%q,"summary":"budget review"}`, text)),
			upsert(t, "tasks", fmt.Sprintf("en%d", i), 1, fmt.Sprintf(`{"title":"the art","description":%q,"subtasks":[{"title":"budget"},{"title":"meeting budget"}]}`, text)))
	}
	apply(t, ix, 1, cs...)
	src := sourceOf(cs...)

	phrases := []string{
		"state of the art", "the art of the state", "art of the state", "buffalo buffalo", "buffalo good",
		"good buffalo buffalo", "budget meeting", "meeting budget", "meeting meeting", "budget budget",
		"budget meeting about the budget", "of the union", "budget review", "meeting budget budget",
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		ch := cs[rng.IntN(1500)]
		var text string
		switch ch.Collection {
		case "notes":
			text, _ = ch.Body["content"].(string)
		default:
			text, _ = ch.Body["description"].(string)
		}
		words := strings.Fields(text)
		n := 2 + rng.IntN(2)
		i := rng.IntN(len(words) - n)
		phrases = append(phrases, strings.Join(words[i:i+n], " "))
	}
	common := c.vocab[1] + " " + c.vocab[2] // two of the commonest words, often side by side
	phrases = append(phrases, common)

	run := func(text string, bleve bool) Result {
		t.Helper()
		blevePhrase = bleve
		defer func() { blevePhrase = false }()
		return mustSearch(t, ix, text, SearchOptions{Limit: 30, Highlight: true, Source: src})
	}
	checked := 0
	for _, p := range phrases {
		for _, text := range []string{
			`"` + p + `"`,
			`description:"` + p + `"`,
			`"` + p + `" -` + strings.Fields(p)[0] + `zz`,
			`"` + p + `" OR ` + c.vocab[7],
			`"` + p + `" "budget review"`,
		} {
			want, got := run(text, true), run(text, false)
			if got.Total != want.Total || len(got.Hits) != len(want.Hits) {
				t.Errorf("%s: total %d, %d hits; Bleve %d, %d hits", text, got.Total, len(got.Hits), want.Total, len(want.Hits))
				continue
			}
			for k := range want.Hits {
				g, w := got.Hits[k], want.Hits[k]
				if g.Collection != w.Collection || g.ID != w.ID || math.Abs(g.Score-w.Score) > 1e-9*math.Abs(w.Score) {
					t.Errorf("%s: hit %d is %s/%s %v; Bleve %s/%s %v", text, k, g.Collection, g.ID, g.Score, w.Collection, w.ID, w.Score)
					break
				}
				if gf, wf := fmt.Sprint(g.Fragments), fmt.Sprint(w.Fragments); gf != wf {
					t.Errorf("%s: hit %s/%s fragments\n%s\nBleve\n%s", text, g.Collection, g.ID, gf, wf)
				}
			}
			if want.Total > 0 {
				checked++
			}
		}
	}
	if checked < len(phrases) {
		t.Errorf("only %d of the %d queries matched anything: the test checks too little", checked, 5*len(phrases))
	}
}

// A phrase matches the words of one value: never the end of one field and
// the start of the next, nor two elements of an array (tags, updates),
// in the text, in a field and in MatchIDs (a where clause's field~TEXT),
// with Cairn's phrase query and with Bleve's. Within one value it matches,
// across a newline too, and its excerpt marks it wherever the value is.
func TestPhrase_withinOneValue(t *testing.T) {
	ix := openTest(t)
	cs := []Change{
		upsert(t, "notes", "fields", 1, `{"content":"meeting with alpha","summary":"beta plan"}`),
		upsert(t, "tasks", "fields", 1, `{"title":"write alpha","description":"beta draft"}`),
		upsert(t, "things", "fields", 1, `{"a":"the alpha","b":"beta end"}`),
		upsert(t, "sessions", "tags", 1, `{"name":"s","tags":["alpha","beta"]}`),
		upsert(t, "notes", "updates", 1, `{"content":"x","updates":[{"content":"one alpha"},{"content":"beta two"}]}`),
		// Within one value: these match.
		upsert(t, "notes", "lines", 1, `{"content":"meeting with alpha\nbeta plan"}`),
		upsert(t, "sessions", "onetag", 1, `{"name":"s","tags":["x","alpha beta"]}`),
		upsert(t, "notes", "second", 1, `{"content":"x","updates":[{"content":"gamma"},{"content":"then alpha beta"}]}`),
	}
	apply(t, ix, 1, cs...)
	src := sourceOf(cs...)
	for _, bleve := range []bool{false, true} {
		blevePhrase = bleve
		for _, tt := range []struct {
			text, collection string
			want             []string
		}{
			{`"alpha beta"`, "", []string{"notes/lines", "notes/second", "sessions/onetag"}},
			{`"alpha beta"`, "notes", []string{"notes/lines", "notes/second"}},
			{`"alpha beta"`, "tasks", nil},
			{`"alpha beta"`, "things", nil},
			{`tags:"alpha beta"`, "sessions", []string{"sessions/onetag"}},
			{`updates:"alpha beta"`, "notes", []string{"notes/second"}},
			{`content:"alpha beta"`, "notes", []string{"notes/lines"}},
		} {
			var opts SearchOptions
			if tt.collection != "" {
				opts.Collections = []string{tt.collection}
			}
			got := ids(mustSearch(t, ix, tt.text, opts))
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Bleve's phrase %v: search %s in %q: got %v, want %v", bleve, tt.text, tt.collection, got, tt.want)
			}
		}
		for _, tt := range []struct {
			collection, field string
			want              []string
		}{
			{"sessions", "tags", []string{"onetag"}},
			{"sessions", "", []string{"onetag"}},
			{"notes", "summary", nil},
			{"notes", "updates", []string{"second"}},
			{"tasks", "description", nil},
			{"things", "b", nil},
		} {
			m, err := ix.MatchIDs(context.Background(), tt.collection, tt.field, `"alpha beta"`)
			if err != nil {
				t.Fatalf("MatchIDs(%s, %q): %v", tt.collection, tt.field, err)
			}
			got := slices.Sorted(maps.Keys(m))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Bleve's phrase %v: MatchIDs(%s, %q, \"alpha beta\"): got %v, want %v", bleve, tt.collection, tt.field, got, tt.want)
			}
		}
	}
	blevePhrase = false

	// Excerpts mark the words of every value, the second element's too.
	for _, tt := range []struct{ text, id, want string }{
		{`"alpha beta"`, "second", "then <mark>alpha</mark> <mark>beta</mark>"},
		{`alpha beta`, "fields", "<mark>alpha</mark>\n<mark>beta</mark> plan"},
		{`alpha beta`, "updates", "one <mark>alpha</mark>\n<mark>beta</mark> two"},
	} {
		r := mustSearch(t, ix, tt.text, SearchOptions{Collections: []string{"notes"}, Highlight: true, Source: src})
		found := false
		for _, h := range r.Hits {
			if h.ID == tt.id {
				found = true
				if f := strings.Join(h.Fragments["text"], " … "); !strings.Contains(f, tt.want) {
					t.Errorf("search %s: notes/%s fragments %q, want them to hold %q", tt.text, tt.id, f, tt.want)
				}
			}
		}
		if !found {
			t.Errorf("search %s: notes/%s not found in %v", tt.text, tt.id, ids(r))
		}
	}
}
