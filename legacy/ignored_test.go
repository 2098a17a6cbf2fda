package legacy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestScan_unknownFilesReported: a key stored in a per-entity directory
// under a name that is no per-entity file's (keys may hold "/") is kept
// in Extras like any other key, and files whose names the old app never
// wrote are listed in Report.Ignored, not passed over in silence.
func TestScan_unknownFilesReported(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "db", "notes"), 0o755)
	files := map[string]string{
		"db/notes.json":            `{"version":1,"checksum":"x","timestamp":1,"data":[{"id":"n1"}]}`,
		"db/notes/custom-key.json": `{"version":1,"checksum":"x","timestamp":1,"data":{"precious":3}}`,
		"db/notes/random.json":     `{"id":"zz","content":"looks like a note"}`,
		"db/notes/index.json":      `[]`,
		"db/notes.json.bak":        "precious user text\n",
		"top.txt":                  "hello\n",
	}
	for rel, text := range files {
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ds, rep, err := Scan(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"notes/custom-key", "notes/random"} {
		if ds.Extras[k] == nil {
			t.Errorf("key %s not kept: %v", k, ds.Extras)
		}
	}
	if want := []string{"db/notes.json.bak", "top.txt"}; !reflect.DeepEqual(rep.Ignored, want) {
		t.Errorf("ignored %v, want %v", rep.Ignored, want)
	}
}

// TestScan_snapshotWithoutDB: a backups/ snapshot with no db/ beside it
// is not read (backups only stand in for a bad db/ file), and says so:
// skipped with the reason, or named in ErrNoData when nothing else is
// there.
func TestScan_snapshotWithoutDB(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "backups"), 0o755)
	os.WriteFile(filepath.Join(dir, "backups", "backup-1729000000000.json"), []byte(`{"version":1,"timestamp":1729000000000,"collections":{"notes":[{"id":"nb"}]}}`), 0o644)
	if _, _, err := Scan(context.Background(), dir, nil); !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), "backups/backup-1729000000000.json") {
		t.Errorf("snapshot only: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "attachments"), 0o755)
	os.WriteFile(filepath.Join(dir, "attachments", "x.dat"), []byte("aGk="), 0o644)
	_, rep, err := Scan(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Path != "backups/backup-1729000000000.json" {
		t.Errorf("skipped %+v", rep.Skipped)
	}
}

// TestScan_symlinkLoopAndInsideDir: a symbolic link loop is skipped as a
// link that cannot be followed, not called one out of the directory, and
// a link to a directory inside is noted.
func TestScan_symlinkLoopAndInsideDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	os.WriteFile(filepath.Join(dir, "db", "notes.json"), []byte(`[{"id":"n1"}]`), 0o644)
	if err := os.Symlink("loop-b.json", filepath.Join(dir, "db", "loop-a.json")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	os.Symlink("loop-a.json", filepath.Join(dir, "db", "loop-b.json"))
	os.Symlink("db", filepath.Join(dir, "db-link"))
	_, rep, err := Scan(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.OutsideDir) != 0 {
		t.Errorf("outside %v", rep.OutsideDir)
	}
	if len(rep.Skipped) != 2 || !strings.Contains(rep.Skipped[0].Reason, "cannot be followed") {
		t.Errorf("skipped %+v", rep.Skipped)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "symbolic link db-link") {
		t.Errorf("notes %q", rep.Notes)
	}
}
