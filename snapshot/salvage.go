package snapshot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// rootOff is where a meta page holds the root bucket's root page id.
const rootOff = metaOff + 16

// Salvage copies what can still be read of the bbolt file at src into a
// new bbolt file at dst, reading src itself (never opening it with bbolt,
// which a damaged file can fault, loop or panic): from the newest sound
// meta page it walks the root bucket's page tree and every top-level
// bucket's, as CheckPages does, and puts each key and value of a leaf it
// can read into the bucket of the same name in dst. A page it cannot use
// (out of the file, or a truncated file, of the wrong type, referenced
// twice, elements past its end) is skipped with the subtree under it, and
// named in the report; nested buckets are not copied. What dst holds is
// what a bbolt reader would have found in the readable part of src; its
// values are copied as they are, for the caller to check.
//
// The leaves under a skipped page are then looked for (orphans): a leaf
// page neither reached nor on the freelist, whose keys fit the key range
// of the skipped pages of one bucket, is copied into it
// (SalvageReport.Recovered).
//
// With neither meta page sound, it reads from the root page a meta page
// names, as it stands (SalvageReport.Meta), when that page reads.
func Salvage(src, dst string) (report SalvageReport, err error) {
	f, err := os.Open(src)
	if err != nil {
		return SalvageReport{}, fmt.Errorf("cairn: salvage: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	fi, err := f.Stat()
	if err != nil {
		return SalvageReport{}, fmt.Errorf("cairn: salvage: %w", err)
	}
	meta, older := soundMetas(f)
	if meta != nil && older != nil {
		// A file cut short past the newest commit's root page (a copy
		// or a disk that lost its tail): that tree is gone, the commit
		// before it may still be whole inside the file.
		ps := int64(binary.LittleEndian.Uint32(meta[metaPageSizeOff:]))
		if root, oroot := binary.LittleEndian.Uint64(meta[rootOff:]), binary.LittleEndian.Uint64(older[rootOff:]); ps > 0 && root >= uint64(fi.Size()/ps) && oroot < uint64(fi.Size()/ps) {
			report.Meta = fmt.Sprintf("the root page (%d) of the newest commit, transaction %d, is past the end of the file (%d pages: the file was cut short); read from the commit before it, transaction %d, whose root page (%d) is inside it: what the newest commit changed is not in this export", root, txidOf(meta), fi.Size()/ps, txidOf(older), oroot)
			meta = older
		}
	}
	if meta != nil && report.Meta == "" {
		// A damaged meta page of the next transaction (bbolt reads the
		// sound one, a commit older) whose root page reads: its commit's
		// pages were written before it, so its tree is read instead.
		if newer, _ := plausibleMeta(f, fi.Size()); newer != nil && txidOf(newer) == txidOf(meta)+1 {
			meta = newer
			report.Meta = fmt.Sprintf("the meta page of transaction %d is damaged; its commit, the newest, was read from the root page it names (%d), as it stands", txidOf(newer), binary.LittleEndian.Uint64(newer[rootOff:]))
		}
	}
	if meta == nil {
		var why string
		if meta, why = plausibleMeta(f, fi.Size()); meta == nil {
			return SalvageReport{}, fmt.Errorf("cairn: salvage %s: no sound meta page, and neither names a root page that reads: %w", src, ErrNoRoot)
		}
		report.Meta = why
	}
	ps := int64(binary.LittleEndian.Uint32(meta[metaPageSizeOff:]))
	w := newPageWalker(f, ps, uint64(fi.Size()/ps))
	out, err := bolt.Open(dst, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		return SalvageReport{}, fmt.Errorf("cairn: salvage: %w", err)
	}
	s := &salvager{w: w}
	err = out.Update(func(tx *bolt.Tx) error {
		s.tx = tx
		s.tree(binary.LittleEndian.Uint64(meta[rootOff:]), 0, nil, nil, nil, nil)
		s.settle()
		if s.err == nil && len(s.gaps) > 0 {
			s.orphans(binary.LittleEndian.Uint64(meta[metaFreelistOff:]))
		}
		return s.err
	})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.err
	}
	if w.more > 0 {
		w.problems = append(w.problems, fmt.Sprintf("and %d more page problems", w.more))
	}
	report.Skipped = w.problems
	report.Recovered = s.recovered
	return report, err
}

// SalvageReport says what Salvage could not copy, and how it read.
type SalvageReport struct {
	// Skipped names each page skipped, with the subtree under it.
	Skipped []string
	// Meta, when set, says that neither meta page was sound, and which
	// one's root page was read as it stands.
	Meta string
	// Recovered names each leaf page under a skipped page that was found
	// all the same, and copied (see Salvage).
	Recovered []string
}

// soundMetas returns the first bytes of the newest sound meta page of f,
// or nil. Meta page 1 is one page in: at the page size meta page 0 says, or,
// when meta page 0 is damaged, at the first of the usual sizes where a
// sound meta page with that size is found.
//
// A damaged meta page one byte away from the newest commit (FindMetaFix)
// is read as repaired: its commit is the newest.
//
// soundMetas also returns the other meta page when it is sound too (the
// commit before), else nil.
func soundMetas(f *os.File) (newest, other []byte) {
	if fix, err := FindMetaFix(f.Name()); err == nil && fix != nil {
		m := make([]byte, metaBytesToCheck)
		if _, err := f.ReadAt(m, fix.pageOff); err == nil {
			m[fix.Offset-fix.pageOff] = fix.Is
			if metaProblem(m) == "" {
				return m, nil
			}
		}
	}
	read := func(off int64) []byte {
		m := make([]byte, metaBytesToCheck)
		if _, err := f.ReadAt(m, off); err != nil || metaProblem(m) != "" {
			return nil
		}
		return m
	}
	m0 := read(0)
	sizes := []int64{4096, 8192, 16384, 32768, 65536}
	if m0 != nil {
		sizes = []int64{int64(binary.LittleEndian.Uint32(m0[metaPageSizeOff:]))}
	}
	var m1 []byte
	for _, ps := range sizes {
		if m := read(ps); m != nil && int64(binary.LittleEndian.Uint32(m[metaPageSizeOff:])) == ps {
			m1 = m
			break
		}
	}
	switch {
	case m0 == nil:
		return m1, nil
	case m1 == nil:
		return m0, nil
	case binary.LittleEndian.Uint64(m1[metaTxidOff:]) > binary.LittleEndian.Uint64(m0[metaTxidOff:]):
		return m1, m0
	}
	return m0, m1
}

// plausibleMeta is the fallback of a file with no sound meta page (both
// damaged): the meta page, of the newer transaction when both qualify,
// whose root page id, at a page size it records or one of bbolt's usual
// sizes, is a page inside the file whose header names that id and the
// type of a branch or leaf page. A damaged byte elsewhere in a meta page
// (its checksum, its freelist id) leaves the root where it was. It
// returns the meta bytes with that page size, and a problem line saying
// which page was used as it stands.
func plausibleMeta(f *os.File, size int64) (meta []byte, why string) {
	var best []byte
	bestN := -1
	for n, off := range []int64{0, -1} {
		sizes := []int64{4096, 8192, 16384, 32768, 65536}
		for _, ps := range sizes {
			at := off
			if at < 0 {
				at = ps
			}
			m := make([]byte, metaBytesToCheck)
			if _, err := f.ReadAt(m, at); err != nil {
				continue
			}
			if rec := int64(binary.LittleEndian.Uint32(m[metaPageSizeOff:])); rec != ps && slices.Contains(sizes, rec) {
				continue // the page size it records is another one, and usual: try that one
			}
			root := binary.LittleEndian.Uint64(m[rootOff:])
			if root < 2 || root >= uint64(size/ps) {
				continue
			}
			var h [pageHeaderSize]byte
			if _, err := f.ReadAt(h[:], int64(root)*ps); err != nil {
				continue
			}
			flags := binary.LittleEndian.Uint16(h[8:])
			if binary.LittleEndian.Uint64(h[:]) != root || (flags != branchPageFlag && flags != leafPageFlag) {
				continue
			}
			binary.LittleEndian.PutUint32(m[metaPageSizeOff:], uint32(ps))
			if best == nil || binary.LittleEndian.Uint64(m[metaTxidOff:]) > binary.LittleEndian.Uint64(best[metaTxidOff:]) {
				best, bestN = m, n
			}
			break
		}
	}
	if best == nil {
		return nil, ""
	}
	return best, fmt.Sprintf("meta page %d: damaged, and so is the other; read from the root page it names (%d), as it stands", bestN, binary.LittleEndian.Uint64(best[rootOff:]))
}

type salvager struct {
	w    *pageWalker
	tx   *bolt.Tx
	err  error
	gaps []gap // the key ranges of the subtrees skipped
	// misled are the pages a branch led to whose first key is not the
	// branch's, and settling is true while settle walks them.
	misled   []misled
	settling bool
	// fromBranch: the page tree reads next was reached from a branch
	// page, so it cannot be empty.
	fromBranch bool
	recovered  []string // what orphans found, by gap
}

// gap is the key range [lo, hi) of a subtree of bucket's that was skipped
// (nil: unbounded), under the page that could not be used; bucket nil is
// the root bucket's, whose leaves name the top-level buckets.
type gap struct {
	bucket *bolt.Bucket
	name   []byte
	lo, hi []byte
	page   uint64
	leaves int // orphan leaves found in the range
	keys   int // and their keys
}

// tree copies the leaves of the tree rooted at page id: the root bucket's
// (bucket nil), whose leaves name the top-level buckets, or one of
// bucket's (named name), whose keys lie in [lo, hi). A page that cannot
// be used is a gap, whose leaves orphans may still find.
//
// A page reached from a branch whose first key is not lo, the branch
// element's key (bbolt writes it as its child's first key), is a page of
// another tree the damaged element leads to: it is skipped as a gap, and
// left for its own tree to copy, rather than copied into this one.
func (s *salvager) tree(id uint64, depth int, bucket *bolt.Bucket, name, lo, hi []byte) {
	if s.err != nil {
		return
	}
	skip := func() {
		gname := name
		if bucket == nil {
			gname = []byte("(the root bucket: the top-level buckets)")
		}
		s.gaps = append(s.gaps, gap{bucket: bucket, name: gname, lo: lo, hi: hi, page: id})
	}
	if depth > maxTreeDepth {
		s.w.problem("page %d: more than %d levels deep", id, maxTreeDepth)
		skip()
		return
	}
	p, size := s.w.read(id, "a bucket or branch", depth)
	if p == nil {
		skip()
		return
	}
	if p = s.w.grow(p, id, depth, size); p == nil {
		skip()
		return
	}
	count := int(binary.LittleEndian.Uint16(p[10:]))
	fromBranch := s.fromBranch
	if n, ok := impliedCount(p, size); ok && int64(count) != n && count != 0xFFFF {
		// A damaged count: the elements are read as many as the first
		// one's offset says (see CheckPages).
		s.recovered = append(s.recovered, fmt.Sprintf("page %d: its element count is %d, but its first element says %d: read as %d", id, count, n, n))
		count = int(n)
		binary.LittleEndian.PutUint16(p[10:], uint16(n)) // p is the walk's own copy
	}
	if pageHeaderSize+count*elementSize > len(p) {
		s.w.problem("page %d: %d elements do not fit", id, count)
		skip()
		return
	}
	if fromBranch && lo != nil && !s.settling {
		if first, ok := firstKey(p); ok && !bytes.Equal(first, lo) {
			// Either the branch's key is damaged, or its child pointer,
			// and leads to a page of another tree: settled once every
			// tree was walked (settle), by whether another one reached it.
			s.w.unmarkSeen(id, size)
			s.misled = append(s.misled, misled{id: id, depth: depth, bucket: bucket, name: name, lo: lo, hi: hi, first: bytes.Clone(first), gap: len(s.gaps)})
			skip()
			return
		}
	}
	switch binary.LittleEndian.Uint16(p[8:]) {
	case branchPageFlag:
		// p is reused below this depth's descent: the children and their
		// keys are copied first.
		type child struct {
			id  uint64
			key []byte
		}
		children := make([]child, 0, count)
		for i := 0; i < count; i++ {
			e := p[pageHeaderSize+i*elementSize:]
			c := child{id: binary.LittleEndian.Uint64(e[8:])}
			start := int64(pageHeaderSize+i*elementSize) + int64(binary.LittleEndian.Uint32(e))
			if end := start + int64(binary.LittleEndian.Uint32(e[4:])); end <= int64(len(p)) {
				c.key = bytes.Clone(p[start:end])
			}
			children = append(children, c)
		}
		for i, c := range children {
			clo, chi := lo, hi
			if c.key != nil {
				clo = c.key
			}
			if i+1 < len(children) && children[i+1].key != nil {
				chi = children[i+1].key
			}
			s.fromBranch = true
			s.tree(c.id, depth+1, bucket, name, clo, chi)
		}
	case leafPageFlag:
		s.leaf(bytes.Clone(p), id, depth, bucket)
	default:
		s.w.problem("page %d: type %#x where a branch or leaf page belongs", id, binary.LittleEndian.Uint16(p[8:]))
		skip()
	}
}

// misled is a page a branch element led to whose first key is not the
// element's key, and where the walk was: the gap it left is gaps[gap].
type misled struct {
	id           uint64
	depth        int
	bucket       *bolt.Bucket
	name, lo, hi []byte
	first        []byte
	gap          int
}

// settle decides, once every tree was walked, what each misled page is.
// One no other tree reached sits where its branch says, under a branch
// key that is damaged: it is walked into that branch's tree after all,
// and its gap dropped. One another tree reached is that tree's, which a
// damaged child pointer led to: it stays a gap, which the orphans of the
// page the pointer should name may fill.
func (s *salvager) settle() {
	s.settling = true
	defer func() { s.settling = false }()
	dropped := map[int]bool{}
	for _, m := range s.misled {
		if s.err != nil {
			return
		}
		if s.w.isSeen(m.id) {
			s.w.problem("page %d: a branch leads to it under the key %q, but it starts with %q and another tree leads to it: that tree's page, left to it", m.id, abbrev(m.lo), abbrev(m.first))
			continue
		}
		if m.bucket == nil && !s.namesBuckets(m.id) {
			// The root bucket's page names buckets: this one is the page
			// of a bucket that only the root leaf cut off names.
			s.w.problem("page %d: a branch of the root bucket leads to it under the key %q, but it starts with %q and names no bucket: another tree's page, left to it", m.id, abbrev(m.lo), abbrev(m.first))
			continue
		}
		s.recovered = append(s.recovered, fmt.Sprintf("page %d: the branch key leading to it reads %q, but the page starts with %q, and no other tree leads to it: the key is damaged, the page was copied", m.id, abbrev(m.lo), abbrev(m.first)))
		dropped[m.gap] = true
		s.fromBranch = true
		s.tree(m.id, m.depth, m.bucket, m.name, m.first, m.hi)
	}
	if len(dropped) > 0 {
		kept := s.gaps[:0]
		for i, g := range s.gaps {
			if !dropped[i] {
				kept = append(kept, g)
			}
		}
		s.gaps = kept
	}
}

// namesBuckets reports whether page id is a leaf whose every element is a
// bucket, read from its first page without marking it seen.
func (s *salvager) namesBuckets(id uint64) bool {
	p := make([]byte, s.w.ps)
	if _, err := s.w.f.ReadAt(p, int64(id)*s.w.ps); err != nil || binary.LittleEndian.Uint16(p[8:]) != leafPageFlag {
		return false
	}
	if count := int64(binary.LittleEndian.Uint16(p[10:])); pageHeaderSize+count*elementSize > s.w.ps {
		return false
	}
	return namesBuckets(p)
}

// orphans copies the leaf pages under the gaps: pages the walk did not
// reach that the freelist (page freelist) does not list either, and whose
// keys all lie in the range of the gaps of one bucket. bbolt writes a
// changed page to a new place and lists the old one as free, so a page
// neither reached nor free is one of the live tree's, cut off from it by
// the damage. Without a freelist that reads, nothing is copied: a stale
// copy of a page could not be told from a live one.
func (s *salvager) orphans(freelist uint64) {
	w := s.w
	before := len(w.problems)
	w.loadFreelist(freelist)
	if w.free == nil && freelist != noFreelist {
		if len(w.problems) == before {
			w.problem("freelist page %d: lists no page", freelist)
		}
		w.problem("the leaves under the pages skipped are not looked for: without the freelist, a live page cannot be told from a stale one")
		return
	}
	if freelist == noFreelist {
		w.problem("the leaves under the pages skipped are not looked for: the file has no freelist page")
		return
	}
	// The root bucket's leaves first: the trees of the buckets they name
	// are walked from them, and their own gaps then looked for too.
	for _, roots := range []bool{true, false} {
		s.orphanPass(roots)
	}
	for _, g := range s.gaps {
		if g.leaves > 0 {
			s.recovered = append(s.recovered, fmt.Sprintf("bucket %q: %d key(s) recovered from %d leaf page(s) that the damage at page %d cut off", g.name, g.keys, g.leaves, g.page))
		}
	}
}

// orphanPass copies the orphan leaves that fit a gap: of the root bucket
// (roots) or of the other buckets.
func (s *salvager) orphanPass(roots bool) {
	w := s.w
	var h [pageHeaderSize]byte
	for id := uint64(2); id < w.hwm && s.err == nil; id++ {
		if w.isSeen(id) {
			continue
		}
		if _, free := slices.BinarySearch(w.free, id); free {
			continue
		}
		if _, err := w.f.ReadAt(h[:], int64(id)*w.ps); err != nil {
			return
		}
		if binary.LittleEndian.Uint64(h[:]) != id || binary.LittleEndian.Uint16(h[8:]) != leafPageFlag {
			continue // an overflow page, a branch page, or not a page at all
		}
		p, size := w.read(id, "no page (an orphan)", 0)
		if p == nil {
			continue
		}
		if p = w.grow(p, id, 0, size); p == nil {
			continue
		}
		first, last, ok := leafKeys(p)
		if !ok || namesBuckets(p) != roots {
			w.unmarkSeen(id, size) // a tree walked later may lead to it
			continue
		}
		var found *gap
		for i := range s.gaps {
			g := &s.gaps[i]
			if (g.lo != nil && bytes.Compare(first, g.lo) < 0) || (g.hi != nil && bytes.Compare(last, g.hi) >= 0) {
				continue
			}
			if (g.bucket == nil) != roots {
				continue // a root leaf names buckets; a bucket's leaf holds keys
			}
			if found != nil && found.bucket != g.bucket {
				w.problem("leaf page %d: no tree reaches it, and its keys fit the skipped pages of buckets %q and %q: left out", id, found.name, g.name)
				found = nil
				break
			}
			found = g
		}
		if found == nil {
			w.unmarkSeen(id, size)
			continue
		}
		found.leaves++
		found.keys += int(binary.LittleEndian.Uint16(p[10:]))
		s.leaf(bytes.Clone(p), id, 0, found.bucket)
	}
}

// firstKey returns the first key of branch or leaf page p, and false when
// it has none or it reaches past p.
func firstKey(p []byte) ([]byte, bool) {
	if binary.LittleEndian.Uint16(p[10:]) == 0 || len(p) < pageHeaderSize+elementSize {
		return nil, false
	}
	e := p[pageHeaderSize:]
	start, ksize := int64(pageHeaderSize)+int64(binary.LittleEndian.Uint32(e)), int64(binary.LittleEndian.Uint32(e[4:]))
	if binary.LittleEndian.Uint16(p[8:]) == leafPageFlag {
		start, ksize = int64(pageHeaderSize)+int64(binary.LittleEndian.Uint32(e[4:])), int64(binary.LittleEndian.Uint32(e[8:]))
	}
	if start+ksize > int64(len(p)) {
		return nil, false
	}
	return p[start : start+ksize], true
}

// namesBuckets reports whether every element of leaf page p is a bucket
// (a leaf of the root bucket).
func namesBuckets(p []byte) bool {
	count := int(binary.LittleEndian.Uint16(p[10:]))
	for i := 0; i < count; i++ {
		if binary.LittleEndian.Uint32(p[pageHeaderSize+i*elementSize:])&bucketLeafFlag == 0 {
			return false
		}
	}
	return count > 0
}

// leafKeys returns the first and last keys of leaf page p, and false when
// it has none, or an element past its end.
func leafKeys(p []byte) (first, last []byte, ok bool) {
	count := int(binary.LittleEndian.Uint16(p[10:]))
	if count == 0 || pageHeaderSize+count*elementSize > len(p) {
		return nil, nil, false
	}
	for i := 0; i < count; i++ {
		at := pageHeaderSize + i*elementSize
		e := p[at:]
		start := int64(at) + int64(binary.LittleEndian.Uint32(e[4:]))
		ksize := int64(binary.LittleEndian.Uint32(e[8:]))
		vsize := int64(binary.LittleEndian.Uint32(e[12:]))
		if start+ksize+vsize > int64(len(p)) {
			return nil, nil, false
		}
		if i == 0 {
			first = p[start : start+ksize]
		}
		last = p[start : start+ksize]
	}
	return first, last, true
}

// leaf copies the elements of one leaf page (or inline bucket page).
func (s *salvager) leaf(p []byte, id uint64, depth int, bucket *bolt.Bucket) {
	count := int(binary.LittleEndian.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > len(p) {
		s.w.problem("leaf page %d: %d elements do not fit", id, count)
		return
	}
	for i := 0; i < count && s.err == nil; i++ {
		at := pageHeaderSize + i*elementSize
		e := p[at:]
		flags := binary.LittleEndian.Uint32(e)
		start := int64(at) + int64(binary.LittleEndian.Uint32(e[4:]))
		ksize := int64(binary.LittleEndian.Uint32(e[8:]))
		vsize := int64(binary.LittleEndian.Uint32(e[12:]))
		if start+ksize+vsize > int64(len(p)) {
			s.w.problem("leaf page %d: element %d reaches past the page", id, i)
			continue
		}
		k, v := p[start:start+ksize], p[start+ksize:start+ksize+vsize]
		switch {
		case bucket != nil && flags&bucketLeafFlag == 0:
			s.err = bucket.Put(k, v)
		case bucket != nil && len(v) >= bucketHeaderSize && binary.LittleEndian.Uint64(v) != 0:
			// A nested bucket is not copied, but its pages are walked,
			// so that orphans never takes them for a skipped tree's.
			s.w.fromBranch = false
			s.w.tree(binary.LittleEndian.Uint64(v), depth+1, false)
		case bucket == nil && flags&bucketLeafFlag != 0 && len(k) > 0:
			if len(v) < bucketHeaderSize {
				s.w.problem("leaf page %d: bucket %q has a %d-byte header", id, k, len(v))
				continue
			}
			b, err := s.tx.CreateBucketIfNotExists(k) // ungated: the salvage's own new file
			if err != nil {
				s.err = err
				return
			}
			if root := binary.LittleEndian.Uint64(v); root != 0 {
				s.fromBranch = false
				s.tree(root, depth+1, b, bytes.Clone(k), nil, nil)
				continue
			}
			inline := v[bucketHeaderSize:]
			if len(inline) < pageHeaderSize || binary.LittleEndian.Uint16(inline[8:]) != leafPageFlag {
				s.w.problem("leaf page %d: inline bucket %q is not a leaf page", id, k)
				continue
			}
			s.leaf(inline, id, depth+1, b)
		}
		// Anything else (a nested bucket, a key in the root bucket) has no
		// place in a Cairn store's copy.
	}
}

// txidOf is the transaction id of meta page bytes m.
func txidOf(m []byte) uint64 { return binary.LittleEndian.Uint64(m[metaTxidOff:]) }
