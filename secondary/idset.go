package secondary

import (
	"bytes"
	"hash/maphash"
	"sort"
)

// idSet is a sorted set of ids kept in one byte arena, so building it from
// an index range costs two growing allocations instead of one string and
// one map entry per id.
type idSet struct {
	buf  []byte
	ends []int32 // ends[i] is the end of id i in buf; it starts at ends[i-1] (or 0)
	// table is an open-addressing hash index (id number + 1, 0 empty)
	// built by index for sets that answer many has calls.
	table []int32
	mask  uint64
}

var idSeed = maphash.MakeSeed()

// index builds the hash index; has then costs one hash and about one
// comparison instead of a binary search.
func (s *idSet) index() {
	n := 16
	for n < 2*len(s.ends) {
		n *= 2
	}
	s.table = make([]int32, n)
	s.mask = uint64(n - 1)
	for i := range s.ends {
		h := maphash.Bytes(idSeed, s.at(i)) & s.mask
		for s.table[h] != 0 {
			h = (h + 1) & s.mask
		}
		s.table[h] = int32(i + 1)
	}
}

func (s *idSet) len() int { return len(s.ends) }

func (s *idSet) at(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.buf[start:s.ends[i]]
}

// add appends id; call sortUnique once all are added unless they were added
// in order.
func (s *idSet) add(id []byte) {
	s.buf = append(s.buf, id...)
	s.ends = append(s.ends, int32(len(s.buf)))
}

// sorted reports whether ids were added in strictly increasing order.
func (s *idSet) sorted() bool {
	for i := 1; i < len(s.ends); i++ {
		if bytes.Compare(s.at(i-1), s.at(i)) >= 0 {
			return false
		}
	}
	return true
}

// sortUnique sorts the set and removes duplicates.
func (s *idSet) sortUnique() {
	if s.sorted() {
		return
	}
	idx := make([]int, len(s.ends))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return bytes.Compare(s.at(idx[a]), s.at(idx[b])) < 0 })
	out := idSet{buf: make([]byte, 0, len(s.buf)), ends: make([]int32, 0, len(s.ends))}
	for _, i := range idx {
		id := s.at(i)
		if n := out.len(); n > 0 && bytes.Equal(out.at(n-1), id) {
			continue
		}
		out.add(id)
	}
	*s = out
}

// has reports whether id is in the (sorted) set.
func (s *idSet) has(id []byte) bool {
	if s.table != nil {
		for h := maphash.Bytes(idSeed, id) & s.mask; s.table[h] != 0; h = (h + 1) & s.mask {
			if bytes.Equal(s.at(int(s.table[h]-1)), id) {
				return true
			}
		}
		return false
	}
	lo, hi := 0, len(s.ends)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(s.at(m), id); {
		case c == 0:
			return true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}
