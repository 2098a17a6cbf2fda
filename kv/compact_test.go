package kv_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// TestCompact_neverLarger compacts a store with free pages (it shrinks)
// and then the compacted store again: a copy that is not smaller is
// thrown away and data.db stays byte for byte as it was.
func TestCompact_neverLarger(t *testing.T) {
	db := openTest(t)
	body := strings.Repeat("a note long enough to fill pages ", 40)
	var ids []string
	for i := range 400 {
		id := fmt.Sprintf("n%04d", i)
		if _, err := db.Put(t.Context(), "notes", map[string]any{"id": id, "content": body}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := db.Delete(t.Context(), "notes", ids[:300]...); err != nil {
		t.Fatal(err)
	}
	res, err := db.Compact(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Replaced || res.After >= res.Before || res.Backup == "" {
		t.Fatalf("first compaction %+v: want a smaller file swapped in", res)
	}
	path := filepath.Join(db.Dir(), kv.DataFile)
	was, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := db.Compact(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res2.Replaced || res2.After != res2.Before {
		t.Fatalf("second compaction %+v: an already compact file was replaced", res2)
	}
	now, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(was, now) {
		t.Error("data.db changed although the compacted copy was not swapped in")
	}
	n := 0
	if err := db.List(t.Context(), "notes", 0, 0, func(kv.Document) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 100 {
		t.Errorf("%d notes after compaction, want 100", n)
	}
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Errorf("the discarded copy is left: %v", err)
	}
}

// TestStaged_bulkLoadCompacted loads about 8 MB of notes in a staged
// change, in batches whose ids interleave (so pages split at random
// points): the file that replaces data.db is already compact, so a
// compaction right after finds nothing to gain. A small staged change is
// not compacted (the file keeps its growth step).
func TestStaged_bulkLoadCompacted(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 8 MB")
	}
	db, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		checkClean(t, db)
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	rng := rand.New(rand.NewPCG(1, 2))
	salt := 0
	load := func(batches, per int) {
		t.Helper()
		err := db.Staged(t.Context(), func(s *kv.Stage) error {
			for b := range batches {
				if err := s.Update(func(tx *kv.Tx) error {
					for i := range per {
						salt++
						id := fmt.Sprintf("n%05d-%03d", i*7919%per, b)
						raw := make([]byte, 300)
						for k := range raw {
							raw[k] = byte(rng.Uint32())
						}
						doc := kv.Document{"id": id, "content": fmt.Sprintf("%d %x", salt, raw)}
						if _, err := tx.Put("notes", doc); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	load(50, 200)
	res, err := db.Compact(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Replaced {
		t.Errorf("compaction after a bulk load shrank %d to %d bytes: the load was not compacted", res.Before, res.After)
	}
	if res.Before < 4<<20 {
		t.Fatalf("the load made a %d-byte file, too small to tell", res.Before)
	}
	load(1, 5)
	res, err = db.Compact(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Replaced {
		t.Errorf("a small staged change was compacted too: %+v", res)
	}
}
