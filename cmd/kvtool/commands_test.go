package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The happy paths of every basic command, with --json shapes checked
// against docs/KVTOOL.md and golden files for the human output.

func TestPut_json(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	checkAtEnd(t, dir)

	// One object: an array of one result.
	r := mustRun(t, `{"id":"x1","content":"hello"}`, "--db", dir, "--json", "put", "notes", "-")
	var one []map[string]any
	oneJSON(t, r.stdout, &one)
	if len(one) != 1 || one[0]["id"] != "x1" || one[0]["rev"] == nil || len(one[0]) != 2 {
		t.Fatalf("put one: got %v, want [{id:x1, rev:N}]", one)
	}

	// An array: one result per element, in order, revisions increasing.
	r = mustRun(t, "", "--db", dir, "--json", "put", "notes", filepath.Join("testdata", "seed", "notes.json"))
	var many []struct {
		ID  string      `json:"id"`
		Rev json.Number `json:"rev"`
	}
	oneJSON(t, r.stdout, &many)
	want := []string{"n1", "n2", "n3 with spaces/and:slashes"}
	if len(many) != len(want) {
		t.Fatalf("put array: %d results, want %d: %s", len(many), len(want), r.stdout)
	}
	prev := int64(0)
	for i, m := range many {
		rev, err := m.Rev.Int64()
		if m.ID != want[i] || err != nil || rev <= prev {
			t.Errorf("result %d: %+v, want id %q and a rev above %d", i, m, want[i], prev)
		}
		prev = rev
	}

	// A singleton: its name as id.
	r = mustRun(t, `{"theme":"light"}`, "--db", dir, "--json", "put", "settings")
	oneJSON(t, r.stdout, &one)
	if len(one) != 1 || one[0]["id"] != "settings" {
		t.Fatalf("put settings: got %v", one)
	}

	// Replacing bumps the revision.
	r = mustRun(t, `{"id":"x1","content":"hello again"}`, "--db", dir, "--json", "put", "notes")
	var again []putResult
	oneJSON(t, r.stdout, &again)
	if again[0].Rev <= uint64(prev) {
		t.Errorf("replace: rev %d, want above %d", again[0].Rev, prev)
	}
}

func TestPut_human(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	checkAtEnd(t, dir)
	r := mustRun(t, "", "--db", dir, "put", "tasks", filepath.Join("testdata", "seed", "tasks.json"))
	golden(t, "put_tasks.txt", r.stdout)
}

func TestGet(t *testing.T) {
	dir := newStore(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"get_note.txt", []string{"get", "notes", "n2"}},
		{"get_note_odd_id.txt", []string{"get", "notes", "n3 with spaces/and:slashes"}},
		{"get_session.txt", []string{"get", "sessions", "s1"}},
		{"get_session_header.txt", []string{"get", "sessions", "s1", "--header"}},
		{"get_settings.txt", []string{"get", "settings"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRun(t, "", append([]string{"--db", dir}, tc.args...)...)
			var doc map[string]any
			oneJSON(t, r.stdout, &doc)
			golden(t, tc.name, r.stdout)
			// --json prints the same document.
			rj := mustRun(t, "", append([]string{"--db", dir, "--json"}, tc.args...)...)
			if rj.stdout != r.stdout {
				t.Errorf("--json output differs:\n%s\nvs\n%s", rj.stdout, r.stdout)
			}
		})
	}

	// Unknown fields survive exactly, and --header drops the part fields.
	r := mustRun(t, "", "--db", dir, "get", "notes", "n2")
	if s := missing(r.stdout, `"extraField"`, `"ü"`, `2.5`, `null`); s != "" {
		t.Errorf("get n2 lost %s:\n%s", s, r.stdout)
	}
	r = mustRun(t, "", "--db", dir, "get", "sessions", "s1", "--header")
	if strings.Contains(r.stdout, "screenshots") || strings.Contains(r.stdout, "narrative") {
		t.Errorf("--header kept part fields:\n%s", r.stdout)
	}
	r = mustRun(t, "", "--db", dir, "get", "sessions", "s1")
	if s := missing(r.stdout, `"sc1"`, `"sc2"`, `"narrative"`, `"audioSegments"`); s != "" {
		t.Errorf("get s1 lost %s:\n%s", s, r.stdout)
	}
}

func TestGet_notFound(t *testing.T) {
	dir := newStore(t)
	r := kvtool(t, "", "--db", dir, "get", "notes", "nope")
	wantExit(t, r, exitError)
	if s := missing(r.stderr, "notes", `"nope"`, "not found"); s != "" {
		t.Errorf("stderr lacks %q: %s", s, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout not empty: %q", r.stdout)
	}
}

func TestPatch(t *testing.T) {
	dir := newStore(t)
	r := mustRun(t, "", "--db", dir, "--json", "get", "sessions", "s1")
	var before map[string]any
	oneJSON(t, r.stdout, &before)

	r = mustRun(t, "", "--db", dir, "--json", "patch", "sessions", "s1", filepath.Join("testdata", "input", "patch_session.json"))
	var pr map[string]any
	oneJSON(t, r.stdout, &pr)
	if len(pr) != 2 || pr["id"] != "s1" || pr["rev"] == nil {
		t.Fatalf("patch --json: got %v, want {id:s1, rev:N}", pr)
	}

	r = mustRun(t, "", "--db", dir, "get", "sessions", "s1")
	var after map[string]any
	oneJSON(t, r.stdout, &after)
	if after["status"] != "interrupted" || after["name"] != "Renamed" {
		t.Errorf("patched fields: status %v name %v", after["status"], after["name"])
	}
	if _, ok := after["tags"]; ok {
		t.Errorf("null in the patch did not remove tags: %v", after["tags"])
	}
	for _, k := range []string{"description", "startTime", "endTime", "screenshots", "summary"} {
		if b, _ := json.Marshal(before[k]); string(b) != mustJSON(t, after[k]) {
			t.Errorf("field %s changed by a patch that did not name it: %s -> %s", k, b, mustJSON(t, after[k]))
		}
	}

	// Human output, then --rev: the right revision applies, a stale one is
	// a conflict (exit 1) that changes nothing.
	r = mustRun(t, `{"status":"completed"}`, "--db", dir, "patch", "sessions", "s1", "-")
	if !strings.HasPrefix(r.stdout, "sessions s1 rev ") {
		t.Errorf("patch human output: %q", r.stdout)
	}
	rev := pr["rev"].(json.Number).String()
	r = kvtool(t, `{"status":"paused"}`, "--db", dir, "patch", "sessions", "s1", "-", "--rev", rev)
	wantExit(t, r, exitError)
	if !strings.Contains(strings.ToLower(r.stderr), "conflict") {
		t.Errorf("stale --rev: stderr does not say conflict: %s", r.stderr)
	}
	r = mustRun(t, "", "--db", dir, "get", "sessions", "s1", "--header")
	if !strings.Contains(r.stdout, `"completed"`) {
		t.Errorf("a conflicting patch changed the document:\n%s", r.stdout)
	}

	// A patch that is not an object, or that changes the id, is refused.
	wantExit(t, kvtool(t, `[1]`, "--db", dir, "patch", "sessions", "s1", "-"), exitError)
	wantExit(t, kvtool(t, `{"id":"other"}`, "--db", dir, "patch", "sessions", "s1", "-"), exitError)
	wantExit(t, kvtool(t, `{"a":1}`, "--db", dir, "patch", "sessions", "missing", "-"), exitError)
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDelete(t *testing.T) {
	dir := newStore(t)
	r := mustRun(t, "", "--db", dir, "--json", "delete", "notes", "n1", "n2", "does-not-exist")
	var dr map[string]any
	oneJSON(t, r.stdout, &dr)
	if len(dr) != 1 || dr["deleted"] != json.Number("2") {
		t.Fatalf("delete --json: got %v, want {deleted:2}", dr)
	}
	wantExit(t, kvtool(t, "", "--db", dir, "get", "notes", "n1"), exitError)

	r = mustRun(t, "", "--db", dir, "delete", "notes", "n1", "n3 with spaces/and:slashes")
	golden(t, "delete.txt", r.stdout)

	r = mustRun(t, "", "--db", dir, "--json", "delete", "settings", "settings")
	oneJSON(t, r.stdout, &dr)
	if dr["deleted"] != json.Number("1") {
		t.Errorf("delete settings: %v", dr)
	}
	// A session with parts goes with its parts (the teardown check
	// verifies that none is left behind).
	mustRun(t, "", "--db", dir, "delete", "sessions", "s1")
}

func TestLs(t *testing.T) {
	dir := newStore(t)
	for _, coll := range []string{"notes", "tasks", "sessions", "contacts"} {
		t.Run(coll, func(t *testing.T) {
			r := mustRun(t, "", "--db", dir, "ls", coll)
			golden(t, "ls_"+coll+".txt", r.stdout)
			r = mustRun(t, "", "--db", dir, "--json", "ls", coll)
			var rows []map[string]any
			oneJSON(t, r.stdout, &rows)
			if len(rows) == 0 {
				t.Fatalf("ls %s --json: empty", coll)
			}
			for _, row := range rows {
				if _, ok := row["id"].(string); !ok {
					t.Errorf("summary without string id: %v", row)
				}
			}
		})
	}
	r := mustRun(t, "", "--db", dir, "--json", "ls", "notes", "--limit", "1", "--offset", "1")
	var rows []map[string]any
	oneJSON(t, r.stdout, &rows)
	if len(rows) != 1 || rows[0]["id"] != "n2" {
		t.Errorf("ls --limit 1 --offset 1: %v", rows)
	}
	r = mustRun(t, "", "--db", dir, "--json", "ls", "companies")
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("ls of an empty collection: %q, want []", r.stdout)
	}
	r = mustRun(t, "", "--db", dir, "--json", "ls", "sessions")
	oneJSON(t, r.stdout, &rows)
	if s := mustJSON(t, rows[0]); strings.Contains(s, "aiAnalysis") || strings.Contains(s, "narrative") {
		t.Errorf("a session summary carries part data: %s", s)
	}
}

func TestStats(t *testing.T) {
	dir := newStore(t)
	r := mustRun(t, "", "--db", dir, "--json", "stats")
	var st struct {
		Collections map[string]struct {
			Count        *int64 `json:"count"`
			LogicalBytes *int64 `json:"logical_bytes"`
			StoredBytes  *int64 `json:"stored_bytes"`
		} `json:"collections"`
		FileBytes *int64 `json:"file_bytes"`
		FreeBytes *int64 `json:"free_bytes"`
		Blobs     *struct {
			Count         *int64 `json:"count"`
			LogicalBytes  *int64 `json:"logical_bytes"`
			PhysicalBytes *int64 `json:"physical_bytes"`
		} `json:"blobs"`
	}
	oneJSON(t, r.stdout, &st)
	if st.FileBytes == nil || *st.FileBytes <= 0 || st.FreeBytes == nil || st.Blobs == nil ||
		st.Blobs.Count == nil || st.Blobs.LogicalBytes == nil || st.Blobs.PhysicalBytes == nil {
		t.Fatalf("stats --json lacks a docs/KVTOOL.md field:\n%s", r.stdout)
	}
	wantCounts := map[string]int64{"notes": 3, "tasks": 2, "sessions": 1, "contacts": 1, "settings": 1, "companies": 0}
	for coll, n := range wantCounts {
		c, ok := st.Collections[coll]
		if !ok || c.Count == nil || c.LogicalBytes == nil || c.StoredBytes == nil {
			t.Errorf("stats --json: collection %s missing or incomplete", coll)
			continue
		}
		if *c.Count != n {
			t.Errorf("stats: %s count %d, want %d", coll, *c.Count, n)
		}
		if n > 0 && (*c.LogicalBytes == 0 || *c.StoredBytes == 0) {
			t.Errorf("stats: %s has %d documents but logical %d stored %d bytes", coll, n, *c.LogicalBytes, *c.StoredBytes)
		}
	}

	r = mustRun(t, "", "--db", dir, "stats")
	golden(t, "stats.txt", normalizeSizes(r.stdout))
}

func TestBuckets(t *testing.T) {
	dir := newStore(t)
	r := mustRun(t, "", "--db", dir, "--json", "buckets")
	var infos []map[string]any
	oneJSON(t, r.stdout, &infos)
	names := map[string]bool{}
	for _, b := range infos {
		name, _ := b["name"].(string)
		if name == "" {
			t.Fatalf("bucket without a name: %v", b)
		}
		names[name] = true
		// The pages a bucket takes hold what it uses, which holds its data.
		num := func(k string) int64 {
			n, err := b[k].(json.Number).Int64()
			if err != nil {
				t.Fatalf("%s: %s is %v", name, k, b[k])
			}
			return n
		}
		data, used, pages := num("data_bytes"), num("bytes"), num("page_bytes")
		if data > used || pages > 0 && used > pages { // 0 pages: kept inline
			t.Errorf("%s: data %v, used %v, pages %v: want data <= used <= pages", name, data, used, pages)
		}
	}
	for _, want := range []string{"c/notes", "m/notes", "c/sessions", "p/sessions", "log", "sys"} {
		if !names[want] {
			t.Errorf("buckets --json lacks %s: %v", want, names)
		}
	}

	r = mustRun(t, "", "--db", dir, "buckets")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if f := strings.Fields(lines[0]); len(f) < 2 || f[0] != "BUCKET" {
		t.Fatalf("buckets: header %q", lines[0])
	}
	found := false
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "c/notes" {
			found = true
			if f[1] != "3" {
				t.Errorf("buckets: c/notes has %s keys, want 3: %q", f[1], l)
			}
		}
	}
	if !found {
		t.Errorf("buckets: no c/notes row:\n%s", r.stdout)
	}
}

func TestDump(t *testing.T) {
	dir := newStore(t)
	r := mustRun(t, "", "--db", dir, "dump", "c/notes")
	golden(t, "dump_c_notes.txt", r.stdout)

	r = mustRun(t, "", "--db", dir, "--json", "dump", "c/notes", "--limit", "2")
	var entries []struct {
		Key   string         `json:"key"`
		Bytes int            `json:"bytes"`
		Value map[string]any `json:"value"`
		Error string         `json:"error"`
	}
	oneJSON(t, r.stdout, &entries)
	if len(entries) != 2 || entries[0].Key != "n1" || entries[1].Key != "n2" {
		t.Fatalf("dump --limit 2: %+v", entries)
	}
	for _, e := range entries {
		if e.Error != "" || e.Bytes <= 0 || e.Value["doc"] == nil || e.Value["rev"] == nil {
			t.Errorf("dump entry %q: %+v", e.Key, e)
		}
	}

	r = mustRun(t, "", "--db", dir, "--json", "dump", "c/notes", "--prefix", "n3")
	oneJSON(t, r.stdout, &entries)
	if len(entries) != 1 || entries[0].Key != "n3 with spaces/and:slashes" {
		t.Errorf("dump --prefix n3: %+v", entries)
	}

	// Parts are shown with their field and index, log entries by sequence.
	r = mustRun(t, "", "--db", dir, "dump", "p/sessions")
	if !strings.Contains(r.stdout, "s1/screenshots") {
		t.Errorf("dump p/sessions:\n%s", r.stdout)
	}
	r = mustRun(t, "", "--db", dir, "--json", "dump", "log", "--limit", "1")
	var logs []map[string]any
	oneJSON(t, r.stdout, &logs)
	if len(logs) != 1 || logs[0]["key"] != "1" {
		t.Errorf("dump log --limit 1: %v", logs)
	}

	// An unknown bucket is an error naming it.
	r = kvtool(t, "", "--db", dir, "dump", "c/nothing")
	if r.code == exitOK || !strings.Contains(r.stderr, "c/nothing") {
		t.Errorf("dump of an unknown bucket: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestCheck_clean(t *testing.T) {
	dir := newStore(t)
	r := mustRun(t, "", "--db", dir, "check")
	golden(t, "check_ok.txt", r.stdout)

	r = mustRun(t, "", "--db", dir, "--json", "check")
	var rep map[string]any
	oneJSON(t, r.stdout, &rep)
	probs, ok := rep["problems"].([]any)
	if rep["ok"] != true || !ok || len(probs) != 0 || len(rep) != 2 {
		t.Errorf("check --json: %v, want {ok:true, problems:[]}", rep)
	}
}

// TestQuery_extrasAnyValue: extras hold any JSON value; a query of them
// prints each value, objects or not, instead of failing on the first
// that is not an object, beside its key: a value's own "id" member made
// the value under one key look like another's (round 6, fidelity6 #8).
func TestQuery_extrasAnyValue(t *testing.T) {
	dir := newStore(t)
	mustRun(t, `[1,2]`, "--db", dir, "put", "extras", "--id", "q-arr", "-")
	mustRun(t, `{"a":1,"id":"q-arr"}`, "--db", dir, "put", "extras", "--id", "q-obj", "-")
	mustRun(t, `"str"`, "--db", dir, "put", "extras", "--id", "q-str", "-")
	var got []map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "query", "extras").stdout, &got)
	want := map[string]string{"q-arr": "[1 2]", "q-obj": "map[a:1 id:q-arr]", "q-str": "str"}
	for _, d := range got {
		key, _ := d["id"].(string)
		if w, ok := want[key]; ok && fmt.Sprint(d["value"]) == w && len(d) == 2 {
			delete(want, key)
		}
	}
	if len(want) > 0 {
		t.Errorf("query extras: %v, lacks %v", got, want)
	}
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "query", "extras", "--where", "a=1").stdout, &got)
	if len(got) != 1 || got[0]["id"] != "q-obj" || fmt.Sprint(got[0]["value"]) != "map[a:1 id:q-arr]" {
		t.Errorf("query extras --where a=1: %v", got)
	}
}

// TestImport_attachmentsWithoutContent: an export carries attachments'
// metadata only; importing it into a store without their content names
// them, in the JSON output and in a warning on stderr, as in the human
// output.
func TestImport_attachmentsWithoutContent(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	checkAtEnd(t, src)
	file := filepath.Join(t.TempDir(), "att.txt")
	if err := os.WriteFile(file, []byte("attachment bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", src, "attach", "add", file, "--id", "att1")
	export := filepath.Join(t.TempDir(), "export.json")
	mustRun(t, "", "--db", src, "export", "-o", export)

	dst := filepath.Join(t.TempDir(), "dst")
	skipCheck(dst) // blob-missing until the file is added
	r := mustRun(t, "", "--db", dst, "--json", "import", export, "--yes")
	var out struct {
		Without []string `json:"attachments_without_content"`
	}
	oneJSON(t, r.stdout, &out)
	if !slices.Equal(out.Without, []string{"att1"}) {
		t.Errorf("attachments_without_content %v, want [att1]", out.Without)
	}
	if s := missing(r.stderr, "warning", "1 attachment(s) came without their content"); s != "" {
		t.Errorf("stderr lacks %q: %s", s, r.stderr)
	}
	dst2 := filepath.Join(t.TempDir(), "dst2")
	skipCheck(dst2)
	if s := missing(mustRun(t, "", "--db", dst2, "import", export, "--yes").stdout, "1 attachment(s) came without their content"); s != "" {
		t.Errorf("human output lacks %q", s)
	}
}

// TestQuery_textFieldTypoWarns: on a user collection, field~TEXT of a
// field no document has ran without a word; it warns, as a comparison on
// such a field does.
func TestQuery_textFieldTypoWarns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	checkAtEnd(t, dir)
	mustRun(t, `[{"id":"w1","name":"word here"}]`, "--db", dir, "put", "items", "-")
	r := mustRun(t, "", "--db", dir, "query", "items", "--where", "nosuch~word")
	if s := missing(r.stderr, "warning", `no document of items has the field "nosuch"`); s != "" {
		t.Errorf("stderr lacks %q: %q", s, r.stderr)
	}
	if r := mustRun(t, "", "--db", dir, "query", "items", "--where", "name~word", "--ids"); r.stderr != "" || !strings.Contains(r.stdout, "w1") {
		t.Errorf("name~word: %q %q", r.stdout, r.stderr)
	}
}
