package kv_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// stageBatch writes batch n of a staged change: ten notes.
func stageBatch(s *kv.Stage, n int) error {
	return s.Update(func(tx *kv.Tx) error {
		for j := 0; j < 10; j++ {
			doc := kv.Document{"id": fmt.Sprintf("staged-%03d-%d", n, j), "content": fmt.Sprintf("staged zephyrine note %d %d", n, j)}
			if _, err := tx.Put("notes", doc); err != nil {
				return err
			}
		}
		return nil
	})
}

// oneNoteStore opens a store holding one note and returns it with the
// bytes of its data.db.
func oneNoteStore(t *testing.T) (*kv.DB, []byte) {
	t.Helper()
	db := openTest(t)
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "before", "content": "old"}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	return db, before
}

// checkUnchanged fails unless a failed or refused Staged left db's
// data.db byte for byte as before, its one note, and no stage or
// compacted copy behind.
func checkUnchanged(t *testing.T, db *kv.DB, before []byte) {
	t.Helper()
	after, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("a failed Staged changed data.db")
	}
	for _, suffix := range []string{".stage", ".compact"} {
		if _, err := os.Stat(db.Path() + suffix); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s file left behind: %v", suffix, err)
		}
	}
	if got := countNotes(t, db); got != 1 {
		t.Fatalf("%d notes, want 1", got)
	}
}

func countNotes(t *testing.T, db *kv.DB) int {
	t.Helper()
	n := 0
	err := db.View(context.Background(), func(tx *kv.Tx) error {
		return tx.Each("notes", func(string, any) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStaged_batchesLandTogether(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	if _, err := db.Put(ctx, "notes", kv.Document{"id": "before", "content": "old"}); err != nil {
		t.Fatal(err)
	}
	var hash string
	err := db.Staged(ctx, func(s *kv.Stage) error {
		for n := 0; n < 5; n++ {
			if err := stageBatch(s, n); err != nil {
				return err
			}
			// The stage sees its own batches; the store does not.
			seen := 0
			if err := s.View(func(tx *kv.Tx) error {
				return tx.Each("notes", func(string, any) error { seen++; return nil })
			}); err != nil {
				return err
			}
			if want := 1 + 10*(n+1); seen != want {
				return fmt.Errorf("stage sees %d notes after batch %d, want %d", seen, n, want)
			}
		}
		return s.Update(func(tx *kv.Tx) error {
			h, _, err := tx.StoreContent(ctx, strings.NewReader("staged bytes"))
			if err != nil {
				return err
			}
			hash = h
			_, err = tx.Put("attachments", kv.Document{"id": "att-staged", "name": "a.txt", "hash": h, "size": 12})
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := countNotes(t, db); got != 51 {
		t.Fatalf("%d notes after Staged, want 51", got)
	}
	if !db.HasContent(ctx, hash) {
		t.Fatal("staged attachment content missing")
	}
	if _, err := os.Stat(db.Path() + ".stage"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stage file left behind: %v", err)
	}
	// The search index catches up with the swapped-in data.
	res, err := db.Search(ctx, "zephyrine", kv.SearchOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 50 {
		t.Fatalf("search finds %d staged notes, want 50", res.Total)
	}
	// The store still takes ordinary writes afterwards.
	if _, err := db.Put(ctx, "notes", kv.Document{"id": "after", "content": "new"}); err != nil {
		t.Fatal(err)
	}
}

func TestStaged_failureChangesNothing(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		fn   func(ctx context.Context, cancel func(), s *kv.Stage) error
		want error
	}{
		{"fn error", func(_ context.Context, _ func(), s *kv.Stage) error {
			if err := stageBatch(s, 0); err != nil {
				return err
			}
			return boom
		}, boom},
		{"cancelled", func(_ context.Context, cancel func(), s *kv.Stage) error {
			if err := stageBatch(s, 0); err != nil {
				return err
			}
			cancel()
			return nil
		}, context.Canceled},
		{"batch error", func(_ context.Context, _ func(), s *kv.Stage) error {
			if err := stageBatch(s, 0); err != nil {
				return err
			}
			return s.Update(func(tx *kv.Tx) error {
				if _, err := tx.Put("notes", kv.Document{"id": "half"}); err != nil {
					return err
				}
				_, err := tx.Put("notes", kv.Document{"id": 42})
				return err
			})
		}, kv.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, before := oneNoteStore(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := db.Staged(ctx, func(s *kv.Stage) error { return tc.fn(ctx, cancel, s) })
			if !errors.Is(err, tc.want) {
				t.Fatalf("Staged: %v, want %v", err, tc.want)
			}
			checkUnchanged(t, db, before)
		})
	}
}

// TestStaged_damagedCopyRefused damages one value in the stage behind the
// store's back: the copy must fail verification and data.db stay as it
// was, both for a small change (verified as it is) and for a bulk load
// (decoded while it is compacted, the compacted copy's checksums checked
// after), whether the damage breaks the checksum or only the decoding.
func TestStaged_damagedCopyRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		batches int
		pad     int  // bytes of content per note
		sealed  bool // the checksum matches the damaged bytes
	}{
		{"small", 1, 0, false},
		{"small sealed", 1, 0, true},
		{"bulk", 40, 800, false}, // over 4 MiB and 25% of growth: compacted
		{"bulk sealed", 40, 800, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.batches > 1 {
				t.Skip("loads 8 MB")
			}
			db, before := oneNoteStore(t)
			pad := strings.Repeat("x", tc.pad)
			err := db.Staged(context.Background(), func(s *kv.Stage) error {
				for b := range tc.batches {
					err := s.Update(func(tx *kv.Tx) error {
						for j := range 250 {
							doc := kv.Document{"id": fmt.Sprintf("bulk-%03d-%03d", j, b), "content": fmt.Sprintf("%d %d %s", b, j, pad)}
							if _, err := tx.Put("notes", doc); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						return err
					}
				}
				return kv.DamageStaged(s, "notes", "bulk-007-000", tc.sealed)
			})
			if err == nil || !strings.Contains(err.Error(), "failed verification") || !strings.Contains(err.Error(), "bulk-007-000") {
				t.Fatalf("Staged with a damaged value: %v", err)
			}
			checkUnchanged(t, db, before)
		})
	}
}

func TestStaged_readOnlyAndClosed(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Staged(context.Background(), func(*kv.Stage) error { return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
	ro, err := kv.Open(dir, &kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Staged(context.Background(), func(*kv.Stage) error { return nil }); !errors.Is(err, kv.ErrReadOnly) {
		t.Fatalf("read-only: %v", err)
	}
}

// stageChildEnv turns the test binary into a child that runs one long
// Staged change, printing a line per committed batch, until killed.
const stageChildEnv = "CAIRN_STAGE_CHILD"

func init() {
	if dir := os.Getenv(stageChildEnv); dir != "" {
		db, err := kv.Open(dir, nil)
		if err != nil {
			fmt.Println("open error:", err)
			os.Exit(1)
		}
		err = db.Staged(context.Background(), func(s *kv.Stage) error {
			for n := 0; ; n++ {
				if err := stageBatch(s, n); err != nil {
					return err
				}
				fmt.Println("batch", n)
			}
		})
		fmt.Println("staged error:", err)
		os.Exit(1)
	}
}

// TestStaged_killed SIGKILLs a process in the middle of a staged change:
// the store must hold none of it, and the copy must be gone once the store
// reopens.
func TestStaged_killed(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "before", "content": "old"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), stageChildEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		batches := 0
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "batch ") {
				if batches++; batches == 20+round*15 {
					break
				}
				continue
			}
			t.Fatalf("child: %s", sc.Text())
		}
		if batches == 0 {
			t.Fatal("child committed no batch")
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		if _, err := os.Stat(filepath.Join(dir, kv.DataFile+".stage")); err != nil {
			t.Fatalf("round %d: no stage file to clean up after the kill: %v", round, err)
		}
		db, err := kv.Open(dir, &kv.Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if got := countNotes(t, db); got != 1 {
			t.Fatalf("round %d: %d notes after a killed staged change, want 1", round, got)
		}
		checkClean(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, kv.DataFile+".stage")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("round %d: stage file not removed on open: %v", round, err)
		}
	}
}
