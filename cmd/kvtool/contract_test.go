package main

import (
	"encoding/json"
	"testing"
)

// TestJSON_documentedKeys checks --json keys docs/KVTOOL.md names that
// were left out when empty: query --explain's index on a full scan,
// backup list's age, and every check problem's collection (a blob's
// problem concerns no document).
func TestJSON_documentedKeys(t *testing.T) {
	store := newStore(t)
	keys := func(args ...string) map[string]any {
		t.Helper()
		r := mustRun(t, "", args...).stdout
		var m map[string]any
		if err := json.Unmarshal([]byte(r), &m); err != nil {
			var a []map[string]any
			if err := json.Unmarshal([]byte(r), &a); err != nil || len(a) == 0 {
				t.Fatalf("%v: %s", args, r)
			}
			return a[0]
		}
		return m
	}
	ex := keys("--db", store, "--json", "query", "notes", "--where", "nosuch=1", "--explain")
	if _, ok := ex["index"]; !ok || ex["plan"] != "full-scan" {
		t.Errorf("explain of a full scan: %v, want an index key", ex)
	}
	mustRun(t, "", "--db", store, "backup", "create")
	if b := keys("--db", store, "--json", "backup", "list"); b["age"] == nil {
		t.Errorf("backup list: %v, want an age", b)
	}
	damagedBlob(t, store, "att1")
	r := kvtool(t, "", "--db", store, "--json", "check")
	wantExit(t, r, exitIntegrity)
	var rep struct {
		Problems []map[string]any `json:"problems"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Problems) == 0 {
		t.Fatalf("check: %s (%v)", r.stdout, err)
	}
	for _, p := range rep.Problems {
		for _, k := range []string{"kind", "collection", "id", "detail"} {
			if _, ok := p[k]; !ok {
				t.Errorf("problem %v has no %q", p, k)
			}
		}
	}
}

// TestQuery_hugeOffset checks that an offset near the largest int is an
// empty page, not a wrapped bound read as store damage (exit 3).
func TestQuery_hugeOffset(t *testing.T) {
	store := newStore(t)
	for _, args := range [][]string{
		{"query", "notes", "--sort", "title", "--offset", "9223372036854775800", "--limit", "50", "--ids"},
		{"query", "notes", "--offset", "9223372036854775800", "--limit", "50", "--ids"},
	} {
		if r := mustRun(t, "", append([]string{"--db", store}, args...)...); r.stdout != "" {
			t.Errorf("%v: %q, want an empty page", args, r.stdout)
		}
	}
}
