package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/gen"
	"github.com/cairnkv/cairn/legacy"
)

// TestWriteLegacyDir: the generated old-app directory migrates to the
// generated entities, with the later edits of the older layouts (a WAL
// transaction, per-entity files) winning over the collection files and
// the timestamped backups used for nothing.
func TestWriteLegacyDir(t *testing.T) {
	g := gen.New(gen.Config{Sessions: 40, Seed: 3})
	root := filepath.Join(t.TempDir(), "appdata")
	if err := WriteLegacyDir(context.Background(), root, g); err != nil {
		t.Fatal(err)
	}
	ds, rep, err := legacy.Scan(context.Background(), root, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, coll := range []string{"sessions", "notes", "tasks", "topics", "companies", "contacts"} {
		if got, want := len(ds.Collections[coll]), g.Count(coll); got != want {
			t.Errorf("%s: %d migrated, %d generated", coll, got, want)
		}
	}
	edited := map[string]int{}
	for coll, field := range map[string]string{"notes": "content", "tasks": "title"} {
		for i := range g.Count(coll) {
			var want map[string]any
			if coll == "notes" {
				want = g.Note(i)
			} else {
				want = g.Task(i)
			}
			e := ds.Collections[coll][want["id"].(string)]
			got, _ := e.Doc[field].(string)
			if legacyEdited(coll, i) {
				edited[coll]++
				if !strings.HasSuffix(got, "(edited later)") {
					t.Errorf("%s %d: the later edit lost to %s", coll, i, e.Source)
				}
			} else if got != want[field] {
				t.Errorf("%s %d: %s is %q, generated %q", coll, i, field, got, want[field])
			}
		}
	}
	if rep.Sources["notes"][legacy.SourceWAL] != edited["notes"] || rep.Sources["tasks"][legacy.SourcePerEntity] != edited["tasks"] || edited["notes"] == 0 || edited["tasks"] == 0 {
		t.Errorf("sources %v, edited %v", rep.Sources, edited)
	}
	if len(rep.Fallbacks) != 0 || len(rep.Unreadable) != 0 || len(rep.ChecksumMismatches) != 0 || len(rep.WAL.Skipped) != 0 {
		t.Errorf("a clean generated directory reports problems: %+v %+v %+v %+v", rep.Fallbacks, rep.Unreadable, rep.ChecksumMismatches, rep.WAL.Skipped)
	}
}
