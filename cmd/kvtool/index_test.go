package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestIndex: index add declares and backfills, ls lists with counts, a
// query uses the index, drop removes it; bad input is a usage error or an
// error naming what was wrong, and changes nothing.
func TestIndex(t *testing.T) {
	dir := newStore(t)
	mustRun(t, `[{"id":"w1","size":3,"due":"2026-01-02T00:00:00Z"},{"id":"w2","size":5},{"id":"w3","size":[1,3]}]`,
		"--db", dir, "put", "widgets", "-")

	r := mustRun(t, "", "--db", dir, "--json", "index", "add", "widgets", "size", "--type", "number")
	var added map[string]any
	oneJSON(t, r.stdout, &added)
	if len(added) != 4 || added["collection"] != "widgets" || added["field"] != "size" || added["type"] != "number" || added["entries"] != json.Number("4") {
		t.Fatalf("index add --json: %v", added)
	}
	r = mustRun(t, "", "--db", dir, "index", "add", "widgets", "due", "--type", "time")
	golden(t, "index_add.txt", r.stdout)
	r = mustRun(t, "", "--db", dir, "index", "ls", "widgets")
	golden(t, "index_ls.txt", r.stdout)

	var all []map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "index", "ls").stdout, &all)
	var user, builtin int
	for _, ix := range all {
		if ix["builtin"] == true {
			builtin++
		} else {
			user++
		}
	}
	if user != 2 || builtin == 0 {
		t.Fatalf("index ls --json: %d declared and %d built-in indexes, want 2 and some: %v", user, builtin, all)
	}

	r = mustRun(t, "", "--db", dir, "--json", "query", "widgets", "--where", "size=3", "--explain")
	if !strings.Contains(r.stdout, `"index-range"`) {
		t.Fatalf("query plan with the declared index: %s", r.stdout)
	}
	r = mustRun(t, "", "--db", dir, "--json", "query", "widgets", "--where", "size=3", "--ids")
	if !strings.Contains(r.stdout, `"w1"`) || !strings.Contains(r.stdout, `"w3"`) || strings.Contains(r.stdout, `"w2"`) {
		t.Fatalf("query through the declared index: %s", r.stdout)
	}

	r = mustRun(t, "", "--db", dir, "--json", "index", "drop", "widgets", "size")
	if strings.TrimSpace(r.stdout) != "{}" {
		t.Fatalf("index drop --json: %q", r.stdout)
	}
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "index", "ls", "widgets").stdout, &all)
	if len(all) != 1 || all[0]["field"] != "due" {
		t.Fatalf("after drop: %v", all)
	}

	before := dbHash(t, dir)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"index", "add", "widgets", "size", "--type", "colour"}, exitUsage, `--type "colour"`},
		{[]string{"index", "add", "widgets"}, exitUsage, "takes 2 argument(s)"},
		{[]string{"index", "add", "Bad Name", "size"}, exitError, "Bad Name"}, // docs/KVTOOL.md: a bad collection name is exit 1
		{[]string{"index", "lst"}, exitUsage, `unknown subcommand "lst"`},
		{[]string{"index", "drop", "sessions", "status"}, exitError, "built-in"},
		{[]string{"index", "drop", "widgets", "nosuch"}, exitError, "widgets has no index on nosuch"},
		{[]string{"index", "add", "sessions", "mood"}, exitError, "sessions is a built-in collection"},
	} {
		r := kvtool(t, "", append([]string{"--db", dir}, tc.args...)...)
		wantExit(t, r, tc.code, tc.args...)
		if !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "cairn:") {
			t.Errorf("%v: stderr %q, want it to say %q without package prefixes", tc.args, r.stderr, tc.want)
		}
	}
	if dbHash(t, dir) != before {
		t.Fatal("refused index commands changed the store")
	}
	for _, sub := range []string{"add", "ls", "drop"} {
		r := mustRun(t, "", "index", sub, "--help")
		if !strings.Contains(r.stdout, "index "+sub) {
			t.Errorf("index %s --help: %q", sub, r.stdout)
		}
	}
}

// TestExport_jsonSummary: with -o FILE, --json prints one object saying
// what was written; without -o, stdout is the export itself.
func TestExport_jsonSummary(t *testing.T) {
	dir := newStore(t)
	out := filepath.Join(t.TempDir(), "export.json")
	var sum map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "export", "-o", out).stdout, &sum)
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if sum["output"] != out || sum["bytes"] != json.Number(strconv.FormatInt(fi.Size(), 10)) || sum["damaged"] != json.Number("0") {
		t.Fatalf("export --json -o: %v (file of %d bytes)", sum, fi.Size())
	}
	var whole map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "export").stdout, &whole)
	if whole["version"] == nil {
		t.Fatalf("export --json without -o is not the export: %v", whole)
	}
}

// TestIndex_compound: index add with comma-separated fields declares a
// compound index that query --explain shows chosen with its estimate, that
// answers as a scan does, and that drop removes by its "+" name; --type
// and empty fields are refused without changing the store.
func TestIndex_compound(t *testing.T) {
	dir := newStore(t)
	var docs []string
	for i := range 30 {
		docs = append(docs, `{"id":"w`+strconv.Itoa(i)+`","status":"s`+strconv.Itoa(i%3)+`","n":`+strconv.Itoa(i)+`}`)
	}
	mustRun(t, "["+strings.Join(docs, ",")+"]", "--db", dir, "put", "widgets", "-")
	before := dbHash(t, dir)
	for _, args := range [][]string{
		{"index", "add", "widgets", "status,n", "--type", "number"},
		{"index", "add", "widgets", "status,,n"},
	} {
		r := kvtool(t, "", append([]string{"--db", dir}, args...)...)
		wantExit(t, r, exitUsage, args...)
	}
	if dbHash(t, dir) != before {
		t.Fatal("refused compound declarations changed the store")
	}
	var added map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "index", "add", "widgets", "status,n").stdout, &added)
	if added["field"] != "status+n" || added["type"] != "any" || added["entries"] != json.Number("30") {
		t.Fatalf("index add status,n: %v", added)
	}
	r := mustRun(t, "", "--db", dir, "query", "widgets", "--where", "status=s1", "--where", "n>=20", "--explain")
	if !strings.Contains(r.stdout, "status+n") || !strings.Contains(r.stdout, "keys)") {
		t.Fatalf("query --explain does not show the compound index and its estimate: %s", r.stdout)
	}
	r = mustRun(t, "", "--db", dir, "--json", "query", "widgets", "--where", "status=s1", "--where", "n>=20", "--ids", "--sort", "n")
	if strings.Join(strings.Fields(r.stdout), "") != `["w22","w25","w28"]` {
		t.Fatalf("query through the compound index: %s", r.stdout)
	}
	mustRun(t, "", "--db", dir, "index", "drop", "widgets", "status+n")
	var all []map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "index", "ls", "widgets").stdout, &all)
	if len(all) != 0 {
		t.Fatalf("after drop: %v", all)
	}
}
