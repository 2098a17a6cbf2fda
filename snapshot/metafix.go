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
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	le := binary.LittleEndian
	read := func(off int64) []byte {
		b := make([]byte, metaBytesToCheck)
		if off+metaBytesToCheck > size {
			return nil
		}
		if _, err := f.ReadAt(b, off); err != nil {
			return nil
		}
		return b
	}
	m0 := read(0)
	if m0 == nil {
		return nil, nil
	}
	// The sound page gives the page size, and so where meta page 1 is.
	var good, bad []byte
	var badPage int
	var ps int64
	if metaProblem(m0) == "" {
		ps = int64(le.Uint32(m0[metaPageSizeOff:]))
		m1 := read(ps)
		if m1 == nil || metaProblem(m1) == "" {
			return nil, nil
		}
		good, bad, badPage = m0, m1, 1
	} else {
		for _, p := range []int64{4096, 16384, 65536} {
			if m1 := read(p); m1 != nil && metaProblem(m1) == "" && int64(le.Uint32(m1[metaPageSizeOff:])) == p {
				good, bad, badPage, ps = m1, m0, 0, p
				break
			}
		}
		if good == nil {
			return nil, nil
		}
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
