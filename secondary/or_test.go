package secondary

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestRun_orUnion checks that an OR of indexed comparisons and an IN are
// answered by a union of index ranges, not a scan, with the scan's answer.
func TestRun_orUnion(t *testing.T) {
	s := openStore(t)
	prios := []string{"low", "medium", "high", "urgent"}
	stats := []string{"todo", "doing", "done", "blocked", "waiting"}
	for i := range 400 {
		s.put("tasks", idf("t", i), map[string]any{"title": fmt.Sprint("task ", i), "priority": prios[i%4], "status": stats[i%5], "note": i % 7})
	}
	for _, c := range []struct {
		where string
		plan  string
		index string
		n     int
	}{
		{"status=blocked OR priority=urgent", "index-range", "status|priority", 80 + 100 - 20},
		{"status in (blocked, waiting)", "index-range", "status", 160},
		{"status=blocked OR status=waiting OR priority in (urgent, high)", "index-range", "status|priority", 80 + 80 + 200 - 40 - 40},
		{"status=blocked OR note=3", "", "", 80 + 57 - 12},
	} {
		f, err := ParseWhere(mustLookup("tasks"), c.where)
		if err != nil {
			t.Fatalf("ParseWhere(%q): %v", c.where, err)
		}
		q := Query{Collection: "tasks", Filters: []Filter{f}}
		ids, _, ex, err := s.run(q)
		if err != nil {
			t.Fatalf("%s: %v", c.where, err)
		}
		scan, _, _, err := s.runForced(q, "full-scan")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, scan) || len(ids) != c.n {
			t.Errorf("%s: %d ids, full scan %d, want %d", c.where, len(ids), len(scan), c.n)
		}
		if c.plan != "" && (ex.Plan != c.plan || ex.Index != c.index) {
			t.Errorf("%s: plan %s on %q, want %s on %q (%s)", c.where, ex.Plan, ex.Index, c.plan, c.index, ex.Detail)
		}
		if c.plan == "" && !strings.Contains(ex.Plan, "scan") {
			t.Errorf("%s: plan %s, want a scan (note has no index)", c.where, ex.Plan)
		}
		if len(ex.Warnings) > 0 {
			t.Errorf("%s: warnings %q", c.where, ex.Warnings)
		}
	}
}

// TestRun_warnings checks that a field no document has is reported, the
// query still answering.
func TestRun_warnings(t *testing.T) {
	s := openStore(t)
	_, _, ex, err := s.run(Query{Collection: "tasks", Filters: []Filter{{Field: "stauts", Op: OpEq, Value: "x"}}})
	if err != nil || len(ex.Warnings) != 0 {
		t.Fatalf("empty collection: warnings %q, %v", ex.Warnings, err)
	}
	for i := range 30 {
		s.put("tasks", idf("t", i), map[string]any{"status": "todo", "extra": map[string]any{"deep": nil}})
	}
	for _, c := range []struct {
		q    Query
		want []string
	}{
		{Query{Collection: "tasks", Filters: []Filter{{Field: "stauts", Op: OpEq, Value: "x"}}}, []string{`"stauts"`}},
		{Query{Collection: "tasks", Filters: []Filter{{Field: "status", Op: OpEq, Value: "todo"}}}, nil},
		{Query{Collection: "tasks", Filters: []Filter{{Field: "extra.deep", Op: OpExists}}}, nil},
		{Query{Collection: "tasks", Filters: []Filter{{Op: OpOr, Or: []Filter{{Field: "status", Op: OpEq, Value: "todo"}, {Field: "prio", Op: OpIn, Values: []any{"a"}}}}}, Sort: "dueDate"},
			[]string{`"prio"`, `"dueDate"`}},
	} {
		_, _, ex, err := s.run(c.q)
		if err != nil {
			t.Fatal(err)
		}
		if len(ex.Warnings) != len(c.want) {
			t.Fatalf("%+v: warnings %q, want %d naming %v", c.q, ex.Warnings, len(c.want), c.want)
		}
		for i, w := range c.want {
			if !strings.Contains(ex.Warnings[i], w) || !strings.Contains(ex.Warnings[i], "tasks") {
				t.Errorf("warning %q does not name %s in tasks", ex.Warnings[i], w)
			}
		}
	}
}
