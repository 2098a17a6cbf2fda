package search

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestParseText(t *testing.T) {
	w := func(text string, pos int) clause { return clause{kind: kindWord, text: text, pos: pos} }
	for _, c := range []struct {
		text string
		want [][]clause
	}{
		{"budget meeting", [][]clause{{w("budget", 1)}, {w("meeting", 8)}}},
		{`"weekly planning" x`, [][]clause{{{kind: kindPhrase, text: "weekly planning", pos: 1}}, {w("x", 19)}}},
		{"-budget", [][]clause{{{kind: kindWord, text: "budget", neg: true, pos: 1}}}},
		{"budg*", [][]clause{{{kind: kindPrefix, text: "budg", pos: 1}}}},
		{"budgt~", [][]clause{{{kind: kindFuzzy, text: "budgt", fuzz: 2, pos: 1}}}},
		{"budgt~1", [][]clause{{{kind: kindFuzzy, text: "budgt", fuzz: 1, pos: 1}}}},
		{"title:plan", [][]clause{{{kind: kindWord, field: "title", text: "plan", pos: 1}}}},
		{`title:"a b"`, [][]clause{{{kind: kindPhrase, field: "title", text: "a b", pos: 1}}}},
		{`-title:"a b"`, [][]clause{{{kind: kindPhrase, field: "title", text: "a b", neg: true, pos: 1}}}},
		{`-"a b"`, [][]clause{{{kind: kindPhrase, text: "a b", neg: true, pos: 1}}}},
		{"a OR b c", [][]clause{{w("a", 1), w("b", 6)}, {w("c", 8)}}},
		{"a OR b OR name:c*", [][]clause{{w("a", 1), w("b", 6), {kind: kindPrefix, field: "name", text: "c", pos: 11}}}},
		{`x"y"`, [][]clause{{w("x", 1)}, {{kind: kindPhrase, text: "y", pos: 2}}}},
		{"é OR ü", [][]clause{{w("é", 1), w("ü", 6)}}},
		{"or and", [][]clause{{w("or", 1)}, {w("and", 4)}}},
	} {
		p, err := parseText(c.text)
		if err != nil {
			t.Errorf("parseText(%q): %v", c.text, err)
			continue
		}
		if !reflect.DeepEqual(p.groups, c.want) {
			t.Errorf("parseText(%q)\n got  %+v\n want %+v", c.text, p.groups, c.want)
		}
	}
}

func TestParseText_errors(t *testing.T) {
	for _, c := range []struct {
		text string
		pos  int
		want error
	}{
		{"", 0, ErrEmptyQuery},
		{"   ", 0, ErrEmptyQuery},
		{`budget "weekly plan`, 8, ErrSyntax},
		{"OR budget", 1, ErrSyntax},
		{"budget OR", 8, ErrSyntax},
		{"a OR OR b", 6, ErrSyntax},
		{"a -", 3, ErrSyntax},
		{"*", 1, ErrSyntax},
		{"a ~", 3, ErrSyntax},
		{"word~3", 1, ErrSyntax},
		{"word~x", 1, ErrSyntax},
		{"a*b", 1, ErrSyntax},
		{"title:", 1, ErrSyntax},
		{"Agenda: budget", 1, ErrSyntax},
		{"a.b:c", 1, ErrSyntax},
		{`""`, 1, ErrSyntax},
		{"a OR -b", 6, ErrSyntax},
		{"ünï \xff", 5, ErrSyntax},
		{strings.Repeat("a ", MaxQueryTerms+1), 0, ErrQueryTooLong},
	} {
		_, err := parseText(c.text)
		if !errors.Is(err, c.want) {
			t.Errorf("parseText(%q) = %v, want %v", c.text, err, c.want)
			continue
		}
		var se *SyntaxError
		if errors.As(err, &se) != (c.pos > 0) || se != nil && se.Pos != c.pos {
			t.Errorf("parseText(%q) = %v, want position %d", c.text, err, c.pos)
		}
		if se != nil && !strings.Contains(err.Error(), "position") {
			t.Errorf("error %q does not say the position", err)
		}
	}
}

// FuzzParseSearch: any text either parses into clauses that build a
// query, or fails with a documented error; never a panic.
func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{"budget meeting", `"a b" -c d* e~1 f:g OR h`, `-t:"x"`, "a OR OR", "\"", "~~", "x:*", "é~2", "a\x00b"} {
		f.Add(s)
	}
	ix, _, err := Open(filepath.Join(f.TempDir(), "search"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ix.Close() })
	a := analyzers{ix.mu.analyzer, ix.mu.raw}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := parseText(text)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrEmptyQuery) && !errors.Is(err, ErrQueryTooLong) {
				t.Fatalf("parseText(%q): undocumented error %v", text, err)
			}
			var se *SyntaxError
			if errors.As(err, &se) && (se.Pos < 1 || se.Pos > len([]rune(text))+1) {
				t.Fatalf("parseText(%q): position %d outside the text", text, se.Pos)
			}
			return
		}
		for _, g := range p.groups {
			if len(g) == 0 {
				t.Fatalf("parseText(%q): empty group", text)
			}
		}
		if _, err := buildQuery(a, text, []string{"notes"}, true, ""); err != nil &&
			!errors.Is(err, ErrSyntax) && !errors.Is(err, ErrEmptyQuery) && !errors.Is(err, ErrUnknownField) {
			t.Fatalf("buildQuery(%q): %v", text, err)
		}
	})
}

// TestIndex_Search_syntax searches planted documents with every form of
// the search syntax on a real index.
func TestIndex_Search_syntax(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 20,
		upsert(t, "notes", "order", 1, `{"content":"the weekly planning meeting moved to Friday","summary":"calendar"}`),
		upsert(t, "notes", "reversed", 1, `{"content":"planning weekly meetings is a chore","summary":"calendar"}`),
		upsert(t, "notes", "budget", 1, `{"content":"Budget review with finance","tags":["money"]}`),
		upsert(t, "notes", "budgie", 1, `{"content":"the budgie sings"}`),
		upsert(t, "notes", "typo", 1, `{"content":"the budgt was approved"}`),
		upsert(t, "notes", "titled", 1, `{"content":"Roadmap 2026\nsecond line about nothing"}`),
		upsert(t, "tasks", "t1", 1, `{"title":"Finance sync","description":"budget numbers for the roadmap"}`),
		upsert(t, "sessions", "s1", 1, `{"name":"budget deep dive","description":"spreadsheets"}`),
		upsert(t, "sessions", "s2", 1, `{"name":"standup","description":"we talked about the budget"}`),
		upsert(t, "widgets", "w1", 1, `{"colour":"teal budget","label":"dashboard"}`),
	)
	for _, c := range []struct {
		text  string
		colls []string
		want  []string
	}{
		{text: `"weekly planning"`, want: []string{"notes/order"}},
		{text: `weekly planning`, colls: []string{"notes"}, want: []string{"notes/order", "notes/reversed"}},
		{text: `"planning meetings"`, want: []string{"notes/order"}}, // stemmed in the phrase too
		{text: `budg*`, want: []string{"notes/budget", "notes/budgie", "notes/typo", "sessions/s1", "sessions/s2", "tasks/t1", "widgets/w1"}},
		{text: `budge*`, want: []string{"notes/budget", "sessions/s1", "sessions/s2", "tasks/t1", "widgets/w1"}},
		{text: `meetin*`, want: []string{"notes/order", "notes/reversed"}}, // unstemmed prefix
		{text: `budgt`, want: []string{"notes/typo"}},
		{text: `budgett~1`, want: []string{"notes/budget", "sessions/s1", "sessions/s2", "tasks/t1", "widgets/w1"}},
		{text: `budgtx~1`, want: []string{"notes/typo"}},
		{text: `budgxx~2`, want: []string{"notes/budget", "notes/budgie", "notes/typo", "sessions/s1", "sessions/s2", "tasks/t1", "widgets/w1"}},
		{text: `budgxx~1`},
		{text: `name:budget`, want: []string{"sessions/s1"}},
		{text: `description:budget`, want: []string{"sessions/s2", "tasks/t1"}},
		{text: `title:roadmap`, want: []string{"notes/titled"}},             // a note's derived title
		{text: `title:finance`, want: []string{"notes/budget", "tasks/t1"}}, // the note's title is its first line
		{text: `tags:money`, want: []string{"notes/budget"}},
		{text: `colour:teal`, want: []string{"widgets/w1"}}, // a user collection's field
		{text: `name:"budget deep"`, want: []string{"sessions/s1"}},
		{text: `name:"deep budget"`},
		{text: `budget -finance`, want: []string{"sessions/s1", "sessions/s2", "widgets/w1"}},
		{text: `budget -description:budget`, want: []string{"notes/budget", "sessions/s1", "widgets/w1"}},
		{text: `budget -"review with finance"`, want: []string{"sessions/s1", "sessions/s2", "tasks/t1", "widgets/w1"}},
		{text: `budgie OR typo OR budgt`, want: []string{"notes/budgie", "notes/typo"}},
		{text: `budgie OR friday calendar`, want: []string{"notes/order"}},
		{text: `standup OR dashboard OR finance budget`, colls: []string{"sessions", "widgets"}, want: []string{"sessions/s2", "widgets/w1"}},
		{text: `the OR budgie`, want: []string{"notes/budgie"}}, // a stop word alternative is dropped
	} {
		r, err := ix.Search(context.Background(), c.text, SearchOptions{Collections: c.colls, Limit: 100})
		if err != nil {
			t.Errorf("Search(%q): %v", c.text, err)
			continue
		}
		got := ids(r)
		sort.Strings(got)
		if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("Search(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	// field~text in a query: MatchIDs scoped to a field.
	got, err := ix.MatchIDs(context.Background(), "sessions", "name", "budget")
	if err != nil || len(got) != 1 {
		t.Errorf("MatchIDs(sessions, name, budget) = %v, %v; want s1", got, err)
	}
	if _, ok := got["s1"]; !ok {
		t.Errorf("MatchIDs(sessions, name, budget) = %v, want s1", got)
	}
	if _, err := ix.MatchIDs(context.Background(), "sessions", "stauts", "x"); !errors.Is(err, ErrUnknownField) {
		t.Errorf("MatchIDs on an unknown field: %v, want ErrUnknownField", err)
	}
	// A name match still ranks first.
	r := mustSearch(t, ix, "budget", SearchOptions{Collections: []string{"sessions"}})
	if got := ids(r); len(got) != 2 || got[0] != "sessions/s1" {
		t.Errorf("Search(budget) in sessions = %v, want s1 (name) first", got)
	}
}
