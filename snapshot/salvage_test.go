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
	r, err := Salvage(path, dst)
	if err != nil || len(r.Skipped) != 0 || r.Meta != "" {
		t.Fatalf("sound file: %+v %v", r, err)
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
	r, err = Salvage(bad, dst)
	if err != nil {
		t.Fatal(err)
	}
	if pp := r.Skipped; len(pp) != 1 || !strings.Contains(pp[0], "out of the file") || r.Meta != "" {
		t.Errorf("report %+v, want the page past the end", r)
	}
	if big, small := count(dst); big == 0 || big >= 2000 || small != 1 {
		t.Errorf("damaged file: copied %d of 2000 keys of big, small %d", big, small)
	}
}

// TestSalvage_bothMetasDamaged: with neither meta page sound (and neither
// one byte from sound), Salvage reads from the root page a meta page
// names, as it stands, and says so; with no root that reads either, it is
// an error.
func TestSalvage_bothMetasDamaged(t *testing.T) {
	path, _, ps := pagesFixture(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{0, ps} {
		copy(b[off+metaChecksumOff:], "damaged!") // eight bytes: no one-byte fix
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	r, err := Salvage(bad, dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Skipped) != 0 || !strings.Contains(r.Meta, "as it stands") {
		t.Errorf("report %+v, want no page skipped and the root read as it stands", r)
	}
	db, err := bolt.Open(dst, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var big int
	_ = db.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte("big")); bk != nil {
			big = bk.Stats().KeyN
		}
		return nil
	})
	_ = db.Close()
	if big != 2000 {
		t.Errorf("copied %d of 2000 keys of big", big)
	}

	for _, off := range []int64{0, ps} {
		binary.LittleEndian.PutUint64(b[off+rootOff:], 1) // a meta page, not a tree's
	}
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Salvage(bad, filepath.Join(t.TempDir(), "copy.db")); err == nil || !strings.Contains(err.Error(), "root of the page tree is lost") {
		t.Errorf("no root that reads: %v", err)
	}
}
