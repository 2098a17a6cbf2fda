package snapshot

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
)

// MetaFix is the repair of a damaged meta page that, with one byte
// changed back, is sound again and holds the file's newest commit.
type MetaFix struct {
	Page   int    // the damaged meta page, 0 or 1
	Offset int64  // the byte's offset in the file
	Was    byte   // the byte as it reads
	Is     byte   // the byte that makes the page sound
	Txid   uint64 // the commit the repaired page holds
	Older  uint64 // the commit bbolt reads without the repair

	pageOff int64 // the damaged page's offset in the file
}

// String says what the fix repairs.
func (f *MetaFix) String() string {
	return fmt.Sprintf("meta page %d is damaged (byte %d reads %#02x, not %#02x): bbolt reads meta page %d (transaction %d) instead, so the newest commit (transaction %d) is not read", f.Page, f.Offset, f.Was, f.Is, 1-f.Page, f.Older, f.Txid)
}

// FindMetaFix looks at the bbolt file at path for a damaged meta page
// that holds the newest commit and is one byte away from sound.
//
// bbolt opens a file with one sound meta page silently from that page.
// When the damaged page is the newer one (bbolt writes commit t to meta
// page t%2, after every page of the commit is on disk), the last commit
// is not read, and the next commit overwrites the damaged page: an
// acknowledged write is then lost for good. A page damaged by one changed
// byte (a flipped bit at rest) is found by trying every value of every
// byte of the meta: exactly one must give a page whose checksum, magic,
// version and page size hold, whose transaction is the sound page's next
// and is due on this page, and whose pages fit in the file. A page
// half written by an interrupted commit is never one byte away from
// sound (its checksum would have to collide), and was never acknowledged.
//
// It returns nil when there is nothing to repair this way: both pages
// sound, neither, the damaged one the older, or no single fix.
func FindMetaFix(path string) (*MetaFix, error) {
	mp, err := readMetaPair(path)
	if err != nil || mp == nil {
		return nil, err
	}
	le := binary.LittleEndian
	good, bad, badPage, ps, size := mp.good, mp.bad, mp.badPage, mp.pageSize, mp.size
	if badPage == 0 && int64(le.Uint32(good[metaPageSizeOff:])) != ps {
		return nil, nil // meta page 1 found at a size it does not name
	}
	want := le.Uint64(good[metaTxidOff:]) + 1
	if int(want%2) != badPage {
		return nil, nil // the damaged page holds the older commit
	}
	pages := uint64(size / ps)
	sound := func(c []byte) bool {
		if metaProblem(c) != "" || le.Uint64(c[metaTxidOff:]) != want || int64(le.Uint32(c[metaPageSizeOff:])) != ps {
			return false
		}
		hwm := le.Uint64(c[metaPgidOff:])
		root := le.Uint64(c[metaOff+16:])
		fl := le.Uint64(c[metaFreelistOff:])
		return hwm >= 3 && hwm <= pages && root >= 2 && root < hwm && (fl == noFreelist || (fl >= 2 && fl < hwm))
	}
	var fix *MetaFix
	c := make([]byte, len(bad))
	copy(c, bad)
	for i := metaOff; i < metaBytesToCheck; i++ {
		was := c[i]
		for v := 0; v < 256; v++ {
			if byte(v) == was {
				continue
			}
			c[i] = byte(v)
			if sound(c) {
				if fix != nil {
					return nil, nil // more than one way back: none is sure
				}
				fix = &MetaFix{Page: badPage, Offset: int64(badPage)*ps + int64(i), Was: was, Is: byte(v), Txid: want, Older: want - 1, pageOff: int64(badPage) * ps}
			}
		}
		c[i] = was
	}
	return fix, nil
}

// ApplyMetaFix writes fix's byte into the bbolt file at path and syncs it,
// after reading the byte again: a file changed since FindMetaFix is left
// alone. Nothing may have the file open for writing meanwhile.
func ApplyMetaFix(path string, fix *MetaFix) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	var b [1]byte
	if _, err := f.ReadAt(b[:], fix.Offset); err != nil {
		_ = f.Close() // the read error is the one to report
		return err
	}
	if b[0] != fix.Was {
		_ = f.Close() // nothing written
		return fmt.Errorf("cairn: repair meta page %d: byte %d changed since it was read", fix.Page, fix.Offset)
	}
	b[0] = fix.Is
	return writeSynced(f, b[:], fix.Offset)
}

// writeSynced writes b at off into f, syncs and closes it.
func writeSynced(f *os.File, b []byte, off int64) error {
	if _, err := f.WriteAt(b, off); err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close() // the sync error is the one to report
		return err
	}
	return f.Close()
}

// MetaRebuild is a damaged meta page that holds the file's newest commit
// and more than one byte away from sound, whose root bucket, page count
// and transaction id still read: rebuilt from them, with the sound page's
// magic, version, page size and flags, and no freelist (bbolt then finds
// the free pages itself), it gives that commit back. Only a check of the
// whole file with the rebuilt page tells whether it does (see
// FindMetaRebuild).
type MetaRebuild struct {
	Page  int    // the damaged meta page, 0 or 1
	Txid  uint64 // the commit the rebuilt page holds
	Older uint64 // the commit bbolt reads without it
	Root  uint64 // the root page the rebuilt page names
	Why   string // what is wrong with the damaged page

	pageOff int64
	meta    []byte // the rebuilt page's first metaBytesToCheck bytes
}

// String says what the rebuild restores.
func (r *MetaRebuild) String() string {
	return fmt.Sprintf("meta page %d is damaged (%s): bbolt reads meta page %d (transaction %d) instead, so the newest commit (transaction %d, root page %d) is not read", r.Page, r.Why, 1-r.Page, r.Older, r.Txid, r.Root)
}

// FindMetaRebuild looks at the bbolt file at path for a damaged meta page
// that holds the newest commit (its transaction id is the sound page's
// next, and due on this page) and names a root page and a page count
// that fit the file and do not shrink it: a bit flip at rest elsewhere
// in the page (its checksum, its freelist id), or a commit whose meta
// page was torn by a crash after every other page of it was on disk
// (bbolt syncs them first). It returns nil when there is no such page.
// The caller checks the file with the rebuilt page (WriteMetaRebuild on
// a copy) before trusting it.
func FindMetaRebuild(path string) (*MetaRebuild, error) {
	mp, err := readMetaPair(path)
	if err != nil || mp == nil {
		return nil, err
	}
	le := binary.LittleEndian
	good, bad, badPage, ps := mp.good, mp.bad, mp.badPage, mp.pageSize
	if badPage == 0 && int64(le.Uint32(good[metaPageSizeOff:])) != ps {
		return nil, nil // meta page 1 found at a size it does not name
	}
	want := le.Uint64(good[metaTxidOff:]) + 1
	if int(want%2) != badPage || le.Uint64(bad[metaTxidOff:]) != want {
		return nil, nil // the damaged page holds the older commit, or no readable id
	}
	root, hwm := le.Uint64(bad[metaOff+16:]), le.Uint64(bad[metaPgidOff:])
	if hwm < le.Uint64(good[metaPgidOff:]) || hwm > uint64(mp.size/ps) || root < 2 || root >= hwm {
		return nil, nil
	}
	m := make([]byte, metaBytesToCheck)
	copy(m, good)
	le.PutUint64(m[0:], uint64(badPage))                       // the page header's id
	copy(m[metaOff+16:metaOff+32], bad[metaOff+16:metaOff+32]) // root bucket: root page and sequence
	le.PutUint64(m[metaFreelistOff:], noFreelist)
	le.PutUint64(m[metaPgidOff:], hwm)
	le.PutUint64(m[metaTxidOff:], want)
	h := fnv.New64a()
	_, _ = h.Write(m[metaOff:metaChecksumOff]) // hash.Hash never fails
	le.PutUint64(m[metaChecksumOff:], h.Sum64())
	return &MetaRebuild{Page: badPage, Txid: want, Older: want - 1, Root: root, Why: metaProblem(bad), pageOff: int64(badPage) * ps, meta: m}, nil
}

// WriteMetaRebuild writes r's page into the bbolt file at path (the file
// r was found in, or a copy of it) and syncs it.
func WriteMetaRebuild(path string, r *MetaRebuild) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return writeSynced(f, r.meta, r.pageOff)
}
