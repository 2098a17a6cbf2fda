package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestCopyFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	data := bytes.Repeat([]byte("0123456789abcdef"), 300_000) // 4.8 MB: several buffers
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "data.db.tmp")
	if err := os.WriteFile(dst, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CopyFile(t.Context(), src, dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("copy differs (%d bytes, %v)", len(got), err)
	}
	if fi, _ := os.Stat(dst); fi.Mode() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}

	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		dst2 := filepath.Join(dir, "other")
		if err := CopyFile(ctx, src, dst2); !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
		if _, err := os.Stat(dst2); !os.IsNotExist(err) {
			t.Errorf("destination exists: %v", err)
		}
	})
	t.Run("missing source", func(t *testing.T) {
		if err := CopyFile(t.Context(), filepath.Join(dir, "nope"), dst); err == nil {
			t.Fatal("no error")
		}
		if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
			t.Error("destination changed")
		}
	})
	if f := files(t, dir); fmt.Sprint(f) != "[data.db.tmp src]" {
		t.Errorf("files %v", f)
	}
}

func TestCompact(t *testing.T) {
	db := openStore(t, testCounts, 1000)
	// Delete most documents so the file has free pages to reclaim.
	err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("sessions"))
		for i := 0; i < 250; i++ {
			if err := b.Delete([]byte(fmt.Sprintf("s%06d", i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]int
	if err := db.View(func(tx *bolt.Tx) error { want, _ = testVerifier(tx); return nil }); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, "data.db.compact")
	if err := Compact(t.Context(), db, dst, 64<<10); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(db.Path())
	after, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if after.Size() >= before.Size() {
		t.Errorf("compacted %d bytes, source %d", after.Size(), before.Size())
	}
	cdb, err := bolt.Open(dst, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cdb.Close() }()
	err = cdb.View(func(tx *bolt.Tx) error {
		got, problems := testVerifier(tx)
		if !maps.Equal(got, want) || len(problems) > 0 {
			return fmt.Errorf("compacted counts %v problems %v, want %v", got, problems, want)
		}
		return firstCheckError(tx)
	})
	if err != nil {
		t.Error(err)
	}
	if f := files(t, dir); fmt.Sprint(f) != "[data.db.compact]" {
		t.Errorf("files %v", f)
	}

	t.Run("onto itself", func(t *testing.T) {
		if err := Compact(t.Context(), db, db.Path(), 0); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		d := t.TempDir()
		if err := Compact(ctx, db, filepath.Join(d, "x"), 0); !errors.Is(err, context.Canceled) {
			t.Errorf("err %v", err)
		}
		if f := files(t, d); len(f) > 0 {
			t.Errorf("left %v", f)
		}
	})
	t.Run("unwritable destination", func(t *testing.T) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, "file"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Compact(t.Context(), db, filepath.Join(d, "file", "x"), 0); err == nil {
			t.Error("no error")
		}
	})
}
