package kv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/blobstore"
	"github.com/cairnkv/cairn/kv"
)

func readAll(t *testing.T, db *kv.DB, id string) ([]byte, error) {
	t.Helper()
	r, _, err := db.OpenAttachment(context.Background(), id)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func blobFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	root := filepath.Join(dir, kv.BlobsDir)
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		if err == nil && !d.IsDir() && !strings.HasPrefix(rel, "tmp") {
			n++
		}
		return nil
	})
	return n
}

// TestAttachments_model adds, deletes and re-adds attachments with
// duplicated contents at random and compares blob files, reference counts
// and contents with a model after every step.
func TestAttachments_model(t *testing.T) {
	db := openTest(t)
	rng := rand.New(rand.NewPCG(7, 7))
	contents := [][]byte{[]byte("alpha"), []byte("beta"), bytes.Repeat([]byte("gamma"), 5000), {}}
	model := map[string]int{} // id → content index
	for step := 0; step < 200; step++ {
		id := fmt.Sprint("a", rng.IntN(12))
		if _, exists := model[id]; exists && rng.IntN(3) == 0 {
			if _, err := db.Delete(context.Background(), "attachments", id); err != nil {
				t.Fatal(err)
			}
			delete(model, id)
		} else {
			ci := rng.IntN(len(contents))
			if _, err := db.AddAttachment(t.Context(), bytes.NewReader(contents[ci]), kv.Document{"id": id, "name": id}); err != nil {
				t.Fatal(err)
			}
			model[id] = ci
		}
		distinct := map[int]bool{}
		for _, ci := range model {
			distinct[ci] = true
		}
		// Deletion of unreferenced blobs runs just after commit; wait for it.
		db.WaitBlobDeletes()
		if got := blobFiles(t, db.Dir()); got != len(distinct) {
			t.Fatalf("step %d: %d blob files, model has %d distinct contents", step, got, len(distinct))
		}
	}
	for id, ci := range model {
		got, err := readAll(t, db, id)
		if err != nil || !bytes.Equal(got, contents[ci]) {
			t.Fatalf("%s: content %q, %v", id, got, err)
		}
	}
}

func TestAttachments_corruptBlobAndGC(t *testing.T) {
	db := openTest(t)
	doc, err := db.AddAttachment(t.Context(), strings.NewReader("precious bytes"), kv.Document{"id": "p"})
	if err != nil {
		t.Fatal(err)
	}
	hash := doc["hash"].(string)
	path := filepath.Join(db.Dir(), kv.BlobsDir, hash[:2], hash)
	orig, _ := os.ReadFile(path)
	bad := append([]byte(nil), orig...)
	bad[3] ^= 1
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, db, "p"); !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), `"p"`) {
		t.Fatalf("corrupt blob read: %v", err)
	}
	rep, _ := db.Check(t.Context())
	if rep.OK || rep.Problems[0].Kind != "blob-corrupt" {
		t.Fatalf("check: %+v", rep)
	}
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	// An orphan (a blob written by a process killed before its commit,
	// put here through the blob store itself) is reported by check and
	// removed by gc.
	bs, err := blobstore.Open(filepath.Join(db.Dir(), kv.BlobsDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bs.Put(t.Context(), strings.NewReader("orphan")); err != nil {
		t.Fatal(err)
	}
	rep, _ = db.Check(t.Context())
	if rep.OK || rep.Problems[0].Kind != "blob-orphan" {
		t.Fatalf("check with orphan: %+v", rep)
	}
	res, err := db.GC(t.Context(), true)
	if err != nil || res.Deleted != 1 {
		t.Fatalf("gc: %+v %v", res, err)
	}
	if _, err := readAll(t, db, "p"); err != nil {
		t.Fatalf("referenced blob after gc: %v", err)
	}
}

// TestAttachments_damagedCountGC: a blob's stored reference count,
// damaged on disk from 1 to 0 (it has no checksum), must not make GC delete
// a blob an attachment still refers to (docs/DESIGN.md invariant 6): GC
// keeps it and reports it as miscounted, and GC with recount repairs the
// count.
func TestAttachments_damagedCountGC(t *testing.T) {
	dir := t.TempDir()
	opts := &kv.Options{NoAutoBackup: true, NoSearch: true}
	db, err := kv.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := db.AddAttachment(t.Context(), strings.NewReader("precious bytes"), kv.Document{"id": "p"})
	if err != nil {
		t.Fatal(err)
	}
	hash := doc["hash"].(string)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The refs entry: the hash as key, then its count (8 bytes
	// big-endian), in every copy of its page.
	path := filepath.Join(dir, kv.DataFile)
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entry := append([]byte(hash), 0, 0, 0, 0, 0, 0, 0, 1)
	n := 0
	for i := bytes.Index(file, entry); i >= 0; i = bytes.Index(file, entry) {
		file[i+len(entry)-1] = 0
		n++
	}
	if n == 0 {
		t.Fatal("the blob's reference count is not in data.db")
	}
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.GC(t.Context(), false)
	if err != nil || res.Deleted != 0 || len(res.Miscounted) != 1 || res.Miscounted[0] != hash {
		t.Fatalf("gc with a damaged count: %+v %v", res, err)
	}
	if got, err := readAll(t, db, "p"); err != nil || string(got) != "precious bytes" {
		t.Fatalf("attachment after gc: %q %v", got, err)
	}
	res, err = db.GC(t.Context(), true)
	if err != nil || res.Recounted != 1 || res.Deleted != 0 || len(res.Miscounted) != 0 {
		t.Fatalf("gc --recount: %+v %v", res, err)
	}
	checkClean(t, db)
}

// TestAttachments_unkeptContentDeleted: content written by a transaction
// that fails, or that commits without referencing it (a replica's pulled
// attachment that lost its merge), is deleted when the transaction ends,
// and leaves the store checking clean; content another document still
// references stays. While its transaction is open, a written blob is not
// an orphan to check.
func TestAttachments_unkeptContentDeleted(t *testing.T) {
	db := openTest(t)
	if _, err := db.AddAttachment(t.Context(), strings.NewReader("shared"), kv.Document{"id": "kept"}); err != nil {
		t.Fatal(err)
	}
	want := blobFiles(t, db.Dir())
	store := func(fail bool, content string) error {
		return db.Update(t.Context(), func(tx *kv.Tx) error {
			if _, _, err := tx.StoreContent(t.Context(), strings.NewReader(content)); err != nil {
				return err
			}
			if got := blobFiles(t, db.Dir()); got != want+1 && content != "shared" {
				t.Errorf("%q: %d blob files inside the transaction, want %d", content, got, want+1)
			}
			// Check, from another goroutine while this transaction is
			// open, must not call the new blob an orphan.
			done := make(chan *kv.CheckReport)
			go func() {
				rep, err := db.Check(context.Background())
				if err != nil {
					t.Error(err)
				}
				done <- rep
			}()
			if rep := <-done; rep != nil && !rep.OK {
				t.Errorf("%q: check inside the transaction: %+v", content, rep.Problems)
			}
			if fail {
				return errors.New("given up")
			}
			return nil
		})
	}
	for _, c := range []struct {
		fail    bool
		content string
	}{{true, "failed"}, {false, "committed, unreferenced"}, {false, "shared"}, {true, "shared"}} {
		err := store(c.fail, c.content)
		if (err != nil) != c.fail {
			t.Fatalf("%q: %v", c.content, err)
		}
		db.WaitBlobDeletes()
		if got := blobFiles(t, db.Dir()); got != want {
			t.Fatalf("%q (fail %v): %d blob files after the transaction, want %d", c.content, c.fail, got, want)
		}
		if rep, err := db.Check(t.Context()); err != nil || !rep.OK {
			t.Fatalf("%q: check: %+v %v", c.content, rep, err)
		}
	}
	if got, err := readAll(t, db, "kept"); err != nil || string(got) != "shared" {
		t.Fatalf("kept: %q %v", got, err)
	}
}

// TestAttachments_backupRetainsBlob: a blob referenced only by a retained
// backup survives gc; once that backup rotates out, the rotation deletes it.
func TestAttachments_backupRetainsBlob(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{BackupPolicy: kv.BackupPolicy{KeepLast: 1, Daily: -1, Weekly: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.AddAttachment(t.Context(), strings.NewReader("kept by a backup"), kv.Document{"id": "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(t.Context(), kv.ReasonManual); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Delete(context.Background(), "attachments", "x"); err != nil {
		t.Fatal(err)
	}
	db.WaitBlobDeletes()
	if _, err := db.GC(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	if n := blobFiles(t, dir); n != 1 {
		t.Fatalf("blob referenced by a backup was deleted (%d files)", n)
	}
	if _, err := db.Backup(t.Context(), kv.ReasonManual); err != nil { // rotates the first out
		t.Fatal(err)
	}
	if ms, _ := db.Backups(context.Background()); len(ms) != 1 {
		t.Fatalf("%d backups kept, want 1", len(ms))
	}
	// The rotation released it, as gc would have.
	if n := blobFiles(t, dir); n != 0 {
		t.Fatalf("%d blob files after the rotation, want the one only the rotated backup held gone", n)
	}
	res, err := db.GC(t.Context(), false)
	if err != nil || res.Deleted != 0 {
		t.Fatalf("gc after rotation: %+v %v", res, err)
	}
}
