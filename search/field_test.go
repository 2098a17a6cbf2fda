package search

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestIndex_Search_fields checks field:item for every kind of item, on
// every built-in collection's kinds of search field (a title, a derived
// title, body paths, tags) and a user collection's fields.
func TestIndex_Search_fields(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 1,
		upsert(t, "tasks", "t1", 1, `{"title":"alpha budget","description":"beta review of the plans","subtasks":[{"title":"gamma check"}],"tags":["delta"]}`),
		upsert(t, "sessions", "s1", 1, `{"name":"alpha","description":"gamma","summary":{"narrative":"review","achievements":["budget beta"]},"fullTranscription":"spoken epsilon","screenshots":[{"aiAnalysis":{"extractedText":"zeta on screen"}}],"tags":["beta"]}`),
		upsert(t, "notes", "n1", 1, `{"content":"alpha meeting\nthen beta"}`),
		upsert(t, "things", "u1", 1, `{"name":"omega","remark":"budget talk","description":"gamma ray","tags":["theta"]}`),
	)
	for _, c := range []struct {
		text string
		want []string
	}{
		{`title:alpha`, []string{"notes/n1", "tasks/t1"}}, // the note's title is derived from its content
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
	if got, err := ix.MatchIDs(context.Background(), "tasks", "description", "beta"); err != nil || len(got) != 1 {
		t.Errorf("MatchIDs(tasks, description, beta): %v %v", got, err)
	}
	if got, err := ix.MatchIDs(context.Background(), "tasks", "title", "beta"); err != nil || len(got) != 0 {
		t.Errorf("MatchIDs(tasks, title, beta): %v %v", got, err)
	}
	// A search scoped to one field never looks into another: title:beta
	// inside a description search found the task by its title.
	for _, text := range []string{"title:beta", "alpha -title:beta", "alpha OR title:beta"} {
		if got, err := ix.MatchIDs(context.Background(), "tasks", "description", text); !errors.Is(err, ErrSyntax) {
			t.Errorf("MatchIDs(tasks, description, %q): %v %v, want ErrSyntax", text, got, err)
		}
	}
}
