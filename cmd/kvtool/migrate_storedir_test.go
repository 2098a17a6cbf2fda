package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrate_storeInOldAppFolderRefused: --db naming one of the old
// app's data folders (or a directory in one) is a usage error (exit 2)
// naming the folder, and nothing is written into the old directory, with
// or without --yes or --dry-run.
func TestMigrate_storeInOldAppFolderRefused(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"db/notes.json":                `[{"id":"n1","content":"x"}]`,
		"attachments/a1.meta.json":     `{"id":"a1","name":"a.txt"}`,
		"attachments/a1.dat":           "aGk=",
		"videos/session-s1-1.mp4":      "raw",
		"db/sessions/s1/metadata.json": `{"id":"s1"}`,
		"db/attachments-ca/ab/x.json":  `{}`,
	}
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		n := 0
		filepath.WalkDir(root, func(string, fs.DirEntry, error) error { n++; return nil })
		return n
	}
	before := count()
	for _, sub := range []string{"attachments", "videos", "db/attachments-ca", "db/sessions", "attachments/new"} {
		for _, extra := range [][]string{{"--yes"}, {"--dry-run"}} {
			r := kvtool(t, "", append([]string{"--db", filepath.Join(root, sub), "migrate", root}, extra...)...)
			wantExit(t, r, exitUsage, "migrate --db", sub)
			folder := strings.SplitN(sub, "/", 2)[0]
			if folder == "db" {
				folder = sub
			}
			if !strings.Contains(r.stderr, folder+"/") {
				t.Errorf("--db %s: the refusal does not name the folder: %s", sub, r.stderr)
			}
			if n := count(); n != before {
				t.Fatalf("--db %s %v: the old directory went from %d entries to %d", sub, extra, before, n)
			}
		}
	}
}
