package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/gen"
)

type demoJSON struct {
	Counts  map[string]int     `json:"counts"`
	Timings map[string]float64 `json:"timings_ms"`
}

// demo --sessions 20 builds the generator's counts, prints one JSON
// document with counts and timings, and leaves a store that checks clean.
func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	checkAtEnd(t, dir)
	r := mustRun(t, "", "--db", dir, "--json", "demo", "--sessions", "20", "--seed", "3")
	var res demoJSON
	oneJSON(t, r.stdout, &res)
	if res.Counts["sessions"] != 20 {
		t.Errorf("counts[sessions] = %d, want 20", res.Counts["sessions"])
	}
	for _, coll := range gen.Collections {
		if res.Counts[coll] <= 0 {
			t.Errorf("counts[%s] = %d, want some", coll, res.Counts[coll])
		}
	}
	if len(res.Timings) == 0 {
		t.Errorf("no timings: %s", r.stdout)
	}

	// The store holds what the counts say.
	r = mustRun(t, "", "--db", dir, "--json", "stats")
	var st struct {
		Collections map[string]struct {
			Count int `json:"count"`
		} `json:"collections"`
	}
	oneJSON(t, r.stdout, &st)
	for coll, n := range res.Counts {
		if st.Collections[coll].Count != n {
			t.Errorf("stats: %s holds %d, demo said %d", coll, st.Collections[coll].Count, n)
		}
	}
	mustRun(t, "", "--db", dir, "get", "settings")
	r = mustRun(t, "", "--db", dir, "--json", "check")
	var rep checkReport
	oneJSON(t, r.stdout, &rep)
	if !rep.OK {
		t.Errorf("demo store does not check clean: %s", r.stdout)
	}

	// The human tour names its steps.
	dir2 := filepath.Join(t.TempDir(), "demo2")
	checkAtEnd(t, dir2)
	r = mustRun(t, "", "--db", dir2, "demo", "--sessions", "20")
	if s := missing(r.stdout, "20 sessions", "Check", "0 problem(s)", "<mark>", kvtoolCommand()+" --db "); s != "" {
		t.Errorf("demo output lacks %q:\n%s", s, r.stdout)
	}
	// No Go value printed as Go prints it (a map literal).
	if strings.Contains(r.stdout, "map[") {
		t.Errorf("demo output shows a Go map:\n%s", r.stdout)
	}
}

// demo refuses a store that holds documents unless --force, naming the
// way out, and the refusal changes nothing.
func TestDemo_refusesNonEmptyStore(t *testing.T) {
	dir := newStore(t)
	r := mustRun(t, "", "--db", dir, "--json", "ls", "notes")
	notesBefore := r.stdout

	r = kvtool(t, "", "--db", dir, "demo", "--sessions", "20")
	wantExit(t, r, exitError)
	if s := missing(r.stderr, "--force", dir); s != "" {
		t.Errorf("refusal stderr lacks %q: %s", s, r.stderr)
	}
	r = mustRun(t, "", "--db", dir, "--json", "ls", "notes")
	if r.stdout != notesBefore {
		t.Errorf("refused demo changed the notes")
	}
	r = mustRun(t, "", "--db", dir, "--json", "stats")
	var st struct {
		Collections map[string]struct {
			Count int `json:"count"`
		} `json:"collections"`
	}
	oneJSON(t, r.stdout, &st)
	if st.Collections["sessions"].Count != 1 {
		t.Errorf("refused demo wrote sessions: %d", st.Collections["sessions"].Count)
	}

	// With --force it builds, keeping the documents it does not replace.
	r = mustRun(t, "", "--db", dir, "--json", "demo", "--sessions", "20", "--force")
	var res demoJSON
	oneJSON(t, r.stdout, &res)
	if res.Counts["sessions"] != 20 {
		t.Errorf("demo --force: counts %v", res.Counts)
	}
	mustRun(t, "", "--db", dir, "get", "notes", "n1")
}

// A refused demo must not touch the file at all (docs/KVTOOL.md: a command
// that writes changes everything it was asked to, or nothing).
func TestDemo_refusal_fileUnchanged(t *testing.T) {
	dir := newStore(t)
	before := dbHash(t, dir)
	wantExit(t, kvtool(t, "", "--db", dir, "demo", "--sessions", "20"), exitError)
	if dbHash(t, dir) != before {
		t.Errorf("a refused demo rewrote data.db (it opens the store read-write before deciding to refuse)")
	}
}

// The same seed builds the same documents.
func TestDemo_deterministic(t *testing.T) {
	var outs []string
	for i := range 2 {
		dir := filepath.Join(t.TempDir(), "demo", string(rune('a'+i)))
		checkAtEnd(t, dir)
		mustRun(t, "", "--db", dir, "--json", "demo", "--sessions", "20", "--seed", "9")
		r := mustRun(t, "", "--db", dir, "--json", "ls", "sessions")
		var rows []map[string]any
		oneJSON(t, r.stdout, &rows)
		b, _ := json.Marshal(rows)
		outs = append(outs, string(b))
	}
	if outs[0] != outs[1] {
		t.Errorf("two demos with seed 9 listed different sessions")
	}
	if !strings.Contains(outs[0], `"id"`) {
		t.Errorf("no sessions listed: %s", outs[0])
	}
}
