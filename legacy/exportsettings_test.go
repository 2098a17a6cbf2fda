package legacy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScan_exportFilesSettingsNewest: with two export files, aiSettings
// and preferences come from the newer one, as its notes do; the older
// file's are kept in Extras and the report notes the choice.
func TestScan_exportFilesSettingsNewest(t *testing.T) {
	dir := t.TempDir()
	older := `{"notes":[{"id":"n1","content":"old","lastUpdated":"2024-10-01T00:00:00.000Z"}],"aiSettings":{"model":"OLD"},"preferences":{"theme":"OLD"},"exportedAt":"2024-10-01T00:00:00.000Z","version":"1.0.0"}`
	newer := `{"notes":[{"id":"n1","content":"new","lastUpdated":"2024-11-01T00:00:00.000Z"}],"aiSettings":{"model":"NEW"},"preferences":{"theme":"NEW"},"exportedAt":"2024-11-01T00:00:00.000Z","version":"1.0.0"}`
	os.WriteFile(filepath.Join(dir, "taskerino-export-1727740800000.json"), []byte(older), 0o644)
	os.WriteFile(filepath.Join(dir, "taskerino-export-1730419200000.json"), []byte(newer), 0o644)
	ds, rep, err := Scan(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ds.Collections["notes"]["n1"].Doc["content"]; got != "new" {
		t.Errorf("note %v", got)
	}
	if m, _ := ds.AISettings.(map[string]any); m["model"] != "NEW" {
		t.Errorf("aiSettings %v", ds.AISettings)
	}
	if m, _ := ds.Preferences.(map[string]any); m["theme"] != "NEW" {
		t.Errorf("preferences %v", ds.Preferences)
	}
	if m, _ := ds.Extras["taskerino-export-1727740800000.json#aiSettings"].(map[string]any); m["model"] != "OLD" {
		t.Errorf("the older aiSettings not kept: %v", ds.Extras)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "aiSettings taken from taskerino-export-1730419200000.json") {
		t.Errorf("notes %q", rep.Notes)
	}
}
