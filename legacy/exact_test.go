package legacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// writeExport writes an export file holding the given top-level members
// (raw JSON) after a valid header.
func writeExport(t *testing.T, members string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "export.json")
	text := `{"version":"1.0.0","exportedAt":"2026-01-02T00:00:00.000Z"` + members + `}`
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestImportFile_refusesInexact: every input of issue 15 that would be
// stored changed is refused, naming the JSON path and byte offset, before
// anything is written (not even the backup).
func TestImportFile_refusesInexact(t *testing.T) {
	const head = len(`{"version":"1.0.0","exportedAt":"2026-01-02T00:00:00.000Z"`)
	tests := []struct {
		name, members string
		path          string
		off           int
		msg           string
	}{
		{"invalid UTF-8", ",\"notes\":[{\"id\":\"n1\",\"content\":\"caf\xe9\"}]", "notes[0].content", 35, "not UTF-8"},
		{"lone high surrogate id", `,"notes":[{"id":"\ud800"}]`, "notes[0].id", 17, "surrogate"},
		{"lone low surrogate id", `,"notes":[{"id":"x"},{"id":"\udfff"}]`, "notes[1].id", 28, "surrogate"},
		{"surrogate member names", `,"notes":[{"id":"n","m":{"\ud800":"A","\udc00":"B"}}]`, "notes[0].m", 26, "surrogate"},
		{"duplicate member", `,"notes":[{"id":"d2","id":"d3"}]`, "notes[0].id", 21, "appears twice"},
		{"duplicate id", `,"notes":[{"id":"a"},{"id":"b"},{"id":"a","x":1}]`, "notes[2].id", 32, `the id "a" appears twice in notes (first at notes[0])`},
		{"duplicate top-level key", `,"notes":[],"notes":[]`, "notes", 12, "appears twice"},
		{"duplicate in settings", `,"settings":{"a":{"b":1,"b":2}}`, "settings.a.b", 24, "appears twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openStore(t)
			if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "mine", "content": "before"}); err != nil {
				t.Fatal(err)
			}
			before, err := os.ReadFile(db.Path())
			if err != nil {
				t.Fatal(err)
			}
			file := writeExport(t, tc.members)
			for _, dry := range []bool{true, false} {
				_, err = legacy.ImportFile(t.Context(), db, file, &legacy.ImportOptions{DryRun: dry})
				var ee *legacy.ExportError
				if !errors.As(err, &ee) || !errors.Is(err, legacy.ErrInvalidExport) {
					t.Fatalf("dry run %v: %v, want an *ExportError", dry, err)
				}
				if ee.Path != tc.path || ee.Offset != int64(head+tc.off) || !strings.Contains(ee.Msg, tc.msg) {
					t.Fatalf("dry run %v: %v\nwant path %s, byte %d, %q", dry, err, tc.path, head+tc.off, tc.msg)
				}
			}
			after, err := os.ReadFile(db.Path())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Fatal("a refused import changed data.db")
			}
			if bs, _ := db.Backups(context.Background()); len(bs) != 0 {
				t.Fatal("a refused import took a backup")
			}
		})
	}
}

// TestImportFile_keepsNumbers: numbers float64 cannot hold come back from
// an import with the value they were written with.
func TestImportFile_keepsNumbers(t *testing.T) {
	lits := []string{"9007199254740993.0", "123456789.123456789123456789", "1.00000000000000001",
		"123456789012345678901234567890e0", "0.1", "-1e400", "5e-324", "4.9e-324"}
	file := writeExport(t, `,"notes":[{"id":"n","nums":[`+strings.Join(lits, ",")+`]}]`)
	db := openStore(t)
	if _, err := legacy.ImportFile(t.Context(), db, file, nil); err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.Get(context.Background(), "notes", "n")
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(doc["nums"])
	if err != nil {
		t.Fatal(err)
	}
	var nums []json.Number
	if err := json.Unmarshal(got, &nums); err != nil {
		t.Fatal(err)
	}
	for i, lit := range lits {
		a, _ := new(big.Rat).SetString(lit)
		b, _ := new(big.Rat).SetString(string(nums[i]))
		if a.Cmp(b) != 0 {
			t.Errorf("%s came back as %s", lit, nums[i])
		}
	}
}

// TestImportFile_newerWins: the stored and imported versions are compared
// by the shared reading of instants, whatever form each is written in; a
// time that cannot be read is reported, and never taken as time 0.
func TestImportFile_newerWins(t *testing.T) {
	tests := []struct {
		name, stored, imported string // updatedAt values as JSON
		written, unreadable    bool
	}{
		{"epoch ms newer", `"2025-06-01T00:00:00.000Z"`, `1767225600000`, true, false},
		{"epoch ms string newer", `"2025-06-01T00:00:00.000Z"`, `"1767225600000"`, true, false},
		{"date only newer", `"2025-06-01T00:00:00.000Z"`, `"2026-01-01"`, true, false},
		{"space form newer", `"2025-06-01T00:00:00.000Z"`, `"2026-01-01 00:00:00Z"`, true, false},
		{"offset form older", `"2026-01-01T00:00:00Z"`, `"2026-01-01T00:30:00+01:00"`, false, false},
		{"date only older", `1767225600001`, `"2026-01-01"`, false, false},
		{"stored epoch ms newer", `1767225600000`, `"2025-06-01T00:00:00Z"`, false, false},
		{"unreadable import", `"2026-01-01T00:00:00Z"`, `"yesterday"`, false, true},
		{"unreadable stored", `"31/12/2025"`, `"2025-01-01"`, false, true},
		{"same millisecond, later microsecond", `"2026-01-01T00:00:00.000100Z"`, `"2026-01-01T00:00:00.000200Z"`, true, false},
		{"same millisecond, earlier microsecond", `"2026-01-01T00:00:00.000200Z"`, `"2026-01-01T00:00:00.000100Z"`, false, false},
		{"same millisecond, later nanosecond in another zone", `"2026-01-01T00:00:00.000000001Z"`, `"2026-01-01T01:00:00.000000002+01:00"`, true, false},
		{"same instant, finer digits", `"2026-01-01T00:00:00.001Z"`, `"2026-01-01T00:00:00.001000Z"`, false, false},
		{"same millisecond, one in epoch ms", `1767225600000`, `"2026-01-01T00:00:00.000500Z"`, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openStore(t)
			var stored map[string]any
			if err := json.Unmarshal([]byte(`{"id":"t1","title":"stored","updatedAt":`+tc.stored+`}`), &stored); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Put(context.Background(), "tasks", stored); err != nil {
				t.Fatal(err)
			}
			file := writeExport(t, `,"tasks":[{"id":"t1","title":"imported","updatedAt":`+tc.imported+`}]`)
			res, err := legacy.ImportFile(t.Context(), db, file, nil)
			if err != nil {
				t.Fatal(err)
			}
			doc, _, err := db.Get(context.Background(), "tasks", "t1")
			if err != nil {
				t.Fatal(err)
			}
			if written := doc["title"] == "imported"; written != tc.written {
				t.Fatalf("imported version written: %v, want %v (result %+v)", written, tc.written, res)
			}
			if tc.written != (res.Counts["tasks"] == 1) || !tc.written != (res.Kept["tasks"] == 1) {
				t.Fatalf("counts %v, kept %v", res.Counts, res.Kept)
			}
			if got := len(res.UnreadableTimes) == 1 && strings.Contains(res.UnreadableTimes[0], "updatedAt") && strings.Contains(res.UnreadableTimes[0], `"t1"`); got != tc.unreadable {
				t.Fatalf("unreadable times %q, want one: %v", res.UnreadableTimes, tc.unreadable)
			}
		})
	}
}

// TestImportFile_validatedNo: an error from Validated (a user's "no")
// ends the import before anything is written, not even the backup.
func TestImportFile_validatedNo(t *testing.T) {
	db := openStore(t)
	before, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	no := errors.New("no")
	file := writeExport(t, `,"notes":[{"id":"n1"},{"id":"n2"}]`)
	var got map[string]int
	_, err = legacy.ImportFile(t.Context(), db, file, &legacy.ImportOptions{Validated: func(counts map[string]int) error {
		got = counts
		return no
	}})
	if !errors.Is(err, no) || got["notes"] != 2 {
		t.Fatalf("import: %v, counts %v", err, got)
	}
	after, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("a refused import changed data.db")
	}
	if bs, _ := db.Backups(context.Background()); len(bs) != 0 {
		t.Fatal("a refused import took a backup")
	}
}

// TestImportFile_replicaStateSkipped: a device's sync state (replica_*) in
// an older export is read past, never imported, so it is not checked as
// documents either: two elements of one id there no longer refused the
// whole file (round 6, fidelity6 #7). It must still be JSON.
func TestImportFile_replicaStateSkipped(t *testing.T) {
	db := openStore(t)
	file := writeExport(t, `,"notes":[{"id":"n1","content":"kept"}],"collections":{"replica_laptop":[{"id":"r"},{"id":"r"},7,null],"replica_x":{"not":"an array"}}`)
	res, err := legacy.ImportFile(t.Context(), db, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts["notes"] != 1 || len(res.Counts) != 1 {
		t.Errorf("counts %v, want the note alone", res.Counts)
	}
	bad := writeExport(t, `,"collections":{"replica_laptop":[{"id":"r"},}]}`)
	if _, err := legacy.ImportFile(t.Context(), db, bad, nil); err == nil {
		t.Error("a replica_ collection that is not JSON was accepted")
	}
}
