package kv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// Hostile input and access (issue 9, item 6): permissions, symbolic links
// out of the store, names that try to escape their directories, and inputs
// large enough to take a machine down.

// populated opens a store with every kind of file in it: data, search
// index, blobs, a backup.
func populated(t *testing.T) (*kv.DB, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	fillStore(t, db, 5)
	if _, err := db.AddAttachment(t.Context(), strings.NewReader("attachment body"), kv.Document{"id": "a1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Search(t.Context(), "meeting", kv.SearchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(t.Context(), kv.ReasonManual); err != nil {
		t.Fatal(err)
	}
	return db, dir
}

// TestHostile_permissions: with a permissive umask, every file of a store
// is 0600 (or stricter) and every directory 0700: other users on the
// machine read nothing.
func TestHostile_permissions(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	db, dir := populated(t)
	if _, err := db.Compact(t.Context()); err != nil { // a rewritten data.db too
		t.Fatal(err)
	}
	var bad []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Dir(dir), p)
		perm := fi.Mode().Perm()
		switch {
		case fi.IsDir() && perm != 0o700:
			bad = append(bad, fmt.Sprintf("dir %s %#o", rel, perm))
		case !fi.IsDir() && perm&0o077 != 0:
			bad = append(bad, fmt.Sprintf("file %s %#o", rel, perm))
		}
		return nil
	})
	var search, other []string
	for _, b := range bad {
		if strings.Contains(b, " store/"+kv.SearchDir+"/") {
			search = append(search, b)
		} else {
			other = append(other, b)
		}
	}
	if len(other) > 0 {
		t.Errorf("%d entries readable by others (umask 0):\n%s", len(other), strings.Join(other, "\n"))
	}
	t.Run("search", func(t *testing.T) {
		if len(search) > 0 {
			skipBug(t, "BUG: Bleve writes search/index_meta.json with 0666 minus umask (0644 usually); the 0700 search/ directory hides it, but the file is not 0600; see report")
			t.Errorf("%d search index entries readable by others (umask 0):\n%s", len(search), strings.Join(search, "\n"))
		}
	})
}

// TestHostile_dataSymlink: data.db as a symbolic link to a file outside the
// store is refused, for writable and read-only opens, and the target is not
// touched.
func TestHostile_dataSymlink(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(outside, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, kv.DataFile)); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		db, err := kv.Open(dir, &kv.Options{ReadOnly: ro})
		if err == nil {
			db.Close()
			t.Errorf("read-only %v: a symlinked data.db was opened", ro)
		} else if !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("read-only %v: the error does not say why: %v", ro, err)
		}
	}
	if b, _ := os.ReadFile(outside); string(b) != "precious" {
		t.Error("the symlink's target was changed")
	}
}

// TestHostile_backupSymlinks: a backup data file that is a symbolic link
// out of the store is not restored from; a backups directory that is a
// symbolic link out of the store gets no backup written through it.
func TestHostile_backupSymlinks(t *testing.T) {
	db, dir := populated(t)
	ms, err := db.Backups(context.Background())
	if err != nil || len(ms) != 1 {
		t.Fatalf("backups: %v %v", ms, err)
	}
	name := ms[0].Name
	bpath := filepath.Join(dir, kv.BackupsDir, name+".db")
	// Move the real file out, link to it: same bytes, but outside.
	outside := filepath.Join(t.TempDir(), "outside.db")
	data, _ := os.ReadFile(bpath)
	if err := os.WriteFile(outside, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(bpath); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, bpath); err != nil {
		t.Fatal(err)
	}
	_, probs, verr := db.VerifyBackup(t.Context(), name)
	_, _, rerr := db.Restore(t.Context(), name)
	if verr == nil && len(probs) == 0 || rerr == nil {
		t.Errorf("symlinked backup file: verify %v %v; restore %v", probs, verr, rerr)
	}
}

// TestHostile_backupsDirSymlink: a backups directory that is a symbolic
// link out of the store gets no backup written through it.
func TestHostile_backupsDirSymlink(t *testing.T) {
	db, dir := populated(t)
	outDir := t.TempDir()
	if err := os.RemoveAll(filepath.Join(dir, kv.BackupsDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outDir, filepath.Join(dir, kv.BackupsDir)); err != nil {
		t.Fatal(err)
	}
	_, err := db.Backup(t.Context(), kv.ReasonManual)
	if es, _ := os.ReadDir(outDir); len(es) > 0 {
		t.Errorf("backup wrote %d files through a symlinked backups/ (err %v)", len(es), err)
	}
}

// TestHostile_blobSymlink: a blob file replaced by a symbolic link to a
// file outside the store is neither served nor deleted through the link.
func TestHostile_blobSymlink(t *testing.T) {
	db, dir := populated(t)
	doc, _, err := db.Get(context.Background(), "attachments", "a1")
	if err != nil {
		t.Fatal(err)
	}
	hash := doc["hash"].(string)
	bpath := filepath.Join(dir, kv.BlobsDir, hash[:2], hash)
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("attachment body"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(bpath); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, bpath); err != nil {
		t.Fatal(err)
	}
	if r, _, err := db.OpenAttachment(context.Background(), "a1"); err == nil {
		r.Close()
		t.Error("an attachment was served through a symbolic link out of the store")
	}
	if _, err := db.Delete(context.Background(), "attachments", "a1"); err != nil {
		t.Fatal(err)
	}
	db.WaitBlobDeletes()
	_, _ = db.GC(t.Context(), true)
	if b, err := os.ReadFile(outside); err != nil || string(b) != "attachment body" {
		t.Errorf("the symlink's target was deleted or changed: %q %v", b, err)
	}
}

// TestHostile_names: backup names, collection names, ids and attachment
// hashes that try to leave their directory (../, absolute paths, NUL) are
// rejected with a clear error and create no file anywhere.
func TestHostile_names(t *testing.T) {
	db, dir := populated(t)
	before := listTree(t, dir)
	evil := []string{"../x", "../../etc/passwd", "/etc/passwd", "a/../../b", "x\x00y", "\x00", "..", ".", "", strings.Repeat("../", 100) + "tmp/x", "C:\\Windows", "backups/../data"}
	for _, name := range evil {
		if _, _, err := db.VerifyBackup(t.Context(), name); err == nil {
			t.Errorf("backup name %q: verify accepted it", name)
		}
		if _, _, err := db.Restore(t.Context(), name); err == nil {
			t.Errorf("backup name %q: restore accepted it", name)
		}
		if _, err := db.Put(context.Background(), name, kv.Document{"id": "x"}); !errors.Is(err, kv.ErrUnknownCollection) {
			t.Errorf("collection %q: %v", name, err)
		}
		if _, _, err := db.Get(context.Background(), name, "x"); !errors.Is(err, kv.ErrUnknownCollection) {
			t.Errorf("collection %q: get: %v", name, err)
		}
	}
	// Ids are opaque keys: path-like ones are stored as keys, never as
	// files; NUL, empty, over-long and invalid UTF-8 ids are rejected.
	for _, id := range []string{"../../etc/passwd", "/etc/passwd", "..", `..\..\x`} {
		if _, err := db.Put(context.Background(), "notes", kv.Document{"id": id, "content": "x"}); err != nil {
			t.Errorf("id %q: %v", id, err)
		}
		if doc, _, err := db.Get(context.Background(), "notes", id); err != nil || doc["id"] != id {
			t.Errorf("id %q: read back %v %v", id, doc, err)
		}
		if _, err := db.Delete(context.Background(), "notes", id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"x\x00y", "", strings.Repeat("x", 257), "\xff\xfe"} {
		if _, err := db.Put(context.Background(), "notes", kv.Document{"id": id, "content": "x"}); !errors.Is(err, kv.ErrInvalidID) && !errors.Is(err, kv.ErrInvalid) {
			t.Errorf("id %q accepted: %v", id, err)
		}
	}
	// Attachment documents whose hash points out of the blob store.
	for i, h := range []string{"../../../data.db", "/etc/passwd", "..", strings.Repeat("a", 63) + "\x00", strings.ToUpper(strings.Repeat("ab", 32))} {
		id := fmt.Sprint("evil", i)
		_, perr := db.Put(context.Background(), "attachments", kv.Document{"id": id, "hash": h})
		if perr != nil {
			continue // refused at the door: fine
		}
		if r, _, err := db.OpenAttachment(context.Background(), id); err == nil {
			r.Close()
			t.Errorf("hash %q: OpenAttachment opened something", h)
		}
		if _, err := db.Delete(context.Background(), "attachments", id); err != nil {
			t.Fatal(err)
		}
	}
	db.WaitBlobDeletes()
	if after := listTree(t, dir); after != before {
		t.Errorf("hostile names changed the files of the store:\nbefore %s\nafter  %s", before, after)
	}
	checkClean(t, db)
}

// listTree lists the files of dir except data.db and the search index
// (which change with every write).
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		if err != nil || rel == kv.DataFile || strings.HasPrefix(rel, kv.SearchDir) {
			return nil
		}
		out = append(out, rel)
		return nil
	})
	return strings.Join(out, " ")
}

// TestHostile_deepNesting: a document nested 100,000 levels deep, as JSON
// or as a Go value, is refused with an error that says so, and nothing is
// stored.
func TestHostile_deepNesting(t *testing.T) {
	db := openTest(t)
	const depth = 100_000
	js := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	doc := `{"id":"deep","x":` + js + `}`
	if _, err := kv.ParseJSON([]byte(doc)); err == nil || !strings.Contains(err.Error(), "depth") && !strings.Contains(err.Error(), "nested") {
		t.Errorf("ParseJSON: %v", err)
	}
	if _, _, err := kv.ParseDocuments([]byte(doc)); err == nil {
		t.Error("ParseDocuments accepted it")
	}
	if _, err := db.Put(context.Background(), "notes", json.RawMessage(doc)); err == nil {
		t.Error("Put of raw JSON accepted it")
	}
	var v any = int64(1)
	for i := 0; i < depth; i++ {
		v = map[string]any{"a": v}
	}
	_, err := db.Put(context.Background(), "notes", kv.Document{"id": "deep", "x": v})
	if err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("Put of a Go value: %v", err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Patch(context.Background(), "notes", "n", kv.Document{"x": v}); err == nil {
		t.Error("Patch accepted it")
	}
	var arr any = "x"
	for i := 0; i < depth; i++ {
		arr = []any{arr}
	}
	if _, err := db.Append(context.Background(), "sessions", "s", "screenshots", arr); err == nil {
		t.Error("Append accepted it")
	}
	if _, _, err := db.Get(context.Background(), "notes", "deep"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("something was stored: %v", err)
	}
}

// TestHostile_tooLarge: a document over the size limit (a 70 MiB string
// field) is refused with ErrTooLarge naming the limit.
func TestHostile_tooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates hundreds of MB")
	}
	db := openTest(t)
	big := strings.Repeat("x", 70<<20)
	_, err := db.Put(context.Background(), "notes", kv.Document{"id": "big", "content": big})
	if !errors.Is(err, kv.ErrTooLarge) || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Put of a 70 MiB field: %v", err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "small"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Patch(context.Background(), "notes", "small", kv.Document{"content": big}); !errors.Is(err, kv.ErrTooLarge) {
		t.Errorf("Patch to 70 MiB: %v", err)
	}
}

// TestHostile_maxDocumentBytesOption: Options.MaxDocumentBytes lowers the
// limit.
func TestHostile_maxDocumentBytesOption(t *testing.T) {
	db, err := kv.Open(t.TempDir(), &kv.Options{MaxDocumentBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Put(context.Background(), "notes", kv.Document{"id": "big", "content": strings.Repeat("x", 2<<20)})
	if !errors.Is(err, kv.ErrTooLarge) {
		t.Errorf("a 2 MiB document with a 1 MiB limit: %v", err)
	}
}

const hugeArrayChildEnv = "CAIRN_HUGE_ARRAY_CHILD"

func init() {
	if dir := os.Getenv(hugeArrayChildEnv); dir != "" {
		os.Exit(hugeArrayChild(dir))
	}
}

// hugeArrayChild stores a 10-million-element array document (as kvtool
// put would: parsed from JSON) and reads it back; it prints the outcome.
func hugeArrayChild(dir string) int {
	var b bytes.Buffer
	b.WriteString(`{"id":"huge","values":[`)
	for i := 0; i < 10_000_000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i % 10))
	}
	b.WriteString("]}")
	docs, _, err := kv.ParseDocuments(b.Bytes())
	if err != nil {
		fmt.Println("parse:", err)
		return 0
	}
	b = bytes.Buffer{}
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	defer db.Close()
	if _, err := db.Put(context.Background(), "notes", docs[0]); err != nil {
		fmt.Println("put:", err)
		return 0
	}
	doc, _, err := db.Get(context.Background(), "notes", "huge")
	if err != nil {
		fmt.Println("get:", err)
		return 0
	}
	fmt.Println("stored", len(doc["values"].([]any)))
	return 0
}

// TestHostile_hugeArray: a 10-million-element array document is stored or
// refused with a clear error, in a child process whose peak memory is
// measured and must stay under 4 GiB.
func TestHostile_hugeArray(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10-million-element document")
	}
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), hugeArrayChildEnv+"="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	rss := int64(0)
	if ru != nil {
		rss = ru.Maxrss << 10 // KiB on Linux
	}
	t.Logf("10M-element array: %s (peak RSS %d MiB)", strings.TrimSpace(string(out)), rss>>20)
	res := strings.TrimSpace(string(out))
	if !strings.HasPrefix(res, "stored 10000000") && !strings.Contains(res, "too large") && !strings.Contains(res, "limit") {
		t.Errorf("neither stored nor clearly refused: %s", res)
	}
	if rss > 4<<30 {
		t.Errorf("peak RSS %d MiB for a 20 MB input", rss>>20)
	}
}
