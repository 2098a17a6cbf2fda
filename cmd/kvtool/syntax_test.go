package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestQuery_expressions checks in, exists, !exists, OR and a field-scoped
// ~ through the CLI, and the warning for a field no document has.
func TestQuery_expressions(t *testing.T) {
	dir := newStore(t)
	mustRun(t, `{"id":"t3","title":"Plan the offsite","status":"doing","priority":"urgent"}`, "--db", dir, "put", "tasks", "-")
	mustRun(t, `{"id":"t4","title":"Review the report","description":"the quarterly report","status":"todo"}`, "--db", dir, "put", "tasks", "-")
	ids := func(args ...string) []string {
		t.Helper()
		r := mustRun(t, "", append([]string{"--db", dir, "query", "tasks", "--ids"}, args...)...)
		if r.stderr != "" {
			t.Errorf("query %q: stderr %q", args, r.stderr)
		}
		return strings.Fields(r.stdout)
	}
	for _, c := range []struct {
		where []string
		want  []string
	}{
		{[]string{"status in (todo, doing)"}, []string{"t1", "t3", "t4"}},
		{[]string{"status=done OR priority=urgent"}, []string{"t2", "t3"}},
		{[]string{"priority exists"}, []string{"t1", "t2", "t3"}},
		{[]string{"priority !exists"}, []string{"t4"}},
		{[]string{"status in (todo, doing)", "priority=high OR priority !exists"}, []string{"t1", "t4"}},
		{[]string{"title~report"}, []string{"t1", "t4"}},
		{[]string{"description~report"}, []string{"t4"}},
		{[]string{"title~repo*"}, []string{"t1", "t4"}},
		{[]string{`title~"the report"`}, []string{"t1", "t4"}},
		{[]string{"title~report -review"}, []string{"t1"}},
		{[]string{"description~report -quarterly"}, nil},
	} {
		var args []string
		for _, w := range c.where {
			args = append(args, "--where", w)
		}
		if got := ids(args...); !slices.Equal(got, c.want) {
			t.Errorf("--where %q: %v, want %v", c.where, got, c.want)
		}
	}

	r := mustRun(t, "", "--db", dir, "query", "tasks", "--ids", "--where", "stauts=todo")
	if r.stdout != "" || !strings.Contains(r.stderr, "warning:") || !strings.Contains(r.stderr, `"stauts"`) {
		t.Errorf("typo field: stdout %q, stderr %q; want a warning naming stauts", r.stdout, r.stderr)
	}
	r = mustRun(t, "", "--db", dir, "query", "tasks", "--explain", "--where", "status=done OR priority=urgent")
	if !strings.Contains(r.stdout, "status|priority") {
		t.Errorf("explain of an OR on two indexes: %s", r.stdout)
	}

	for _, bad := range [][]string{
		{"--where", "status in (todo"},
		{"--where", "status=a OR "},
		{"--where", "status=a OR title~x"},
		{"--where", "title~"},
		{"--where", `title~"unterminated`},
		{"--where", "title~a OR OR b"},
		{"--where", "stauts~x"},
	} {
		r := kvtool(t, "", append([]string{"--db", dir, "query", "tasks"}, bad...)...)
		wantExit(t, r, exitUsage, bad...)
		if !strings.Contains(r.stderr, "--where") {
			t.Errorf("%q: stderr %q does not quote the expression", bad, r.stderr)
		}
	}
}

// TestSearch_syntax checks the search syntax through the CLI, and that a
// malformed or empty text is exit 2 naming the position.
func TestSearch_syntax(t *testing.T) {
	dir := newStore(t)
	hits := func(text string, args ...string) []string {
		t.Helper()
		r := mustRun(t, "", append([]string{"--db", dir, "search", text, "--limit", "50"}, args...)...)
		var out []string
		for _, l := range strings.Split(r.stdout, "\n")[1:] {
			if f := strings.Fields(l); len(f) == 3 {
				out = append(out, f[1]+"/"+f[2])
			}
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		text string
		want []string
	}{
		{`"quarterly planning"`, []string{"notes/n1"}},
		{`"planning quarterly"`, nil},
		{`quart*`, []string{"notes/n1"}},
		{`quartrly~1`, []string{"notes/n1"}},
		{`title:quarterly`, []string{"notes/n1"}},
		{`title:roadmap`, nil},
		{`roadmap OR acme`, []string{"notes/n1", "notes/n2"}},
		{`roadmap OR acme -quarterly`, []string{"notes/n2"}},
	} {
		if got := hits(c.text); !slices.Equal(got, c.want) {
			t.Errorf("search %q: %v, want %v", c.text, got, c.want)
		}
	}
	for _, c := range []struct{ text, pos string }{
		{`roadmap "quarterly`, "position 9"},
		{`OR roadmap`, "position 1"},
		{`roadmap OR`, "position 9"},
		{`word~5`, "position 1"},
		{``, "empty"},
		{`the`, "nothing to look for"},
		{`the -roadmap`, "only excludes"},
	} {
		r := kvtool(t, "", "--db", dir, "search", c.text)
		wantExit(t, r, exitUsage, c.text)
		if !strings.Contains(r.stderr, c.pos) {
			t.Errorf("search %q: stderr %q lacks %q", c.text, r.stderr, c.pos)
		}
	}
	wantExit(t, kvtool(t, "", "--db", dir, "search", "titel:x", "--collection", "notes"), exitUsage)
}

// TestSearch_fuzzyNotNarrowerThanField: word~N and pre* over every field
// compare with the words as written and with their stems, so they find at
// least what the same item within one field finds (the stems only):
// budget~0 finds "budgets" as budget does.
func TestSearch_fuzzyNotNarrowerThanField(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	checkAtEnd(t, dir)
	mustRun(t, `[{"id":"f2","content":"Meetings about budgets"},{"id":"f3","content":"meeting budget"}]`, "--db", dir, "put", "notes", "-")
	ids := func(text string) []string {
		t.Helper()
		var out struct {
			Hits []struct{ ID string } `json:"hits"`
		}
		oneJSON(t, mustRun(t, "", "--db", dir, "--json", "search", text).stdout, &out)
		var got []string
		for _, h := range out.Hits {
			got = append(got, h.ID)
		}
		slices.Sort(got)
		return got
	}
	both := []string{"f2", "f3"}
	for _, text := range []string{"budget", "budget~0", "budgte~1", "content:budgte~1", "content:budget~0", "budg*"} {
		if got := ids(text); !slices.Equal(got, both) {
			t.Errorf("search %q: %v, want %v", text, got, both)
		}
	}
	if got := ids("budgets*"); !slices.Equal(got, []string{"f2"}) {
		t.Errorf("search budgets*: %v, want [f2]", got)
	}
}

// TestSearch_phraseWithinOneValue: a phrase matches the words of one
// value, not the end of one field and the start of the next, nor two
// elements of an array, in search and in a where clause's field~TEXT;
// within one value it matches, across a line break too.
func TestSearch_phraseWithinOneValue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	checkAtEnd(t, dir)
	mustRun(t, `[{"id":"n1","content":"meeting with alpha","summary":"beta plan"},{"id":"n2","content":"meeting with alpha\nbeta plan"}]`, "--db", dir, "put", "notes", "-")
	mustRun(t, `{"id":"t1","title":"write alpha","description":"beta draft"}`, "--db", dir, "put", "tasks", "-")
	mustRun(t, `{"id":"u1","a":"the alpha","b":"beta end"}`, "--db", dir, "put", "things", "-")
	mustRun(t, `[{"id":"s1","name":"one","tags":["alpha","beta"]},{"id":"s2","name":"two","tags":["x","alpha beta"]}]`, "--db", dir, "put", "sessions", "-")
	search := func(text, collection string) []string {
		t.Helper()
		var out struct {
			Hits []struct{ ID string } `json:"hits"`
		}
		oneJSON(t, mustRun(t, "", "--db", dir, "--json", "search", text, "--collection", collection).stdout, &out)
		var got []string
		for _, h := range out.Hits {
			got = append(got, h.ID)
		}
		slices.Sort(got)
		return got
	}
	for _, c := range []struct {
		text, collection string
		want             []string
	}{
		{`"alpha beta"`, "notes", []string{"n2"}},
		{`"alpha beta"`, "tasks", nil},
		{`"alpha beta"`, "things", nil},
		{`tags:"alpha beta"`, "sessions", []string{"s2"}},
		{`alpha beta`, "tasks", []string{"t1"}}, // words, not a phrase: anywhere
	} {
		if got := search(c.text, c.collection); !slices.Equal(got, c.want) {
			t.Errorf("search %s --collection %s: %v, want %v", c.text, c.collection, got, c.want)
		}
	}
	for _, c := range []struct {
		collection, where string
		want              []string
	}{
		{"sessions", `tags~"alpha beta"`, []string{"s2"}},
		{"notes", `content~"alpha beta"`, []string{"n2"}},
		{"tasks", `description~"alpha beta"`, nil},
	} {
		r := mustRun(t, "", "--db", dir, "query", c.collection, "--ids", "--where", c.where)
		if got := strings.Fields(r.stdout); !slices.Equal(got, c.want) {
			t.Errorf("query %s --where %s: %v, want %v", c.collection, c.where, got, c.want)
		}
	}
}
