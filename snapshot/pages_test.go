package snapshot

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// pagesFixture writes a bbolt file with a bucket large enough for a branch
// root, a small (inline) bucket and a nested bucket, and returns its path,
// the large bucket's root page and the page size.
func pagesFixture(t *testing.T) (path string, root uint64, ps int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "f.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		big, err := tx.CreateBucket([]byte("big"))
		if err != nil {
			return err
		}
		for i := 0; i < 2000; i++ {
			if err := big.Put([]byte(fmt.Sprintf("key-%05d", i)), []byte(strings.Repeat("v", 40))); err != nil {
				return err
			}
		}
		small, err := tx.CreateBucket([]byte("small"))
		if err != nil {
			return err
		}
		if err := small.Put([]byte("k"), []byte("v")); err != nil {
			return err
		}
		nested, err := big.CreateBucket([]byte("nested"))
		if err != nil {
			return err
		}
		return nested.Put([]byte("a"), []byte("b"))
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.View(func(tx *bolt.Tx) error {
		root = uint64(tx.Bucket([]byte("big")).Root())
		return nil
	})
	ps = int64(db.Info().PageSize)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path, root, ps
}

// readTx opens the bbolt file at path read-only and returns a read
// transaction, both closed when the test ends.
func readTx(t *testing.T, path string) *bolt.Tx {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin(false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = tx.Rollback() // read-only
		_ = db.Close()
	})
	return tx
}

func checkPagesOf(t *testing.T, path string) []string {
	t.Helper()
	pp, err := CheckPages(readTx(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return pp
}

// TestCheckPages finds each kind of page damage on which bbolt would read
// past its map or loop forever, reading only the file, and nothing on a
// sound file.
func TestCheckPages(t *testing.T) {
	path, root, ps := pagesFixture(t)
	if pp := checkPagesOf(t, path); len(pp) != 0 {
		t.Fatalf("sound file: %v", pp)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f := binary.LittleEndian.Uint16(orig[int64(root)*ps+8:]); f != branchPageFlag {
		t.Fatalf("the big bucket's root is not a branch page (flags %#x)", f)
	}
	elem := int64(root)*ps + pageHeaderSize // the root's first branch element
	inline := strings.Index(string(orig), "small")
	cases := []struct {
		name   string
		damage func(b []byte)
		want   string
	}{
		{"child is its parent (a cycle)", func(b []byte) { binary.LittleEndian.PutUint64(b[elem+8:], root) }, "referenced twice"},
		{"child is a meta page", func(b []byte) { binary.LittleEndian.PutUint64(b[elem+8:], 0) }, "page 0 (from a bucket or branch): a meta page"},
		{"child past the end", func(b []byte) { binary.LittleEndian.PutUint64(b[elem+8:], uint64(len(b))/uint64(ps)+3) }, "out of the file"},
		{"key past the page", func(b []byte) { binary.LittleEndian.PutUint32(b[elem:], uint32(ps)) }, "reaches past the page"},
		{"branch page of no type", func(b []byte) { b[int64(root)*ps+8] = 0x03 }, "type 0x3"},
		{"branch key not its child's first key", func(b []byte) {
			e := elem + elementSize // the second element: the first one's key is the bucket's smallest
			k := e + int64(binary.LittleEndian.Uint32(b[e:])) + int64(binary.LittleEndian.Uint32(b[e+4:])) - 1
			b[k] ^= 0x01
		}, "starts with"},
		{"inline bucket not a leaf", func(b []byte) { b[inline+len("small")+bucketHeaderSize+8] ^= 0x20 }, "inline bucket"},
		{"freelist lists a page in use", func(b []byte) { listFree(b, ps, root) }, fmt.Sprintf("page %d: in use, but the freelist lists it as free", root)},
		{"freelist lists a page past the file", func(b []byte) { listFree(b, ps, uint64(len(b))/uint64(ps)+2) }, "outside the file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := append([]byte(nil), orig...)
			tc.damage(bad)
			p := filepath.Join(t.TempDir(), "bad.db")
			if err := os.WriteFile(p, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			pp := checkPagesOf(t, p)
			if len(pp) == 0 || !strings.Contains(strings.Join(pp, "\n"), tc.want) {
				t.Errorf("problems %q, want one saying %q", pp, tc.want)
			}
		})
	}
}

// TestMeta_damaged: CheckMeta names both meta pages when neither is
// sound; DamagedMeta reports the one damaged page of a file bbolt still
// opens (from the other), whichever it is, and nothing for a sound file.
func TestMeta_damaged(t *testing.T) {
	path, _, ps := pagesFixture(t)
	sound, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines, err := DamagedMeta(path); err != nil || lines != nil {
		t.Fatalf("sound file: %v %v", lines, err)
	}
	for _, pages := range [][]int64{{0}, {1}, {0, 1}} {
		b := append([]byte(nil), sound...)
		for _, p := range pages {
			b[p*ps+metaOff+24] ^= 1 // the root bucket's sequence: the checksum fails
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		lines, err := DamagedMeta(path)
		merr := CheckMeta(path)
		switch len(pages) {
		case 1:
			if err != nil || len(lines) != 1 || !strings.Contains(lines[0], fmt.Sprintf("meta page %d: checksum mismatch", pages[0])) || merr != nil {
				t.Errorf("meta page %d damaged: %v %v (CheckMeta %v)", pages[0], lines, err, merr)
			}
		default:
			if merr == nil || !strings.Contains(merr.Error(), "meta page 0: checksum mismatch; meta page 1: checksum mismatch") {
				t.Errorf("both meta pages damaged: CheckMeta %v", merr)
			}
		}
	}
}

// listFree makes the freelist page of b's newest meta page list page id
// as its only free page.
func listFree(b []byte, ps int64, id uint64) {
	meta := int64(0)
	if binary.LittleEndian.Uint64(b[ps+metaTxidOff:]) > binary.LittleEndian.Uint64(b[metaTxidOff:]) {
		meta = ps
	}
	fl := int64(binary.LittleEndian.Uint64(b[meta+metaFreelistOff:])) * ps
	binary.LittleEndian.PutUint16(b[fl+10:], 1)
	binary.LittleEndian.PutUint64(b[fl+pageHeaderSize:], id)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

// TestCheckPages_readsKeysNotValues: the walk reads the keys and bucket
// headers of a leaf's overflow pages, not its large values, and still
// checks a bucket whose header lies in an overflow page.
func TestCheckPages_readsKeysNotValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("v", 64<<10)
	err = db.Update(func(tx *bolt.Tx) error {
		blobs, err := tx.CreateBucket([]byte("blobs"))
		if err != nil {
			return err
		}
		for i := 0; i < 64; i++ {
			if err := blobs.Put([]byte(fmt.Sprintf("blob-%03d", i)), []byte(big)); err != nil {
				return err
			}
		}
		// One leaf: "a" and its 64 KiB value, then the inline bucket "b",
		// whose header lies in the leaf's overflow pages.
		mixed, err := tx.CreateBucket([]byte("mixed"))
		if err != nil {
			return err
		}
		if err := mixed.Put([]byte("a"), []byte(big)); err != nil {
			return err
		}
		b, err := mixed.CreateBucket([]byte("b"))
		if err != nil {
			return err
		}
		return b.Put([]byte("inner"), []byte("value"))
	})
	if err != nil {
		t.Fatal(err)
	}
	ps := int64(db.Info().PageSize)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	walk := func(path string) (problems []string, read, size int64) {
		t.Helper()
		tx := readTx(t, path)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		c := &countingReader{r: f}
		pp, err := checkPages(c, tx)
		if err != nil {
			t.Fatal(err)
		}
		return pp, c.n, tx.Size()
	}
	pp, read, size := walk(path)
	if len(pp) != 0 {
		t.Fatalf("sound file: %v", pp)
	}
	t.Logf("the walk read %d bytes of %d", read, size)
	if read > size/8 {
		t.Errorf("the walk read %d bytes of a %d-byte file of large values", read, size)
	}

	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := strings.Index(string(orig), "innervalue") // b's inline page: header, element, key, value
	if at < 0 {
		t.Fatal("the inline bucket is not in the file")
	}
	if pg := int64(at) / ps * ps; binary.LittleEndian.Uint64(orig[pg:]) == uint64(pg/ps) {
		t.Fatalf("the inline bucket is in page %d, not in an overflow page", pg/ps)
	}
	bad := append([]byte(nil), orig...)
	bad[at-elementSize-pageHeaderSize+8] ^= 0x20 // the inline page's flags: no longer a leaf
	p := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(p, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if pp, _, _ := walk(p); !strings.Contains(strings.Join(pp, "\n"), "inline bucket") {
		t.Errorf("problems %q, want one naming the inline bucket in an overflow page", pp)
	}
}

// TestCycleFinder: a branch page whose child is the page itself, or its
// parent, is a cycle; a sound file has none, and damage that is no cycle
// is left to CheckPages.
func TestCycleFinder(t *testing.T) {
	path, root, ps := pagesFixture(t)
	var sound CycleFinder
	defer func() { _ = sound.Close() }()
	for _, name := range []string{"big", "small", "big", "none"} { // the walker's memory reused
		if cc, err := sound.Find(readTx(t, path), []byte(name)); err != nil || len(cc) != 0 {
			t.Fatalf("a sound file, bucket %s: %v %v", name, cc, err)
		}
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if orig[int64(root)*ps+8] != branchPageFlag {
		t.Fatalf("big's root %d is not a branch page", root)
	}
	for name, c := range map[string]struct {
		elem  int64
		child uint64
		cycle bool
	}{
		"first child is itself":  {0, root, true},
		"second child is itself": {1, root, true},
		"child out of the file":  {1, 1 << 40, false},
	} {
		b := append([]byte(nil), orig...)
		binary.LittleEndian.PutUint64(b[int64(root)*ps+pageHeaderSize+c.elem*elementSize+8:], c.child)
		bad := filepath.Join(t.TempDir(), "bad.db")
		if err := os.WriteFile(bad, b, 0o600); err != nil {
			t.Fatal(err)
		}
		var f CycleFinder
		for range 2 { // the second time from the memory of the first
			cc, err := f.Find(readTx(t, bad), []byte("big"))
			if err != nil || (len(cc) > 0) != c.cycle {
				t.Errorf("%s: cycles %q (%v), want a cycle: %v", name, cc, err, c.cycle)
			}
		}
		if cc, err := f.Find(readTx(t, bad), []byte("small")); err != nil || len(cc) != 0 {
			t.Errorf("%s: bucket small: cycles %q (%v), want none", name, cc, err)
		}
		_ = f.Close()
	}
}

// TestCheckPages_rootCountZeroed: one flipped bit made the element count
// of a bucket's only page 0, and bbolt read the bucket as empty (the
// settings vanished) while CheckPages, check and every backup said
// nothing (round 6, damage6 #5): an empty page holds zeros past its
// header, so an element there means a damaged count. Salvage reads the
// elements the first one's offset says.
func TestCheckPages_rootCountZeroed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var root uint64
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("big")) // salvageBytes reads "big"
		if err != nil {
			return err
		}
		for i := 0; i < 5; i++ { // over a quarter page: not inline
			if err := b.Put([]byte(fmt.Sprintf("k%d", i)), []byte(strings.Repeat("v", 300))); err != nil {
				return err
			}
		}
		empty, err := tx.CreateBucket([]byte("emptied"))
		if err != nil {
			return err
		}
		for i := 0; i < 5; i++ {
			if err := empty.Put([]byte(fmt.Sprintf("k%d", i)), []byte(strings.Repeat("v", 300))); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil { // a bucket emptied since (bbolt keeps it inline again)
		err = db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("emptied"))
			for i := 0; i < 5; i++ {
				if err := b.Delete([]byte(fmt.Sprintf("k%d", i))); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = db.View(func(tx *bolt.Tx) error {
		root = uint64(tx.Bucket([]byte("big")).Root())
		return nil
	})
	ps := int64(db.Info().PageSize)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if pp := checkPagesOf(t, path); len(pp) != 0 {
		t.Fatalf("a sound file, an emptied bucket in it: %q", pp)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if root == 0 || b[int64(root)*ps+8] != leafPageFlag {
		t.Fatalf("big's root %d is not a leaf page", root)
	}
	b[int64(root)*ps+10], b[int64(root)*ps+11] = 0, 0
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if pp := checkPagesOf(t, bad); len(pp) != 1 || !strings.Contains(pp[0], "damaged count") {
		t.Errorf("count zeroed: %q, want the damaged count", pp)
	}
	if _, got := salvageBytes(t, b); len(got) != 5 {
		t.Errorf("salvage copied %d of 5 keys", len(got))
	}
}
