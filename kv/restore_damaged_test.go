package kv_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/kv"
	bolt "go.etcd.io/bbolt"
)

// damagedStore returns a store whose newest note's value has a flipped
// byte (it opens, the note fails its checksum) and the name of a verified
// backup taken before that note was written.
func damagedStore(t *testing.T) (dir, backup string) {
	t.Helper()
	dir = t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := db.Put(context.Background(), "notes", kv.Document{"id": fmt.Sprint("n", i), "content": "kept"}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 300)
	_, _ = rand.Read(raw)
	marker := base64.RawURLEncoding.EncodeToString(raw) // incompressible: stored verbatim
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "victim", "content": marker}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kv.DataFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte(marker))
		if i < 0 {
			break
		}
		data[off+i+len(marker)/2] ^= 0x01
		n++
		off += i + len(marker)
	}
	if n == 0 {
		t.Fatal("marker not found in data.db")
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, m.Name
}

// TestRestore_emptiedDataFile: an existing data.db emptied or cut shorter
// than the four pages bbolt starts every file with is damage, not a new
// store: every open, read-only or not, is ErrCorrupt naming the file and
// the way back, leaves the file as it was (no write starts an empty store
// beside the backups), and RestoreDamaged sets it aside and restores.
func TestRestore_emptiedDataFile(t *testing.T) {
	for _, size := range []int64{0, 100, 8192} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			dir, name := damagedStore(t)
			path := filepath.Join(dir, kv.DataFile)
			if err := os.Truncate(path, size); err != nil {
				t.Fatal(err)
			}
			for _, o := range []*kv.Options{{NoSearch: true}, {NoSearch: true, ReadOnly: true}, {NoSearch: true, MustExist: true}} {
				db, err := kv.Open(dir, o)
				if err == nil {
					_ = db.Close()
				}
				if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "backup restore") {
					t.Errorf("open %+v of a data.db of %d bytes: %v, want ErrCorrupt naming it and the restore", *o, size, err)
				}
				if fi, err := os.Stat(path); err != nil || fi.Size() != size {
					t.Fatalf("open %+v changed data.db: %v %v", *o, fi.Size(), err)
				}
			}
			if _, kept, err := kv.RestoreDamaged(t.Context(), dir, name); err != nil || !strings.Contains(kept, kv.DamagedPrefix) {
				t.Fatalf("restore: %q %v", kept, err)
			}
			db, err := kv.Open(dir, &kv.Options{NoSearch: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, _, err := db.Get(t.Context(), "notes", "n3"); err != nil {
				t.Errorf("a restored note: %v", err)
			}
			checkClean(t, db)
		})
	}
}

// TestRestore_freelistTypeDamaged: a freelist page whose type byte is
// damaged makes bbolt panic inside its Open, which skips its cleanup: the
// open is ErrCorrupt, every later open in the same process is ErrCorrupt
// again (not ErrLocked by "another DB of this process", the flock left
// behind), and RestoreDamaged restores.
func TestRestore_freelistTypeDamaged(t *testing.T) {
	dir, name := damagedStore(t)
	path := filepath.Join(dir, kv.DataFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The meta page of the newest transaction (meta at 16 in page 0 and 1:
	// magic, version, page size, flags, root, sequence, freelist at +32,
	// high water mark, txid at +48), and its freelist page's type (+8).
	ps := int64(binary.LittleEndian.Uint32(data[16+8:]))
	meta := int64(16)
	if binary.LittleEndian.Uint64(data[ps+16+48:]) > binary.LittleEndian.Uint64(data[16+48:]) {
		meta = ps + 16
	}
	fl := int64(binary.LittleEndian.Uint64(data[meta+32:]))
	if data[fl*ps+8] != 0x10 {
		t.Fatalf("page %d is not the freelist (type %#x)", fl, data[fl*ps+8])
	}
	data[fl*ps+8] ^= 0x80
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		db, err := kv.Open(dir, &kv.Options{NoSearch: true, MustExist: true, Timeout: time.Second})
		if err == nil {
			_ = db.Close()
		}
		if !errors.Is(err, kv.ErrCorrupt) {
			t.Fatalf("open %d of a store whose freelist page type is damaged: %v, want ErrCorrupt", i+1, err)
		}
	}
	if _, kept, err := kv.RestoreDamaged(t.Context(), dir, name); err != nil || !strings.Contains(kept, kv.DamagedPrefix) {
		t.Fatalf("restore: %q %v", kept, err)
	}
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkClean(t, db)
}

// Restore of a store whose data is damaged (issue 14, item 1): the
// pre-restore backup cannot be verified, so the damaged data.db is kept
// aside as data.db.damaged-<time> and the backup is restored.
func TestRestore_damagedValue(t *testing.T) {
	dir, name := damagedStore(t)
	db := openAt(t, dir)
	if _, _, err := db.Get(context.Background(), "notes", "victim"); !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("get of the damaged note: %v", err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, kv.DataFile))
	_, previous, err := db.Restore(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(previous), kv.DamagedPrefix) {
		t.Fatalf("previous state: %q", previous)
	}
	if kept, err := os.ReadFile(previous); err != nil || !bytes.Equal(kept, before) {
		t.Fatalf("the damaged file is not kept as it was: %v", err)
	}
	if _, _, err := db.Get(context.Background(), "notes", "victim"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("after the restore: %v", err)
	}
	ms, err := kv.ListBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	damaged := 0
	for _, m := range ms {
		if m.Reason == kv.ReasonDamaged {
			damaged++
			if m.Name != filepath.Base(previous) || m.Verified {
				t.Fatalf("listed as %+v", m)
			}
		}
	}
	if damaged != 1 {
		t.Fatalf("%d damaged files listed: %+v", damaged, ms)
	}
	if ms[0].Reason == kv.ReasonDamaged || ms[len(ms)-1].Reason != kv.ReasonDamaged {
		t.Fatalf("the damaged file is not listed after the backups: %+v", ms)
	}
}

const restoreDamagedChildEnv = "CAIRN_RESTORE_DAMAGED_CHILD"

func init() {
	if spec := os.Getenv(restoreDamagedChildEnv); spec != "" {
		dir, name, _ := strings.Cut(spec, "|")
		db, err := kv.Open(dir, &kv.Options{NoSearch: true})
		if err == nil {
			fmt.Println("opened")
			_, _, err = db.Restore(context.Background(), name)
		}
		if err != nil {
			fmt.Println("restore:", err)
			os.Exit(1)
		}
		fmt.Println("restored")
		os.Exit(0)
	}
}

// A restore of a damaged store SIGKILLed at random moments leaves either
// the damaged state in place or the restored state with the damaged file
// kept aside, never neither; a second restore then completes.
func TestRestore_damagedKilled(t *testing.T) {
	template, name := damagedStore(t)
	orig, err := os.ReadFile(filepath.Join(template, kv.DataFile))
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CAIRN_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (CAIRN_SEED replays it)", seed)
	rng := mrand.New(mrand.NewPCG(seed, 14))
	exe, _ := os.Executable()
	kills := 10
	if testing.Short() {
		kills = 4
	}
	old, restored := 0, 0
	for round := range kills {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(template)); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), restoreDamagedChildEnv+"="+dir+"|"+name)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(out)
		if line, err := br.ReadString('\n'); line != "opened\n" {
			t.Fatalf("round %d: child: %q %v", round, line, err)
		}
		go func() { _, _ = br.WriteTo(devNull{}) }()
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		kept, _ := filepath.Glob(filepath.Join(dir, kv.DamagedPrefix+"*"))
		db, err := kv.Open(dir, &kv.Options{NoSearch: true})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		_, _, gerr := db.Get(context.Background(), "notes", "victim")
		switch {
		case errors.Is(gerr, kv.ErrCorrupt):
			old++ // killed before the rename: still the damaged state
		case errors.Is(gerr, kv.ErrNotFound):
			restored++
			if len(kept) != 1 {
				t.Fatalf("round %d: restored, but the damaged file is not kept: %v", round, kept)
			}
			if b, err := os.ReadFile(kept[0]); err != nil || !bytes.Equal(b, orig) {
				t.Fatalf("round %d: the kept file is not the damaged data.db (%v)", round, err)
			}
			checkClean(t, db)
		default:
			t.Fatalf("round %d: the victim note reads %v", round, gerr)
		}
		if _, _, err := db.Restore(t.Context(), name); err != nil {
			t.Fatalf("round %d: the second restore: %v", round, err)
		}
		checkClean(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d kills left the damaged state, %d the restored one", old, restored)
}

// TestOpen_interruptedCreation checks that an empty data.db beside no
// backup, what a creating open killed before bbolt wrote the file
// leaves, is no store to a reader and a new store to a writer, while the
// same empty file beside backups is damage (TestRestore_emptiedDataFile).
func TestOpen_interruptedCreation(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, kv.DataFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Open(dir, &kv.Options{ReadOnly: true, NoSearch: true}); !errors.Is(err, kv.ErrNoStore) {
		t.Fatalf("read-only open: %v, want ErrNoStore", err)
	}
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatalf("writable open: %v", err)
	}
	defer db.Close()
	if _, err := db.Put(context.Background(), "notes", map[string]any{"id": "n"}); err != nil {
		t.Fatal(err)
	}
	checkClean(t, db)
}

// TestRestore_damagedLogPage: with the header of the change log's root
// page zeroed, the store opens (its open walks other pages), but the
// restore's pre-restore backup read the log through bbolt, which panics on
// a page naming another: the restore died with a Go panic, leaving the
// damage. The panic is a damaged source now, set aside as any other.
func TestRestore_damagedLogPage(t *testing.T) {
	dir, name := damagedStore(t)
	path := filepath.Join(dir, kv.DataFile)
	root := bucketRoot(t, path, buckets.LogBucket)
	data := mustRead(t, path)
	ps := int64(binary.LittleEndian.Uint32(data[16+8:]))
	clear(data[root*ps : root*ps+16])
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Skipf("the store no longer opens (%v): the restore takes the offline path", err)
	}
	defer db.Close()
	_, kept, err := db.Restore(t.Context(), name)
	if err != nil || !strings.Contains(kept, kv.DamagedPrefix) {
		t.Fatalf("restore: %q %v", kept, err)
	}
	checkClean(t, db)
}

// bucketRoot returns the root page of the top-level bucket named name in
// the bbolt file at path.
func bucketRoot(t *testing.T, path string, name []byte) int64 {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var root int64
	_ = bdb.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(name); b != nil {
			root = int64(b.Root())
		}
		return nil
	})
	if root == 0 {
		t.Fatalf("no bucket %s with a page of its own", name)
	}
	return root
}

// TestOpen_dataFileMissingBesideBackups: with data.db gone, a put created
// a new empty store beside the old one's backups, check called it clean,
// and its backups would rotate the old ones out. Opening refuses it as
// damage; its backups are still listed and one restores into it.
func TestOpen_dataFileMissingBesideBackups(t *testing.T) {
	dir, name := damagedStore(t)
	path := filepath.Join(dir, kv.DataFile)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for _, o := range []*kv.Options{{NoSearch: true}, {NoSearch: true, ReadOnly: true}} {
		if db, err := kv.Open(dir, o); err == nil {
			_ = db.Close()
			t.Fatalf("open %+v of a store whose data.db is missing beside its backups", o)
		} else if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("open %+v: %v", o, err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a refused open created data.db: %v", err)
	}
	if ms, err := kv.ListBackups(dir); err != nil || len(ms) == 0 {
		t.Fatalf("backups: %v %v", ms, err)
	}
	if _, kept, err := kv.RestoreDamaged(t.Context(), dir, name); err != nil || kept != "" {
		t.Fatalf("restore: %q %v", kept, err)
	}
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkClean(t, db)
}

// TestOpen_removesBackupDebris: the temporary copy a killed backup left in
// backups/ (as large as the store) stayed until the next backup's
// rotation; a writable open removes it, a read-only one leaves it.
func TestOpen_removesBackupDebris(t *testing.T) {
	dir, _ := damagedStore(t)
	tmp := filepath.Join(dir, kv.BackupsDir, ".20261207T000000.000000000Z.db.tmp-42")
	if err := os.WriteFile(tmp, []byte("a killed backup's copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("a read-only open removed it: %v", err)
	}
	db, err = kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("a writable open left it: %v", err)
	}
}
