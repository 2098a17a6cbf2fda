package search

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/schema"
)

// TestIndex_Search_fieldSlots checks field:item for every kind of item
// over the text slots (a built-in field, a user collection's field of a
// listed name), the per-field text (a derived title, a user collection's
// unlisted field), and that a phrase no longer runs from one field into
// the next.
func TestIndex_Search_fieldSlots(t *testing.T) {
	ix := openTest(t)
	fx := []Change{
		upsert(t, "tasks", "t1", 1, `{"title":"alpha budget","description":"beta review of the plans","subtasks":[{"title":"gamma check"}],"tags":["delta"]}`),
		upsert(t, "sessions", "s1", 1, `{"name":"alpha","description":"gamma","summary":{"narrative":"review","achievements":["budget beta"]},"fullTranscription":"spoken epsilon","screenshots":[{"aiAnalysis":{"extractedText":"zeta on screen"}}],"tags":["beta"]}`),
		upsert(t, "notes", "n1", 1, `{"content":"alpha meeting\nthen beta"}`),
		upsert(t, "things", "u1", 1, `{"name":"omega","remark":"budget talk","description":"gamma ray","tags":["theta"]}`),
	}
	apply(t, ix, 1, fx...)
	for _, c := range []struct {
		text string
		want []string
	}{
		{`title:alpha`, []string{"notes/n1", "tasks/t1"}}, // the note's title is derived (per-field text)
		{`name:alpha`, []string{"sessions/s1"}},
		{`description:beta`, []string{"tasks/t1"}},
		{`description:alpha`, nil},
		{`description:gamma`, []string{"sessions/s1", "things/u1"}},
		{`summary:budget`, []string{"sessions/s1"}},
		{`transcript:spoken`, []string{"sessions/s1"}},
		{`screenshots:zeta`, []string{"sessions/s1"}},
		{`subtasks:gamma`, []string{"tasks/t1"}},
		{`tags:delta`, []string{"tasks/t1"}},
		{`tags:beta`, []string{"sessions/s1"}},
		{`tags:theta`, []string{"things/u1"}},
		{`remark:budget`, []string{"things/u1"}},
		{`name:omega`, []string{"things/u1"}},
		{`content:meeting`, []string{"notes/n1"}},
		{`description:"beta review"`, []string{"tasks/t1"}},
		{`title:"beta review"`, nil},
		{`description:revi*`, []string{"tasks/t1"}},
		{`description:reviw~1`, []string{"tasks/t1"}},
		{`alpha -description:beta`, []string{"notes/n1", "sessions/s1"}},
		{`description:beta OR subtasks:gamma`, []string{"tasks/t1"}},
		{`"budget beta"`, []string{"sessions/s1"}}, // in one achievement; the task's title and description do not join
		{`budget`, []string{"sessions/s1", "tasks/t1", "things/u1"}},
	} {
		r := mustSearch(t, ix, c.text, SearchOptions{Limit: 20})
		got := ids(r)
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("search %q: %v, want %v", c.text, got, c.want)
		}
		if r.Total != uint64(len(c.want)) {
			t.Errorf("search %q: total %d, want %d", c.text, r.Total, len(c.want))
		}
	}
	got, err := ix.MatchIDs(context.Background(), "tasks", "description", "beta")
	if err != nil || len(got) != 1 {
		t.Errorf("MatchIDs(tasks, description, beta): %v %v", got, err)
	}
	if got, err := ix.MatchIDs(context.Background(), "tasks", "title", "beta"); err != nil || len(got) != 0 {
		t.Errorf("MatchIDs(tasks, title, beta): %v %v", got, err)
	}
}

// TestIndex_Search_highlightSlots checks that excerpts mark the words
// where they are once the text slots are joined, and for field:word only
// in that field.
func TestIndex_Search_highlightSlots(t *testing.T) {
	ix := openTest(t)
	fx := []Change{
		upsert(t, "tasks", "t1", 1, `{"title":"kestrel budget","description":"the kestrel review","subtasks":[{"title":"ask the kestrel"}],"tags":["kestrel"]}`),
	}
	apply(t, ix, 1, fx...)
	frag := func(text string) string {
		t.Helper()
		r := mustSearch(t, ix, text, SearchOptions{Highlight: true, Source: sourceOf(fx...)})
		if len(r.Hits) != 1 {
			t.Fatalf("search %q: %v", text, ids(r))
		}
		return strings.Join(r.Hits[0].Fragments["text"], " … ")
	}
	all := frag("kestrel")
	if n := strings.Count(all, "<mark>kestrel</mark>"); n != 4 {
		t.Errorf("kestrel: %d marks in %q, want 4", n, all)
	}
	if !strings.Contains(all, "<mark>kestrel</mark> budget") || !strings.Contains(all, "the <mark>kestrel</mark> review") {
		t.Errorf("kestrel: %q", all)
	}
	in := frag("subtasks:kestrel")
	if n := strings.Count(in, "<mark>"); n != 1 || !strings.Contains(in, "ask the <mark>kestrel</mark>") {
		t.Errorf("subtasks:kestrel: %q, want one mark, in the subtask", in)
	}
	rev := frag(`description:"kestrel review"`)
	if !strings.Contains(rev, "the <mark>kestrel</mark> <mark>review</mark>") || strings.Count(rev, "<mark>") != 2 {
		t.Errorf(`description:"kestrel review": %q`, rev)
	}
}

// TestExtract_slots checks where extract puts each text: its slot in the
// text field, the per-field text only for derived and unlisted fields.
func TestExtract_slots(t *testing.T) {
	doc, size := extract(nil, "tasks", 1, map[string]any{"title": "T", "description": "D", "tags": []any{"g1", "g2"}, "subtasks": []any{map[string]any{"title": "S1"}, map[string]any{"title": "S2"}}})
	slots, _ := doc[fieldText].([]string)
	want := map[string]string{"title": "T", "description": "D", "subtasks": "S1\nS2", "tags": "g1\ng2"}
	for name, w := range want {
		if s := textSlot(name); s == 0 || int(s) >= len(slots) || slots[s] != w {
			t.Errorf("slot %q: %q in %q, want %q", name, slots, name, w)
		}
	}
	if _, ok := doc[fieldPerField]; ok {
		t.Errorf("tasks: per-field text %v", doc[fieldPerField])
	}
	if raw := doc[fieldRaw]; raw != "T\nD\nS1\nS2\ng1\ng2" || size != len("TDS1S2g1g2") {
		t.Errorf("raw %q size %d", raw, size)
	}

	doc, _ = extract(nil, "notes", 1, map[string]any{"content": "first line\nmore"})
	if per, _ := doc[fieldPerField].(map[string]any); per["title"] == nil || len(per) != 1 {
		t.Errorf("notes: per-field text %v, want the derived title", doc[fieldPerField])
	}
	if slots, _ := doc[fieldText].([]string); slots[textSlot("title")] != "" || slots[textSlot("content")] != "first line\nmore" {
		t.Errorf("notes: slots %q", slots)
	}

	doc, _ = extract(nil, "things", 1, map[string]any{"title": "T", "remark": "R", "a.b": "dotted", "tags": []any{"g"}})
	slots, _ = doc[fieldText].([]string)
	if slots[0] != "dotted\nR" || slots[textSlot("title")] != "T" || slots[textSlot("tags")] != "g" {
		t.Errorf("things: slots %q", slots)
	}
	if per, _ := doc[fieldPerField].(map[string]any); len(per) != 1 || per["remark"] != "R" {
		t.Errorf("things: per-field text %v, want only remark", per)
	}

	if doc, _ := extract(nil, "tasks", 1, map[string]any{"title": "  "}); doc[fieldText] != nil || doc[fieldRaw] != nil {
		t.Errorf("blank: %v", doc)
	}
}

// TestTextSlots_coverBuiltins checks that every search field of a
// built-in collection has a text slot: one without would still be found
// (through a per-field text), but indexed twice.
func TestTextSlots_coverBuiltins(t *testing.T) {
	for _, c := range schema.Builtins() {
		for _, f := range c.Search {
			if textSlot(f.Name) == 0 {
				t.Errorf("%s: search field %q has no text slot (add it to textSlots and bump MappingVersion)", c.Name, f.Name)
			}
		}
	}
	seen := map[string]bool{}
	for _, s := range textSlots {
		if seen[s] {
			t.Errorf("text slot %q listed twice", s)
		}
		seen[s] = true
	}
}
