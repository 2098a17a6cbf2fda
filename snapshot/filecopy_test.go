package snapshot

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/cairnkv/cairn/internal/fsutil"
)

// fileCopies sets the chunk of fileCopier's file-to-file copies for the
// test.
func fileCopies(t *testing.T, chunk int64) {
	old := rangeChunk
	rangeChunk = chunk
	t.Cleanup(func() { rangeChunk = old })
}

// countCopies counts fsutil.CopyRange calls (the "copy" step of the fault
// seam) until the test ends.
func countCopies(t *testing.T) func() int64 {
	var n atomic.Int64
	t.Cleanup(fsutil.SetFault(func(op, path string) error {
		if op == "copy" {
			n.Add(1)
		}
		return nil
	}))
	return n.Load
}

// Tx.WriteTo into a fileCopier makes the same file as into a buffer, copies
// the data pages file to file, and hashes exactly the bytes of the file.
func TestFileCopier_copiesTheTransaction(t *testing.T) {
	fileCopies(t, 64<<10) // several chunks, the last one short
	db := openStore(t, testCounts, 700)
	err := db.View(func(tx *bolt.Tx) error {
		var want bytes.Buffer
		if _, err := tx.WriteTo(&want); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(t.TempDir(), "copy.db"))
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		h := sha256.New()
		c := &fileCopier{ctx: t.Context(), dst: f, h: h}
		copied := countCopies(t)
		n, err := tx.WriteTo(c)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(f.Name())
		if err != nil {
			return err
		}
		ps := int64(db.Info().PageSize)
		if n != tx.Size() || !bytes.Equal(got, want.Bytes()) {
			t.Errorf("wrote %d bytes (transaction %d); file equal to WriteTo's bytes: %v", n, tx.Size(), bytes.Equal(got, want.Bytes()))
		}
		if tx.Size() <= 2*ps+rangeChunk {
			t.Fatalf("store of %d bytes is too small for the test", tx.Size())
		}
		if got, want := copied(), (tx.Size()-2*ps+rangeChunk-1)/rangeChunk; got != want {
			t.Errorf("%d file-to-file copies, want one per chunk of the data pages (%d)", got, want)
		}
		if sum := sha256.Sum256(got); !bytes.Equal(h.Sum(nil), sum[:]) {
			t.Errorf("hash %x, file's %x", h.Sum(nil), sum)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A reader that is not a section of a file goes through a buffer, hashed
// as written.
func TestFileCopier_otherReaders(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "copy"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	c := &fileCopier{ctx: t.Context(), dst: f, h: h}
	copied := countCopies(t)
	data := bytes.Repeat([]byte("cairn "), 500_000)
	if _, err := c.Write(data[:10]); err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(c, bytes.NewReader(data[10:])); err != nil || n != int64(len(data)-10) {
		t.Fatalf("copied %d, %v", n, err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if !bytes.Equal(got, data) || !bytes.Equal(h.Sum(nil), sum[:]) || copied() != 0 {
		t.Errorf("file equal %v, hash equal %v, file-to-file copies %d", bytes.Equal(got, data), bytes.Equal(h.Sum(nil), sum[:]), copied())
	}
}

// Create copies the data pages file to file, chunk by chunk.
func TestCreate_copiesFileToFile(t *testing.T) {
	fileCopies(t, 64<<10)
	db := openStore(t, testCounts, 700)
	copied := countCopies(t)
	m := create(t, db, filepath.Join(t.TempDir(), "backups"), testOptions(testNow))
	ps := int64(db.Info().PageSize)
	if want := (m.Size - 2*ps + rangeChunk - 1) / rangeChunk; copied() != want {
		t.Errorf("%d file-to-file copies for %d bytes, want %d", copied(), m.Size, want)
	}
}
