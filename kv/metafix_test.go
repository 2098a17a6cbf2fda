package kv_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/snapshot"
)

// TestOpen_repairsNewestMeta: one damaged byte in the meta page of the
// newest commit made bbolt read the commit before it, silently, and the
// next write overwrote the page: the newest acknowledged write was lost.
// A writable open restores the byte; a read-only one refuses the store,
// naming the page and the command that repairs it. A damaged byte in the
// older meta page is not touched (bbolt reads the newest commit anyway),
// nor are two damaged bytes (no single sure way back). A salvage reads
// the newest commit through the repaired page, without writing data.db.
func TestOpen_repairsNewestMeta(t *testing.T) {
	// Offsets inside the 64-byte meta (after the 16-byte page header):
	// the magic, the root page id, the high-water mark, the transaction
	// id, the checksum.
	for _, off := range []int{16, 32, 56, 64, 75} {
		for _, bit := range []byte{0x01, 0x40} {
			dir, path := storeWithTwoCommits(t)
			newest := newestMetaPage(t, path)
			flip(t, path, newest*4096+off, bit)

			db, err := kv.Open(dir, &kv.Options{ReadOnly: true, NoSearch: true})
			if err == nil {
				_ = db.Close()
				t.Fatalf("offset %d bit %#x: a read-only open served the older commit", off, bit)
			}
			if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "backup create repairs it") || !strings.Contains(err.Error(), "newest commit") {
				t.Fatalf("offset %d bit %#x: read-only open: %v", off, bit, err)
			}
			sdb, _, err := kv.OpenSalvage(t.Context(), dir, &kv.Options{NoSearch: true})
			if err != nil {
				t.Fatalf("offset %d bit %#x: salvage: %v", off, bit, err)
			}
			if _, _, err := sdb.Get(t.Context(), "notes", "n2"); err != nil {
				t.Errorf("offset %d bit %#x: the salvage misses the newest commit's note: %v", off, bit, err)
			}
			if err := sdb.Close(); err != nil {
				t.Fatal(err)
			}
			db, err = kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
			if err != nil {
				t.Fatalf("offset %d bit %#x: writable open: %v", off, bit, err)
			}
			if _, _, err := db.Get(t.Context(), "notes", "n2"); err != nil {
				t.Errorf("offset %d bit %#x: the newest commit's note: %v", off, bit, err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if lines, err := snapshot.DamagedMeta(path); err != nil || lines != nil {
				t.Errorf("offset %d bit %#x: after the repair: %v %v", off, bit, lines, err)
			}
		}
	}

	t.Run("older page", func(t *testing.T) {
		dir, path := storeWithTwoCommits(t)
		older := 1 - newestMetaPage(t, path)
		flip(t, path, older*4096+40, 0x04)
		before := mustRead(t, path)
		db, err := kv.Open(dir, &kv.Options{ReadOnly: true, NoSearch: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.Get(t.Context(), "notes", "n2"); err != nil {
			t.Error(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if fix, err := snapshot.FindMetaFix(path); fix != nil || err != nil {
			t.Errorf("a fix for the older page: %v %v", fix, err)
		}
		if string(mustRead(t, path)) != string(before) {
			t.Error("the read-only open changed data.db")
		}
	})

	t.Run("two bytes", func(t *testing.T) {
		dir, path := storeWithTwoCommits(t)
		newest := newestMetaPage(t, path)
		flip(t, path, newest*4096+32, 0x01)
		flip(t, path, newest*4096+64, 0x80)
		if fix, err := snapshot.FindMetaFix(path); fix != nil || err != nil {
			t.Errorf("a fix for two damaged bytes: %v %v", fix, err)
		}
		db, err := kv.Open(dir, &kv.Options{ReadOnly: true, NoSearch: true})
		if err != nil {
			t.Fatal(err) // bbolt reads the older commit; check reports the page
		}
		_ = db.Close()
	})
}

// storeWithTwoCommits makes a store whose last commit (note n2) is its
// newest transaction, and returns its directory and data file.
func storeWithTwoCommits(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"n1", "n2"} {
		if _, err := db.Put(t.Context(), "notes", kv.Document{"id": id, "content": "hello " + id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, kv.DataFile)
}

// newestMetaPage returns the meta page (0 or 1) of the file's newest
// transaction: bbolt writes transaction t to page t%2.
func newestMetaPage(t *testing.T, path string) int {
	t.Helper()
	b := mustRead(t, path)
	t0 := binary.LittleEndian.Uint64(b[16+48:])
	t1 := binary.LittleEndian.Uint64(b[4096+16+48:])
	if t1 > t0 {
		return 1
	}
	return 0
}

func flip(t *testing.T, path string, off int, mask byte) {
	t.Helper()
	b := mustRead(t, path)
	b[off] ^= mask
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOpen_freelistListsPageInUse: a freelist page that lists a page in
// use as free made the next commit write over it: the write was
// acknowledged, then the store no longer opened, and salvage lost what was
// under that page. A writable open refuses such a store when the page is
// one every open walks (the root bucket's, here); a read-only open still
// reads it, and check names the page.
func TestOpen_freelistListsPageInUse(t *testing.T) {
	dir, path := storeWithTwoCommits(t)
	b := mustRead(t, path)
	meta := 0
	if newestMetaPage(t, path) == 1 {
		meta = 4096
	}
	root := binary.LittleEndian.Uint64(b[meta+16+16:])
	fl := int(binary.LittleEndian.Uint64(b[meta+16+32:])) * 4096
	binary.LittleEndian.PutUint16(b[fl+10:], 1)
	binary.LittleEndian.PutUint64(b[fl+16:], root)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true}); err == nil {
		_ = db.Close()
		t.Fatal("a writable open accepted a freelist that lists the root bucket's page")
	} else if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "lists it as free") {
		t.Fatalf("writable open: %v", err)
	}
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open: %v", err)
	}
	defer db.Close()
	if _, _, err := db.Get(t.Context(), "notes", "n2"); err != nil {
		t.Error(err)
	}
	rep, err := db.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || !strings.Contains(fmt.Sprint(rep.Problems), "lists it as free") {
		t.Errorf("check: %v", rep.Problems)
	}
	// Every document reads: the way back is a copy into a new store, not
	// a restore that loses what came after the backup.
	for _, p := range rep.Problems {
		if p.Kind == "bbolt" && !strings.Contains(p.Fix, "export -o FILE") {
			t.Errorf("fix for %s: %s", p.Detail, p.Fix)
		}
	}
	if string(mustRead(t, path)) != string(b) {
		t.Error("a refused open changed data.db")
	}
}

// TestDamaged_pageItsOwnChild: one flipped bit made a branch page of the
// tasks collection its own child. bbolt recurses for ever on it (a stack
// overflow no recover catches) or loops: every command died, restore and
// compact included, since the search rebuild sized the collection with
// bbolt's Stats and the pre-restore and pre-compact backups read every
// value through cursors; a plain Get died the same way. The first read
// of a bucket in a process now walks its branch pages and refuses it
// (ErrCorrupt), and a restore sets the file aside.
func TestDamaged_pageItsOwnChild(t *testing.T) {
	dir, db := tasksStore(t, &kv.Options{NoAutoBackup: true})
	good, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kv.DataFile)
	root := bucketRoot(t, path, buckets.PrimaryBucket("tasks"))
	b := mustRead(t, path)
	if b[root*4096+8] != 0x01 {
		t.Fatalf("the tasks root %d is not a branch page", root)
	}
	binary.LittleEndian.PutUint64(b[root*4096+16+8:], uint64(root)) // element 0's child: the page itself
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// The search index is dropped, so that opening rebuilds it.
	if err := os.RemoveAll(filepath.Join(dir, kv.SearchDir)); err != nil {
		t.Fatal(err)
	}
	// The first read of the bucket in a process walks its branch pages
	// for a cycle, which the read would follow until the stack
	// overflows: the store opens (the search rebuild leaves the
	// collection out), every read of the tasks is refused, and a restore
	// sets the file aside.
	db, err = kv.Open(dir, &kv.Options{NoAutoBackup: true, EagerSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Get(t.Context(), "tasks", "t001"); !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "(a cycle)") {
		t.Errorf("get of a task below a page cycle: %v, want ErrCorrupt naming the cycle", err)
	}
	if _, err := db.Compact(t.Context()); !errors.Is(err, kv.ErrCorrupt) {
		t.Errorf("compact of a store with a page cycle: %v, want ErrCorrupt", err)
	}
	if _, kept, err := db.Restore(t.Context(), good.Name); err != nil || !strings.Contains(kept, kv.DamagedPrefix) {
		t.Fatalf("restore: %q %v", kept, err)
	}
	defer db.Close()
	checkClean(t, db)
}

// TestDamaged_writeIntoDamagedLeaf: a write whose key falls in a leaf page
// with a damaged element count made bbolt panic inside the commit; it was
// reported as the caller's own panic ("write function panicked", exit 1).
// It is damage, ErrCorrupt, as the same panic in a read is.
func TestDamaged_writeIntoDamagedLeaf(t *testing.T) {
	dir, path, b, leaf := tasksFirstLeaf(t)
	b[leaf*4096+11] ^= 0x10 // its element count, far past the page
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Put(t.Context(), "tasks", kv.Document{"id": "t000", "title": "changed"})
	if !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("a write into a damaged leaf: %v, want ErrCorrupt", err)
	}
}

// tasksFirstLeaf makes a closed tasksStore and returns its directory,
// its data file's path and bytes, and the page id of the tasks' first
// leaf (the child of their root branch's element 0).
func tasksFirstLeaf(t *testing.T) (dir, path string, b []byte, leaf int64) {
	t.Helper()
	dir, db := tasksStore(t, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, kv.DataFile)
	root := bucketRoot(t, path, buckets.PrimaryBucket("tasks"))
	b = mustRead(t, path)
	leaf = int64(binary.LittleEndian.Uint64(b[root*4096+16+8:]))
	if b[leaf*4096+8] != 0x02 {
		t.Fatalf("page %d is not a leaf", leaf)
	}
	return dir, path, b, leaf
}

// tasksStore opens a new store with opts holding 300 tasks, enough for
// the tasks bucket's root to be a branch page.
func tasksStore(t *testing.T, opts *kv.Options) (string, *kv.DB) {
	t.Helper()
	dir := t.TempDir()
	db, err := kv.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(t.Context(), func(tx *kv.Tx) error {
		for i := range 300 {
			if _, err := tx.Put("tasks", kv.Document{"id": fmt.Sprintf("t%03d", i), "title": "task " + randomText(30)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, db
}

// TestDamaged_reindexAndStatsName: with a leaf page of the tasks whose
// element count reaches past it, reindex --search left the collection out
// and reported success, and Stats failed as the caller's own panic (a nil
// dereference inside the standard library, called by bbolt). Both are
// damage now, naming what is damaged.
func TestDamaged_reindexAndStatsName(t *testing.T) {
	dir, db := tasksStore(t, &kv.Options{NoAutoBackup: true})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path, b := damagedTasksLeaf(t, dir)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ReindexSearch(t.Context()); !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "tasks") {
		t.Errorf("reindex of a store with a damaged tasks page: %v, want ErrCorrupt naming tasks", err)
	}
	if _, err := db.Stats(t.Context()); err != nil && !errors.Is(err, kv.ErrCorrupt) {
		t.Errorf("stats: %v, want ErrCorrupt or none", err)
	}
}

// TestGC_keepsBlobsOfALostCommit: the newest meta page damaged beyond a
// one-byte repair loses its commit (bbolt reads the one before); an
// attachment added in it leaves a blob nothing counts. check advised gc,
// which deleted the only copy of its content; gc keeps it now.
func TestGC_keepsBlobsOfALostCommit(t *testing.T) {
	dir := t.TempDir()
	opts := &kv.Options{NoSearch: true, NoAutoBackup: true}
	var hash string
	for _, content := range []string{"first attachment", "attachment of the lost commit"} {
		db, err := kv.Open(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := db.AddAttachment(t.Context(), strings.NewReader(content), kv.Document{"name": content})
		if err != nil {
			t.Fatal(err)
		}
		hash = doc["hash"].(string)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, kv.DataFile)
	b := mustRead(t, path)
	// Its checksum and its root page id: no one-byte fix, no rebuild.
	copy(b[newestMetaPage(t, path)*4096+16+16:], "damaged!")
	copy(b[newestMetaPage(t, path)*4096+16+56:], "damaged!")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.GC(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 0 || res.KeptAside == 0 {
		t.Errorf("gc: %+v, want the lost commit's blob kept", res)
	}
	if _, err := os.Stat(filepath.Join(dir, kv.BlobsDir, hash[:2], hash)); err != nil {
		t.Errorf("the lost commit's blob: %v", err)
	}
}

// TestCheck_damagedPageHidesNothingElse: a damaged page in the tasks'
// tree made check stop before the checksums, so a damaged note went
// unreported. The buckets whose pages are sound are still checked.
func TestCheck_damagedPageHidesNothingElse(t *testing.T) {
	dir, db := tasksStore(t, &kv.Options{NoAutoBackup: true, NoSearch: true})
	marker := randomText(200)
	if _, err := db.Put(t.Context(), "notes", kv.Document{"id": "victim", "content": marker}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path, b := damagedTasksLeaf(t, dir)
	i := strings.Index(string(b), marker[50:100])
	if i < 0 {
		t.Fatal("the note's text is not in the file")
	}
	b[i+10] ^= 0x20
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true, NoSearch: true, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := db.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(rep.Problems)
	if !strings.Contains(got, "bbolt: data.db") || !strings.Contains(got, `corrupt notes "victim"`) {
		t.Errorf("check: %v, want the tasks' page and the note", rep.Problems)
	}
}

// damagedTasksLeaf returns the path of the data file of the store in dir
// (closed), holding tasksStore's tasks, and its bytes with one bit of the
// key size of the first element of the tasks' first leaf flipped, past
// the page; the caller writes them.
func damagedTasksLeaf(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	path := filepath.Join(dir, kv.DataFile)
	root := bucketRoot(t, path, buckets.PrimaryBucket("tasks"))
	b := mustRead(t, path)
	leaf := int64(binary.LittleEndian.Uint64(b[root*4096+16+8:])) // element 0's child
	b[leaf*4096+16+8+1] ^= 0x01
	return path, b
}

// TestRotation_releasesBlobs: an attachment's content replaced while a
// backup still refers to the old content keeps the old blob; once rotation
// removes that backup, nothing refers to it and it is deleted then, as gc
// would. It stayed behind as an orphan that check reported (exit 3 in
// kvtool) after nothing but ordinary use.
func TestRotation_releasesBlobs(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true,
		BackupPolicy: kv.BackupPolicy{KeepLast: 1, Daily: -1, Weekly: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old, err := db.AddAttachment(t.Context(), strings.NewReader("the first content"), kv.Document{"id": "x", "name": "x.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(t.Context(), kv.ReasonManual); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddAttachment(t.Context(), strings.NewReader("the second content"), kv.Document{"id": "x", "name": "x.txt"}); err != nil {
		t.Fatal(err)
	}
	hash := old["hash"].(string)
	blob := filepath.Join(dir, kv.BlobsDir, hash[:2], hash)
	if _, err := os.Stat(blob); err != nil {
		t.Fatalf("the old content, which the backup refers to: %v", err)
	}
	if _, err := db.Backup(t.Context(), kv.ReasonManual); err != nil { // rotates the first out
		t.Fatal(err)
	}
	if _, err := os.Stat(blob); !os.IsNotExist(err) {
		t.Errorf("the old content, which nothing refers to any more: %v, want it deleted", err)
	}
	rep, err := db.Check(t.Context())
	if err != nil || !rep.OK {
		t.Errorf("check: %+v, %v", rep, err)
	}
}

// TestOpen_keepsFileBeforeOverwritingDamagedMeta: a zeroed newest meta page
// (no one-byte repair) made bbolt read the commit before it, and the next
// write overwrote the page: the lost commit left no trace, and check was
// clean again (round 6, damage6 #6). A writable open now keeps the file as
// it was aside first, once for each damaged state, and says so; a
// read-only open copies nothing.
func TestOpen_keepsFileBeforeOverwritingDamagedMeta(t *testing.T) {
	dir, path := storeWithTwoCommits(t)
	b := mustRead(t, path)
	page := newestMetaPage(t, path)
	clear(b[page*4096 : (page+1)*4096])
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ro, err := kv.Open(dir, &kv.Options{ReadOnly: true, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = ro.Close()
	if aside := kv.AsideFiles(dir); len(aside) != 0 {
		t.Fatalf("a read-only open kept %v", aside)
	}
	var logged strings.Builder
	opts := &kv.Options{NoSearch: true, NoAutoBackup: true, Logger: slog.New(slog.NewTextHandler(&logged, nil))}
	for range 2 { // the second open finds the same damage already kept
		db, err := kv.Open(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
	}
	aside := kv.AsideFiles(dir)
	if len(aside) != 1 || !strings.Contains(logged.String(), "meta page of data.db is damaged beyond repair") {
		t.Fatalf("aside files %v, log %q: want one copy, and a warning", aside, logged.String())
	}
	kept := filepath.Join(dir, aside[0])
	if !bytes.Equal(mustRead(t, kept), b) {
		t.Fatal("the file kept aside is not the damaged file as it was")
	}
	db, err := kv.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(t.Context(), "notes", kv.Document{"id": "n3", "content": "after"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, kept), b) || len(kv.AsideFiles(dir)) != 1 {
		t.Fatalf("after a write: aside files %v, want the one kept, unchanged", kv.AsideFiles(dir))
	}
	ms, err := kv.ListBackups(dir)
	if err != nil || len(ms) != 1 || ms[0].Reason != kv.ReasonDamaged {
		t.Errorf("backup list: %+v, %v: want the kept file, as damaged", ms, err)
	}
}

// TestDamaged_neighbourWriteRefused: a leaf whose element count lost one
// hides its last document, which salvage still reads; a put of another
// document that lands on that leaf exited 0, and bbolt rewrote the leaf
// from what it saw: the hidden document was gone for good (round 7,
// damage7 #1; a leaf element's damaged offset, #2, the same way). The
// first write to a bucket in a process walks its pages whole first, and a
// damaged bucket refuses writes (ErrCorrupt) while reads go on.
func TestDamaged_neighbourWriteRefused(t *testing.T) {
	dir, path, b, leaf := tasksFirstLeaf(t) // t000 onwards
	count := binary.LittleEndian.Uint16(b[leaf*4096+10:])
	binary.LittleEndian.PutUint16(b[leaf*4096+10:], count-1) // the leaf's last task hidden
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, _, err := db.Get(t.Context(), "tasks", "t001"); err != nil {
		t.Fatalf("a read of the damaged leaf: %v", err)
	}
	// "t0005" sorts between t000 and t001: the damaged leaf's range.
	if _, err := db.Put(t.Context(), "tasks", kv.Document{"id": "t0005", "title": "a neighbour"}); !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("a write onto a leaf that hides a document: %v, want ErrCorrupt", err)
	}
	if !bytes.Equal(mustRead(t, path), b) {
		t.Error("the refused write changed data.db")
	}
	if _, err := db.Put(t.Context(), "notes", kv.Document{"id": "n1", "content": "beside"}); err != nil {
		t.Errorf("a write to a sound bucket beside: %v", err)
	}
}

// TestOpen_rebuildsNewestMeta: a newest meta page damaged beyond a
// one-byte repair (round 8, damage8 #1: its freelist id overwritten, or
// its first bytes zeroed) made every read serve the commit before it,
// exit 0, and the next write made the loss permanent. When the page
// still names its root page, page count and transaction, a writable open
// rebuilds it (after keeping a copy of the file, and only once a copy
// with the rebuilt page checks), and a read-only open refuses the store
// naming the way back. When it names no root (zeroed), the commit before
// is read, not silently: a read-only open warns.
func TestOpen_rebuildsNewestMeta(t *testing.T) {
	t.Run("freelist id overwritten", func(t *testing.T) {
		dir, path := storeWithTwoCommits(t)
		off := newestMetaPage(t, path)*4096 + 16 + 32
		b := mustRead(t, path)
		copy(b[off:], []byte{0xff, 0xff, 0xff, 0xff})
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if fix, _ := snapshot.FindMetaFix(path); fix != nil {
			t.Fatalf("a one-byte fix for four bytes: %v", fix)
		}
		db, err := kv.Open(dir, &kv.Options{ReadOnly: true, NoSearch: true})
		if err == nil {
			_ = db.Close()
			t.Fatal("a read-only open served the older commit")
		}
		if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "newest commit") || !strings.Contains(err.Error(), "backup create") {
			t.Fatalf("read-only open: %v", err)
		}
		if string(mustRead(t, path)) != string(b) {
			t.Fatal("the read-only open changed data.db")
		}
		var logs bytes.Buffer
		db, err = kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("writable open: %v", err)
		}
		if _, _, err := db.Get(t.Context(), "notes", "n2"); err != nil {
			t.Errorf("the newest commit's note: %v", err)
		}
		if _, err := db.Put(t.Context(), "notes", kv.Document{"id": "n3", "content": "after"}); err != nil {
			t.Fatal(err)
		}
		rep, err := db.Check(t.Context())
		if err != nil || !rep.OK {
			t.Errorf("check after the rebuild: %v %v", rep.Problems, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "rebuilt a damaged meta page") {
			t.Errorf("no warning: %s", logs.String())
		}
		if aside := kv.AsideFiles(dir); len(aside) != 1 {
			t.Errorf("the damaged file is not kept: %v", aside)
		}
		if _, err := os.Stat(path + ".metacheck"); !os.IsNotExist(err) {
			t.Errorf("the scratch copy is left: %v", err)
		}
	})

	t.Run("root lost", func(t *testing.T) {
		dir, path := storeWithTwoCommits(t)
		off := newestMetaPage(t, path)*4096 + 16
		b := mustRead(t, path)
		copy(b[off:], make([]byte, 40))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		db, err := kv.Open(dir, &kv.Options{ReadOnly: true, NoSearch: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("read-only open: %v", err)
		}
		if _, _, err := db.Get(t.Context(), "notes", "n1"); err != nil {
			t.Error(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "damaged beyond repair") {
			t.Errorf("a read-only open served the older commit silently: %q", logs.String())
		}
	})
}

// TestWrite_freelistListsAnotherBucketsPage: a freelist that lists a leaf
// of c/notes as free let a put of a task take that page and destroy the
// notes on it, exit 0 (round 8, damage8 #1: check said writes are refused).
// The first write of a process looks for freed pages in use in every
// bucket, and refuses; the notes still read.
func TestWrite_freelistListsAnotherBucketsPage(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if _, err := db.Put(t.Context(), "notes", kv.Document{"id": fmt.Sprintf("n%03d", i), "content": strings.Repeat("words ", 150)}); err != nil {
			t.Fatal(err)
		}
	}
	var root uint64
	err = db.Update(t.Context(), func(tx *kv.Tx) error { return nil })
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kv.DataFile)
	b := mustRead(t, path)
	meta := newestMetaPage(t, path) * 4096
	le := binary.LittleEndian
	// Find the bucket's root page in the root bucket's tree.
	var find func(id int)
	find = func(id int) {
		p := id * 4096
		n := int(le.Uint16(b[p+10:]))
		for i := range n {
			e := p + 16 + i*16
			if le.Uint16(b[p+8:]) == 0x01 { // branch: pos, ksize, child
				find(int(le.Uint64(b[e+8:])))
				continue
			}
			pos, ksize := int(le.Uint32(b[e+4:])), int(le.Uint32(b[e+8:]))
			if string(b[e+pos:e+pos+ksize]) == string(buckets.PrimaryBucket("notes")) {
				root = le.Uint64(b[e+pos+ksize:]) // the bucket header's root page
			}
		}
	}
	find(int(le.Uint64(b[meta+16+16:])))
	if root == 0 || le.Uint16(b[int(root)*4096+8:]) != 0x01 {
		t.Fatalf("c/notes has no branch root (root %d)", root)
	}
	leaf := le.Uint64(b[int(root)*4096+16+8:]) // its first child
	fl := int(le.Uint64(b[meta+16+32:])) * 4096
	le.PutUint16(b[fl+10:], 1)
	le.PutUint64(b[fl+16:], leaf)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatalf("writable open: %v", err)
	}
	defer db.Close()
	if _, err := db.Put(t.Context(), "tasks", kv.Document{"id": "t1", "title": "a task"}); !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "lists it as free") {
		t.Fatalf("a put beside a freelist listing a note leaf: %v", err)
	}
	for i := range 300 {
		if _, _, err := db.Get(t.Context(), "notes", fmt.Sprintf("n%03d", i)); err != nil {
			t.Fatalf("note %d: %v", i, err)
		}
	}
	if string(mustRead(t, path)) != string(b) {
		t.Error("the refused write changed data.db")
	}
}

// TestGC_keepsBlobsOfAMovedAsideFile: a damaged data file a restore set
// aside, moved elsewhere (to free space) and linked back under its name,
// was no longer seen: gc deleted the blobs only it may refer to (round 8,
// damage8 #9). A link counts as the file.
func TestGC_keepsBlobsOfAMovedAsideFile(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A blob no document of data.db refers to: the set-aside file's.
	content := []byte("only the set-aside file refers to it")
	sum := sha256.Sum256(content)
	hash := hex.EncodeToString(sum[:])
	if err := os.MkdirAll(filepath.Join(dir, kv.BlobsDir, hash[:2]), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, kv.BlobsDir, hash[:2], hash), content, 0o600); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(t.TempDir(), "moved.db")
	if err := os.WriteFile(moved, []byte("a damaged data file"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(moved, filepath.Join(dir, kv.DamagedPrefix+"20261208T000000Z")); err != nil {
		t.Fatal(err)
	}
	res, err := db.GC(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 0 || res.KeptAside == 0 {
		t.Errorf("gc: %+v, want the blob kept for the linked aside file", res)
	}
	if _, err := os.Stat(filepath.Join(dir, kv.BlobsDir, hash[:2], hash)); err != nil {
		t.Errorf("the blob: %v", err)
	}
}
