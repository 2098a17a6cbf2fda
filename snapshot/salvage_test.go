package snapshot

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestSalvage copies every key of a sound file, and of a file whose big
// bucket has a child page pointer past the end, every key all the same:
// the child it lost is found as a leaf that no tree reaches and the
// freelist does not list. Both pages are named.
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
	if len(r.Recovered) != 1 || !strings.Contains(r.Recovered[0], "cut off") {
		t.Errorf("report %+v, want the lost child found", r)
	}
	if big, small := count(dst); big != 2000 || small != 1 {
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
	r, big := salvageBytes(t, b)
	if len(r.Skipped) != 0 || !strings.Contains(r.Meta, "as it stands") {
		t.Errorf("report %+v, want no page skipped and the root read as it stands", r)
	}
	if len(big) != 2000 {
		t.Errorf("copied %d of 2000 keys of big", len(big))
	}

	for _, off := range []int64{0, ps} {
		binary.LittleEndian.PutUint64(b[off+rootOff:], 1) // a meta page, not a tree's
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Salvage(bad, filepath.Join(t.TempDir(), "copy.db")); err == nil || !strings.Contains(err.Error(), "root of the page tree is lost") {
		t.Errorf("no root that reads: %v", err)
	}
}

// TestSalvage_orphans: with the big bucket's root page zeroed, every leaf
// under it is found and copied, with the values of the newest commit (the
// older copies of rewritten pages are on the freelist); with a leaf page
// zeroed as well, its keys alone are lost; with the freelist page zeroed,
// no leaf is looked for, and the report says why.
func TestSalvage_orphans(t *testing.T) {
	path, root, ps := pagesFixture(t)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var leaf uint64
	err = db.Update(func(tx *bolt.Tx) error {
		big := tx.Bucket([]byte("big"))
		for i := 0; i < 2000; i += 100 { // every leaf rewritten, the old ones freed
			if err := big.Put([]byte(fmt.Sprintf("key-%05d", i)), []byte("new")); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = db.View(func(tx *bolt.Tx) error {
			root = uint64(tx.Bucket([]byte("big")).Root())
			return nil
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The leaf holding key-01000: the page whose first element's key it is
	// or whose keys run past it, found from the root's elements.
	for i := 0; ; i++ {
		e := int64(root)*ps + pageHeaderSize + int64(i)*elementSize
		k := e + int64(binary.LittleEndian.Uint32(orig[e:]))
		key := string(orig[k : k+int64(binary.LittleEndian.Uint32(orig[e+4:]))])
		if key > "key-01000" {
			break
		}
		leaf = binary.LittleEndian.Uint64(orig[e+8:])
	}
	salvage := func(t *testing.T, damage func(b []byte)) (SalvageReport, map[string]string) {
		t.Helper()
		b := append([]byte(nil), orig...)
		damage(b)
		return salvageBytes(t, b)
	}
	zero := func(id uint64) func(b []byte) {
		return func(b []byte) { clear(b[int64(id)*ps : int64(id+1)*ps]) }
	}
	want := func(i int) string {
		if i%100 == 0 {
			return "new"
		}
		return strings.Repeat("v", 40)
	}

	r, got := salvage(t, zero(root))
	if len(got) != 2000 || len(r.Recovered) == 0 {
		t.Fatalf("root zeroed: copied %d of 2000 keys; report %+v", len(got), r)
	}
	for i := 0; i < 2000; i++ {
		if k := fmt.Sprintf("key-%05d", i); got[k] != want(i) {
			t.Fatalf("root zeroed: %s = %q, want %q", k, got[k], want(i))
		}
	}

	r, got = salvage(t, func(b []byte) { zero(root)(b); zero(leaf)(b) })
	if _, ok := got["key-01000"]; ok || len(got) < 1900 || len(got) >= 2000 {
		t.Errorf("root and a leaf zeroed: copied %d keys (key-01000 among them: %v); report %+v", len(got), ok, r)
	}

	var freelist uint64
	for _, off := range []int64{0, ps} { // the newer meta page's freelist
		if binary.LittleEndian.Uint64(orig[off+metaTxidOff:]) > binary.LittleEndian.Uint64(orig[ps-off+metaTxidOff:]) {
			freelist = binary.LittleEndian.Uint64(orig[off+metaFreelistOff:])
		}
	}
	r, got = salvage(t, func(b []byte) { zero(root)(b); zero(freelist)(b) })
	if len(got) != 0 || !strings.Contains(strings.Join(r.Skipped, "\n"), "not looked for") {
		t.Errorf("root and freelist zeroed: copied %d keys; report %+v", len(got), r)
	}
}

// salvageBytes salvages a file holding b and returns the report and what
// the copy's bucket "big" holds.
func salvageBytes(t *testing.T, b []byte) (SalvageReport, map[string]string) {
	t.Helper()
	r, out := salvageCopy(t, b)
	got := map[string]string{}
	_ = out.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte("big")); bk != nil {
			return bk.ForEach(func(k, v []byte) error {
				got[string(k)] = string(v)
				return nil
			})
		}
		return nil
	})
	return r, got
}

// salvageCopy salvages a file holding b and returns the report and the
// copy, opened read-only until the test ends.
func salvageCopy(t *testing.T, b []byte) (SalvageReport, *bolt.DB) {
	t.Helper()
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	r, err := Salvage(bad, dst)
	if err != nil {
		t.Fatal(err)
	}
	out, err := bolt.Open(dst, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	return r, out
}

// TestSalvage_damagedCount: a leaf page whose element count was zeroed
// (or changed) hid its elements from bbolt; CheckPages names it, and
// Salvage reads as many elements as the first one's offset says.
func TestSalvage_damagedCount(t *testing.T) {
	path, root, ps := pagesFixture(t)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	leaf := binary.LittleEndian.Uint64(orig[int64(root)*ps+pageHeaderSize+8:]) // the root's first child
	for _, count := range []uint16{0, 3} {
		b := append([]byte(nil), orig...)
		binary.LittleEndian.PutUint16(b[int64(leaf)*ps+10:], count)
		bad := filepath.Join(t.TempDir(), "bad.db")
		if err := os.WriteFile(bad, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if pp := checkPagesOf(t, bad); !strings.Contains(strings.Join(pp, "\n"), "a damaged count") {
			t.Errorf("count %d: CheckPages %q, want the damaged count", count, pp)
		}
		r, big := salvageBytes(t, b)
		if len(big) != 2000 || !strings.Contains(strings.Join(r.Recovered, "\n"), "read as") {
			t.Errorf("count %d: copied %d of 2000 keys; report %+v", count, len(big), r)
		}
	}
}

// TestSalvage_newestMetaDamaged: the meta page of the newest commit
// damaged beyond a one-byte repair (bbolt reads the commit before it):
// salvage reads the newest commit from the root page it names.
func TestSalvage_newestMetaDamaged(t *testing.T) {
	b, ps := twoCommits(t, 0)
	newest := int64(0)
	if binary.LittleEndian.Uint64(b[ps+metaTxidOff:]) > binary.LittleEndian.Uint64(b[metaTxidOff:]) {
		newest = ps
	}
	copy(b[newest+metaChecksumOff:], "damaged!")
	r, big := salvageBytes(t, b)
	if _, ok := big["key-newest"]; !ok || !strings.Contains(r.Meta, "the newest") {
		t.Errorf("copied %v; report %+v", big, r)
	}
}

// TestSalvage_rootBranchMisled: one flipped bit in a child pointer of the
// root bucket's branch page made it lead to a leaf of another bucket, and
// salvage copied nothing of the buckets the lost root leaf named. The
// misled page is left to its own tree, and the root leaf cut off is found
// among the orphans: every bucket and key is copied.
func TestSalvage_rootBranchMisled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	const buckets = 400
	err = db.Update(func(tx *bolt.Tx) error {
		for i := 0; i < buckets; i++ {
			b, err := tx.CreateBucket([]byte(fmt.Sprintf("bucket-%03d", i)))
			if err != nil {
				return err
			}
			for j := 0; j < 40; j++ {
				if err := b.Put([]byte(fmt.Sprintf("key-%03d", j)), []byte(strings.Repeat("v", 100))); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var root, other uint64
	_ = db.View(func(tx *bolt.Tx) error {
		root = uint64(tx.Cursor().Bucket().Root())
		other = uint64(tx.Bucket([]byte("bucket-399")).Root())
		return nil
	})
	ps := int64(db.Info().PageSize)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b[int64(root)*ps+8] != branchPageFlag {
		t.Fatalf("the root bucket's page %d is not a branch page", root)
	}
	binary.LittleEndian.PutUint64(b[int64(root)*ps+pageHeaderSize+8:], other) // element 0 leads to bucket-399's leaf
	r, out := salvageCopy(t, b)
	n, keys := 0, 0
	_ = out.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			n++
			keys += bk.Stats().KeyN
			return nil
		})
	})
	if n != buckets || keys != buckets*40 || len(r.Recovered) == 0 {
		t.Errorf("copied %d of %d buckets, %d of %d keys; report %+v", n, buckets, keys, buckets*40, r)
	}
}

// TestSalvage_branchKeyDamaged: a flipped bit in a branch element's key
// (not its pointer) leads to the right page under a wrong key. No other
// tree reaches that page, so it is copied where its branch says; a
// damaged pointer leads to a page another tree reaches, which is left to
// that tree (TestSalvage_rootBranchMisled).
func TestSalvage_branchKeyDamaged(t *testing.T) {
	path, root, ps := pagesFixture(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e := int64(root)*ps + pageHeaderSize + elementSize // element 1
	k := e + int64(binary.LittleEndian.Uint32(b[e:]))
	b[k] ^= 0x80 // past every key: no orphan range would take the page
	r, got := salvageBytes(t, b)
	if len(got) != 2000 || len(r.Recovered) == 0 {
		t.Errorf("copied %d of 2000 keys; report %+v", len(got), r)
	}
}

// TestSalvage_cutShortPastTheNewestRoot: a file cut short past the root
// page of its newest commit (a copy, or a disk, that lost its tail) gave
// an export with nothing in it (round 7, damage7 #7). The commit before,
// whose root page is still inside the file, is read instead, and the
// report says what is missing.
func TestSalvage_cutShortPastTheNewestRoot(t *testing.T) {
	b, ps := twoCommits(t, 400) // a hundred pages: more than the freelist holds, so that the newest commit's pages, its root page last, go to the file's end
	newest, older := int64(0), ps
	if binary.LittleEndian.Uint64(b[ps+metaTxidOff:]) > binary.LittleEndian.Uint64(b[metaTxidOff:]) {
		newest, older = ps, 0
	}
	root := int64(binary.LittleEndian.Uint64(b[newest+rootOff:]))
	if oroot := int64(binary.LittleEndian.Uint64(b[older+rootOff:])); oroot >= root {
		t.Fatalf("the older commit's root page %d is not below the newest's %d", oroot, root)
	}
	r, big := salvageBytes(t, b[:root*ps])
	if _, ok := big["key-first"]; !ok || !strings.Contains(r.Meta, "cut short") {
		t.Errorf("copied %v; report %+v", big, r)
	}
}

// twoCommits returns the bytes and page size of a bbolt file of two
// commits to bucket "big": key-first, then more keys of 1,000 bytes and
// key-newest.
func twoCommits(t *testing.T, more int) ([]byte, int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range []string{"key-first", "key-newest"} {
		if err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("big"))
			if err != nil {
				return err
			}
			for j := range i * more {
				if err := b.Put(fmt.Appendf(nil, "more-%04d", j), make([]byte, 1000)); err != nil {
					return err
				}
			}
			return b.Put([]byte(k), []byte("v"))
		}); err != nil {
			t.Fatal(err)
		}
	}
	ps := int64(db.Info().PageSize)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b, ps
}
