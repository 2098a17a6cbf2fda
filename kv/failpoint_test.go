package kv_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// TestFailpoints makes every file-system step of each risky operation fail
// in turn (create, write, sync, rename, directory sync: through the
// fsutil seam), and checks each time that the operation returns an error,
// that the store reopens and checks clean (blob orphans aside, which gc
// removes), and that every acknowledged document is still there.
func TestFailpoints(t *testing.T) {
	type op struct {
		name string
		run  func(db *kv.DB, backup string) error
	}
	ops := []op{
		{"backup", func(db *kv.DB, _ string) error {
			_, err := db.Backup(context.Background(), kv.ReasonManual)
			return err
		}},
		{"restore", func(db *kv.DB, b string) error { _, _, err := db.Restore(context.Background(), b); return err }},
		{"compact", func(db *kv.DB, _ string) error { _, err := db.Compact(context.Background()); return err }},
		{"attach", func(db *kv.DB, _ string) error {
			_, err := db.AddAttachment(context.Background(), strings.NewReader("new content"), kv.Document{"id": "new"})
			return err
		}},
		{"reindex", func(db *kv.DB, _ string) error { _, err := db.ReindexSecondary(context.Background()); return err }},
		{"migrate", func(db *kv.DB, _ string) error {
			_, err := legacy.Migrate(context.Background(), db, "../legacy/testdata/eras/era-g", nil, false)
			return err
		}},
		{"import", func(db *kv.DB, _ string) error {
			x := &legacy.Export{Collections: map[string][]map[string]any{"notes": {{"id": "imported", "content": "x"}}}}
			_, err := legacy.ImportInto(context.Background(), db, x, false)
			return err
		}},
		{"import-file", func(db *kv.DB, _ string) error {
			_, err := legacy.ImportFile(context.Background(), db, "../legacy/testdata/export/export-1.0.0.json", nil)
			return err
		}},
	}
	faults := 0
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			for k := 1; k < 200; k++ {
				dir := t.TempDir()
				db, err := kv.Open(dir, &kv.Options{NoSearch: true})
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 20; i++ {
					if _, err := db.Put(context.Background(), "notes", kv.Document{"id": fmt.Sprint("n", i), "content": strings.Repeat("x", 500)}); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := db.AddAttachment(context.Background(), strings.NewReader("old content"), kv.Document{"id": "old"}); err != nil {
					t.Fatal(err)
				}
				m, err := db.Backup(context.Background(), kv.ReasonManual)
				if err != nil {
					t.Fatal(err)
				}
				var calls atomic.Int64
				var failedAt string
				restore := fsutil.SetFault(func(op, path string) error {
					if calls.Add(1) == int64(k) {
						failedAt = op + " " + path
						return fsutil.ErrInjected
					}
					return nil
				})
				err = o.run(db, m.Name)
				restore()
				db.WaitBlobDeletes()
				if err == nil {
					if calls.Load() < int64(k) {
						_ = db.Close()
						return // every step has had its fault
					}
					t.Fatalf("step %d (%s) failed but %s returned nil", k, failedAt, o.name)
				}
				faults++
				if !errors.Is(err, fsutil.ErrInjected) && !strings.Contains(err.Error(), "injected") {
					t.Errorf("step %d (%s): the error does not say what failed: %v", k, failedAt, err)
				}
				_ = db.Close()
				db, err = kv.Open(dir, &kv.Options{NoSearch: true})
				if err != nil {
					t.Fatalf("step %d (%s): reopen: %v", k, failedAt, err)
				}
				rep, err := db.Check(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range rep.Problems {
					if p.Kind != "blob-orphan" {
						t.Errorf("step %d (%s): check: %s", k, failedAt, p)
					}
				}
				for i := 0; i < 20; i++ {
					if _, _, err := db.Get(context.Background(), "notes", fmt.Sprint("n", i)); err != nil {
						t.Fatalf("step %d (%s): acknowledged note lost: %v", k, failedAt, err)
					}
				}
				if _, _, err := db.Get(context.Background(), "attachments", "old"); err != nil {
					t.Fatalf("step %d (%s): acknowledged attachment lost: %v", k, failedAt, err)
				}
				_ = db.Close()
			}
			t.Fatal("the operation never completed")
		})
	}
	t.Logf("%d faults injected", faults)
}
