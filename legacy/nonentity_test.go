package legacy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/legacy"
)

// TestMigrate_nonEntitiesKept: elements without a usable id, elements that
// are not objects, and a per-entity snapshot that is an array spread into
// an object (docs/FORMAT.md §3.3, the only copy of its tasks) are not
// imported as entities, but their bytes are kept in extras and the
// problems say where.
func TestMigrate_nonEntitiesKept(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "db", "tasks"), 0o755)
	long := strings.Repeat("x", 300)
	os.WriteFile(filepath.Join(dir, "db", "notes.json"), []byte(`[{"id":"ok"},{"id":123,"content":"numeric id"},{"content":"no id"},{"id":"","c":"empty id"},{"id":"`+long+`","c":"long id"},"a string element"]`), 0o644)
	os.WriteFile(filepath.Join(dir, "db", "tasks", "task-tX.json"), []byte(`{"0":{"id":"ta","title":"A only here"},"1":{"id":"tb","title":"B only here"},"id":"tX"}`), 0o644)
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"invalid:db/notes.json[1]":   "numeric id",
		"invalid:db/notes.json[2]":   "no id",
		"invalid:db/notes.json[3]":   "empty id",
		"invalid:db/notes.json[4]":   "long id",
		"invalid:db/notes.json[5]":   "a string element",
		"junk:db/tasks/task-tX.json": "A only here",
	}
	for key, text := range want {
		v, _, err := db.GetValue(t.Context(), "extras", key)
		if err != nil {
			t.Errorf("extras %s: %v", key, err)
			continue
		}
		if got, _ := v.(map[string]any)["text"].(string); !strings.Contains(got, text) {
			t.Errorf("extras %s holds %v", key, v)
		}
		found := false
		for _, p := range res.Problems {
			found = found || strings.Contains(p, "kept in extras "+key)
		}
		if !found {
			t.Errorf("no problem says %s is kept: %q", key, res.Problems)
		}
	}
	wantNothingWritten(t, db, dir, false, "a second run")
}

// TestMigrate_settingsNotAnObject: a settings file whose payload is an
// array, a string or a number was dropped without a word; it is kept in
// extras and reported, as a collection file of the wrong shape is.
func TestMigrate_settingsNotAnObject(t *testing.T) {
	for _, payload := range []string{`[{"aiSettings":{"systemInstructions":"keep me"}}]`, `"keep me"`, `42`} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "db"), 0o755)
		os.WriteFile(filepath.Join(dir, "db", "settings.json"), []byte(`{"version":1,"timestamp":1760000000000,"data":`+payload+`}`), 0o644)
		os.WriteFile(filepath.Join(dir, "db", "notes.json"), []byte(`[{"id":"n1"}]`), 0o644)
		db := openStore(t)
		res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := db.GetValue(t.Context(), "extras", "unreadable:db/settings.json")
		if err != nil {
			t.Fatalf("payload %s: extras: %v", payload, err)
		}
		if got, _ := v.(map[string]any)["value"]; !strings.Contains(fmt.Sprint(got), strings.Trim(payload, `"[]{}`)[:2]) {
			t.Errorf("payload %s: extras holds %v", payload, v)
		}
		if !strings.Contains(strings.Join(res.Problems, "\n"), "db/settings.json: payload is") {
			t.Errorf("payload %s: problems %q", payload, res.Problems)
		}
	}
}

// TestMigrate_sessionWithoutReadableMetadata: a chunked session whose
// metadata.json was truncated (a crash mid-write: it is the file rewritten
// on every screenshot), with no backup copy, lost its intact screenshots,
// audio, summary and transcript, without a word. It is imported from
// them with its id, and the shortfall says so.
func TestMigrate_sessionWithoutReadableMetadata(t *testing.T) {
	for _, inIndex := range []bool{true, false} {
		dir := t.TempDir()
		s1 := filepath.Join(dir, "db", "sessions", "s1")
		os.MkdirAll(filepath.Join(s1, "screenshots"), 0o755)
		env := func(path, data string) {
			os.WriteFile(path, []byte(`{"version":1,"timestamp":1760000000000,"data":`+data+`}`), 0o644)
		}
		if inIndex {
			env(filepath.Join(dir, "db", "session-index.json"), `["s1"]`)
		}
		env(filepath.Join(s1, "metadata.json"), `{"id":"s1","name":"Two hour meeting","chunks":{"screenshots":{"count":1,"chunkCount":1,"chunkSize":20}},"hasSummary":true}`)
		b, _ := os.ReadFile(filepath.Join(s1, "metadata.json"))
		os.WriteFile(filepath.Join(s1, "metadata.json"), b[:60], 0o644) // truncated
		env(filepath.Join(s1, "screenshots", "chunk-000.json"), `{"sessionId":"s1","chunkIndex":0,"screenshots":[{"id":"shot-A","aiAnalysis":{"summary":"PRECIOUS-SHOT"}}]}`)
		env(filepath.Join(s1, "summary.json"), `{"narrative":"PRECIOUS-SUMMARY"}`)
		env(filepath.Join(dir, "db", "notes.json"), `[{"id":"n1"}]`)
		db := openStore(t)
		res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		doc, _, err := db.Get(t.Context(), "sessions", "s1")
		if err != nil {
			t.Fatalf("in session-index %v: the session: %v (problems %q)", inIndex, err, res.Problems)
		}
		if got := fmt.Sprint(doc); !strings.Contains(got, "PRECIOUS-SHOT") || !strings.Contains(got, "PRECIOUS-SUMMARY") {
			t.Errorf("in session-index %v: the session lacks its parts: %v", inIndex, doc)
		}
		if !strings.Contains(strings.Join(res.Problems, "\n"), "imported from its parts and chunks") {
			t.Errorf("in session-index %v: problems %q", inIndex, res.Problems)
		}
	}
}

// TestMigrate_duplicateIDInOneFile: of two elements of one file with one
// id, only one is imported; the other's fields (only it had them) were
// lost, named only by the report's conflicts. Its bytes are kept in
// extras and the problems say where.
func TestMigrate_duplicateIDInOneFile(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	os.WriteFile(filepath.Join(dir, "db", "tasks.json"), []byte(`[{"id":"t1","title":"first copy","subtasks":[{"id":"s","title":"ONLY-IN-FIRST"}]},{"id":"t1","title":"second copy"},{"id":"t2"}]`), 0o644)
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := db.GetValue(t.Context(), "extras", "duplicate:db/tasks.json[0]")
	if err != nil || !strings.Contains(fmt.Sprint(v), "ONLY-IN-FIRST") {
		t.Fatalf("the element not imported: %v %v", v, err)
	}
	if !strings.Contains(strings.Join(res.Problems, "\n"), `tasks "t1" appears more than once in db/tasks.json`) {
		t.Errorf("problems %q", res.Problems)
	}
	wantNothingWritten(t, db, dir, false, "a second run")
}

// TestMigrate_sessionDirNotUTF8: a chunked session whose directory name
// is not UTF-8 was dropped whole, bytes and all, though its metadata
// names a usable id; it is imported under that id.
func TestMigrate_sessionDirNotUTF8(t *testing.T) {
	dir := t.TempDir()
	s := filepath.Join(dir, "db", "sessions", "s\xffbad")
	if err := os.MkdirAll(s, 0o755); err != nil {
		t.Skipf("this file system takes no such name: %v", err)
	}
	os.WriteFile(filepath.Join(s, "metadata.json"), []byte(`{"version":1,"timestamp":1760000000000,"data":{"id":"s-valid-id","name":"precious"}}`), 0o644)
	os.WriteFile(filepath.Join(s, "transcription.json"), []byte(`{"version":1,"timestamp":1760000000000,"data":"transcript text"}`), 0o644)
	db := openStore(t)
	if _, err := legacy.Migrate(t.Context(), db, dir, nil, false); err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.Get(t.Context(), "sessions", "s-valid-id")
	if err != nil || doc["name"] != "precious" || !strings.Contains(fmt.Sprint(doc), "transcript text") {
		t.Fatalf("the session: %v %v", doc, err)
	}
}
