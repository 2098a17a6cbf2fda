package legacy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

func openStore(t *testing.T) *kv.DB {
	t.Helper()
	db, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rep, err := db.Check(context.Background())
		if err != nil {
			t.Error(err)
		} else {
			for _, p := range rep.Problems {
				t.Errorf("check: %s", p)
			}
		}
		_ = db.Close()
	})
	return db
}

// TestMigrate_everyFixture migrates every era and risk fixture: the store
// checks clean, a backup was taken first, every attachment's bytes hash to
// the hash it records, and a second run writes nothing.
func TestMigrate_everyFixture(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/eras/*")
	risks, _ := filepath.Glob("testdata/risks/*")
	for _, dir := range append(dirs, risks...) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			db := openStore(t)
			res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if res.Backup == "" {
				t.Fatal("no backup taken before the migration")
			}
			total := 0
			for _, n := range res.Counts {
				total += n
			}
			if total == 0 {
				t.Fatalf("nothing imported from %s", dir)
			}
			err = db.View(func(tx *kv.Tx) error {
				return tx.Each("attachments", func(id string, doc any) error {
					m := doc.(map[string]any)
					h, _ := m["hash"].(string)
					if h == "" {
						return nil
					}
					r, _, err := db.OpenAttachment(id)
					if err != nil {
						t.Errorf("attachment %s: %v", id, err)
						return nil
					}
					defer r.Close()
					sum := sha256.New()
					if _, err := io.Copy(sum, r); err != nil {
						t.Errorf("attachment %s: %v", id, err)
					}
					if got := hex.EncodeToString(sum.Sum(nil)); got != h {
						t.Errorf("attachment %s: bytes hash to %s, document says %s", id, got, h)
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			again, err := legacy.Migrate(t.Context(), db, dir, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			for coll, n := range again.Counts {
				if n != 0 {
					t.Errorf("second run wrote %d %s", n, coll)
				}
			}
		})
	}
}

// TestExport_storeRoundTrip: export → import into an empty store →
// export gives the same documents.
func TestExport_storeRoundTrip(t *testing.T) {
	src := openStore(t)
	if _, err := legacy.Migrate(t.Context(), src, "testdata/eras/era-g", nil, false); err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := legacy.ExportFrom(t.Context(), src, &first, false); err != nil {
		t.Fatal(err)
	}
	x, err := legacy.ReadExport(bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := legacy.ImportInto(t.Context(), dst, x, false); err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := legacy.ExportFrom(t.Context(), dst, &second, false); err != nil {
		t.Fatal(err)
	}
	a, _ := legacy.ReadExport(bytes.NewReader(first.Bytes()))
	b, _ := legacy.ReadExport(bytes.NewReader(second.Bytes()))
	a.ExportedAt, b.ExportedAt = "", ""
	if !kv.SameValue(mustNorm(t, a.Collections), mustNorm(t, b.Collections)) || !kv.SameValue(mustNorm(t, a.Settings), mustNorm(t, b.Settings)) ||
		!kv.SameValue(mustNorm(t, a.Extras), mustNorm(t, b.Extras)) {
		t.Fatal("export → import → export changed the documents")
	}
}

func mustNorm(t *testing.T, v any) any {
	t.Helper()
	n, err := kv.Normalize(v)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMigrate_allOrNothing fails a migration late, while it stores
// attachment contents after every entity batch was written: the store must
// be exactly as before (data.db byte for byte), with no staged copy left.
// A dry run must count what the real run then writes.
func TestMigrate_allOrNothing(t *testing.T) {
	dir := "testdata/eras/era-g"
	db := openStore(t)
	if _, err := db.Put("notes", kv.Document{"id": "mine", "content": "written before the migration"}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	failed := ""
	restore := fsutil.SetFault(func(op, path string) error {
		if failed == "" && strings.Contains(filepath.ToSlash(path), "/"+kv.BlobsDir+"/") {
			failed = op + " " + path
			return fsutil.ErrInjected
		}
		return nil
	})
	_, err = legacy.Migrate(t.Context(), db, dir, nil, false)
	restore()
	if !errors.Is(err, fsutil.ErrInjected) {
		t.Fatalf("migration with a failing blob store (%s): %v", failed, err)
	}
	after, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("a failed migration changed data.db")
	}
	if _, err := os.Stat(db.Path() + ".stage"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("staged copy left behind: %v", err)
	}
	dry, err := legacy.Migrate(t.Context(), db, dir, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dry.Counts, res.Counts) || len(res.Counts) == 0 {
		t.Fatalf("dry run counted %v, the migration wrote %v", dry.Counts, res.Counts)
	}
	if _, _, err := db.Get("notes", "mine"); err != nil {
		t.Fatalf("the user's own note: %v", err)
	}
}
