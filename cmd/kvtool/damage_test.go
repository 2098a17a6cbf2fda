package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/kv"
)

// Recovery from damage (issue 14): from each problem check reports, the way
// back it prints works, through kvtool, on real files with flipped bytes.

// TestDamage_deleteDamaged: a note whose stored value fails its checksum
// is deleted by kvtool delete (exit 0, deleted 1), as check's fix says,
// and the store then checks clean.
func TestDamage_deleteDamaged(t *testing.T) {
	dir := newStore(t)
	m := marker(t)
	mustRun(t, `{"id":"victim","content":"Budget","tags":["work"],"payload":"`+m+`"}`, "--db", dir, "put", "notes", "-")
	flipMarker(t, dir, m)
	r := kvtool(t, "", "--db", dir, "check")
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stdout, "fix", "delete notes victim", "put notes FILE"); s != "" {
		t.Errorf("check's fix lacks %q:\n%s", s, r.stdout)
	}
	r = mustRun(t, "", "--db", dir, "--json", "delete", "notes", "victim")
	var out struct{ Deleted int }
	oneJSON(t, r.stdout, &out)
	if out.Deleted != 1 {
		t.Errorf("deleted %d, want 1", out.Deleted)
	}
	mustRun(t, "", "--db", dir, "check")
	wantExit(t, kvtool(t, "", "--db", dir, "get", "notes", "victim"), exitError)
}

// TestDamage_exportSalvage: export of a damaged store writes nothing and
// exits 3; export --salvage writes every readable document, names the
// damaged one on stderr and exits 3; the salvaged file imports; neither
// changes data.db.
func TestDamage_exportSalvage(t *testing.T) {
	dir := newStore(t)
	skipCheck(dir)
	m := marker(t)
	mustRun(t, `{"id":"victim","content":"lost","payload":"`+m+`"}`, "--db", dir, "put", "notes", "-")
	mustRun(t, `{"id":"kept","content":"still here"}`, "--db", dir, "put", "notes", "-")
	flipMarker(t, dir, m)
	before := dbHash(t, dir)

	r := kvtool(t, "", "--db", dir, "export")
	wantExit(t, r, exitIntegrity)
	if r.stdout != "" {
		t.Errorf("export of a damaged store wrote %d bytes", len(r.stdout))
	}
	if s := missing(r.stderr, "notes", "victim", "--salvage"); s != "" {
		t.Errorf("export stderr lacks %q: %s", s, r.stderr)
	}
	file := filepath.Join(t.TempDir(), "export.json")
	wantExit(t, kvtool(t, "", "--db", dir, "export", "-o", file), exitIntegrity)
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("export -o of a damaged store left a file: %v", err)
	}

	for _, args := range [][]string{{"export", "--salvage", "-o", file}, {"export", "--salvage", "--compact"}} {
		r := kvtool(t, "", append([]string{"--db", dir}, args...)...)
		wantExit(t, r, exitIntegrity, args...)
		if s := missing(r.stderr, "damaged", "notes", "victim"); s != "" {
			t.Errorf("%v: stderr lacks %q: %s", args, s, r.stderr)
		}
		body := []byte(r.stdout)
		if args[len(args)-1] == file {
			var err error
			if body, err = os.ReadFile(file); err != nil {
				t.Fatal(err)
			}
		}
		var x struct {
			Notes []map[string]any `json:"notes"`
		}
		if err := json.Unmarshal(body, &x); err != nil {
			t.Fatalf("%v: not an export file: %v", args, err)
		}
		ids := map[string]bool{}
		for _, n := range x.Notes {
			ids[n["id"].(string)] = true
		}
		if !ids["kept"] || ids["victim"] || !ids["n1"] {
			t.Errorf("%v: salvaged notes %v", args, ids)
		}
	}
	if dbHash(t, dir) != before {
		t.Error("export changed data.db")
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	checkAtEnd(t, fresh)
	mustRun(t, "", "--db", fresh, "import", file, "--yes")
	if s := missing(mustRun(t, "", "--db", fresh, "get", "notes", "kept").stdout, "still here"); s != "" {
		t.Errorf("the salvaged note did not import")
	}
}

// TestDamage_attachRepair: a blob file with a flipped byte (same size) is
// reported with a fix naming the attachment and attach add; attach add
// FILE --id ID repairs it and keeps the document's other fields; a new
// file with --name changes the content and the name only.
func TestDamage_attachRepair(t *testing.T) {
	dir := newStore(t)
	src := filepath.Join(t.TempDir(), "photo.png")
	content := []byte(strings.Repeat("png bytes ", 500))
	if err := os.WriteFile(src, content, 0o600); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "attach", "add", src, "--id", "a1").stdout, &doc)
	mustRun(t, `{"thumbnail":"data:image/png;base64,AAAA","dimensions":{"width":640,"height":480},"aiAnalysis":{"summary":"a chart"}}`,
		"--db", dir, "patch", "attachments", "a1", "-")
	hash := doc["hash"].(string)
	blob := filepath.Join(dir, "blobs", hash[:2], hash)
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(blob, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := kvtool(t, "", "--db", dir, "check")
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stdout, "blob-corrupt", "attach add FILE --id", "a1", "photo.png"); s != "" {
		t.Errorf("check's fix lacks %q:\n%s", s, r.stdout)
	}
	if strings.Contains(r.stdout, "backup restore") {
		t.Errorf("check advises a restore, but backups do not hold blob contents:\n%s", r.stdout)
	}

	mustRun(t, "", "--db", dir, "attach", "add", src, "--id", "a1")
	mustRun(t, "", "--db", dir, "check")
	var got map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "get", "attachments", "a1").stdout, &got)
	for _, f := range []string{"thumbnail", "dimensions", "aiAnalysis", "createdAt"} {
		if got[f] == nil {
			t.Errorf("attach add --id dropped %s: %v", f, got)
		}
	}
	if got["name"] != "photo.png" || got["hash"] != hash {
		t.Errorf("after the repair: %v", got)
	}
	out := filepath.Join(t.TempDir(), "out")
	mustRun(t, "", "--db", dir, "attach", "get", "a1", "-o", out)
	if b, _ := os.ReadFile(out); string(b) != string(content) {
		t.Error("the repaired attachment reads back different bytes")
	}

	other := filepath.Join(t.TempDir(), "v2.png")
	if err := os.WriteFile(other, []byte("version two"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", dir, "attach", "add", other, "--id", "a1", "--name", "chart.png")
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "get", "attachments", "a1").stdout, &got)
	if got["name"] != "chart.png" || got["hash"] == hash || got["thumbnail"] == nil || got["mimeType"] != "image/png" {
		t.Errorf("after attach add of a new file with --name: %v", got)
	}
}

// TestDamage_adviceAfterImport: after importing an export file (which
// carries no attachment bytes), check's fix for the missing blob is to
// re-add the file, naming the attachment, and not to restore the backup
// the import took (which would undo the import); following it makes check
// clean.
func TestDamage_adviceAfterImport(t *testing.T) {
	srcDir := newStore(t)
	file := filepath.Join(t.TempDir(), "photo.png")
	if err := os.WriteFile(file, []byte("photo bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", srcDir, "attach", "add", file, "--id", "att-1")
	export := filepath.Join(t.TempDir(), "export.json")
	mustRun(t, "", "--db", srcDir, "export", "-o", export)

	dir := filepath.Join(t.TempDir(), "imported")
	checkAtEnd(t, dir)
	mustRun(t, `{"id":"before"}`, "--db", dir, "put", "notes", "-")
	mustRun(t, "", "--db", dir, "backup", "create")
	mustRun(t, "", "--db", dir, "import", export, "--yes")
	r := kvtool(t, "", "--db", dir, "check")
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stdout, "blob-missing", "attach add FILE --id", "att-1"); s != "" {
		t.Errorf("check's fix lacks %q:\n%s", s, r.stdout)
	}
	if strings.Contains(r.stdout, "backup restore") {
		t.Errorf("check advises a restore that would undo the import:\n%s", r.stdout)
	}
	var rep struct {
		Problems []struct{ Kind, ID, Fix string }
	}
	oneJSON(t, kvtool(t, "", "--db", dir, "--json", "check").stdout, &rep)
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Fix, "att-1") {
		t.Errorf("check --json: %+v", rep.Problems)
	}
	mustRun(t, "", "--db", dir, "attach", "add", file, "--id", "att-1")
	mustRun(t, "", "--db", dir, "check")
}

// TestDamage_patchAndReindexSearch: patch of a session whose screenshots
// part fails its checksum refuses (exit 3, naming the collection and id)
// and leaves data.db as it was, since it cannot merge into data it cannot
// read; reindex --search indexes every other document, then names the
// damaged one and exits 3; check does not call the damaged document
// missing from the index (no reindex would change that), and the delete
// it advises repairs the store.
func TestDamage_patchAndReindexSearch(t *testing.T) {
	dir := newStore(t)
	m := marker(t)
	mustRun(t, `{"id":"victim","name":"Planning","startTime":"2026-02-01T10:00:00Z","screenshots":[{"path":"`+m+`"}]}`, "--db", dir, "put", "sessions", "-")
	flipMarker(t, dir, m)
	before := dbHash(t, dir)
	r := kvtool(t, `{"name":"renamed"}`, "--db", dir, "patch", "sessions", "victim", "-")
	wantExit(t, r, exitIntegrity, "patch")
	if s := missing(r.stderr, "sessions", "victim"); s != "" {
		t.Errorf("patch stderr lacks %q: %s", s, r.stderr)
	}
	if dbHash(t, dir) != before {
		t.Error("a refused patch changed data.db")
	}
	r = kvtool(t, "", "--db", dir, "reindex", "--search")
	wantExit(t, r, exitIntegrity, "reindex", "--search")
	if s := missing(r.stdout, "reindexed"); s != "" {
		t.Errorf("reindex --search stdout lacks %q: %s", s, r.stdout)
	}
	if s := missing(r.stderr, "damaged", "sessions", "victim"); s != "" {
		t.Errorf("reindex --search stderr lacks %q: %s", s, r.stderr)
	}
	r = kvtool(t, "", "--db", dir, "check")
	wantExit(t, r, exitIntegrity, "check")
	if strings.Contains(r.stdout, "search-missing") || !strings.Contains(r.stdout, "delete sessions victim") {
		t.Errorf("check:\n%s", r.stdout)
	}
	mustRun(t, "", "--db", dir, "delete", "sessions", "victim")
	mustRun(t, "", "--db", dir, "check")
}

// TestDamage_refusalsExit3: commands that stop because stored data is
// damaged exit 3 (docs/KVTOOL.md): reindex, compact and backup create,
// whose verified backup of a store with a damaged value fails, and every
// command on a data.db emptied to 0 bytes, which no write may take for a
// new store; backup restore still brings it back.
func TestDamage_refusalsExit3(t *testing.T) {
	dir := newStore(t)
	skipCheck(dir)
	m := marker(t)
	mustRun(t, `{"id":"victim","content":"lost","payload":"`+m+`"}`, "--db", dir, "put", "notes", "-")
	var b struct{ Name string }
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "create").stdout, &b)
	flipMarker(t, dir, m)
	before := dbHash(t, dir)
	for _, args := range [][]string{{"reindex"}, {"reindex", "--secondary"}, {"compact"}, {"backup", "create"}} {
		r := kvtool(t, "", append([]string{"--db", dir}, args...)...)
		wantExit(t, r, exitIntegrity, args...)
		if s := missing(r.stderr, "notes", "victim"); s != "" {
			t.Errorf("%v: stderr lacks %q: %s", args, s, r.stderr)
		}
	}
	if dbHash(t, dir) != before {
		t.Error("a refused command changed data.db")
	}

	path := filepath.Join(dir, "data.db")
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"check"}},
		{"", []string{"get", "notes", "n1"}},
		{`{"id":"new","content":"x"}`, []string{"put", "notes", "-"}},
	} {
		r := kvtool(t, c.stdin, append([]string{"--db", dir}, c.args...)...)
		wantExit(t, r, exitIntegrity, c.args...)
		if s := missing(r.stderr, path, "backup restore"); s != "" {
			t.Errorf("%v: stderr lacks %q: %s", c.args, s, r.stderr)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("data.db after the refused commands: %v", err)
	}
	mustRun(t, "", "--db", dir, "backup", "restore", b.Name, "--yes")
	mustRun(t, "", "--db", dir, "check")
	mustRun(t, "", "--db", dir, "get", "notes", "victim")
}

// TestDamage_checkJSONUnopenable: check --json prints its one document
// ({"ok":false,"problems":[...]}, the problem saying why) and exits 3 on a
// store too damaged to open (both meta pages damaged), where it printed
// nothing on stdout.
func TestDamage_checkJSONUnopenable(t *testing.T) {
	dir := newStore(t)
	skipCheck(dir)
	path := filepath.Join(dir, "data.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := int(binary.LittleEndian.Uint32(b[16+8:])) // the meta page's page size
	b[16] ^= 0xff                                   // the magic of meta page 0
	b[ps+16] ^= 0xff                                // and of meta page 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := kvtool(t, "", "--db", dir, "--json", "check")
	wantExit(t, r, exitIntegrity)
	var rep checkReport
	oneJSON(t, r.stdout, &rep)
	if rep.OK || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Detail, "meta") {
		t.Errorf("check --json of a store that does not open: %s", r.stdout)
	}
}

// TestDamage_attachGetMissingBlob: attach get of an attachment whose
// content file is missing exits 3, as check's blob-missing does: the
// store's data is damaged, the attachment is not absent.
func TestDamage_attachGetMissingBlob(t *testing.T) {
	dir := newStore(t)
	skipCheck(dir)
	src := filepath.Join(t.TempDir(), "a.txt")
	if err := os.WriteFile(src, []byte("hello attachment"), 0o600); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "attach", "add", src, "--id", "a1").stdout, &doc)
	hash := doc["hash"].(string)
	if err := os.Remove(filepath.Join(dir, "blobs", hash[:2], hash)); err != nil {
		t.Fatal(err)
	}
	wantExit(t, kvtool(t, "", "--db", dir, "check"), exitIntegrity)
	r := kvtool(t, "", "--db", dir, "attach", "get", "a1", "-o", filepath.Join(t.TempDir(), "out"))
	wantExit(t, r, exitIntegrity)
	if !strings.Contains(r.stderr, "a1") || !strings.Contains(r.stderr, "missing") {
		t.Errorf("attach get of a missing blob: %q", r.stderr)
	}
}

// TestDamage_bothMetaPages: with both bbolt meta pages damaged past a
// one-byte repair, every command refuses the store (exit 3) with the way
// back that exists: a backup while there is one, else export --salvage,
// which reads from the root page a meta page names and writes every
// document.
func TestDamage_bothMetaPages(t *testing.T) {
	dir := newStore(t)
	skipCheck(dir)
	want := mustRun(t, "", "--db", dir, "export", "--compact").stdout
	mustRun(t, "", "--db", dir, "backup", "create")
	path := filepath.Join(dir, kv.DataFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := int(binary.LittleEndian.Uint32(b[16+8:])) // meta page 0's page size
	for _, off := range []int{0, ps} {
		copy(b[off+16+56:], "damaged!") // the checksum, eight bytes
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}

	r := kvtool(t, "", "--db", dir, "check")
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stderr, "meta page", "backup restore"); s != "" {
		t.Errorf("check with a backup: stderr lacks %q: %s", s, r.stderr)
	}
	if err := os.RemoveAll(filepath.Join(dir, kv.BackupsDir)); err != nil {
		t.Fatal(err)
	}
	r = kvtool(t, "", "--db", dir, "get", "notes", "n1")
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stderr, "no verified backup", "export --salvage"); s != "" {
		t.Errorf("get with no backup: stderr lacks %q: %s", s, r.stderr)
	}

	r = kvtool(t, "", "--db", dir, "export", "--salvage", "--compact")
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stderr, "as it stands", "0 damaged document(s) left out"); s != "" {
		t.Errorf("export --salvage: stderr lacks %q: %s", s, r.stderr)
	}
	var got, exp map[string]any
	oneJSON(t, r.stdout, &got)
	oneJSON(t, want, &exp)
	for _, k := range []string{"exportedAt", "appVersion", "version"} {
		delete(got, k)
		delete(exp, k)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("export --salvage differs from the export before the damage:\n got %.400v\nwant %.400v", got, exp)
	}
}

// TestDamage_salvageCutOffLeaves: with the root page of the notes' primary
// bucket zeroed, export --salvage still writes every note: the leaf pages
// cut off from the tree are found, the freelist telling them from stale
// copies (each note was rewritten once, so every leaf has one).
func TestDamage_salvageCutOffLeaves(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	skipCheck(dir)
	var notes []map[string]any
	for i := 0; i < 3000; i++ {
		notes = append(notes, map[string]any{"id": fmt.Sprintf("n%04d", i), "content": fmt.Sprintf("first version of note %d", i)})
	}
	b, err := json.Marshal(notes)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, string(b), "--db", dir, "put", "notes", "-")
	for i := range notes {
		notes[i]["content"] = fmt.Sprintf("second version of note %d", i)
	}
	b, _ = json.Marshal(notes)
	mustRun(t, string(b), "--db", dir, "put", "notes", "-")

	path := filepath.Join(dir, kv.DataFile)
	root, ps := bucketRoot(t, dir, buckets.PrimaryBucket("notes"))
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, ps), int64(root)*ps); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	r := kvtool(t, "", "--db", dir, "export", "--salvage", "--compact")
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stderr, "cut off", "0 damaged document(s) left out"); s != "" {
		t.Errorf("stderr lacks %q: %s", s, r.stderr)
	}
	var x struct {
		Notes []map[string]any `json:"notes"`
	}
	oneJSON(t, r.stdout, &x)
	got := map[string]string{}
	for _, n := range x.Notes {
		got[n["id"].(string)], _ = n["content"].(string)
	}
	for i := range notes {
		if id := fmt.Sprintf("n%04d", i); got[id] != notes[i]["content"] {
			t.Fatalf("note %s: %q, want %q (%d notes salvaged)", id, got[id], notes[i]["content"], len(got))
		}
	}
}

// TestDamage_exportCrossLinkedPage: a child pointer of the notes' tree
// redirected to a leaf of the tasks' made export write tasks as notes,
// exit 0. The page graph is walked first: the page reached twice is named,
// exit 3, and nothing is written.
func TestDamage_exportCrossLinkedPage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	skipCheck(dir)
	var notes, tasks []map[string]any
	for i := 0; i < 3000; i++ {
		notes = append(notes, map[string]any{"id": fmt.Sprintf("n%04d", i), "content": fmt.Sprintf("note %d", i)})
		tasks = append(tasks, map[string]any{"id": fmt.Sprintf("t%04d", i), "title": fmt.Sprintf("task %d", i)})
	}
	for coll, docs := range map[string][]map[string]any{"notes": notes, "tasks": tasks} {
		b, err := json.Marshal(docs)
		if err != nil {
			t.Fatal(err)
		}
		mustRun(t, string(b), "--db", dir, "put", coll, "-")
	}
	path := filepath.Join(dir, kv.DataFile)
	root, ps := bucketRoot(t, dir, buckets.PrimaryBucket("notes"))
	taskLeaf, _ := bucketRoot(t, dir, buckets.PrimaryBucket("tasks")) // a branch page; its first child is read below
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint16(b[int64(root)*ps+8:]) != 0x01 || binary.LittleEndian.Uint16(b[int64(taskLeaf)*ps+8:]) != 0x01 {
		t.Fatal("the notes' or the tasks' root is not a branch page")
	}
	taskLeaf = binary.LittleEndian.Uint64(b[int64(taskLeaf)*ps+16+8:])  // its first child
	binary.LittleEndian.PutUint64(b[int64(root)*ps+16+16+8:], taskLeaf) // the notes' second child
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "export.json")
	r := kvtool(t, "", "--db", dir, "export", "-o", out)
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stderr, "referenced twice", "--salvage"); s != "" {
		t.Errorf("stderr lacks %q: %s", s, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("export of a cross-linked store wrote %s: %v", out, err)
	}
}

// TestDamage_gcKeepsBlobsOfASetAsideFile: after a restore set a damaged
// data.db aside, the content of an attachment added since the backup is
// referred to only by that file. check advised gc, which deleted the only
// copy; gc now keeps it, and check advises salvaging the file first.
func TestDamage_gcKeepsBlobsOfASetAsideFile(t *testing.T) {
	dir := newStore(t)
	skipCheck(dir)
	var m struct{ Name string }
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "create").stdout, &m)
	file := filepath.Join(t.TempDir(), "late.txt")
	if err := os.WriteFile(file, []byte("added after the backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	var att struct{ Hash string }
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "attach", "add", file, "--id", "late").stdout, &att)
	mk := marker(t)
	mustRun(t, `{"id":"victim","content":"`+mk+`"}`, "--db", dir, "put", "notes", "-")
	flipMarker(t, dir, mk)

	var restored struct {
		Aside string `json:"damaged_kept_as"`
	}
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "restore", m.Name, "--yes").stdout, &restored)
	if restored.Aside == "" {
		t.Fatal("the restore set no damaged file aside")
	}
	r := kvtool(t, "", "--db", dir, "check")
	if s := missing(r.stdout+r.stderr, "blob-orphan", "salvage the damaged data file"); s != "" {
		t.Errorf("check lacks %q:\n%s%s", s, r.stdout, r.stderr)
	}
	r = mustRun(t, "", "--db", dir, "gc")
	if s := missing(r.stdout, "deleted 0 blob(s)", "kept 1 unreferenced blob(s)"); s != "" {
		t.Errorf("gc output lacks %q: %s", s, r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", att.Hash[:2], att.Hash)); err != nil {
		t.Errorf("gc deleted the blob only the set-aside file refers to: %v", err)
	}
}

// TestDamage_searchNotADirectory: with a file in the search index's place,
// check advised reindex --search, which failed on it; the advice now says
// to move it away first, and following it works.
func TestDamage_searchNotADirectory(t *testing.T) {
	dir := newStore(t)
	search := filepath.Join(dir, kv.SearchDir)
	if err := os.RemoveAll(search); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(search, []byte("not an index"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := kvtool(t, "", "--db", dir, "check")
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stdout, "move "+search+" away", "reindex --search"); s != "" {
		t.Errorf("check's advice lacks %q:\n%s", s, r.stdout)
	}
	if err := os.Rename(search, search+".moved"); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", dir, "reindex", "--search")
}

// TestDamage_salvageNewestCommit: with the newest commit's meta page
// damaged beyond a one-byte repair, bbolt reads the commit before it, and
// export --salvage exited 0 without the newest write. It reads the newest
// commit from the root page the damaged meta page names, and says so.
func TestDamage_salvageNewestCommit(t *testing.T) {
	dir := newStore(t)
	skipCheck(dir)
	mustRun(t, `{"id":"newest","content":"the last acknowledged write"}`, "--db", dir, "put", "notes", "-")
	path := filepath.Join(dir, kv.DataFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := int(binary.LittleEndian.Uint32(b[16+8:]))
	newest := 0
	if binary.LittleEndian.Uint64(b[ps+16+48:]) > binary.LittleEndian.Uint64(b[16+48:]) {
		newest = ps
	}
	copy(b[newest+16+56:], "damaged!") // its checksum, eight bytes
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// A read refuses to answer from the commit before (round 8: it said
	// "not found", exit 1), naming the way back.
	r := kvtool(t, "", "--db", dir, "get", "notes", "newest")
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stderr, "newest commit", "backup create"); s != "" {
		t.Errorf("get: stderr lacks %q: %s", s, r.stderr)
	}
	r = kvtool(t, "", "--db", dir, "export", "--salvage", "--compact")
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stdout, "the last acknowledged write"); s != "" {
		t.Errorf("export --salvage lacks the newest write")
	}
	if s := missing(r.stderr, "the newest"); s != "" {
		t.Errorf("stderr lacks %q: %s", s, r.stderr)
	}
	// The way back: a writable open rebuilds the page, the write is there.
	r = mustRun(t, "", "--db", dir, "backup", "create")
	if s := missing(r.stderr, "rebuilt a damaged meta page"); s != "" {
		t.Errorf("backup create: stderr lacks %q: %s", s, r.stderr)
	}
	if s := missing(mustRun(t, "", "--db", dir, "get", "notes", "newest").stdout, "the last acknowledged write"); s != "" {
		t.Errorf("after the rebuild: %s", s)
	}
}

// TestDamage_keyOutOfOrder: one flipped byte of a note's key (n0050 reads
// n00u0) breaks its bucket's order: bbolt's lookups, and so delete, cannot
// reach it. check advised a delete that deleted nothing, and export
// --salvage left the readable note out. Salvage now writes it under its
// id, and check advises that.
func TestDamage_keyOutOfOrder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	skipCheck(dir)
	var notes []map[string]any
	for i := 0; i < 100; i++ {
		notes = append(notes, map[string]any{"id": fmt.Sprintf("n%04d", i), "content": fmt.Sprintf("note %d", i)})
	}
	b, err := json.Marshal(notes)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, string(b), "--db", dir, "put", "notes", "-")
	path := filepath.Join(dir, kv.DataFile)
	root, ps := bucketRoot(t, dir, buckets.PrimaryBucket("notes"))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pages := []uint64{root}
	if binary.LittleEndian.Uint16(data[int64(root)*ps+8:]) == 0x01 { // a branch: its leaves
		pages = nil
		for i := 0; i < int(binary.LittleEndian.Uint16(data[int64(root)*ps+10:])); i++ {
			pages = append(pages, binary.LittleEndian.Uint64(data[int64(root)*ps+16+int64(i)*16+8:]))
		}
	}
	flipped := false
	for _, p := range pages {
		page := data[int64(p)*ps : int64(p+1)*ps]
		if i := strings.Index(string(page), "n0050"); i >= 0 {
			page[i+3] = 'u' // n00u0: after n0099
			flipped = true
			break
		}
	}
	if !flipped {
		t.Fatal("the key n0050 is not in the notes' primary pages")
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := kvtool(t, "", "--db", dir, "check")
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stdout, "out of the bucket's order", "export --salvage"); s != "" {
		t.Errorf("check's advice lacks %q:\n%s", s, r.stdout)
	}
	r = kvtool(t, "", "--db", dir, "export", "--salvage", "--compact")
	wantExit(t, r, exitIntegrity)
	if s := missing(r.stdout, `"n0050"`, "note 50"); s != "" {
		t.Errorf("export --salvage lacks %q", s)
	}
}

// bucketRoot returns the root page of the top-level bucket name of the
// store in dir, and the page size, read from the file as bbolt lays it out
// (the newer meta page's root bucket, down its branch pages to the leaf
// that holds name). kvtool's tests do not import bbolt (docs/DESIGN.md).
func bucketRoot(t *testing.T, dir string, name []byte) (root uint64, ps int64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, kv.DataFile))
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	ps = int64(le.Uint32(b[16+8:]))
	meta := int64(0)
	if le.Uint64(b[ps+16+48:]) > le.Uint64(b[16+48:]) {
		meta = ps
	}
	page := int64(le.Uint64(b[meta+16+16:]))
	for depth := 0; depth < 16; depth++ {
		p := b[page*ps:]
		count := int64(le.Uint16(p[10:]))
		switch le.Uint16(p[8:]) {
		case 0x02: // a leaf: the bucket's header is its value
			for i := int64(0); i < count; i++ {
				e := p[16+i*16:]
				k := 16 + i*16 + int64(le.Uint32(e[4:]))
				ks := int64(le.Uint32(e[8:]))
				if bytes.Equal(p[k:k+ks], name) {
					return le.Uint64(p[k+ks:]), ps
				}
			}
			t.Fatalf("no bucket %s", name)
		case 0x01: // a branch: the last child whose first key is not after name
			child := int64(-1)
			for i := int64(0); i < count; i++ {
				e := p[16+i*16:]
				k := 16 + i*16 + int64(le.Uint32(e))
				if i == 0 || bytes.Compare(p[k:k+int64(le.Uint32(e[4:]))], name) <= 0 {
					child = int64(le.Uint64(e[8:]))
				}
			}
			page = child
		default:
			t.Fatalf("page %d is neither a leaf nor a branch", page)
		}
	}
	t.Fatalf("no bucket %s", name)
	return 0, 0
}
