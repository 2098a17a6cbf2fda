package kv_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

func searchTotal(t *testing.T, db *kv.DB, text string) uint64 {
	t.Helper()
	res, err := db.Search(t.Context(), text, kv.SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Total
}

// TestSearch_drift damages the search index in the ways peers' users
// report: the directory deleted, a file corrupted, an older copy restored.
// Open must repair each, and check must then be clean.
func TestSearch_drift(t *testing.T) {
	dir := t.TempDir()
	open := func() *kv.DB {
		db, err := kv.Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	for i := 0; i < 30; i++ {
		if _, err := db.Put(context.Background(), "notes", kv.Document{"id": fmt.Sprint("n", i), "content": "quarterly planning meeting"}); err != nil {
			t.Fatal(err)
		}
	}
	if searchTotal(t, db, "planning") != 30 {
		t.Fatal("index incomplete")
	}
	_ = db.Close()
	searchDir := filepath.Join(dir, kv.SearchDir)
	old := t.TempDir()
	if err := os.CopyFS(old, os.DirFS(searchDir)); err != nil {
		t.Fatal(err)
	}

	damage := []struct {
		name string
		do   func()
	}{
		{"deleted", func() { _ = os.RemoveAll(searchDir) }},
		{"corrupted", func() {
			_ = filepath.WalkDir(searchDir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					data, _ := os.ReadFile(p)
					for i := range data {
						data[i] ^= 0x5a
					}
					_ = os.WriteFile(p, data, 0o600)
				}
				return nil
			})
		}},
		{"older copy", func() {
			_ = os.RemoveAll(searchDir)
			_ = os.CopyFS(searchDir, os.DirFS(old))
		}},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			db := open()
			// Change the data so an older index would be stale.
			if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "new-" + d.name, "content": "planning"}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Delete(context.Background(), "notes", "n0"); err != nil {
				t.Fatal(err)
			}
			_ = db.Close()
			d.do()
			db = open()
			defer db.Close()
			checkClean(t, db)
			var want uint64
			_ = db.List(context.Background(), "notes", 0, 0, func(kv.Document) error { want++; return nil })
			if got := searchTotal(t, db, "planning"); got != want {
				t.Fatalf("after repair the index finds %d of %d notes", got, want)
			}
			// Put n0 back for the next case.
			if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "n0", "content": "quarterly planning meeting"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
