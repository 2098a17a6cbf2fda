package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// bbolt's page layout (unchanged since format version 2): a 16-byte
// header (id, flags, count, overflow), then count elements of 16 bytes.
// A branch element is (pos, ksize, child page id), a leaf element (flags,
// pos, ksize, vsize); pos counts from the element itself. A leaf element
// with the bucket flag holds a bucket header (root page id, sequence),
// followed by an inline page when the root is 0.
const (
	pageHeaderSize   = 16
	elementSize      = 16
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	freelistPageFlag = 0x10
	bucketLeafFlag   = 0x01
	bucketHeaderSize = 16
	metaFreelistOff  = metaOff + 32
	metaTxidOff      = metaOff + 48
	noFreelist       = ^uint64(0)
	// maxTreeDepth bounds the descent: a B+tree of 2^64 keys is far
	// shallower; deeper means a cycle the seen set did not catch.
	maxTreeDepth = 64
	// maxPageProblems bounds the problems CheckPages lists.
	maxPageProblems = 20
)

// CheckPages walks the page graph of tx's view of its bbolt file, reading
// the file itself (never bbolt's memory map), and returns what is wrong:
// a page id outside the file, a page of the wrong type, an element or key
// or value that reaches past its page, a page referenced twice (a cycle),
// a damaged freelist page or one that lists a page in use (which the next
// write would overwrite), a branch element whose key is not its child
// page's first key (which bbolt's Check accepts, and the next write turns
// into a page referenced twice). When it returns nothing, bbolt's Check, its
// cursors and its freelist load read only memory inside the file, so none
// of them can fault; run it before them on a file that may be damaged.
// bbolt's Check runs in a goroutine of its own, where a fault cannot be
// recovered and kills the process.
//
// With names, only the root bucket's pages and the pages of the named
// top-level buckets are walked (a cheap check before reading just those).
//
// tx must be a read-only transaction: the pages it sees stay as they are
// while it is open. err is only for a file that cannot be read.
func CheckPages(tx *bolt.Tx, names ...[]byte) (problems []string, err error) {
	f, err := os.Open(tx.DB().Path())
	if err != nil {
		return nil, fmt.Errorf("cairn: check pages: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	ps := int64(tx.DB().Info().PageSize)
	w := &pageWalker{f: f, ps: ps, hwm: uint64(tx.Size() / ps), seen: map[uint64]bool{0: true, 1: true}}
	if len(names) > 0 {
		w.only = map[string]bool{}
		for _, n := range names {
			w.only[string(n)] = true
		}
	}
	w.freelist(tx.ID())
	w.tree(uint64(tx.Cursor().Bucket().Root()), 0, true)
	w.freedInUse()
	if w.more > 0 {
		w.problems = append(w.problems, fmt.Sprintf("and %d more page problems", w.more))
	}
	return w.problems, w.err
}

type pageWalker struct {
	f        io.ReaderAt
	ps       int64
	hwm      uint64 // pages in the transaction's view of the file
	seen     map[uint64]bool
	free     []uint64        // the ids the freelist page lists, sorted
	bufs     [][]byte        // one page buffer per depth of the walk
	only     map[string]bool // nil: every top-level bucket
	problems []string
	more     int
	err      error
}

func (w *pageWalker) problem(format string, args ...any) {
	if len(w.problems) < maxPageProblems {
		w.problems = append(w.problems, fmt.Sprintf(format, args...))
	} else {
		w.more++
	}
}

// read returns page id with its overflow pages, in the buffer of depth
// (a page is in use only until the walk returns from its depth), or nil
// after noting why it cannot be used.
func (w *pageWalker) read(id uint64, from string, depth int) []byte {
	if id < 2 || id >= w.hwm {
		w.problem("page %d (from %s): out of the file's %d pages", id, from, w.hwm)
		return nil
	}
	if w.seen[id] {
		w.problem("page %d (from %s): referenced twice", id, from)
		return nil
	}
	for len(w.bufs) <= depth {
		w.bufs = append(w.bufs, make([]byte, w.ps))
	}
	buf := w.bufs[depth][:w.ps]
	if !w.readAt(buf, id) {
		return nil
	}
	overflow := uint64(binary.LittleEndian.Uint32(buf[12:]))
	if got := binary.LittleEndian.Uint64(buf); got != id {
		w.problem("page %d (from %s): its header says page %d", id, from, got)
		return nil
	}
	if overflow >= w.hwm-id {
		w.problem("page %d (from %s): %d overflow pages run past the file's %d pages", id, from, overflow, w.hwm)
		return nil
	}
	for i := id; i <= id+overflow; i++ {
		if w.seen[i] {
			w.problem("page %d (from %s): overlaps page %d, which is referenced elsewhere", id, from, i)
			return nil
		}
	}
	for i := id; i <= id+overflow; i++ {
		w.seen[i] = true
	}
	if overflow > 0 {
		n := int64(overflow+1) * w.ps
		if int64(cap(w.bufs[depth])) < n {
			grown := make([]byte, n)
			copy(grown, buf)
			w.bufs[depth] = grown
		}
		buf = w.bufs[depth][:n]
		if !w.readAt(buf[w.ps:], id+1) {
			return nil
		}
	}
	return buf
}

func (w *pageWalker) readAt(b []byte, id uint64) bool {
	if _, err := w.f.ReadAt(b, int64(id)*w.ps); err != nil {
		if errors.Is(err, io.EOF) {
			w.problem("page %d: past the end of the file", id)
		} else if w.err == nil {
			w.err = fmt.Errorf("cairn: check pages: %w", err)
		}
		return false
	}
	return true
}

// tree checks the B+tree rooted at page root; top says it is the root
// bucket's, whose leaves hold the top-level buckets. It returns a copy of
// the first key of page root (nil if it has none or cannot be read), which
// the branch element that leads to it must equal: bbolt writes a branch
// element's key as its child's first key, and a write finds the element to
// update by that key, so one that differs (a flipped bit bbolt's Check
// accepts, as the child's keys still sort after it) makes the next commit
// insert a second element for the same child, a page then referenced twice.
func (w *pageWalker) tree(root uint64, depth int, top bool) (first []byte) {
	if depth > maxTreeDepth {
		w.problem("page %d: more than %d levels deep", root, maxTreeDepth)
		return nil
	}
	p := w.read(root, "a bucket or branch", depth)
	if p == nil {
		return nil
	}
	flags := binary.LittleEndian.Uint16(p[8:])
	count := int(binary.LittleEndian.Uint16(p[10:]))
	// bbolt tells page types by equality (a leaf is exactly the leaf
	// flag); anything else would be taken for a branch by a cursor.
	switch flags {
	case branchPageFlag:
		if count == 0 || pageHeaderSize+count*elementSize > len(p) {
			w.problem("branch page %d: %d elements do not fit", root, count)
			return nil
		}
		for i := 0; i < count; i++ {
			e := p[pageHeaderSize+i*elementSize:]
			pos, ksize := int64(binary.LittleEndian.Uint32(e)), int64(binary.LittleEndian.Uint32(e[4:]))
			if start := int64(pageHeaderSize+i*elementSize) + pos; start+ksize > int64(len(p)) {
				w.problem("branch page %d: key %d reaches past the page", root, i)
				return nil
			}
		}
		for i := 0; i < count; i++ {
			at := pageHeaderSize + i*elementSize
			e := p[at:]
			start := at + int(binary.LittleEndian.Uint32(e))
			key := p[start : start+int(binary.LittleEndian.Uint32(e[4:]))]
			child := binary.LittleEndian.Uint64(e[8:])
			got := w.tree(child, depth+1, top)
			if got != nil && !bytes.Equal(got, key) {
				w.problem("branch page %d: element %d has key %q, but its child page %d starts with %q", root, i, abbrev(key), child, abbrev(got))
			}
			if i == 0 {
				first = bytes.Clone(key)
			}
		}
		return first
	case leafPageFlag:
		if count > 0 && pageHeaderSize+elementSize <= len(p) {
			e := p[pageHeaderSize:]
			start := int64(pageHeaderSize) + int64(binary.LittleEndian.Uint32(e[4:]))
			if end := start + int64(binary.LittleEndian.Uint32(e[8:])); end <= int64(len(p)) {
				first = bytes.Clone(p[start:end])
			}
		}
		w.leaf(p, root, depth, top)
		return first
	default:
		w.problem("page %d: type %#x where a branch or leaf page belongs", root, flags)
		return nil
	}
}

// abbrev shortens a key for a problem line.
func abbrev(k []byte) []byte {
	if len(k) > 64 {
		return k[:64]
	}
	return k
}

// leaf checks the elements of a leaf page (or an inline bucket's page) and
// the buckets they hold.
func (w *pageWalker) leaf(p []byte, id uint64, depth int, top bool) {
	count := int(binary.LittleEndian.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > len(p) {
		w.problem("leaf page %d: %d elements do not fit", id, count)
		return
	}
	for i := 0; i < count; i++ {
		at := pageHeaderSize + i*elementSize
		e := p[at:]
		flags := binary.LittleEndian.Uint32(e)
		pos := int64(binary.LittleEndian.Uint32(e[4:]))
		ksize := int64(binary.LittleEndian.Uint32(e[8:]))
		vsize := int64(binary.LittleEndian.Uint32(e[12:]))
		start := int64(at) + pos
		if start+ksize+vsize > int64(len(p)) {
			w.problem("leaf page %d: element %d reaches past the page", id, i)
			return
		}
		if flags&bucketLeafFlag == 0 || (top && w.only != nil && !w.only[string(p[start:start+ksize])]) {
			continue
		}
		v := p[start+ksize : start+ksize+vsize]
		if len(v) < bucketHeaderSize {
			w.problem("leaf page %d: bucket %d has a %d-byte header", id, i, len(v))
			continue
		}
		if root := binary.LittleEndian.Uint64(v); root != 0 {
			w.tree(root, depth+1, false)
			continue
		}
		inline := v[bucketHeaderSize:]
		if len(inline) < pageHeaderSize || binary.LittleEndian.Uint16(inline[8:]) != leafPageFlag {
			w.problem("leaf page %d: inline bucket %d is not a leaf page", id, i)
			continue
		}
		if depth+1 > maxTreeDepth {
			w.problem("leaf page %d: more than %d levels deep", id, maxTreeDepth)
			return
		}
		w.leaf(inline, id, depth+1, false)
	}
}

// freelist checks the freelist page of the meta page whose transaction is
// txid (bbolt loads it at open, or in Check for a read-only file). A meta
// page rewritten since (the file is open for writing elsewhere) is
// skipped: its freelist was loaded when that file was opened.
func (w *pageWalker) freelist(txid int) {
	for _, off := range []int64{0, w.ps} {
		var m [metaBytesToCheck]byte
		if _, err := w.f.ReadAt(m[:], off); err != nil || metaProblem(m[:]) != "" {
			continue
		}
		if binary.LittleEndian.Uint64(m[metaTxidOff:]) != uint64(txid) {
			continue
		}
		id := binary.LittleEndian.Uint64(m[metaFreelistOff:])
		if id == noFreelist {
			return
		}
		p := w.read(id, "the meta page", 0)
		if p == nil {
			return
		}
		if binary.LittleEndian.Uint16(p[8:]) != freelistPageFlag {
			w.problem("page %d: the freelist page has type %#x", id, binary.LittleEndian.Uint16(p[8:]))
			return
		}
		n, at := uint64(binary.LittleEndian.Uint16(p[10:])), uint64(pageHeaderSize)
		if n == 0xFFFF { // the count overflowed into the first element
			if len(p) < pageHeaderSize+8 {
				w.problem("freelist page %d: no room for its count", id)
				return
			}
			n, at = binary.LittleEndian.Uint64(p[pageHeaderSize:]), at+8
		}
		if n > (uint64(len(p))-at)/8 {
			w.problem("freelist page %d: %d ids do not fit", id, n)
			return
		}
		w.free = make([]uint64, n)
		for i := range w.free {
			f := binary.LittleEndian.Uint64(p[at+8*uint64(i):])
			if f < 2 || f >= w.hwm {
				w.problem("freelist page %d: lists page %d, outside the file's %d pages%s", id, f, w.hwm, WriteHazard)
				w.free = nil
				return
			}
			w.free[i] = f
		}
		if !slices.IsSorted(w.free) { // bbolt writes them sorted
			slices.Sort(w.free)
		}
		return
	}
}

// WriteHazard ends the problems CheckPages finds in the freelist alone:
// they make bbolt's next commit write over a page in use, or past the
// file, but no read goes wrong.
const WriteHazard = " (the next write would use it)"

// freedInUse notes every page the walk reached that the freelist lists as
// free: bbolt's next commit may write over it.
func (w *pageWalker) freedInUse() {
	var ids []uint64
	for id := range w.seen {
		if _, free := slices.BinarySearch(w.free, id); free {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		w.problem("page %d: in use, but the freelist lists it as free%s", id, WriteHazard)
	}
}
