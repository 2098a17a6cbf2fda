package kv_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// Fault injection at the kv level (docs/DESIGN.md invariant 5): every risky
// operation starts with a verified backup or does not start. The faults are
// the ones reachable from outside the packages: a backups directory that
// cannot be created (a file in its place: ENOTDIR), a blobs or search
// directory that is a file, and a full disk (a tiny tmpfs, when this
// process may mount one). Each failure must end in a clear error, no
// partial file, and a store that is unchanged and checks clean.

// allColls is every collection a fingerprint reads.
var allColls = []string{"sessions", "notes", "tasks", "topics", "companies", "contacts", "attachments", "extras", "settings", "aiSettings", "preferences"}

// fingerprint is the logical content of a store: every document of every
// collection with its revision, in a stable order.
func fingerprint(t testing.TB, db *kv.DB) string {
	t.Helper()
	var b strings.Builder
	err := db.View(context.Background(), func(tx *kv.Tx) error {
		for _, c := range allColls {
			err := tx.Each(c, func(id string, doc any) error {
				fmt.Fprintf(&b, "%s/%s %s\n", c, id, canon(t, doc))
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fingerprint: %v", err)
	}
	return b.String()
}

func fileSum(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// listDir returns the names in dir, sorted ("" entries for a missing dir).
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func fillStore(t testing.TB, db *kv.DB, n int) {
	t.Helper()
	err := db.Update(context.Background(), func(tx *kv.Tx) error {
		for i := 0; i < n; i++ {
			if _, err := tx.Put("notes", kv.Document{"id": fmt.Sprint("n", i), "content": fmt.Sprintf("meeting %d %s", i, strings.Repeat("words ", 300)), "tags": []any{"t"}}); err != nil {
				return err
			}
			if _, err := tx.Put("sessions", kv.Document{"id": fmt.Sprint("s", i), "name": fmt.Sprint("session ", i), "status": "active", "startTime": "2025-01-01T10:00:00Z"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

const exportJSON = `{"version":"1.0.0","exportedAt":"2025-10-16T00:00:00.000Z","appVersion":"0.5.1","notes":[{"id":"imported","content":"from an export"}],"topics":[],"companies":[],"contacts":[],"tasks":[],"sessions":[]}`

// riskyOps are the operations that must take a verified backup first.
func riskyOps(backupName string) map[string]func(db *kv.DB) error {
	return map[string]func(db *kv.DB) error{
		"backup": func(db *kv.DB) error {
			_, err := db.Backup(context.Background(), kv.ReasonManual)
			return err
		},
		"compact": func(db *kv.DB) error {
			_, err := db.Compact(context.Background())
			return err
		},
		"restore": func(db *kv.DB) error {
			if backupName == "" {
				return errors.New("no backup to restore (setup)")
			}
			_, _, err := db.Restore(context.Background(), backupName)
			return err
		},
		"reindex-secondary": func(db *kv.DB) error {
			_, err := db.ReindexSecondary(context.Background())
			return err
		},
		"import": func(db *kv.DB) error {
			x, err := legacy.ReadExport(strings.NewReader(exportJSON))
			if err != nil {
				return fmt.Errorf("setup: %w", err)
			}
			_, err = legacy.ImportInto(context.Background(), db, x, false)
			return err
		},
		"migrate": func(db *kv.DB) error {
			_, err := legacy.Migrate(context.Background(), db, filepath.Join("..", "legacy", "testdata", "eras", "era-a"), nil, false)
			return err
		},
	}
}

// TestFault_backupsDirIsAFile puts a file where backups/ goes: every backup
// fails with an error naming the cause, and every risky operation refuses
// to start, leaving data.db byte for byte and the store checking clean.
func TestFault_backupsDirIsAFile(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fillStore(t, db, 20)
	// The first commit starts the search index in the background, which
	// creates its directory: a search waits for it, so that the files
	// listed below are all there before the operations run.
	if _, err := db.Search(context.Background(), "anything", kv.SearchOptions{}); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(dir, kv.BackupsDir)
	if err := os.WriteFile(blocker, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	before, sum := fingerprint(t, db), fileSum(t, db.Path())
	files := listDir(t, dir)
	ops := riskyOps("")
	names := make([]string, 0, len(ops))
	for name := range ops {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "restore" {
			continue // no backup can exist; see TestFault_fullDisk
		}
		err := ops[name](db)
		if err == nil {
			t.Errorf("%s: succeeded without a backups directory", name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "not a directory") && !strings.Contains(msg, "backup") {
			t.Errorf("%s: error does not say the backup failed or why: %v", name, err)
		}
		if name != "backup" && !strings.Contains(msg, "refused") && !strings.Contains(msg, "backup failed") {
			t.Errorf("%s: error does not say the operation was refused for want of a backup: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
		if got := fingerprint(t, db); got != before {
			t.Errorf("%s changed the store although it failed", name)
		}
		if got := fileSum(t, db.Path()); got != sum {
			t.Errorf("%s changed data.db although it failed", name)
		}
		if got := listDir(t, dir); strings.Join(got, ",") != strings.Join(files, ",") {
			t.Errorf("%s left files: %v, before %v", name, got, files)
		}
		if b, _ := os.ReadFile(blocker); string(b) != "not a directory" {
			t.Errorf("%s wrote into the file in place of backups/", name)
		}
	}
	checkClean(t, db)
	// With the directory back, the same operations work.
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(t.Context(), kv.ReasonManual); err != nil {
		t.Fatalf("backup after the fault is gone: %v", err)
	}
	checkClean(t, db)
}

// TestFault_blobsDirIsAFile: an attachment whose content cannot be stored
// is an error and no attachment document.
func TestFault_blobsDirIsAFile(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := os.WriteFile(filepath.Join(dir, kv.BlobsDir), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := fingerprint(t, db)
	_, err = db.AddAttachment(t.Context(), strings.NewReader("content"), kv.Document{"id": "a1"})
	if err == nil {
		t.Fatal("attachment stored without a blobs directory")
	}
	if !strings.Contains(err.Error(), "a1") {
		t.Errorf("error does not name the attachment: %v", err)
	}
	if got := fingerprint(t, db); got != before {
		t.Error("a failed attachment changed the store")
	}
	t.Logf("add attachment: %v", err)
}

// TestFault_searchDirIsAFile: the search index cannot open; writes still
// commit (it is derived data), Search and Check say what is wrong and how
// to fix it, and once the obstacle is gone the next open rebuilds it and
// Check is clean.
func TestFault_searchDirIsAFile(t *testing.T) {
	dir := t.TempDir()
	sdir := filepath.Join(dir, kv.SearchDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sdir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatalf("open with a broken search index: %v", err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "n1", "content": "quarterly budget"}); err != nil {
		t.Fatalf("a write failed because the search index is broken: %v", err)
	}
	if _, err := db.Search(t.Context(), "budget", kv.SearchOptions{}); err == nil {
		t.Error("search succeeded without an index")
	}
	rep, err := db.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range rep.Problems {
		if strings.HasPrefix(p.Kind, "search") && strings.Contains(p.Detail, "reindex") {
			found = true
		}
	}
	if rep.OK || !found {
		t.Errorf("check does not report the broken index with its fix: %+v", rep.Problems)
	}
	if err := db.Close(); err != nil {
		t.Logf("close with a broken index: %v", err)
	}
	if err := os.Remove(sdir); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Search(t.Context(), "budget", kv.SearchOptions{})
	if err != nil || res.Total != 1 {
		t.Fatalf("search after the index came back: %+v %v", res, err)
	}
	checkClean(t, db)
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory, or skips.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s)", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
	})
	return mnt
}

// fillDisk writes a file until the file system is full and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !strings.Contains(err.Error(), "no space") {
				t.Fatalf("fill: %v", err)
			}
			return path
		}
	}
}

// TestFault_fullDisk runs every risky operation, attachments and writes on
// a full file system: each fails with ENOSPC in its message or succeeds
// durably; a failed one leaves no partial file and changes nothing; once
// space is back the store opens, checks clean and every acknowledged write
// is there.
func TestFault_fullDisk(t *testing.T) {
	mnt := mountTmpfs(t, "8m")
	dir := filepath.Join(mnt, "store")
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	fillStore(t, db, 60)
	m, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	filler := fillDisk(t, mnt)
	before, sum := fingerprint(t, db), fileSum(t, db.Path())
	backups := listDir(t, filepath.Join(dir, kv.BackupsDir))
	ops := riskyOps(m.Name)
	names := make([]string, 0, len(ops))
	for name := range ops {
		names = append(names, name)
	}
	sort.Strings(names)
	faults := 0
	for _, name := range names {
		err := ops[name](db)
		if err == nil {
			t.Errorf("%s succeeded on a full disk", name)
			continue
		}
		faults++
		t.Logf("%s: %v", name, err)
		if !strings.Contains(err.Error(), "no space left") {
			t.Errorf("%s: the error does not say the disk is full: %v", name, err)
		}
		if got := fingerprint(t, db); got != before {
			t.Errorf("%s changed the store although it failed", name)
		}
		if got := fileSum(t, db.Path()); got != sum {
			t.Errorf("%s changed data.db although it failed", name)
		}
		if got := listDir(t, filepath.Join(dir, kv.BackupsDir)); strings.Join(got, ",") != strings.Join(backups, ",") {
			t.Errorf("%s left files in backups/: %v, before %v", name, got, backups)
		}
		for _, debris := range []string{kv.DataFile + ".compact", kv.DataFile + ".restore"} {
			if _, err := os.Stat(filepath.Join(dir, debris)); err == nil {
				t.Errorf("%s left %s", name, debris)
			}
		}
	}
	// Give back a little room: some writes fit, then one fails.
	if fi, err := os.Stat(filler); err == nil {
		if err := os.Truncate(filler, max(0, fi.Size()-256<<10)); err != nil {
			t.Fatal(err)
		}
	}
	// An attachment does not fit: an error, no document.
	big := bytes.Repeat([]byte("attachment "), 200_000)
	if _, err := db.AddAttachment(t.Context(), bytes.NewReader(big), kv.Document{"id": "big"}); err == nil {
		t.Error("a 2 MB attachment was stored on a full disk")
	} else {
		faults++
		t.Logf("attach: %v", err)
	}
	if _, _, err := db.Get(context.Background(), "attachments", "big"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("failed attachment left a document: %v", err)
	}
	// Writes until one fails: each acknowledged one must survive.
	acked := 0
	for i := 0; i < 400; i++ {
		_, err := db.Put(context.Background(), "notes", kv.Document{"id": fmt.Sprint("late", i), "content": strings.Repeat("z", 8000)})
		if err != nil {
			faults++
			t.Logf("put %d: %v", i, err)
			break
		}
		acked++
	}
	if err := db.Close(); err != nil {
		t.Logf("close on a full disk: %v", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, nil)
	if err != nil {
		t.Fatalf("reopen after the disk filled: %v", err)
	}
	defer db.Close()
	for i := 0; i < acked; i++ {
		if _, _, err := db.Get(context.Background(), "notes", fmt.Sprint("late", i)); err != nil {
			t.Errorf("acknowledged write late%d lost: %v", i, err)
		}
	}
	checkClean(t, db)
	if _, err := db.Backup(t.Context(), kv.ReasonManual); err != nil {
		t.Errorf("backup once space is back: %v", err)
	}
	t.Logf("%d faults injected, %d writes acknowledged on the full disk", faults, acked)
}

// TestFault_restoreCopyFails: a restore whose copy cannot be written (the
// pre-restore backup fits, the copy does not) fails, leaves no
// data.db.restore, and the store keeps its current state.
func TestFault_restoreCopyFails(t *testing.T) {
	mnt := mountTmpfs(t, "8m")
	dir := filepath.Join(mnt, "store")
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fillStore(t, db, 60)
	m, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Delete(context.Background(), "notes", "n1", "n2"); err != nil {
		t.Fatal(err)
	}
	before := fingerprint(t, db)
	// Leave room for about one more backup only: the pre-restore backup
	// succeeds, the restore's copy then runs out of space.
	fi, _ := os.Stat(db.Path())
	filler := fillDisk(t, mnt)
	ffi, _ := os.Stat(filler)
	keep := ffi.Size() - m.Size - m.Size/2
	t.Logf("data.db %d bytes, backup %d bytes, room left %d", fi.Size(), m.Size, ffi.Size()-keep)
	if keep < 0 {
		keep = 0
	}
	if err := os.Truncate(filler, keep); err != nil {
		t.Fatal(err)
	}
	_, _, err = db.Restore(t.Context(), m.Name)
	if err == nil {
		t.Skip("the restore fitted (tmpfs accounting); nothing to test")
	}
	t.Logf("restore: %v", err)
	if _, err := os.Stat(filepath.Join(dir, kv.DataFile+".restore")); err == nil {
		t.Error("a failed restore left data.db.restore")
	}
	if got := fingerprint(t, db); got != before {
		t.Error("a failed restore changed the store")
	}
	_ = os.Remove(filler)
	checkClean(t, db)
}

// TestFault_crashDebrisCleaned: a process killed during Compact or Restore
// leaves the durable-replace helper's temporary file
// (.data.db.compact.tmp-N, .data.db.restore.tmp-N: up to the size of the
// store each); the next writable Open must remove it, as it removes
// data.db.compact and data.db.restore.
func TestFault_crashDebrisCleaned(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	debris := []string{kv.DataFile + ".compact", kv.DataFile + ".restore", "." + kv.DataFile + ".compact.tmp-123456", "." + kv.DataFile + ".restore.tmp-654321"}
	for _, name := range debris {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, 16384), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err = kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var left []string
	for _, name := range debris {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			left = append(left, name)
		}
	}
	if len(left) > 0 {
		t.Errorf("crash debris left after open: %v", left)
	}
}
