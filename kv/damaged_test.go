package kv_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/kv"
	bolt "go.etcd.io/bbolt"
)

// damageValue flips one byte in the middle of the value stored under key
// in bucket, in the closed store dir's data.db, the way a failing disk
// would: on the file, not through the library.
func damageValue(t *testing.T, dir string, bucket []byte, key string) {
	t.Helper()
	path := filepath.Join(dir, kv.DataFile)
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var v []byte
	_ = bdb.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucket); b != nil {
			v = bytes.Clone(b.Get([]byte(key)))
		}
		return nil
	})
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	if len(v) < 8 {
		t.Fatalf("no value of %d bytes under %s/%s", len(v), bucket, key)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Free pages may hold older copies of the page: flip every copy
	// (a free page is never read).
	n := 0
	for i := bytes.Index(file, v); i >= 0; i = bytes.Index(file, v) {
		file[i+len(v)/2] ^= 0x10
		n++
	}
	if n == 0 {
		t.Fatalf("value of %s/%s not found in data.db", bucket, key)
	}
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
}

// randomText is incompressible hex text, so that every stored value is
// unique in the file.
func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// fillDamageStore writes documents of every kind a damaged value can hit:
// a note with tags (indexes), a session with array and blob parts, a task,
// attachments sharing and not sharing a blob, and an extras value, each
// with a bystander that must survive untouched.
func fillDamageStore(t *testing.T, db *kv.DB) {
	t.Helper()
	ctx := t.Context()
	docs := []struct {
		coll string
		doc  kv.Document
	}{
		{"notes", kv.Document{"id": "victim", "content": "Budget " + randomText(40), "tags": []any{"work", "q3"}, "timestamp": "2026-01-02T03:04:05Z"}},
		{"notes", kv.Document{"id": "bystander", "content": "fine " + randomText(40), "tags": []any{"work"}}},
		{"sessions", kv.Document{"id": "s1", "name": "Planning " + randomText(30), "startTime": "2026-02-01T10:00:00Z", "tags": []any{"deep"},
			"screenshots": []any{kv.Document{"path": randomText(20)}, kv.Document{"path": randomText(20)}}, "summary": kv.Document{"narrative": randomText(60)}}},
		{"sessions", kv.Document{"id": "s2", "name": "Other " + randomText(30), "startTime": "2026-02-02T10:00:00Z", "screenshots": []any{kv.Document{"path": randomText(20)}}}},
		{"tasks", kv.Document{"id": "t1", "title": "Send " + randomText(30), "status": "todo", "priority": "high"}},
		{"tasks", kv.Document{"id": "t2", "title": "Keep " + randomText(30), "status": "todo"}},
	}
	for _, d := range docs {
		if _, err := db.Put(ctx, d.coll, d.doc); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Update(ctx, func(tx *kv.Tx) error {
		_, err := tx.PutValue("extras", "job", kv.Document{"state": randomText(40)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	shared := strings.NewReader("shared content " + randomText(100))
	if _, err := db.AddAttachment(ctx, shared, kv.Document{"id": "a1", "name": "a " + randomText(20), "thumbnail": randomText(30)}); err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.Get(ctx, "attachments", "a1")
	if err != nil {
		t.Fatal(err)
	}
	dup := kv.Document{"id": "a2", "name": "b " + randomText(20), "hash": doc["hash"], "size": doc["size"]}
	if _, err := db.Put(ctx, "attachments", dup); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddAttachment(ctx, strings.NewReader("own content "+randomText(100)), kv.Document{"id": "a3", "name": "c " + randomText(20)}); err != nil {
		t.Fatal(err)
	}
}

// TestDamaged_deleteAndPut: a document whose stored value fails its
// checksum can be deleted or replaced, through the library, and the store
// then checks clean: its metadata, index keys, parts and blob references
// are found without decoding the damaged value (issue 14, item 2).
func TestDamaged_deleteAndPut(t *testing.T) {
	type target struct {
		coll, id string
		put      kv.Document // nil: delete it
	}
	targets := []target{
		{"notes", "victim", nil},
		{"sessions", "s1", kv.Document{"id": "s1", "name": "Rewritten", "startTime": "2026-03-01T10:00:00Z", "screenshots": []any{kv.Document{"path": "x"}}}},
		{"tasks", "t1", kv.Document{"id": "t1", "title": "Replaced", "status": "done"}},
		{"attachments", "a1", nil}, // the blob stays: a2 shares it
		{"attachments", "a3", nil}, // the blob's last reference
		{"extras", "job", kv.Document{"state": "new"}},
	}
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true}) // the backups here are the test's own
	if err != nil {
		t.Fatal(err)
	}
	fillDamageStore(t, db)
	a3, _, _ := db.Get(context.Background(), "attachments", "a3")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		damageValue(t, dir, buckets.PrimaryBucket(tg.coll), tg.id)
	}
	db, err = kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := db.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		found := false
		for _, p := range rep.Problems {
			found = found || (p.Kind == "corrupt" && p.Collection == tg.coll && p.ID == tg.id)
		}
		if !found {
			t.Fatalf("check does not report the damaged %s/%s: %v", tg.coll, tg.id, rep.Problems)
		}
		if _, _, err := db.GetValue(context.Background(), tg.coll, tg.id); !errors.Is(err, kv.ErrCorrupt) {
			t.Fatalf("get %s/%s: %v, want ErrCorrupt", tg.coll, tg.id, err)
		}
	}
	// A compare-and-swap cannot compare with a damaged revision.
	if _, err := db.Put(context.Background(), "tasks", kv.Document{"id": "t1"}, kv.IfRev(1)); !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("put with IfRev over a damaged document: %v, want ErrCorrupt", err)
	}
	for _, tg := range targets {
		if tg.put == nil {
			n, err := db.Delete(context.Background(), tg.coll, tg.id)
			if err != nil || n != 1 {
				t.Fatalf("delete damaged %s/%s: %d, %v", tg.coll, tg.id, n, err)
			}
			if _, _, err := db.GetValue(context.Background(), tg.coll, tg.id); !errors.Is(err, kv.ErrNotFound) {
				t.Fatalf("get deleted %s/%s: %v", tg.coll, tg.id, err)
			}
			continue
		}
		err := db.Update(context.Background(), func(tx *kv.Tx) error {
			_, err := tx.PutValue(tg.coll, tg.id, tg.put)
			return err
		})
		if err != nil {
			t.Fatalf("put over damaged %s/%s: %v", tg.coll, tg.id, err)
		}
		got, _, err := db.GetValue(context.Background(), tg.coll, tg.id)
		if err != nil || !jsonEqual(t, got, tg.put) {
			t.Fatalf("get replaced %s/%s: %v, %v", tg.coll, tg.id, got, err)
		}
	}
	db.WaitBlobDeletes()
	checkClean(t, db)
	if db.HasContent(context.Background(), a3["hash"].(string)) {
		t.Error("the blob of the deleted attachment a3 (its only reference) is still there")
	}
	if _, _, err := db.Get(context.Background(), "attachments", "a2"); err != nil {
		t.Error(err)
	}
	r, _, err := db.OpenAttachment(context.Background(), "a2")
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	// The indexes answer as a scan would: the damaged note's tags are gone.
	f, _, err := kv.ParseWhere("notes", "tags=work")
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.Query(t.Context(), kv.Query{Collection: "notes", Filters: []kv.Filter{f}}, &kv.QueryOptions{IDsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.IDs) != 1 || res.IDs[0] != "bystander" {
		t.Errorf("notes tagged work: %v", res.IDs)
	}
}

// TestDamaged_attachmentWithoutMetadata: when an attachment's value and
// its metadata entry are both damaged, its blob reference cannot be read
// from either; deleting it recounts the references from the other
// attachments, and the store checks clean.
func TestDamaged_attachmentWithoutMetadata(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true}) // the backups here are the test's own
	if err != nil {
		t.Fatal(err)
	}
	fillDamageStore(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	damageValue(t, dir, buckets.PrimaryBucket("attachments"), "a1")
	damageValue(t, dir, buckets.MetaBucket("attachments"), "a1")
	db, err = kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.Delete(context.Background(), "attachments", "a1"); err != nil || n != 1 {
		t.Fatalf("delete: %d, %v", n, err)
	}
	checkClean(t, db)
	if _, err := db.Put(context.Background(), "attachments", kv.Document{"id": "a1", "name": "again"}); err != nil {
		t.Fatal(err)
	}
	checkClean(t, db)
}

// TestDamaged_fixNamesBackup: check's fix for a damaged document names the
// newest verified backup that holds a readable copy of it, and no backup
// for a document written after the last backup; either way it says how to
// delete or put the document instead.
func TestDamaged_fixNamesBackup(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true}) // the backups here are the test's own
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "old", "content": randomText(40)}); err != nil {
		t.Fatal(err)
	}
	m, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "new", "content": randomText(40)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	damageValue(t, dir, buckets.PrimaryBucket("notes"), "old")
	damageValue(t, dir, buckets.PrimaryBucket("notes"), "new")
	db, err = kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := db.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	fixes := map[string]string{}
	for _, p := range rep.Problems {
		fixes[p.ID] = p.Fix
	}
	if f := fixes["old"]; !strings.Contains(f, "backup restore "+m.Name) || !strings.Contains(f, "delete notes old") {
		t.Errorf("fix for a document the backup holds: %q", f)
	}
	if f := fixes["new"]; strings.Contains(f, "backup restore") || !strings.Contains(f, "no verified backup") || !strings.Contains(f, "delete notes new") {
		t.Errorf("fix for a document no backup holds: %q", f)
	}
}

// TestDamaged_fixSkipsFailingBackup: a backup that holds a readable copy
// of a damaged document, but was itself damaged since it was verified, is
// not advised: its restore would refuse it. The older backup that passes
// is advised instead, and with none, no restore and no backup at all.
func TestDamaged_fixSkipsFailingBackup(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true}) // the backups here are the test's own
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "victim", "content": randomText(40)}); err != nil {
		t.Fatal(err)
	}
	older, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	bystander := randomText(40)
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "bystander", "content": bystander}); err != nil {
		t.Fatal(err)
	}
	newer, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The newer backup: a byte of another document changed.
	bpath := filepath.Join(dir, kv.BackupsDir, newer.Name+".db")
	b, err := os.ReadFile(bpath)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(bystander))
	if i < 0 {
		t.Fatal("the bystander is not in the newer backup")
	}
	b[i+len(bystander)/2] ^= 0x10
	if err := os.WriteFile(bpath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	damageValue(t, dir, buckets.PrimaryBucket("notes"), "victim")
	fix := func() string {
		db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rep, err := db.Check(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rep.Problems {
			if p.ID == "victim" {
				return p.Fix
			}
		}
		t.Fatalf("check does not name the damaged document: %v", rep.Problems)
		return ""
	}
	if f := fix(); strings.Contains(f, newer.Name) || !strings.Contains(f, "backup restore "+older.Name) {
		t.Errorf("fix with a newer backup that fails verification: %q, want the older one", f)
	}
	if err := os.WriteFile(filepath.Join(dir, kv.BackupsDir, older.Name+".db"), b[:4096], 0o600); err != nil {
		t.Fatal(err)
	}
	if f := fix(); strings.Contains(f, "backup restore") {
		t.Errorf("fix with no backup that passes verification: %q", f)
	}
}

// TestDamaged_mergeAttachmentRepairsBlob: a blob file with one byte
// changed (same size) is replaced when its content is added again; the
// attachment document keeps its other fields and loses the migration's
// contentMissing mark; MergeAttachment without an id is refused.
func TestDamaged_mergeAttachmentRepairsBlob(t *testing.T) {
	db := openTest(t)
	content := "the real bytes " + randomText(200)
	doc, err := db.AddAttachment(t.Context(), strings.NewReader(content), kv.Document{"id": "a1", "name": "chart.png"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Patch(context.Background(), "attachments", "a1", kv.Document{"thumbnail": "t", "dimensions": kv.Document{"width": int64(3)}, "contentMissing": true}); err != nil {
		t.Fatal(err)
	}
	hash := doc["hash"].(string)
	path := filepath.Join(db.Dir(), kv.BlobsDir, hash[:2], hash)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[10] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := db.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Problems[0].Kind != "blob-corrupt" || !strings.Contains(rep.Problems[0].Fix, "attach add FILE --id") || !strings.Contains(rep.Problems[0].Fix, "a1") {
		t.Fatalf("check: %+v", rep.Problems)
	}
	got, err := db.MergeAttachment(t.Context(), strings.NewReader(content), kv.Document{"id": "a1"})
	if err != nil {
		t.Fatal(err)
	}
	if got["hash"] != hash || got["name"] != "chart.png" || got["thumbnail"] != "t" || got["dimensions"] == nil || got["contentMissing"] != nil {
		t.Errorf("merged document: %v", got)
	}
	r, _, err := db.OpenAttachment(context.Background(), "a1")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(data) != content {
		t.Fatalf("read after the repair: %v", err)
	}
	if _, err := db.MergeAttachment(t.Context(), strings.NewReader("x"), kv.Document{"name": "no id"}); !errors.Is(err, kv.ErrInvalid) {
		t.Errorf("MergeAttachment without an id: %v", err)
	}
}

// TestDamaged_eachReadablePastBadPage: a leaf page of notes whose first
// key points past the end of the file (reading it faults) ends the walk of
// notes with a damage report naming the last document read, after every
// document before it; other collections and the salvage export go on.
func TestDamaged_eachReadablePastBadPage(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(context.Background(), func(tx *kv.Tx) error {
		for i := 0; i < 300; i++ {
			if _, err := tx.Put("notes", kv.Document{"id": fmt.Sprintf("n%03d", i), "content": randomText(40)}); err != nil {
				return err
			}
		}
		_, err := tx.Put("tasks", kv.Document{"id": "t1", "title": "kept"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kv.DataFile)
	var root, ps int64
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ps = int64(bdb.Info().PageSize)
	_ = bdb.View(func(tx *bolt.Tx) error {
		root = int64(tx.Bucket(buckets.PrimaryBucket("notes")).Root())
		return nil
	})
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if file[root*ps+8] != 0x01 {
		t.Fatalf("the notes root %d is not a branch page", root)
	}
	// The second child of the root (branch element 1: pos, ksize, page id),
	// and the pos of that leaf's first element (flags, pos, ksize, vsize),
	// made to reach two pages past the end of the file: inside bbolt's
	// memory map, which is larger than the file, so reading it faults.
	leaf := int64(binary.LittleEndian.Uint64(file[root*ps+16+16+8:]))
	elem := leaf*ps + 16
	binary.LittleEndian.PutUint32(file[elem+4:], uint32(int64(len(file))+2*ps-elem))
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, &kv.Options{NoSearch: true, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var read []string
	var bad []error
	err = db.View(context.Background(), func(tx *kv.Tx) error {
		return tx.EachReadable("notes", func(id string, _ any) error {
			read = append(read, id)
			return nil
		}, func(id string, err error) error {
			if id != "" {
				t.Errorf("damaged %q: %v", id, err)
			}
			bad = append(bad, err)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(read) == 0 || len(read) >= 300 || len(bad) != 1 || !errors.Is(bad[0], kv.ErrCorrupt) || !strings.Contains(bad[0].Error(), read[len(read)-1]) {
		t.Fatalf("read %d notes, damage %v", len(read), bad)
	}
	err = db.View(context.Background(), func(tx *kv.Tx) error {
		return tx.Each("notes", func(string, any) error { return nil })
	})
	if !errors.Is(err, kv.ErrCorrupt) {
		t.Errorf("Each over the damaged page: %v", err)
	}
	if _, _, err := db.Get(context.Background(), "tasks", "t1"); err != nil {
		t.Error(err)
	}
}

// zeroedPageChildEnv marks the child process of TestDamaged_zeroedPageSearch.
const zeroedPageChildEnv = "CAIRN_ZEROED_PAGE_CHILD"

// TestDamaged_zeroedPageSearch: a zeroed leaf page of a primary bucket,
// met by the search index's catch-up (which counts every collection's
// documents when it opens the index), is an error wrapping ErrCorrupt,
// never a panic in the indexer's goroutine that kills the process
// whatever it was doing: Check reports the page, a document elsewhere
// still reads, and a search fails with ErrCorrupt. A panic there cannot be
// recovered by the test, so the store is read in a child process (this
// test binary re-executed).
func TestDamaged_zeroedPageSearch(t *testing.T) {
	if dir := os.Getenv(zeroedPageChildEnv); dir != "" {
		zeroedPageChild(t, dir)
		return
	}
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(context.Background(), func(tx *kv.Tx) error {
		for i := 0; i < 300; i++ {
			if _, err := tx.Put("notes", kv.Document{"id": fmt.Sprintf("n%03d", i), "content": "hello " + randomText(40)}); err != nil {
				return err
			}
		}
		_, err := tx.Put("tasks", kv.Document{"id": "t1", "title": "kept"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Search(context.Background(), "hello", kv.SearchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kv.DataFile)
	var root, ps int64
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ps = int64(bdb.Info().PageSize)
	_ = bdb.View(func(tx *bolt.Tx) error {
		root = int64(tx.Bucket(buckets.PrimaryBucket("notes")).Root())
		return nil
	})
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if file[root*ps+8] != 0x01 {
		t.Fatalf("the notes root %d is not a branch page", root)
	}
	// The root's second child (branch element 1: pos, ksize, page id),
	// zeroed whole, as a lost sector would leave it.
	leaf := int64(binary.LittleEndian.Uint64(file[root*ps+16+16+8:]))
	clear(file[leaf*ps : (leaf+1)*ps])
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDamaged_zeroedPageSearch$", "-test.v")
	cmd.Env = append(os.Environ(), zeroedPageChildEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child reading the damaged store failed: %v\n%s", err, out)
	}
}

// zeroedPageChild reads the damaged store of TestDamaged_zeroedPageSearch.
func zeroedPageChild(t *testing.T, dir string) {
	db, err := kv.Open(dir, &kv.Options{ReadOnly: true, EagerSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := db.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK {
		t.Error("check found nothing wrong with a zeroed page")
	}
	if _, _, err := db.Get(context.Background(), "tasks", "t1"); err != nil {
		t.Errorf("get of a document on a healthy page: %v", err)
	}
	// The notes of the zeroed page: ErrCorrupt naming the note.
	bad := 0
	for i := 0; i < 300; i++ {
		id := fmt.Sprintf("n%03d", i)
		_, _, err := db.Get(context.Background(), "notes", id)
		switch {
		case err == nil:
		case errors.Is(err, kv.ErrCorrupt) && strings.Contains(err.Error(), `notes "`+id+`"`):
			bad++
		default:
			t.Errorf("get notes %s: %v, want ErrCorrupt naming it", id, err)
		}
	}
	if bad == 0 {
		t.Error("every note read although a page of them was zeroed")
	}
	if _, err := db.Search(context.Background(), "hello", kv.SearchOptions{}); err != nil && !errors.Is(err, kv.ErrCorrupt) {
		t.Errorf("search: %v, want ErrCorrupt or results", err)
	}
}

// TestDamaged_flippedKey: the checksum covers a record's value, not its
// key. A flipped bit in the key of document "m1" (making it "m0") must not
// return m1's document as m0: reading it is ErrCorrupt naming the
// collection and key, Check reports it with a fix that works (delete the
// damaged key, reindex, put the document again), and the store then checks
// clean.
func TestDamaged_flippedKey(t *testing.T) {
	dir := t.TempDir()
	opts := &kv.Options{NoAutoBackup: true}
	db, err := kv.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"m1", "m2"} {
		if _, err := db.Put(t.Context(), "notes", kv.Document{"id": id, "content": "hello " + randomText(40)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Put(t.Context(), "widgets", kv.Document{"id": "u1", "v": randomText(20)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Search(t.Context(), "hello", kv.SearchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kv.DataFile)
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string][]byte{}
	_ = bdb.View(func(tx *bolt.Tx) error {
		vals["notes"] = bytes.Clone(tx.Bucket(buckets.PrimaryBucket("notes")).Get([]byte("m1")))
		vals["widgets"] = bytes.Clone(tx.Bucket(buckets.PrimaryBucket("widgets")).Get([]byte("u1")))
		return nil
	})
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A leaf page holds each key just before its value: flip the last
	// byte of the key, in every copy of the page.
	for _, kv := range []struct{ key, to string }{{"m1", "m0"}, {"u1", "u0"}} {
		v := vals["notes"]
		if kv.key == "u1" {
			v = vals["widgets"]
		}
		entry := append([]byte(kv.key), v...)
		n := 0
		for i := bytes.Index(file, entry); i >= 0; i = bytes.Index(file, entry) {
			file[i+len(kv.key)-1] = kv.to[len(kv.to)-1]
			n++
		}
		if n == 0 {
			t.Fatalf("key %s and its value not found in data.db", kv.key)
		}
	}
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, d := range []struct{ coll, id string }{{"notes", "m0"}, {"widgets", "u0"}} {
		doc, _, err := db.Get(t.Context(), d.coll, d.id)
		if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), d.coll) || !strings.Contains(err.Error(), `"`+d.id+`"`) {
			t.Errorf("get %s %s under a damaged key: %v %v, want ErrCorrupt naming it", d.coll, d.id, doc, err)
		}
	}
	rep, err := db.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	fixes := map[string]string{}
	for _, p := range rep.Problems {
		if p.Kind == "search-missing" {
			t.Errorf("check: %s (no reindex indexes a damaged document)", p)
		}
		if p.Kind == "corrupt" {
			fixes[p.Collection+"/"+p.ID] = p.Fix
		}
	}
	for _, k := range []string{"notes/m0", "widgets/u0"} {
		coll, id, _ := strings.Cut(k, "/")
		if f := fixes[k]; !strings.Contains(f, "delete "+coll+" "+id) || !strings.Contains(f, "reindex") {
			t.Errorf("check: fix for %s: %q, want delete and reindex (%v)", k, f, rep.Problems)
		}
	}
	// The advice, followed.
	for _, k := range []string{"notes/m0", "widgets/u0"} {
		coll, id, _ := strings.Cut(k, "/")
		if _, err := db.Delete(t.Context(), coll, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ReindexSecondary(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReindexSearch(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkClean(t, db)
}

// TestDamaged_metaPage: bbolt opens a file with one damaged meta page
// silently from the other, which is one commit older when the damaged one
// was the newer: the last write is then not read. Check must read both
// meta pages and report the damaged one, whichever it is, with the
// transaction each holds.
func TestDamaged_metaPage(t *testing.T) {
	for _, which := range []string{"newer", "older"} {
		t.Run(which, func(t *testing.T) {
			dir := t.TempDir()
			opts := &kv.Options{NoAutoBackup: true, NoSearch: true}
			db, err := kv.Open(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"first", "last"} {
				if _, err := db.Put(t.Context(), "notes", kv.Document{"id": id, "content": "x"}); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, kv.DataFile)
			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ps := int(binary.LittleEndian.Uint32(file[16+8:]))
			txid := func(p int) uint64 { return binary.LittleEndian.Uint64(file[p*ps+16+48:]) }
			page := 0
			if (txid(1) > txid(0)) == (which == "newer") {
				page = 1
			}
			// A byte of the root page id (which then points past the
			// file) and one of the root bucket's sequence: the checksum
			// fails, and neither a one-byte repair
			// (TestOpen_repairsNewestMeta) nor a rebuild from the page's
			// root (TestOpen_rebuildsNewestMeta) applies.
			file[page*ps+16+16+6] ^= 1
			file[page*ps+16+24] ^= 1
			if err := os.WriteFile(path, file, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, ro := range []bool{true, false} {
				db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true, NoSearch: true, ReadOnly: ro})
				if err != nil {
					t.Fatal(err)
				}
				rep, err := db.Check(t.Context())
				_ = db.Close()
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, p := range rep.Problems {
					found = found || p.Kind == "meta" && strings.Contains(p.Detail, fmt.Sprintf("meta page %d", page)) && p.Fix != ""
				}
				if rep.OK || !found {
					t.Errorf("read-only %v: check of a damaged %s meta page %d: %v", ro, which, page, rep.Problems)
				}
			}
		})
	}
}

// TestDamaged_reindexMetadata: check advises reindex --secondary for a
// damaged metadata entry of a document that reads whole; the pre-reindex
// backup fails on that same damage, which must not refuse the reindex
// that replaces it. Damage to a document itself still refuses it
// (ErrCorrupt), since the backup is what a reindex could be undone with.
func TestDamaged_reindexMetadata(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	fillDamageStore(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	damageValue(t, dir, buckets.MetaBucket("notes"), "victim")
	db, err = kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := db.Check(t.Context())
	if err != nil || rep.OK || !strings.Contains(rep.Problems[0].Fix, "reindex --secondary") {
		t.Fatalf("check: %v %v", rep, err)
	}
	if _, err := db.ReindexSecondary(t.Context()); err != nil {
		t.Fatalf("reindex --secondary of damaged metadata: %v", err)
	}
	checkClean(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	damageValue(t, dir, buckets.PrimaryBucket("notes"), "victim")
	db, err = kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ReindexSecondary(t.Context()); !errors.Is(err, kv.ErrCorrupt) {
		t.Errorf("reindex --secondary of a damaged document: %v, want a refusal wrapping ErrCorrupt", err)
	}
}

// TestDamaged_branchKeyCheck: one bit flipped in a branch element's key,
// which bbolt's Check accepts as long as the child's keys still sort after
// it, and which makes bbolt's next commit insert a second element for the
// same child (a page referenced twice, every write acknowledged since
// lost): Check reports it as structural damage, with the restore advice.
func TestDamaged_branchKeyCheck(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(context.Background(), func(tx *kv.Tx) error {
		for i := 0; i < 300; i++ {
			if _, err := tx.Put("notes", kv.Document{"id": fmt.Sprintf("n%03d", i), "content": randomText(40)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kv.DataFile)
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ps := int64(bdb.Info().PageSize)
	var root int64
	_ = bdb.View(func(tx *bolt.Tx) error {
		root = int64(tx.Bucket(buckets.PrimaryBucket("notes")).Root())
		return nil
	})
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if file[root*ps+8] != 0x01 {
		t.Fatalf("the notes root %d is not a branch page", root)
	}
	// Branch element 1 (pos, ksize, page id): the last byte of its key,
	// made one smaller, as the tester's flip did ('s' to 'c').
	e := root*ps + 16 + 16
	k := e + int64(binary.LittleEndian.Uint32(file[e:])) + int64(binary.LittleEndian.Uint32(file[e+4:])) - 1
	file[k]--
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, &kv.Options{NoSearch: true, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := db.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, p := range rep.Problems {
		if p.Kind == "bbolt" && strings.Contains(p.Detail, "starts with") {
			found = true
			if !strings.Contains(p.Fix, "restore") && !strings.Contains(p.Fix, "backup") {
				t.Errorf("advice for %q: %q", p.Detail, p.Fix)
			}
		}
	}
	if rep.OK || !found {
		t.Errorf("a branch key that is not its child's first key: %+v", rep)
	}
}

// TestDamaged_openSalvage: a store whose page structure is too damaged to
// open (the sys bucket's root page, which every open reads, of no type)
// is salvaged through a copy of its readable pages: every document is
// read, the page skipped is named, data.db is left as it was, and Close
// removes the copy. A sound store is opened as it is.
func TestDamaged_openSalvage(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(context.Background(), func(tx *kv.Tx) error {
		for i := 0; i < 300; i++ {
			if _, err := tx.Put("notes", kv.Document{"id": fmt.Sprintf("n%03d", i), "content": randomText(40)}); err != nil {
				return err
			}
		}
		_, err := tx.Put("tasks", kv.Document{"id": "t1", "title": "kept"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	sound, pp, err := kv.OpenSalvage(t.Context(), dir, &kv.Options{NoSearch: true})
	if err != nil || len(pp) != 0 || sound.Dir() != dir {
		t.Fatalf("OpenSalvage of a sound store: %v %v", pp, err)
	}
	if err := sound.Close(); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(dir, kv.DataFile)
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The sys bucket's root page, which every open walks, made of no type.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ps := int64(bdb.Info().PageSize)
	var root int64
	_ = bdb.View(func(tx *bolt.Tx) error {
		root = int64(tx.Bucket(buckets.SysBucket).Root())
		return nil
	})
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	if root == 0 {
		t.Fatal("the sys bucket is inline")
	}
	file[root*ps+8] = 0x00
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	if db, err := kv.Open(dir, &kv.Options{NoSearch: true, ReadOnly: true}); err == nil {
		db.Close()
		t.Fatal("the damaged store opens")
	}
	before := mustRead(t, path)
	db, pp, err = kv.OpenSalvage(t.Context(), dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(pp) == 0 || !strings.Contains(pp[0].Detail, "type 0x0") {
		t.Errorf("pages skipped: %v", pp)
	}
	n := 0
	err = db.View(t.Context(), func(tx *kv.Tx) error {
		return tx.Each("notes", func(string, any) error { n++; return nil })
	})
	if err != nil || n != 300 {
		t.Errorf("salvaged %d notes: %v", n, err)
	}
	if _, _, err := db.Get(t.Context(), "tasks", "t1"); err != nil {
		t.Error(err)
	}
	scratch := db.Dir()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Errorf("the salvaged copy %s is left behind: %v", scratch, err)
	}
	if !bytes.Equal(mustRead(t, path), before) {
		t.Error("OpenSalvage changed data.db")
	}
}

// TestDamaged_misfiled: a document whole under a damaged key ("m1" stored
// as "m0") is found by Tx.Misfiled with its own id, for a salvage to write
// it; a sound key, or no key, is not.
func TestDamaged_misfiled(t *testing.T) {
	dir := t.TempDir()
	opts := &kv.Options{NoAutoBackup: true, NoSearch: true}
	db, err := kv.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"m1", "m2"} {
		if _, err := db.Put(t.Context(), "notes", kv.Document{"id": id, "content": "hello " + randomText(40)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kv.DataFile)
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string][]byte{}
	_ = bdb.View(func(tx *bolt.Tx) error {
		vals["m1"] = bytes.Clone(tx.Bucket(buckets.PrimaryBucket("notes")).Get([]byte("m1")))
		return nil
	})
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// m1 becomes m0, where no document is.
	entry := append([]byte("m1"), vals["m1"]...)
	n := 0
	for i := bytes.Index(file, entry); i >= 0; i = bytes.Index(file, entry) {
		file[i+1] = '0'
		n++
	}
	if n == 0 {
		t.Fatal("key m1 and its value not found in data.db")
	}
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, &kv.Options{NoSearch: true, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(t.Context(), func(tx *kv.Tx) error {
		id, doc, ok := tx.Misfiled("notes", "m0")
		m, _ := doc.(map[string]any)
		if !ok || id != "m1" || m["id"] != "m1" || !strings.HasPrefix(fmt.Sprint(m["content"]), "hello ") {
			t.Errorf("Misfiled(m0) = %q, %v, %v; want m1's document", id, doc, ok)
		}
		for _, key := range []string{"m2", "nope"} {
			if id, _, ok := tx.Misfiled("notes", key); ok {
				t.Errorf("Misfiled(%s) = %q, true", key, id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDamaged_fixOnSyncedStore: on a store that syncs with other devices
// (a device-local collection holds its sync state), the fix for a damaged
// document is a readable copy from another device, put here; it does not
// advise a delete, which would reach every device.
func TestDamaged_fixOnSyncedStore(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct{ coll, id string }{{"notes", "n1"}, {kv.LocalPrefix + "state", "state"}} {
		if _, err := db.Put(t.Context(), d.coll, kv.Document{"id": d.id, "content": randomText(40)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	damageValue(t, dir, buckets.PrimaryBucket("notes"), "n1")
	db, err = kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := db.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || rep.Problems[0].ID != "n1" {
		t.Fatalf("check: %+v", rep.Problems)
	}
	f := rep.Problems[0].Fix
	if strings.Contains(f, "delete notes") || !strings.Contains(f, "another device") || !strings.Contains(f, "put notes FILE") {
		t.Errorf("fix for a damaged document of a synced store: %q", f)
	}
}
