package kv_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/kv"
)

// TestDamaged_changeLogEntry: a change-log entry whose value no longer
// reads (one flipped bit on disk) loses which document it changed, and
// nothing else. Search must not stop for it, whether the index had
// applied the entry or not, Changes readers start over, and the fix check
// advises (reindex --search) must leave check and backups passing again.
func TestDamaged_changeLogEntry(t *testing.T) {
	for _, behind := range []bool{false, true} {
		t.Run(fmt.Sprintf("indexBehind=%v", behind), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true})
			if err != nil {
				t.Fatal(err)
			}
			put := func(db *kv.DB, id, text string) {
				t.Helper()
				if _, err := db.Put(ctx, "notes", kv.Document{"id": id, "content": text}); err != nil {
					t.Fatal(err)
				}
			}
			put(db, "n1", "harbour lantern one")
			if behind {
				// The index applies n1; n2 and n3 are written with search
				// off, so the index has still to read their entries.
				if _, err := db.Search(ctx, "lantern", kv.SearchOptions{}); err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				if db, err = kv.Open(dir, &kv.Options{NoAutoBackup: true, NoSearch: true}); err != nil {
					t.Fatal(err)
				}
			}
			put(db, "n2", "harbour lantern two")
			put(db, "n3", "harbour lantern three")
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			damageValue(t, dir, buckets.LogBucket, string(buckets.LogKey(2)))

			for _, ro := range []bool{true, false} {
				db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true, ReadOnly: ro})
				if err != nil {
					t.Fatal(err)
				}
				res, err := db.Search(ctx, "lantern", kv.SearchOptions{})
				if err != nil {
					t.Fatalf("readOnly=%v: search on a store with one damaged change-log entry: %v", ro, err)
				}
				if res.Total != 3 {
					t.Errorf("readOnly=%v: search found %d of the 3 notes", ro, res.Total)
				}
				for _, err := range db.ChangesSoFar(ctx, 0) {
					if err != nil && !errors.Is(err, kv.ErrChangesTrimmed) {
						t.Errorf("readOnly=%v: Changes past a damaged entry: %v, want ErrChangesTrimmed", ro, err)
					}
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			}

			db, err = kv.Open(dir, &kv.Options{NoAutoBackup: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rep, err := db.Check(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var fix string
			for _, p := range rep.Problems {
				if !buckets.IsLogProblem(p) {
					t.Errorf("problem other than the damaged entry: %v", p)
				}
				fix = p.Fix
			}
			if !strings.Contains(fix, "reindex --search") {
				t.Fatalf("check: %+v; want the damaged entry, fixed by reindex --search", rep.Problems)
			}
			if _, err := db.Backup(ctx, kv.ReasonManual); err == nil {
				t.Fatal("a backup of a store whose change log does not read passed")
			}
			if n, err := db.ReindexSearch(ctx); err != nil || n != 3 {
				t.Fatalf("ReindexSearch = %d, %v", n, err)
			}
			rep, err = db.Check(ctx)
			if err != nil || !rep.OK {
				t.Fatalf("check after the fix: %+v, %v", rep, err)
			}
			if _, err := db.Backup(ctx, kv.ReasonManual); err != nil {
				t.Fatalf("backup after the fix: %v", err)
			}
			for _, id := range []string{"n1", "n2", "n3"} {
				if doc, _, err := db.Get(ctx, "notes", id); err != nil || doc == nil {
					t.Errorf("after the fix, %s: %v, %v", id, doc, err)
				}
			}
			put(db, "n4", "harbour lantern four")
			if res, err := db.Search(ctx, "lantern", kv.SearchOptions{}); err != nil || res.Total != 4 {
				t.Fatalf("search after a new put: %+v, %v", res, err)
			}
		})
	}
}
