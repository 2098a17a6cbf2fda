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
	return checkPages(f, tx, names...)
}

// A CycleFinder looks for page cycles in one top-level bucket at a time
// of a bbolt file: a branch page that leads back to itself or to one of
// the pages above it, round which bbolt's cursors go until the stack
// overflows or the memory runs out (a crash no recover catches). A bucket
// is walked only down to its branch pages (of its leaves, only the first
// is read, to tell their depth: bbolt's trees are balanced). Other damage
// is not reported (CheckPages finds it): a read that meets it faults or
// errs, which a caller can recover from. A CycleFinder keeps the file open
// and its memory between calls, which a process makes as it first reads
// each bucket: a fresh process pays for every page of memory it touches
// first. Its zero value is ready to use; it is not safe for concurrent use.
type CycleFinder struct {
	f *os.File
	w *pageWalker
}

// Find returns the cycles below top-level bucket name of tx's file (none
// if tx has no such bucket). err is only for a file that cannot be read.
func (c *CycleFinder) Find(tx *bolt.Tx, name []byte) (cycles []string, err error) {
	b := tx.Bucket(name)           // ungated: the gate's own check
	if b == nil || b.Root() == 0 { // none, or inline: no page of its own
		return nil, nil
	}
	if c.f == nil {
		if c.f, err = os.Open(tx.DB().Path()); err != nil {
			return nil, fmt.Errorf("cairn: check pages: %w", err)
		}
	}
	ps := int64(tx.DB().Info().PageSize)
	hwm := uint64(tx.Size() / ps)
	w := c.w
	if w == nil || w.ps != ps {
		w = newPageWalker(c.f, ps, hwm)
		c.w = w
	} else {
		w.reset(hwm)
	}
	w.leafRefs = resetBits(w.leafRefs, len(w.seen))
	w.onPath = resetBits(w.onPath, len(w.seen))
	w.branches, w.leafDepth, w.fromBranch = true, 0, false
	w.tree(uint64(b.Root()), 0, false)
	return w.cycles, w.err
}

// Close closes the file c read.
func (c *CycleFinder) Close() error {
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f, c.w = nil, nil
	return err
}

// reset makes w a walker of hwm pages again, as newPageWalker makes one,
// keeping its memory.
func (w *pageWalker) reset(hwm uint64) {
	w.hwm = hwm
	w.seen = resetBits(w.seen, int(hwm/64+1))
	w.markSeen(0)
	w.markSeen(1)
	w.problems, w.more, w.cycles, w.err = w.problems[:0], 0, w.cycles[:0], nil
}

// resetBits returns a bitmap of n words, all zero, reusing b's memory.
func resetBits(b []uint64, n int) []uint64 {
	if cap(b) < n {
		return make([]uint64, n)
	}
	b = b[:n]
	clear(b)
	return b
}

// checkPages is CheckPages reading tx's file through f.
func checkPages(f io.ReaderAt, tx *bolt.Tx, names ...[]byte) (problems []string, err error) {
	ps := int64(tx.DB().Info().PageSize)
	w := newPageWalker(f, ps, uint64(tx.Size()/ps))
	if len(names) > 0 {
		w.only = map[string]bool{}
		for _, n := range names {
			w.only[string(n)] = true
		}
	}
	w.freelist(tx.ID())
	w.fromBranch = false
	w.tree(uint64(tx.Cursor().Bucket().Root()), 0, true)
	w.freedInUse()
	if w.more > 0 {
		w.problems = append(w.problems, fmt.Sprintf("and %d more page problems", w.more))
	}
	return w.problems, w.err
}

type pageWalker struct {
	f    io.ReaderAt
	ps   int64
	hwm  uint64          // pages in the transaction's view of the file
	seen []uint64        // a bit per page id: reached by the walk (0 and 1 are the meta pages)
	free []uint64        // the ids the freelist page lists, sorted
	bufs [][]byte        // one page buffer per depth of the walk
	only map[string]bool // nil: every top-level bucket
	// branches makes the walk branch-only (CycleFinder), and leafRefs
	// has a bit per leaf it did not read.
	branches bool
	leafRefs []uint64
	onPath   []uint64 // a bit per page of the current descent (CycleFinder)
	cycles   []string
	// leafDepth is the depth of the leaves of the bucket a branch-only
	// walk is in, once its first leaf was read (0 before): bbolt's trees
	// are balanced, so the branches one level up lead to leaves only.
	leafDepth int
	// fromBranch: the page tree reads next was reached from a branch
	// page (not a bucket's root), so it cannot be empty.
	fromBranch bool
	problems   []string
	more       int
	err        error
}

// newPageWalker returns a walker of the hwm pages of size ps in f.
func newPageWalker(f io.ReaderAt, ps int64, hwm uint64) *pageWalker {
	w := &pageWalker{f: f, ps: ps, hwm: hwm, seen: make([]uint64, hwm/64+1)}
	w.markSeen(0)
	w.markSeen(1)
	return w
}

func (w *pageWalker) problem(format string, args ...any) {
	if len(w.problems) < maxPageProblems {
		w.problems = append(w.problems, fmt.Sprintf(format, args...))
	} else {
		w.more++
	}
}

// read returns the first page of page id (in the buffer of depth: a page
// is in use only until the walk returns from its depth) and the bytes it
// spans with its overflow pages, or nil after noting why it cannot be
// used. The overflow pages are read only as far as grow is asked to: a
// leaf's large values are bounds-checked, not read.
func (w *pageWalker) read(id uint64, from string, depth int) ([]byte, int64) {
	if id < 2 {
		w.problem("page %d (from %s): a meta page, not one a tree can hold", id, from)
		return nil, 0
	}
	if id >= w.hwm {
		w.problem("page %d (from %s): out of the file's %d pages", id, from, w.hwm)
		return nil, 0
	}
	if w.isSeen(id) {
		w.problem("page %d (from %s): referenced twice", id, from)
		if w.onPath != nil && w.onPath[id/64]&(1<<(id%64)) != 0 {
			w.cycles = append(w.cycles, fmt.Sprintf("page %d: a branch below it leads back to it (a cycle)", id))
		}
		return nil, 0
	}
	for len(w.bufs) <= depth {
		w.bufs = append(w.bufs, make([]byte, w.ps))
	}
	buf := w.bufs[depth][:w.ps]
	if !w.readAt(buf, id, 0) {
		return nil, 0
	}
	overflow := uint64(binary.LittleEndian.Uint32(buf[12:]))
	if got := binary.LittleEndian.Uint64(buf); got != id {
		w.problem("page %d (from %s): its header says page %d", id, from, got)
		return nil, 0
	}
	if overflow >= w.hwm-id {
		w.problem("page %d (from %s): %d overflow pages run past the file's %d pages", id, from, overflow, w.hwm)
		return nil, 0
	}
	for i := id; i <= id+overflow; i++ {
		if w.isSeen(i) {
			w.problem("page %d (from %s): overlaps page %d, which is referenced elsewhere", id, from, i)
			return nil, 0
		}
	}
	for i := id; i <= id+overflow; i++ {
		w.markSeen(i)
	}
	return buf, int64(overflow+1) * w.ps
}

// grow returns p, page id's bytes read so far into depth's buffer, with at
// least its first n bytes (n at most what read said it spans), reading
// whole overflow pages as needed; nil after noting why it cannot.
func (w *pageWalker) grow(p []byte, id uint64, depth int, n int64) []byte {
	have := int64(len(p))
	if n <= have {
		return p
	}
	n = (n + w.ps - 1) / w.ps * w.ps
	if int64(cap(w.bufs[depth])) < n {
		grown := make([]byte, n)
		copy(grown, p)
		w.bufs[depth] = grown
	}
	buf := w.bufs[depth][:n]
	if !w.readAt(buf[have:], id, have) {
		return nil
	}
	return buf
}

// readAt reads b from page id's bytes at off.
func (w *pageWalker) readAt(b []byte, id uint64, off int64) bool {
	if _, err := w.f.ReadAt(b, int64(id)*w.ps+off); err != nil {
		if errors.Is(err, io.EOF) {
			w.problem("page %d: past the end of the file", id)
		} else if w.err == nil {
			w.err = fmt.Errorf("cairn: check pages: %w", err)
		}
		return false
	}
	return true
}

// leafRef records page id, which branch page from leads to as a leaf a
// branch-only walk does not read: inside the file, not a page above it,
// and led to once.
func (w *pageWalker) leafRef(id, from uint64) {
	switch {
	case id < 2:
		w.problem("page %d (from branch page %d): a meta page, not one a tree can hold", id, from)
	case id >= w.hwm:
		w.problem("page %d (from branch page %d): out of the file's %d pages", id, from, w.hwm)
	case w.onPath[id/64]&(1<<(id%64)) != 0:
		w.problem("page %d (from branch page %d): referenced twice", id, from)
		w.cycles = append(w.cycles, fmt.Sprintf("page %d: branch page %d below it leads back to it (a cycle)", id, from))
	case w.leafRefs[id/64]&(1<<(id%64)) != 0:
		w.problem("page %d (from branch page %d): referenced twice", id, from)
	default:
		w.leafRefs[id/64] |= 1 << (id % 64)
	}
}

func (w *pageWalker) isSeen(id uint64) bool {
	return id < uint64(len(w.seen))*64 && w.seen[id/64]&(1<<(id%64)) != 0
}

// unmarkSeen forgets page id and its overflow pages (size bytes in all),
// read but not used by this walk: another tree may lead to it.
func (w *pageWalker) unmarkSeen(id uint64, size int64) {
	for i := id; i < id+uint64((size+w.ps-1)/w.ps) && i < w.hwm; i++ {
		w.seen[i/64] &^= 1 << (i % 64)
	}
}

// markSeen records page id, which read has checked is inside the file.
func (w *pageWalker) markSeen(id uint64) {
	w.seen[id/64] |= 1 << (id % 64)
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
	p, size := w.read(root, "a bucket or branch", depth)
	if p == nil {
		return nil
	}
	if w.onPath != nil {
		w.onPath[root/64] |= 1 << (root % 64)
		defer func() { w.onPath[root/64] &^= 1 << (root % 64) }()
	}
	flags := binary.LittleEndian.Uint16(p[8:])
	count := int64(binary.LittleEndian.Uint16(p[10:]))
	if (flags == branchPageFlag || flags == leafPageFlag) && count != 0xFFFF {
		// A damaged count hides elements (bbolt reads as many as it
		// says), or invents some: bbolt writes the first element's data
		// right after the last element, so the first element's offset
		// tells the count. A page reached from a branch is never empty;
		// an empty one (a bucket's root) holds zeros past its header
		// (bbolt zeroes its page buffers), so that an element there
		// means a count damaged to 0: the bucket's keys, hidden.
		if n, ok := impliedCount(p, size); ok && n != count {
			w.problem("page %d: its element count is %d, but its first element says %d (a damaged count)", root, count, n)
			return nil
		}
		if count == 0 && w.fromBranch {
			w.problem("page %d: no elements, where a branch leads", root)
			return nil
		}
	}
	// bbolt tells page types by equality (a leaf is exactly the leaf
	// flag); anything else would be taken for a branch by a cursor.
	switch flags {
	case branchPageFlag:
		if count == 0 || pageHeaderSize+count*elementSize > size {
			w.problem("branch page %d: %d elements do not fit", root, count)
			return nil
		}
		if p = w.grow(p, root, depth, pageHeaderSize+count*elementSize); p == nil {
			return nil
		}
		need := int64(0)
		for i := int64(0); i < count; i++ {
			e := p[pageHeaderSize+i*elementSize:]
			pos, ksize := int64(binary.LittleEndian.Uint32(e)), int64(binary.LittleEndian.Uint32(e[4:]))
			end := pageHeaderSize + i*elementSize + pos + ksize
			if end > size {
				w.problem("branch page %d: key %d reaches past the page", root, i)
				return nil
			}
			need = max(need, end)
		}
		if p = w.grow(p, root, depth, need); p == nil {
			return nil
		}
		for i := int64(0); i < count; i++ {
			at := pageHeaderSize + i*elementSize
			e := p[at:]
			start := at + int64(binary.LittleEndian.Uint32(e))
			key := p[start : start+int64(binary.LittleEndian.Uint32(e[4:]))]
			child := binary.LittleEndian.Uint64(e[8:])
			if w.branches && depth+1 == w.leafDepth {
				w.leafRef(child, root)
				continue
			}
			w.fromBranch = true
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
		if w.branches && w.leafDepth == 0 {
			w.leafDepth = depth
		}
		if count > 0 && pageHeaderSize+elementSize <= size {
			e := p[pageHeaderSize:]
			start := int64(pageHeaderSize) + int64(binary.LittleEndian.Uint32(e[4:]))
			if n := int64(binary.LittleEndian.Uint32(e[8:])); start+n <= size {
				if first = w.span(p, root, start, n); first == nil {
					return nil
				}
				first = bytes.Clone(first)
			}
		}
		if !w.branches {
			w.leaf(p, size, root, depth, top)
		}
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

// leaf checks the elements of a leaf page (or an inline bucket's page,
// which p holds whole) spanning size bytes, and the buckets they hold. Of
// its overflow pages it reads only the buckets' keys and headers, never
// its values.
func (w *pageWalker) leaf(p []byte, size int64, id uint64, depth int, top bool) {
	count := int64(binary.LittleEndian.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > size {
		w.problem("leaf page %d: %d elements do not fit", id, count)
		return
	}
	if p = w.grow(p, id, depth, pageHeaderSize+count*elementSize); p == nil {
		return
	}
	for i := int64(0); i < count; i++ {
		at := pageHeaderSize + i*elementSize
		e := p[at:]
		start := at + int64(binary.LittleEndian.Uint32(e[4:]))
		ksize := int64(binary.LittleEndian.Uint32(e[8:]))
		vsize := int64(binary.LittleEndian.Uint32(e[12:]))
		if start+ksize+vsize > size {
			w.problem("leaf page %d: element %d reaches past the page", id, i)
			return
		}
	}
	for i := int64(0); i < count; i++ {
		at := pageHeaderSize + i*elementSize
		e := p[at:]
		flags := binary.LittleEndian.Uint32(e)
		if flags&bucketLeafFlag == 0 {
			continue
		}
		start := at + int64(binary.LittleEndian.Uint32(e[4:]))
		ksize := int64(binary.LittleEndian.Uint32(e[8:]))
		vsize := int64(binary.LittleEndian.Uint32(e[12:]))
		kv := w.span(p, id, start, ksize+vsize)
		if kv == nil {
			return
		}
		if top && w.only != nil && !w.only[string(kv[:ksize])] {
			continue
		}
		v := kv[ksize:]
		if len(v) < bucketHeaderSize {
			w.problem("leaf page %d: bucket %d has a %d-byte header", id, i, len(v))
			continue
		}
		if root := binary.LittleEndian.Uint64(v); root != 0 {
			w.fromBranch = false
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
		w.leaf(inline, int64(len(inline)), id, depth+1, false)
	}
}

// span returns n bytes of page id from off (inside the page and its
// overflow pages): from p when it holds them, else read on their own
// (never into the walk's buffers, so they outlive the descent below).
func (w *pageWalker) span(p []byte, id uint64, off, n int64) []byte {
	if off+n <= int64(len(p)) {
		return p[off : off+n]
	}
	b := make([]byte, n)
	if !w.readAt(b, id, off) {
		return nil
	}
	return b
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
		w.loadFreelist(binary.LittleEndian.Uint64(m[metaFreelistOff:]))
		return
	}
}

// loadFreelist reads the freelist page id into w.free, noting what is
// wrong with it.
func (w *pageWalker) loadFreelist(id uint64) {
	if id == noFreelist {
		return
	}
	p, size := w.read(id, "the meta page", 0)
	if p == nil {
		return
	}
	if p = w.grow(p, id, 0, size); p == nil {
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
			where := fmt.Sprintf("outside the file's %d pages", w.hwm)
			if f < 2 {
				where = "a meta page"
			}
			w.problem("freelist page %d: lists page %d, %s%s", id, f, where, WriteHazard)
			w.free = nil
			return
		}
		w.free[i] = f
	}
	if !slices.IsSorted(w.free) { // bbolt writes them sorted
		slices.Sort(w.free)
	}
}

// WriteHazard ends the problems CheckPages finds in the freelist alone:
// they make bbolt's next commit write over a page in use, or past the
// file, but no read goes wrong.
const WriteHazard = " (the next write would use it)"

// freedInUse notes every page the walk reached that the freelist lists as
// free: bbolt's next commit may write over it.
func (w *pageWalker) freedInUse() {
	for i, id := range w.free { // sorted
		if w.isSeen(id) && (i == 0 || w.free[i-1] != id) {
			w.problem("page %d: in use, but the freelist lists it as free%s", id, WriteHazard)
		}
	}
}

// impliedCount returns the element count the first element of the branch
// or leaf page p (spanning size bytes) implies: bbolt writes the elements,
// then their keys and values in order, so the first element's data starts
// right after the last element, at an offset of count*16 from it. ok is
// false when the first element's offset cannot be such a count.
func impliedCount(p []byte, size int64) (n int64, ok bool) {
	if len(p) < pageHeaderSize+elementSize {
		return 0, false
	}
	pos := int64(binary.LittleEndian.Uint32(p[pageHeaderSize:]))
	if binary.LittleEndian.Uint16(p[8:]) == leafPageFlag {
		pos = int64(binary.LittleEndian.Uint32(p[pageHeaderSize+4:]))
	}
	if pos == 0 || pos%elementSize != 0 || pageHeaderSize+pos > size || pos/elementSize > 0xFFFE {
		return 0, false
	}
	return pos / elementSize, true
}

// FreedInUse returns the pages the freelist of tx's file lists as free
// although a tree of the file leads to them: a bucket's root or branch
// page, or a leaf a branch page leads to. bbolt's next commit may write
// over such a page, destroying what it holds, in any bucket. Only branch
// pages are read (and the root bucket's pages, which name the top-level
// buckets), as CycleFinder does: milliseconds where CheckPages, which
// also finds a leaf's overflow pages listed as free, reads every page.
// tx must be a read-only transaction or a writable one that has
// written nothing yet. err is only for a file that cannot be read.
func FreedInUse(tx *bolt.Tx) (problems []string, err error) {
	f, err := os.Open(tx.DB().Path())
	if err != nil {
		return nil, fmt.Errorf("cairn: check pages: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	ps := int64(tx.DB().Info().PageSize)
	w := newPageWalker(f, ps, uint64(tx.Size()/ps))
	id := tx.ID()
	if tx.Writable() {
		id-- // the freelist its commit will change is the last commit's
	}
	w.freelist(id)
	if len(w.free) == 0 {
		return w.problems, w.err
	}
	w.only = map[string]bool{} // the root bucket's own pages
	w.tree(uint64(tx.Cursor().Bucket().Root()), 0, true)
	w.only = nil
	w.leafRefs = resetBits(w.leafRefs, len(w.seen))
	w.onPath = resetBits(w.onPath, len(w.seen))
	err = tx.ForEach(func(name []byte, b *bolt.Bucket) error { // ungated: the gate's own check
		if b.Root() != 0 {
			w.branches, w.leafDepth, w.fromBranch = true, 0, false
			w.tree(uint64(b.Root()), 0, false)
		}
		return w.err
	})
	// Only what the freelist gets wrong: the walk's other findings are
	// each bucket's own (the page gate refuses that bucket, CheckPages
	// names them), and must not stop writes to the sound buckets.
	w.problems, w.more = w.problems[:0], 0
	for i, id := range w.free { // sorted
		led := id < uint64(len(w.leafRefs))*64 && w.leafRefs[id/64]&(1<<(id%64)) != 0
		if (w.isSeen(id) || led) && (i == 0 || w.free[i-1] != id) {
			w.problem("page %d: in use, but the freelist lists it as free%s", id, WriteHazard)
		}
	}
	return w.problems, errors.Join(err, w.err)
}
