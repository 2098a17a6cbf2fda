package snapshot

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/internal/fsutil"
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
	t.Run("source grows during the copy", func(t *testing.T) {
		fileCopies(t, 1<<20)
		grown := filepath.Join(t.TempDir(), "grows")
		if err := os.WriteFile(grown, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		defer fsutil.SetFault(func(op, path string) error {
			once.Do(func() {
				f, err := os.OpenFile(grown, os.O_APPEND|os.O_WRONLY, 0)
				if err == nil {
					_, err = f.Write([]byte("more"))
					err = errors.Join(err, f.Close())
				}
				if err != nil {
					t.Error(err)
				}
			})
			return nil
		})()
		dst2 := filepath.Join(dir, "grown-copy")
		if err := CopyFile(t.Context(), grown, dst2); err == nil || !strings.Contains(err.Error(), "changed during the copy") {
			t.Fatalf("err %v, want the source changed", err)
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

// TestCompact_layout writes summaries and parts interleaved, so their
// pages interleave in the source, and requires the compacted copy to hold
// the summary pages together in one run before the part pages, with the
// data and bucket sequences unchanged and the file trimmed.
func TestCompact_layout(t *testing.T) {
	src, err := bolt.Open(filepath.Join(t.TempDir(), "data.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = src.Close() }()
	meta, parts, sys := buckets.MetaBucket("sessions"), buckets.PartsBucket("sessions"), buckets.SysBucket
	val := func(n int) []byte { return bytes.Repeat([]byte{'v'}, n) }
	for b := 0; b < 40; b++ {
		err := src.Update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{parts, meta, sys} {
				bk, err := tx.CreateBucketIfNotExists(name)
				if err != nil {
					return err
				}
				if _, err := bk.NextSequence(); err != nil {
					return err
				}
			}
			for i := 0; i < 50; i++ {
				id := fmt.Appendf(nil, "s%03d-%03d", b, i)
				if err := tx.Bucket(meta).Put(id, val(120)); err != nil {
					return err
				}
				if err := tx.Bucket(parts).Put(append(id, "/summary"...), val(900+i*37)); err != nil {
					return err
				}
			}
			return tx.Bucket(sys).Put(fmt.Appendf(nil, "k%d", b), val(10))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(t.TempDir(), "data.db")
	if err := Compact(t.Context(), src, dst, 256<<10); err != nil {
		t.Fatal(err)
	}
	cdb, err := bolt.Open(dst, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cdb.Close() }()
	err = cdb.View(func(tx *bolt.Tx) error {
		if err := firstCheckError(tx); err != nil {
			return err
		}
		fi, err := os.Stat(dst)
		if err != nil {
			return err
		}
		if fi.Size() != tx.Size() {
			t.Errorf("file %d bytes, last used page ends at %d: tail not trimmed", fi.Size(), tx.Size())
		}
		return src.View(func(stx *bolt.Tx) error {
			for _, name := range [][]byte{meta, parts, sys} {
				a, b := stx.Bucket(name), tx.Bucket(name)
				if a.Sequence() != b.Sequence() || a.Stats().KeyN != b.Stats().KeyN {
					t.Errorf("%s: sequence %d keys %d, source %d and %d", name, b.Sequence(), b.Stats().KeyN, a.Sequence(), a.Stats().KeyN)
				}
				if err := a.ForEach(func(k, v []byte) error {
					if !bytes.Equal(b.Get(k), v) {
						t.Errorf("%s/%s differs", name, k)
					}
					return nil
				}); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	ps := int64(cdb.Info().PageSize)
	var mp, pp, sp []uint64
	_ = cdb.View(func(tx *bolt.Tx) error {
		mp = treePages(t, dst, ps, uint64(tx.Bucket(meta).Root()))
		pp = treePages(t, dst, ps, uint64(tx.Bucket(parts).Root()))
		sp = treePages(t, dst, ps, uint64(tx.Bucket(sys).Root()))
		return nil
	})
	if len(mp) < 5 || len(pp) < 5 {
		t.Fatalf("summaries on %d pages, parts on %d: too few to tell a layout", len(mp), len(pp))
	}
	// Each commit frees the root bucket's page and the freelist's, which
	// the next one reuses: a few pages of a later region may fall into
	// holes left by an earlier one, nothing more.
	last := slices.Max(mp)
	early := 0
	for _, id := range pp {
		if id < last {
			early++
		}
	}
	if early > 3 {
		t.Errorf("%d part pages before the last summary page %d", early, last)
	}
	if span := last - slices.Min(mp) + 1; span > uint64(len(mp))+4 {
		t.Errorf("%d summary pages spread over %d", len(mp), span)
	}
	if len(sp) > 0 && slices.Max(sp) > last {
		t.Errorf("sys pages %v after the last summary page %d", sp, last)
	}

	// The source's file, grown by 40 commits, is larger than its copy.
	sfi, _ := os.Stat(src.Path())
	cfi, _ := os.Stat(dst)
	if cfi.Size() >= sfi.Size() {
		t.Errorf("copy %d bytes, source %d", cfi.Size(), sfi.Size())
	}
}

// treePages returns the ids of the pages of the B+tree rooted at root in
// the bbolt file at path (overflow pages not listed), reading the file:
// a page header is id (8 bytes), flags (2), count (2), overflow (4); a
// branch element is pos (4), ksize (4), child page id (8).
func treePages(t *testing.T, path string, pageSize int64, root uint64) []uint64 {
	t.Helper()
	if root == 0 {
		return nil // inline bucket
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []uint64
	var walk func(id uint64)
	walk = func(id uint64) {
		out = append(out, id)
		p := make([]byte, pageSize)
		if _, err := f.ReadAt(p, int64(id)*pageSize); err != nil {
			t.Fatal(err)
		}
		flags, count := binary.LittleEndian.Uint16(p[8:]), binary.LittleEndian.Uint16(p[10:])
		if flags&0x01 == 0 { // a leaf
			return
		}
		for i := 0; i < int(count); i++ {
			walk(binary.LittleEndian.Uint64(p[16+i*16+8:]))
		}
	}
	walk(root)
	return out
}
