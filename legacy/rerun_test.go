package legacy_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/legacy"
)

// TestMigrate_rerunKeepsStoreEdits: a second migration does not undo an
// edit made in the store to a document without a time (a task, an
// attachment), nor to settings; settings, aiSettings and preferences are
// merged member by member, and what was kept is reported.
func TestMigrate_rerunKeepsStoreEdits(t *testing.T) {
	dir := t.TempDir()
	db0 := filepath.Join(dir, "db")
	os.MkdirAll(db0, 0o755)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(db0, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tasks.json", `[{"id":"t1","title":"from legacy"},{"id":"t2","title":"untouched"},{"id":"t3","title":"timed","updatedAt":"2025-10-01T00:00:00.000Z"}]`)
	write("settings.json", `{"version":1,"checksum":"x","timestamp":1729000000000,"data":{"aiSettings":{"model":"old"},"ui":{"x":1}}}`)
	write("preferences.json", `{"version":1,"checksum":"x","timestamp":1729000000000,"data":{"theme":"light"}}`)
	db := openStore(t)
	ctx := t.Context()
	if _, err := legacy.Migrate(ctx, db, dir, nil, false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		coll, id string
		patch    any
	}{
		{"tasks", "t1", map[string]any{"title": "edited by user"}},
		{"tasks", "t3", map[string]any{"title": "edited, no new time"}},
		{"settings", "settings", map[string]any{"aiSettings": map[string]any{"model": "new"}, "userProfile": map[string]any{"name": "me"}}},
		{"preferences", "preferences", map[string]any{"zoomLevel": 150, "theme": "dark"}},
	} {
		if _, err := db.Patch(ctx, p.coll, p.id, p.patch); err != nil {
			t.Fatalf("patch %s %s: %v", p.coll, p.id, err)
		}
	}
	// The old app's settings gain a member the store lacks.
	write("settings.json", `{"version":1,"checksum":"x","timestamp":1729000000001,"data":{"aiSettings":{"model":"old"},"ui":{"x":1},"searchHistory":[]}}`)
	for _, dry := range []bool{true, false} {
		res, err := legacy.Migrate(ctx, db, dir, nil, dry)
		if err != nil {
			t.Fatal(err)
		}
		if res.Kept["tasks"] != 2 || res.Unchanged["tasks"] != 1 || res.Counts["tasks"] != 0 {
			t.Errorf("dry %v: tasks counts %v unchanged %v kept %v", dry, res.Counts, res.Unchanged, res.Kept)
		}
		if res.Counts["settings"] != 1 || res.Kept["preferences"] != 1 {
			t.Errorf("dry %v: counts %v kept %v", dry, res.Counts, res.Kept)
		}
		all := strings.Join(res.KeptStored, "\n")
		for _, want := range []string{`tasks "t1"`, "settings: members aiSettings keep the store's values", "members searchHistory added", "preferences: members theme keep"} {
			if !strings.Contains(all, want) {
				t.Errorf("dry %v: kept_stored lacks %q: %v", dry, want, res.KeptStored)
			}
		}
	}
	get := func(coll, id string) map[string]any {
		v, _, err := db.GetValue(ctx, coll, id)
		if err != nil {
			t.Fatalf("get %s %s: %v", coll, id, err)
		}
		return v.(map[string]any)
	}
	if got := get("tasks", "t1")["title"]; got != "edited by user" {
		t.Errorf("t1 reverted to %v", got)
	}
	if got := get("tasks", "t3")["title"]; got != "edited, no new time" {
		t.Errorf("t3 reverted to %v", got)
	}
	s := get("settings", "settings")
	if !reflect.DeepEqual(s["aiSettings"], map[string]any{"model": "new"}) || s["userProfile"] == nil || s["searchHistory"] == nil || s["ui"] == nil {
		t.Errorf("settings %v", s)
	}
	p := get("preferences", "preferences")
	if p["theme"] != "dark" || p["zoomLevel"] == nil {
		t.Errorf("preferences %v", p)
	}
	wantNothingWritten(t, db, dir, false, "a third run")
}

// TestMigrate_removesStaleSpill: the spill directory a killed migration
// left in the store's directory is removed by the next one, and noted.
func TestMigrate_removesStaleSpill(t *testing.T) {
	db := openStore(t)
	stale := filepath.Join(db.Dir(), "cairn-legacy-123")
	if err := os.Mkdir(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(stale, ".lock"), nil, 0o600)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	res, err := legacy.Migrate(t.Context(), db, "testdata/eras/era-b", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("%s still there", stale)
	}
	if !strings.Contains(strings.Join(res.Report.Notes, "\n"), "removed cairn-legacy-123") {
		t.Errorf("notes %q", res.Report.Notes)
	}
}
