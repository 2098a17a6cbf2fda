package kv_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

func noteIDs(t *testing.T, db *kv.DB) string {
	t.Helper()
	var ids []string
	if err := db.List(context.Background(), "notes", 0, 0, func(d kv.Document) error { ids = append(ids, d["id"].(string)); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

func TestBackup_restoreRoundTrip(t *testing.T) {
	db := openTest(t)
	for i := 0; i < 5; i++ {
		if _, err := db.Put(context.Background(), "notes", kv.Document{"id": fmt.Sprint("n", i), "content": "meeting notes"}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	if m.Counts["notes"] != 5 || !m.Verified {
		t.Fatalf("manifest: %+v", m)
	}
	before := noteIDs(t, db)
	if _, err := db.Delete(context.Background(), "notes", "n0", "n1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "later", "content": "meeting"}); err != nil {
		t.Fatal(err)
	}
	restored, pre, err := db.Restore(t.Context(), m.Name)
	if err != nil {
		t.Fatal(err)
	}
	if restored.Name != m.Name || pre == "" {
		t.Fatalf("restore returned %s, pre %q", restored.Name, pre)
	}
	if got := noteIDs(t, db); got != before {
		t.Fatalf("after restore: %s, want %s", got, before)
	}
	// The search index was rebuilt from the restored data.
	res, err := db.Search(t.Context(), "meeting", kv.SearchOptions{Limit: 50})
	if err != nil || res.Total != 5 {
		t.Fatalf("search after restore: %+v %v", res, err)
	}
	// The pre-restore backup holds the state restore replaced.
	if _, _, err := db.Restore(t.Context(), pre); err != nil {
		t.Fatal(err)
	}
	if got := noteIDs(t, db); got != "later,n2,n3,n4" {
		t.Fatalf("after restoring the pre-restore backup: %s", got)
	}
}

func TestBackup_corruptRefused(t *testing.T) {
	db := openTest(t)
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "n", "content": strings.Repeat("payload ", 100)}); err != nil {
		t.Fatal(err)
	}
	m, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	path := db.Dir() + "/" + kv.BackupsDir + "/" + m.Name + ".db"
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, problems, err := db.VerifyBackup(t.Context(), m.Name)
	if err != nil || len(problems) == 0 {
		t.Fatalf("verify of a corrupt backup: %v %v", problems, err)
	}
	if _, _, err := db.Restore(t.Context(), m.Name); !errors.Is(err, kv.ErrBackupInvalid) {
		t.Fatalf("restore of a corrupt backup: %v", err)
	}
	if _, _, err := db.Restore(t.Context(), "20990101T000000.000000000Z"); !errors.Is(err, kv.ErrBackupNotFound) {
		t.Fatalf("restore of a missing backup: %v", err)
	}
	if _, _, err := db.Get(context.Background(), "notes", "n"); err != nil {
		t.Fatalf("store changed by a refused restore: %v", err)
	}
}

const restoreChildEnv = "CAIRN_RESTORE_CHILD"

func init() {
	if spec := os.Getenv(restoreChildEnv); spec != "" {
		dir, names, _ := strings.Cut(spec, "|")
		a, b, _ := strings.Cut(names, "|")
		db, err := kv.Open(dir, &kv.Options{NoSearch: true})
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(1)
		}
		for i := 0; ; i++ {
			name := a
			if i%2 == 1 {
				name = b
			}
			if _, _, err := db.Restore(context.Background(), name); err != nil {
				fmt.Println("restore:", err)
				os.Exit(1)
			}
			fmt.Println("restored", name)
		}
	}
}

// TestBackup_killDuringRestore SIGKILLs a process while it restores two
// backups in turn: afterwards the store is exactly one of the two states,
// checks clean, and is never missing.
func TestBackup_killDuringRestore(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		_, _ = db.Put(context.Background(), "notes", kv.Document{"id": fmt.Sprint("a", i), "content": strings.Repeat("a", 2000)})
	}
	ma, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	stateA := noteIDs(t, db)
	for i := 0; i < 30; i++ {
		_, _ = db.Put(context.Background(), "notes", kv.Document{"id": fmt.Sprint("b", i), "content": strings.Repeat("b", 3000)})
	}
	mb, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	stateB := noteIDs(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	rng, kills := killRounds(3, 10, 4)
	for it := 0; it < kills; it++ {
		killChild(t, restoreChildEnv+"="+dir+"|"+ma.Name+"|"+mb.Name, time.Duration(30+rng.IntN(400))*time.Millisecond)
		db, err := kv.Open(dir, &kv.Options{NoSearch: true, BackupPolicy: kv.BackupPolicy{KeepLast: 1000}})
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", it, err)
		}
		got := noteIDs(t, db)
		if got != stateA && got != stateB {
			t.Fatalf("kill %d: the store is neither backup: %s", it, got)
		}
		checkClean(t, db)
		_ = db.Close()
	}
}

// killRounds returns the random source of a kill test (seeded with seed
// and the time) and how many kills to run: full, or short with -short.
func killRounds(seed uint64, full, short int) (*rand.Rand, int) {
	rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
	if testing.Short() {
		return rng, short
	}
	return rng, full
}

// killChild runs this test binary with env set (a child the init
// functions above recognise), SIGKILLs it after d and waits for it.
func killChild(t *testing.T, env string, d time.Duration) {
	t.Helper()
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), env)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = bufio.NewReader(out).WriteTo(devNull{}) }()
	time.Sleep(d)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// TestBackup_restoreDamagedStore: a data.db too damaged to open is still
// restored from its verified backup, and the damaged file is kept.
func TestBackup_restoreDamagedStore(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "keep", "content": "precious"}); err != nil {
		t.Fatal(err)
	}
	m, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if err := os.Truncate(dir+"/"+kv.DataFile, 8192); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Open(dir, nil); !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("open of a truncated store: %v", err)
	}
	ms, err := kv.ListBackups(dir)
	if err != nil || len(ms) != 1 {
		t.Fatalf("list without opening: %v %v", ms, err)
	}
	if _, kept, err := kv.RestoreDamaged(t.Context(), dir, m.Name); err != nil || kept == "" {
		t.Fatalf("restore damaged: %q %v", kept, err)
	}
	db = openAt(t, dir)
	if doc, _, err := db.Get(context.Background(), "notes", "keep"); err != nil || doc["content"] != "precious" {
		t.Fatalf("after restore: %v %v", doc, err)
	}
	if _, _, err := kv.RestoreDamaged(t.Context(), dir, m.Name); err == nil {
		t.Fatal("RestoreDamaged replaced a store that opens")
	}
}

func openAt(t *testing.T, dir string) *kv.DB {
	t.Helper()
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { checkClean(t, db); _ = db.Close() })
	return db
}

const backupChildEnv = "CAIRN_BACKUP_CHILD"

func init() {
	if dir := os.Getenv(backupChildEnv); dir != "" {
		db, err := kv.Open(dir, &kv.Options{NoSearch: true})
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(1)
		}
		for i := 0; ; i++ {
			// A write between backups, so that pages are freed and
			// reused while the next copy runs.
			if _, err := db.Put(context.Background(), "notes", kv.Document{"id": fmt.Sprint("c", i%40), "content": strings.Repeat("c", 1000+i%3000)}); err != nil {
				fmt.Println("put:", err)
				os.Exit(1)
			}
			if _, err := db.Backup(context.Background(), kv.ReasonManual); err != nil {
				fmt.Println("backup:", err)
				os.Exit(1)
			}
			fmt.Println("backup", i)
		}
	}
}

// TestBackup_killDuringBackup SIGKILLs a process while it takes backups
// of a store it writes to: afterwards the store opens and checks clean,
// every backup listed as verified passes a full verification (size,
// SHA-256, structure, checksums, counts), and no temporary file of a
// killed copy is left once the next backup rotates.
func TestBackup_killDuringBackup(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	words := rand.New(rand.NewPCG(6, 6))
	for i := 0; i < 3000; i++ { // about 10 MB that snappy cannot shrink: a copy of several chunks
		text := make([]byte, 3000)
		for j := range text {
			text[j] = byte('a' + words.IntN(26))
		}
		if _, err := db.Put(context.Background(), "notes", kv.Document{"id": fmt.Sprint("a", i), "content": string(text)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	rng, kills := killRounds(5, 8, 3)
	for it := 0; it < kills; it++ {
		killChild(t, backupChildEnv+"="+dir, time.Duration(50+rng.IntN(400))*time.Millisecond)
		db, err := kv.Open(dir, &kv.Options{NoSearch: true})
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", it, err)
		}
		checkClean(t, db)
		ms, err := db.Backups(t.Context())
		if err != nil {
			t.Fatalf("kill %d: list: %v", it, err)
		}
		verified := 0
		for _, m := range ms {
			if !m.Verified {
				continue // a killed Create's debris is listed unverified, never trusted
			}
			verified++
			if _, probs, err := db.VerifyBackup(t.Context(), m.Name); err != nil || len(probs) > 0 {
				t.Errorf("kill %d: backup %s listed as verified fails verification: %v %v", it, m.Name, err, probs)
			}
		}
		ents, _ := os.ReadDir(filepath.Join(dir, kv.BackupsDir))
		t.Logf("kill %d: %d backups verified, %d files in the backups directory", it, verified, len(ents))
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err = kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if _, err := db.Backup(t.Context(), kv.ReasonManual); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join(dir, kv.BackupsDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left after a rotation: %s", e.Name())
		}
	}
}

// TestRestore_keepsTheBackupRestored checks that restoring the oldest
// backup works when the pre-restore backup's rotation would drop it: the
// backup being restored is never removed before it is copied, nor after.
func TestRestore_keepsTheBackupRestored(t *testing.T) {
	ctx := context.Background()
	db, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true, NoAutoBackup: true, BackupPolicy: kv.BackupPolicy{KeepLast: 2, Daily: -1, Weekly: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var names []string
	for i := range 2 {
		if _, err := db.Put(ctx, "notes", map[string]any{"id": "n", "v": i}); err != nil {
			t.Fatal(err)
		}
		m, err := db.Backup(ctx, kv.ReasonManual)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m.Name)
	}
	if _, _, err := db.Restore(ctx, names[0]); err != nil {
		t.Fatalf("restore of the oldest of %d kept backups: %v", len(names), err)
	}
	doc, _, err := db.Get(ctx, "notes", "n")
	if err != nil || fmt.Sprint(doc["v"]) != "0" {
		t.Fatalf("after the restore: %v, %v; want v 0", doc, err)
	}
	if _, problems, err := db.VerifyBackup(ctx, names[0]); err != nil || len(problems) > 0 {
		t.Errorf("the restored backup after the restore: %v %v", problems, err)
	}
}

// TestBackup_concurrent checks that backups taken at the same time, by
// goroutines of one process here (each takes the backups lock through its
// own open file, as another process would), all succeed and all stay: one
// backup's rotation no longer takes another's temporary files for debris.
func TestBackup_concurrent(t *testing.T) {
	ctx := context.Background()
	db, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true, NoAutoBackup: true, BackupPolicy: kv.BackupPolicy{KeepLast: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Put(ctx, "notes", map[string]any{"id": "n"}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 4
	var wg sync.WaitGroup
	names := make(chan string, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				m, err := db.Backup(ctx, kv.ReasonManual)
				if err != nil {
					t.Errorf("backup: %v", err)
					continue
				}
				names <- m.Name
			}
		})
	}
	wg.Wait()
	close(names)
	for name := range names {
		if _, problems, err := db.VerifyBackup(ctx, name); err != nil || len(problems) > 0 {
			t.Errorf("backup %s, reported taken: %v %v", name, problems, err)
		}
	}
}
