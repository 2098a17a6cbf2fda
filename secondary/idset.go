package secondary

import (
	"bytes"
	"sort"
)

// idSet is a sorted set of ids kept in one byte arena, so building it from
// an index range costs two growing allocations instead of one string and
// one map entry per id.
type idSet struct {
	buf  []byte
	ends []int32 // ends[i] is the end of id i in buf; it starts at ends[i-1] (or 0)
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
