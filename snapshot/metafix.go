package snapshot

import (
	"encoding/binary"
	"fmt"
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
	if _, err := f.WriteAt(b[:], fix.Offset); err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close() // the sync error is the one to report
		return err
	}
	return f.Close()
}
