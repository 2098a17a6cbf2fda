package legacy_test

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/legacy"
)

// TestMigrate_tooDeep: a document nested deeper than the store allows
// does not fail the migration: it is kept whole as the JSON content of an
// attachment, and the problems name it, with its file.
func TestMigrate_tooDeep(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	deep := strings.Repeat("[", 1001) + "1" + strings.Repeat("]", 1001)
	os.WriteFile(filepath.Join(dir, "db", "notes.json"), []byte(`[{"id":"ok1","c":"fine"},{"id":"deep-one","x":`+deep+`}]`), 0o644)
	os.WriteFile(filepath.Join(dir, "db", "tasks.json"), []byte(`[{"id":"t1"}]`), 0o644)
	db := openStore(t)
	for _, dry := range []bool{true, false} {
		res, err := legacy.Migrate(t.Context(), db, dir, nil, dry)
		if err != nil {
			t.Fatalf("dry %v: %v", dry, err)
		}
		if res.Counts["notes"] != 1 || res.Counts["tasks"] != 1 || res.Counts["attachments"] != 1 {
			t.Errorf("dry %v: counts %v", dry, res.Counts)
		}
		var line string
		for _, p := range res.Problems {
			if strings.Contains(p, `"deep-one"`) {
				line = p
			}
		}
		if !strings.Contains(line, "db/notes.json") || !strings.Contains(line, "nested deeper") {
			t.Fatalf("dry %v: problems %q", dry, res.Problems)
		}
		if dry {
			continue
		}
		aid := regexp.MustCompile(`attachment "([^"]+)"`).FindStringSubmatch(line)[1]
		r, _, err := db.OpenAttachment(t.Context(), aid)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil || v["id"] != "deep-one" {
			t.Errorf("attachment %s does not hold the note: %v %.60s", aid, err, b)
		}
	}
}
