package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestExport_userCollections checks that export writes the user
// collections and that import brings them back: export is "the whole
// store", and a store moved through an export file loses nothing.
func TestExport_userCollections(t *testing.T) {
	src := newStore(t)
	mustRun(t, `[{"id":"u1","v":1},{"id":"u2","n":123456789012345678901234567890}]`, "--db", src, "put", "recipes", "-")
	mustRun(t, `{"id":"b1","w":true}`, "--db", src, "put", "books", "-")
	file := filepath.Join(t.TempDir(), "export.json")
	mustRun(t, "", "--db", src, "export", "-o", file)

	dst := filepath.Join(t.TempDir(), "store")
	checkAtEnd(t, dst)
	mustRun(t, "", "--db", dst, "import", file, "--yes")
	for _, c := range []struct{ coll, id string }{{"recipes", "u1"}, {"recipes", "u2"}, {"books", "b1"}} {
		want := mustRun(t, "", "--db", src, "--json", "get", c.coll, c.id).stdout
		if got := mustRun(t, "", "--db", dst, "--json", "get", c.coll, c.id).stdout; got != want {
			t.Errorf("%s %s after export and import:\n%s\nwant\n%s", c.coll, c.id, got, want)
		}
	}
	// The same file exported again from the copy is the same file.
	again := filepath.Join(t.TempDir(), "again.json")
	mustRun(t, "", "--db", dst, "export", "-o", again)
	if a, b := readExportBody(t, file), readExportBody(t, again); a != b {
		t.Errorf("export of the imported store differs from the first export")
	}
}

// readExportBody returns an export file without its exportedAt line.
func readExportBody(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readExportText(string(b))
}

// TestImport_refusedKeepsExactly checks the export files import must
// refuse rather than change: a key of extras that is not a usable id, two
// values that would take the same extras id, and a user collection under
// a name that is not one. Nothing is written, and no store is created
// where there was none.
func TestImport_refusedKeepsExactly(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
	}{
		{"empty extras key", `{"version":"1.0.0","exportedAt":"x","extras":{"":1}}`, `extras[""]`},
		{"NUL in an extras key", `{"version":"1.0.0","exportedAt":"x","extras":{"a\u0000b":1}}`, `extras["a\x00b"]`},
		{"unknown key too long", `{"version":"1.0.0","exportedAt":"x","` + strings.Repeat("k", 250) + `":1}`, "cannot be kept as the extras id"},
		{"unknown key and extras collide", `{"version":"1.0.0","exportedAt":"x","foo":1,"extras":{"export:foo":2}}`, `takes already`},
		{"built-in name in collections", `{"version":"1.0.0","exportedAt":"x","collections":{"notes":[{"id":"a"}]}}`, `collections.notes`},
		{"bad name in collections", `{"version":"1.0.0","exportedAt":"x","collections":{"Bad Name":[]}}`, `not a user collection's name`},
		{"same id twice in a user collection", `{"version":"1.0.0","exportedAt":"x","collections":{"recipes":[{"id":"a"},{"id":"a"}]}}`, `collections.recipes[1].id`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "x.json")
			if err := os.WriteFile(file, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			fresh := filepath.Join(t.TempDir(), "fresh")
			r := kvtool(t, "", "--db", fresh, "import", file, "--yes")
			wantExit(t, r, exitError)
			if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "(byte ") {
				t.Errorf("stderr %q, want it to name %q and a byte offset", r.stderr, tc.want)
			}
			if _, err := os.Stat(fresh); !os.IsNotExist(err) {
				t.Errorf("a refused import created %s (%v)", fresh, err)
			}
			store := newStore(t)
			before := mustRun(t, "", "--db", store, "export").stdout
			wantExit(t, kvtool(t, "", "--db", store, "import", file, "--yes"), exitError)
			if after := mustRun(t, "", "--db", store, "export").stdout; readExportText(after) != readExportText(before) {
				t.Errorf("a refused import changed the store")
			}
		})
	}
}

// readExportText drops the exportedAt line of an export.
func readExportText(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.Contains(line, `"exportedAt"`) {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// TestImport_whatPutTakes checks that an export file holds whatever put
// took: a document nested as deep as put allows, and extras whose values
// are each within the limits of one document but not all together.
func TestImport_whatPutTakes(t *testing.T) {
	src := filepath.Join(t.TempDir(), "store")
	checkAtEnd(t, src)
	deep := `{"id":"d","v":` + strings.Repeat("[", 999) + strings.Repeat("]", 999) + `}`
	mustRun(t, deep, "--db", src, "put", "notes", "-")
	n := 600000 // two arrays of 1.2 MB, as put takes them
	if testing.Short() {
		n = 70000 // past msgpack's 16-bit array length, in a tenth of the time under -race
	}
	big := "[" + strings.Repeat("0,", n-1) + "0]"
	file := filepath.Join(t.TempDir(), "x.json")
	err := os.WriteFile(file, []byte(`{"version":"1.0.0","exportedAt":"x","extras":{"k1":`+big+`,"k2":`+big+`}}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", src, "import", file, "--yes")
	out := filepath.Join(t.TempDir(), "export.json")
	mustRun(t, "", "--db", src, "export", "-o", out)
	dst := filepath.Join(t.TempDir(), "store")
	checkAtEnd(t, dst)
	mustRun(t, "", "--db", dst, "import", out, "--yes")
	want := mustRun(t, "", "--db", src, "get", "notes", "d").stdout
	if got := mustRun(t, "", "--db", dst, "get", "notes", "d").stdout; got != want || strings.Count(got, "[") != 999 {
		t.Errorf("the deep note came back with %d levels, want 999", strings.Count(got, "["))
	}
	if got := mustRun(t, "", "--db", dst, "--json", "get", "extras", "k2").stdout; strings.Count(got, "0") != n {
		t.Errorf("extras k2 came back with %d zeros, want %d", strings.Count(got, "0"), n)
	}
}

// TestImportMigrate_dryRunCreatesNoStore checks that a dry run of import
// or migrate into a directory with no store leaves none behind, and
// still reports what it would write.
func TestImportMigrate_dryRunCreatesNoStore(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(file, []byte(`{"version":"1.0.0","exportedAt":"x","notes":[{"id":"a"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	r := mustRun(t, "", "--db", fresh, "--json", "import", file, "--dry-run")
	if !strings.Contains(r.stdout, `"notes": 1`) {
		t.Errorf("import --dry-run printed %s, want notes 1", r.stdout)
	}
	legacyDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(legacyDir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(legacyDir, "db", "notes.json"), []byte(`[{"id":"n1","content":"x"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, "", "--db", fresh, "--json", "migrate", legacyDir, "--dry-run")
	if !strings.Contains(r.stdout, `"notes": 1`) {
		t.Errorf("migrate --dry-run printed %s, want notes 1", r.stdout)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a dry run created %s (%v)", fresh, err)
	}
}

// TestInput_streams checks that put and import read a FILE that is not a
// regular file (a FIFO here; /dev/stdin and a shell's <(...) are the
// same) as they read stdin: once, copied, not opened twice.
func TestInput_streams(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	checkAtEnd(t, store)
	fifo := func(content string) string {
		p := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skipf("no FIFO here: %v", err)
		}
		go func() {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			_, _ = f.WriteString(content) // the reader reports what it got
			_ = f.Close()
		}()
		return p
	}
	mustRun(t, "", "--db", store, "put", "notes", fifo(`[{"id":"f1"},{"id":"f2"}]`))
	mustRun(t, "", "--db", store, "patch", "notes", "f1", fifo(`{"x":1}`))
	mustRun(t, "", "--db", store, "import", fifo(`{"version":"1.0.0","exportedAt":"x","notes":[{"id":"f3"}]}`), "--yes")
	r := mustRun(t, "", "--db", store, "query", "notes", "--ids")
	if r.stdout != "f1\nf2\nf3\n" {
		t.Errorf("notes %q, want f1 f2 f3", r.stdout)
	}
	if got := mustRun(t, "", "--db", store, "get", "notes", "f1").stdout; !strings.Contains(got, `"x": 1`) {
		t.Errorf("f1 after the patch: %s", got)
	}
}

// TestPatch_singleton checks that a singleton is patched without an ID,
// or with its own name as ID, and that any other ID is a usage error
// rather than a file name read as an ID.
func TestPatch_singleton(t *testing.T) {
	store := newStore(t)
	pat := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(pat, []byte(`{"fromFile":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, `{"ignored":1}`, "--db", store, "patch", "settings", pat)
	mustRun(t, "", "--db", store, "patch", "settings", "settings", pat)
	mustRun(t, `{"fromStdin":2}`, "--db", store, "patch", "settings")
	r := mustRun(t, "", "--db", store, "--json", "patch", "settings", "settings", pat)
	if !strings.Contains(r.stdout, `"id": "settings"`) {
		t.Errorf("--json output %s, want id settings", r.stdout)
	}
	got := mustRun(t, "", "--db", store, "get", "settings").stdout
	if !strings.Contains(got, `"fromFile": 1`) || !strings.Contains(got, `"fromStdin": 2`) || strings.Contains(got, "ignored") {
		t.Errorf("settings after the patches: %s", got)
	}
	wantExit(t, kvtool(t, "", "--db", store, "patch", "settings", "anything", pat), exitUsage)
	wantExit(t, kvtool(t, "", "--db", store, "patch", "notes"), exitUsage)
}

// TestPut_extras checks that an extras value, any JSON value, is put
// under the key --id gives, and that --id is a usage error elsewhere.
func TestPut_extras(t *testing.T) {
	store := newStore(t)
	mustRun(t, `{"jobs":[1,{"n":123456789012345678901234567890}]}`, "--db", store, "put", "extras", "--id", "capture-review-jobs", "-")
	mustRun(t, `"just a string"`, "--db", store, "put", "extras", "--id", "s", "-")
	got := mustRun(t, "", "--db", store, "--json", "get", "extras", "capture-review-jobs").stdout
	if !strings.Contains(got, "123456789012345678901234567890") {
		t.Errorf("extras capture-review-jobs: %s", got)
	}
	if got := mustRun(t, "", "--db", store, "--json", "get", "extras", "s").stdout; strings.TrimSpace(got) != `"just a string"` {
		t.Errorf("extras s: %s", got)
	}
	wantExit(t, kvtool(t, `{"id":"a"}`, "--db", store, "put", "extras", "-"), exitUsage)
	wantExit(t, kvtool(t, `{"id":"a"}`, "--db", store, "put", "notes", "--id", "a", "-"), exitUsage)
	wantExit(t, kvtool(t, `{"a":1,"a":2}`, "--db", store, "put", "extras", "--id", "d", "-"), exitError)
	wantExit(t, kvtool(t, `1`, "--db", store, "put", "extras", "--id", "", "-"), exitError)
}

// TestImport_againKeepsEdits checks that importing the same file again
// does not undo an edit made in between that kept the document's time
// (kvtool patch does not touch lastUpdated): on a tie the stored version
// stays, and is counted as kept.
func TestImport_againKeepsEdits(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	checkAtEnd(t, store)
	file := filepath.Join(t.TempDir(), "x.json")
	err := os.WriteFile(file, []byte(`{"version":"1.0.0","exportedAt":"x","notes":[{"id":"a","content":"old","lastUpdated":"2025-01-01T00:00:00.000Z"}]}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", store, "import", file, "--yes")
	mustRun(t, `{"content":"edited"}`, "--db", store, "patch", "notes", "a", "-")
	r := mustRun(t, "", "--db", store, "--json", "import", file, "--yes")
	if !strings.Contains(r.stdout, `"kept_newer": {`+"\n"+`    "notes": 1`) {
		t.Errorf("second import: %s, want notes 1 kept", r.stdout)
	}
	if got := mustRun(t, "", "--db", store, "get", "notes", "a").stdout; !strings.Contains(got, "edited") {
		t.Errorf("the edit was undone: %s", got)
	}
}

// TestInput_byteOrderMark: a file saved by an editor that starts it with
// a UTF-8 byte order mark is taken by put, patch and import, the mark not
// part of any value; a mark inside the JSON is still refused.
func TestInput_byteOrderMark(t *testing.T) {
	const bom = "\xef\xbb\xbf"
	db := newStore(t)
	mustRun(t, bom+`{"id":"n1","content":"hi"}`, "--db", db, "put", "notes", "-")
	mustRun(t, bom+`{"content":"patched"}`, "--db", db, "patch", "notes", "n1", "-")
	if got := mustRun(t, "", "--db", db, "--json", "get", "notes", "n1").stdout; !strings.Contains(got, `"content": "patched"`) || strings.Contains(got, bom) {
		t.Errorf("get after put and patch with a mark: %s", got)
	}
	file := filepath.Join(t.TempDir(), "export.json")
	mustRun(t, "", "--db", db, "export", "-o", file)
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, append([]byte(bom), body...), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "store")
	mustRun(t, "", "--db", dst, "import", file, "--yes")
	if got := mustRun(t, "", "--db", dst, "--json", "get", "notes", "n1").stdout; !strings.Contains(got, `"content": "patched"`) {
		t.Errorf("get after importing an export with a mark: %s", got)
	}
	r := kvtool(t, `{"id":"n2",`+bom+`"content":"x"}`, "--db", db, "put", "notes", "-")
	if r.code != 1 || !strings.Contains(r.stderr, "byte 11") {
		t.Errorf("a mark inside the JSON: exit %d, %s", r.code, r.stderr)
	}
}

// TestImport_keepsEditsWithoutTimes: the old app's tasks and sessions carry
// no updatedAt, and kvtool patch adds none; importing an older export
// again used to undo every edit made in the store to them, and replace the
// settings whole (dropping members such as ui), listing nothing (round 6,
// fidelity6 #1). The stored versions stay and are listed; settings are
// merged member by member.
func TestImport_keepsEditsWithoutTimes(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	checkAtEnd(t, store)
	file := filepath.Join(t.TempDir(), "x.json")
	err := os.WriteFile(file, []byte(`{"version":"1.0.0","exportedAt":"x",
		"tasks":[{"id":"t1","title":"pay","done":false,"status":"todo","createdAt":"2025-09-01T10:00:00.000Z"}],
		"sessions":[{"id":"s1","name":"work","status":"active","startTime":"2025-09-30T09:00:00.000Z"}],
		"settings":{"userProfile":{"name":"Ann"},"theme":"dark"}}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", store, "import", file, "--yes")
	mustRun(t, `{"done":true,"status":"done"}`, "--db", store, "patch", "tasks", "t1", "-")
	mustRun(t, `{"status":"completed","endTime":"2025-09-30T11:00:00.000Z"}`, "--db", store, "patch", "sessions", "s1", "-")
	mustRun(t, `{"ui":{"sidebar":true},"theme":"light"}`, "--db", store, "patch", "settings", "-")
	var out struct {
		Counts     map[string]int `json:"counts"`
		Kept       map[string]int `json:"kept_newer"`
		KeptStored []string       `json:"kept_stored"`
	}
	oneJSON(t, mustRun(t, "", "--db", store, "--json", "import", file, "--yes").stdout, &out)
	if out.Kept["tasks"] != 1 || out.Kept["sessions"] != 1 || len(out.Counts) != 0 || len(out.KeptStored) != 3 {
		t.Errorf("second import: %+v, want the task, the session and the settings' theme kept and listed", out)
	}
	for _, c := range []struct{ coll, id, want string }{
		{"tasks", "t1", `"status": "done"`},
		{"sessions", "s1", `"status": "completed"`},
		{"settings", "", `"sidebar": true`},
		{"settings", "", `"theme": "light"`},
		{"settings", "", `"name": "Ann"`},
	} {
		args := []string{"--db", store, "--json", "get", c.coll}
		if c.id != "" {
			args = append(args, c.id)
		}
		if got := mustRun(t, "", args...).stdout; !strings.Contains(got, c.want) {
			t.Errorf("%s %s after the second import lacks %s: %s", c.coll, c.id, c.want, got)
		}
	}
}
