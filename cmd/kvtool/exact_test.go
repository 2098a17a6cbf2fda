package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exactRefusals is issue 15's corpus of inputs that used to be stored
// changed with exit 0. Through put, patch and import each must exit 1
// naming the JSON path and byte offset, and leave data.db byte for byte.
var exactRefusals = []struct {
	name, cmd, in string
	want          []string // substrings of stderr
}{
	{"put raw invalid UTF-8", "put", "{\"id\":\"n1\",\"content\":\"caf\xe9\"}", []string{"$.content", "byte 25", "not UTF-8"}},
	{"put lone high surrogate", "put", `{"id":"\ud800"}`, []string{"$.id", "byte 7", `\ud800`}},
	{"put lone low surrogate", "put", `{"id":"\udfff"}`, []string{"$.id", "byte 7", `\udfff`}},
	{"put surrogate names", "put", `{"id":"x","m":{"\ud800":"A","\udc00":"B"}}`, []string{"$.m", "byte 16", `\ud800`}},
	{"put duplicate member", "put", `{"id":"d2","id":"d3"}`, []string{"$.id", "byte 11", `"id" appears twice`}},
	{"put same id twice", "put", "[{\"id\":\"a\",\"v\":1},\n {\"id\":\"b\"},\n {\"id\":\"a\",\"v\":2}]", []string{"$[2]", "line 3", "byte 33", `"a" appears twice`}},
	{"patch raw invalid UTF-8", "patch", "{\"content\":\"caf\xe9\"}", []string{"$.content", "byte 15", "not UTF-8"}},
	{"patch duplicate member", "patch", `{"status":"a","status":"b"}`, []string{"$.status", "byte 14", "appears twice"}},
	{"import raw invalid UTF-8", "import", "{\"notes\":[{\"id\":\"n1\",\"content\":\"caf\xe9\"}]}", []string{"notes[0].content", "byte 35", "not UTF-8"}},
	{"import lone surrogate id", "import", `{"notes":[{"id":"\ud800"}]}`, []string{"notes[0].id", "byte 17", "surrogate"}},
	{"import surrogate names", "import", `{"notes":[{"id":"x","m":{"\ud800":"A","\udc00":"B"}}]}`, []string{"notes[0].m", "byte 26", "surrogate"}},
	{"import duplicate member", "import", `{"notes":[{"id":"d2","id":"d3"}]}`, []string{"notes[0].id", "byte 21", "appears twice"}},
	{"import same id twice", "import", `{"notes":[{"id":"a"},{"id":"a"}]}`, []string{"notes[1].id", "byte 21", `"a" appears twice in notes`}},
}

// TestExact_refused runs the corpus: exit 1, the message (golden), data.db
// unchanged and no backup taken.
func TestExact_refused(t *testing.T) {
	var all strings.Builder
	for _, tc := range exactRefusals {
		dir := newStore(t)
		before := dbHash(t, dir)
		args := []string{"--db", dir, tc.cmd}
		stdin := ""
		switch tc.cmd {
		case "put":
			args, stdin = append(args, "notes", "-"), tc.in
		case "patch":
			mustRun(t, `{"id":"n-patch","status":"x"}`, "--db", dir, "put", "notes", "-")
			before = dbHash(t, dir)
			args, stdin = append(args, "notes", "n-patch", "-"), tc.in
		case "import":
			file := filepath.Join(t.TempDir(), "input.json")
			if err := os.WriteFile(file, []byte(tc.in), 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--yes", file)
		}
		r := kvtool(t, stdin, args...)
		wantExit(t, r, exitError, args...)
		if s := missing(r.stderr, tc.want...); s != "" {
			t.Errorf("%s: stderr lacks %q:\n%s", tc.name, s, r.stderr)
		}
		if dbHash(t, dir) != before {
			t.Errorf("%s: data.db changed", tc.name)
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, "backups")); len(entries) != 0 {
			t.Errorf("%s: a backup was taken", tc.name)
		}
		stderr := r.stderr
		if i := strings.Index(stderr, "input.json"); i >= 0 {
			stderr = "kvtool: <file>" + stderr[i+len("input.json"):]
		}
		fmt.Fprintf(&all, "== %s\n%s", tc.name, stderr)
	}
	golden(t, "exact_refused.txt", all.String())
}

// exactNumbers are numbers float64 cannot hold, and some it can.
const exactNumbers = `[9007199254740993.0, 123456789.123456789123456789, 1.00000000000000001, 123456789012345678901234567890e0, 0.1, 2.50, 1e400, -1e-400]`

// TestExact_kept: numbers come back from get with their value, through
// put, and through export and import into another store; timestamps in
// every form compare the same way in queries.
func TestExact_kept(t *testing.T) {
	dir := newStore(t)
	mustRun(t, `{"id":"num","nums":`+exactNumbers+`,"s":"caf\u00e9 \ud83d\ude00"}`, "--db", dir, "put", "notes", "-")
	got := mustRun(t, "", "--db", dir, "--json", "get", "notes", "num").stdout
	golden(t, "exact_kept.txt", got)

	file := filepath.Join(t.TempDir(), "export.json")
	mustRun(t, "", "--db", dir, "export", "-o", file)
	other := filepath.Join(t.TempDir(), "other")
	checkAtEnd(t, other)
	mustRun(t, "", "--db", other, "import", file)
	if again := mustRun(t, "", "--db", other, "--json", "get", "notes", "num").stdout; again != got {
		t.Errorf("export and import changed the document:\n%s\nwas\n%s", again, got)
	}

	// One instant, written five ways, on a timestamp field: a date-only
	// query finds them all.
	mustRun(t, `[{"id":"t1","dueDate":"2026-01-01"},{"id":"t2","dueDate":"2026-01-01 00:00:00Z"},
		{"id":"t3","dueDate":1767225600000},{"id":"t4","dueDate":"1767225600000"},{"id":"t5","dueDate":"2026-01-01T01:00:00+0100"}]`,
		"--db", dir, "put", "tasks", "-")
	var ids []string
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "query", "tasks", "--where", "dueDate=2026-01-01", "--ids").stdout, &ids)
	if strings.Join(ids, ",") != "t1,t2,t3,t4,t5" {
		t.Errorf("dueDate=2026-01-01 found %v", ids)
	}
}

// TestExact_importUnreadableTime: import reports a time it cannot read
// instead of taking it as time 0, and keeps the stored version: the two
// cannot be ordered.
func TestExact_importUnreadableTime(t *testing.T) {
	dir := newStore(t)
	mustRun(t, `{"id":"t9","title":"stored","updatedAt":"2026-01-01T00:00:00Z"}`, "--db", dir, "put", "tasks", "-")
	file := filepath.Join(t.TempDir(), "export.json")
	in := `{"tasks":[{"id":"t9","title":"imported","updatedAt":"next tuesday"},{"id":"t8","title":"new","updatedAt":1767225600000}]}`
	if err := os.WriteFile(file, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Counts          map[string]int `json:"counts"`
		UnreadableTimes []string       `json:"unreadable_times"`
	}
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "import", file).stdout, &out)
	if out.Counts["tasks"] != 1 || len(out.UnreadableTimes) != 1 || !strings.Contains(out.UnreadableTimes[0], `updatedAt "next tuesday" is not a time`) {
		t.Fatalf("import: %+v", out)
	}
	var doc map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "get", "tasks", "t9").stdout, &doc)
	if doc["title"] != "stored" {
		t.Fatalf("t9 is %v", doc)
	}
	b, _ := json.Marshal(out)
	t.Logf("%s", b)
}
