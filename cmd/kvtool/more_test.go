package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAttach_addGetAndBadInput(t *testing.T) {
	dir := newStore(t)
	src := filepath.Join(t.TempDir(), "shot.png")
	if err := os.WriteFile(src, []byte("not really a png"), 0o600); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "attach", "add", src, "--id", "a1").stdout, &doc)
	if doc["id"] != "a1" || doc["mimeType"] != "image/png" || doc["type"] != "image" || len(doc["hash"].(string)) != 64 {
		t.Fatalf("attachment document: %v", doc)
	}
	// Identical content is stored once.
	mustRun(t, "", "--db", dir, "attach", "add", src, "--id", "a2")
	var st struct {
		Blobs struct{ Count int } `json:"blobs"`
	}
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "stats").stdout, &st)
	if st.Blobs.Count != 1 {
		t.Fatalf("%d blobs for identical content", st.Blobs.Count)
	}
	if r := mustRun(t, "", "--db", dir, "attach", "get", "a2"); r.stdout != "not really a png" {
		t.Fatalf("attach get: %q", r.stdout)
	}
	out := filepath.Join(t.TempDir(), "out.png")
	mustRun(t, "", "--db", dir, "attach", "get", "a1", "-o", out)
	if b, _ := os.ReadFile(out); string(b) != "not really a png" {
		t.Fatalf("attach get -o: %q", b)
	}
	before := dbHash(t, dir)
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"attach", "add", filepath.Join(dir, "nope")}, "no such file"},
		{[]string{"attach", "add", t.TempDir()}, "not a regular file"},
		{[]string{"attach", "get", "missing"}, "not found"},
		{[]string{"attach", "add", src, "--id", strings.Repeat("x", 300)}, "300 bytes"},
	} {
		r := kvtool(t, "", append([]string{"--db", dir}, c.args...)...)
		wantExit(t, r, exitError, c.args...)
		if !strings.Contains(r.stderr, c.msg) {
			t.Errorf("%v: stderr %q lacks %q", c.args, r.stderr, c.msg)
		}
	}
	if dbHash(t, dir) != before {
		t.Error("refused attach commands changed data.db")
	}
	// Deleting both references and collecting leaves no blob.
	mustRun(t, "", "--db", dir, "delete", "attachments", "a1", "a2")
	var gc map[string]int
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "gc").stdout, &gc)
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "stats").stdout, &st)
	if st.Blobs.Count != 0 {
		t.Fatalf("blobs left after deleting every reference: %d (gc %v)", st.Blobs.Count, gc)
	}
}

func TestBackup_commands(t *testing.T) {
	dir := newStore(t)
	var m map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "create").stdout, &m)
	name, _ := m["name"].(string)
	if name == "" || m["verified"] != true {
		t.Fatalf("manifest: %v", m)
	}
	var list []map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "list").stdout, &list)
	if len(list) != 1 || list[0]["name"] != name {
		t.Fatalf("list: %v", list)
	}
	var v map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "verify", name).stdout, &v)
	if v["ok"] != true {
		t.Fatalf("verify: %v", v)
	}
	wantExit(t, kvtool(t, "", "--db", dir, "backup", "verify", "20200101T000000.000000000Z"), exitError)
	wantExit(t, kvtool(t, "", "--db", dir, "backup", "restore", name), exitUsage) // no --yes, no terminal
	var rm map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "restore", name, "--yes").stdout, &rm)
	if prev, _ := rm["previous_backup"].(string); rm["name"] != name || prev == "" || prev == name {
		t.Fatalf("restore --json names no pre-restore backup: %v", rm)
	}
	var c map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "compact").stdout, &c)
	if _, ok := c["before"]; !ok {
		t.Fatalf("compact: %v", c)
	}
	// Compacting the compacted file gains nothing: it is kept as it is.
	before := dbHash(t, dir)
	var c2 map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "compact").stdout, &c2)
	if c2["replaced"] != false || c2["after"] != c2["before"] {
		t.Fatalf("second compact: %v", c2)
	}
	if dbHash(t, dir) != before {
		t.Fatal("second compact changed data.db")
	}
	if out := mustRun(t, "", "--db", dir, "compact").stdout; !strings.HasPrefix(out, "kept ") {
		t.Fatalf("third compact says %q", out)
	}
	// A damaged backup fails verification with exit 3 and is not restored.
	path := filepath.Join(dir, "backups", name+".db")
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	wantExit(t, kvtool(t, "", "--db", dir, "backup", "verify", name), exitIntegrity)
	wantExit(t, kvtool(t, "", "--db", dir, "backup", "restore", name, "--yes"), exitIntegrity)
}

func TestQueryAndSearch_json(t *testing.T) {
	dir := newStore(t)
	var ids []string
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "query", "notes", "--ids").stdout, &ids)
	if len(ids) == 0 {
		t.Fatal("no notes in the seed store")
	}
	var ex map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "query", "notes", "--where", "id="+ids[0], "--explain").stdout, &ex)
	for _, k := range []string{"plan", "scanned", "returned"} {
		if _, ok := ex[k]; !ok {
			t.Fatalf("explain lacks %s: %v", k, ex)
		}
	}
	mustRun(t, `{"id":"zz","content":"a zebracorn appeared"}`, "--db", dir, "put", "notes", "-")
	var sr struct {
		Total *int             `json:"total"`
		Hits  []map[string]any `json:"hits"`
	}
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "search", "zebracorns").stdout, &sr)
	hits := sr.Hits
	if sr.Total == nil || *sr.Total != 1 || len(hits) != 1 || hits[0]["id"] != "zz" {
		t.Fatalf("search: %+v", sr)
	}
	for _, h := range hits {
		if h["collection"] == nil || h["id"] == nil || h["score"] == nil {
			t.Fatalf("hit shape: %v", h)
		}
	}
	wantExit(t, kvtool(t, "", "--db", dir, "query", "no/such"), exitError)
	for _, bad := range [][]string{
		{"query", "notes", "--where", "content"},
		{"query", "notes", "--where", "timestamp>=yesterday"},
	} {
		wantExit(t, kvtool(t, "", append([]string{"--db", dir}, bad...)...), exitUsage, bad...)
	}
	wantExit(t, kvtool(t, "", "--db", dir, "query", "notes", "--limit", "-1"), exitUsage)
}

func TestExportImport_roundTrip(t *testing.T) {
	dir := newStore(t)
	out := filepath.Join(t.TempDir(), "export.json")
	mustRun(t, "", "--db", dir, "export", "-o", out)
	other := filepath.Join(t.TempDir(), "other")
	var res map[string]any
	oneJSON(t, mustRun(t, "", "--db", other, "--json", "import", out).stdout, &res)
	if res["backup"] == "" {
		t.Fatalf("import took no backup: %v", res)
	}
	again := filepath.Join(t.TempDir(), "again.json")
	mustRun(t, "", "--db", other, "export", "-o", again)
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	strip := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.Contains(l, `"exportedAt"`) {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if strip(string(a)) != strip(string(b)) {
		t.Fatal("export → import → export changed the file")
	}
	// A broken export file is refused whole, naming the place.
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte(`{"version":"1.0.0","exportedAt":"2025-01-01T00:00:00Z","notes":[{"id":"ok"},{"content":"no id"}]}`), 0o600)
	before := dbHash(t, other)
	r := kvtool(t, "", "--db", other, "import", bad)
	wantExit(t, r, exitError)
	if !strings.Contains(r.stderr, "notes[1]") {
		t.Errorf("import error does not name the element: %s", r.stderr)
	}
	if dbHash(t, other) != before {
		t.Error("refused import changed data.db")
	}
}
