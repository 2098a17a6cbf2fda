package snapshot

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestSalvage copies every key of a sound file, and of a file whose big
// bucket has a child page pointer past the end, everything but that
// child's keys, naming the page skipped.
func TestSalvage(t *testing.T) {
	path, root, ps := pagesFixture(t)
	count := func(p string) (big, small int) {
		t.Helper()
		db, err := bolt.Open(p, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_ = db.View(func(tx *bolt.Tx) error {
			if b := tx.Bucket([]byte("big")); b != nil {
				big = b.Stats().KeyN
			}
			if b := tx.Bucket([]byte("small")); b != nil && string(b.Get([]byte("k"))) == "v" {
				small = 1
			}
			return nil
		})
		return big, small
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	pp, err := Salvage(path, dst)
	if err != nil || len(pp) != 0 {
		t.Fatalf("sound file: %v %v", pp, err)
	}
	if big, small := count(dst); big != 2000 || small != 1 {
		t.Errorf("sound file: copied %d of 2000 keys of big, small %d", big, small)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	elem := int64(root)*ps + pageHeaderSize + elementSize // the root's second child
	binary.LittleEndian.PutUint64(b[elem+8:], uint64(len(b))/uint64(ps)+3)
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	dst = filepath.Join(t.TempDir(), "copy.db")
	pp, err = Salvage(bad, dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(pp) != 1 || !strings.Contains(pp[0], "out of the file") {
		t.Errorf("problems %q, want the page past the end", pp)
	}
	if big, small := count(dst); big == 0 || big >= 2000 || small != 1 {
		t.Errorf("damaged file: copied %d of 2000 keys of big, small %d", big, small)
	}
}
