package secondary

import (
	"container/heap"
	"slices"
	"strings"
)

// hit is one match with its sort key.
type hit struct {
	id  string
	key scalar
	has bool
}

// result collects matches: all of them, or the best offset+limit in a
// bounded heap.
type result struct {
	sort    bool
	desc    bool
	k       int // offset+limit, 0: unbounded
	offset  int
	limit   int
	hits    hitHeap
	ordered []string // matches already in final order (ordered plans)
	matched int
	stopped bool // stopped before seeing every match
}

func (e *engine) newResult() *result {
	r := &result{sort: e.sort != nil, desc: e.q.Desc, offset: e.q.Offset, limit: e.q.Limit}
	if e.q.Limit > 0 && !e.q.Count {
		r.k = satAdd(e.q.Offset, e.q.Limit)
	}
	r.hits.r = r
	return r
}

func (r *result) less(a, b *hit) bool { return r.compare(a, b) < 0 }

func (r *result) compare(a, b *hit) int {
	if r.sort {
		switch {
		case a.has && !b.has:
			return -1
		case !a.has && b.has:
			return 1
		case a.has && b.has:
			c := compareScalar(a.key, b.key)
			if r.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
	}
	return strings.Compare(a.id, b.id)
}

// add records a match found out of order.
func (r *result) add(h hit) {
	r.matched++
	if r.k == 0 {
		r.hits.h = append(r.hits.h, h)
		return
	}
	if len(r.hits.h) < r.k {
		heap.Push(&r.hits, h)
		return
	}
	if r.less(&h, &r.hits.h[0]) {
		r.hits.h[0] = h
		heap.Fix(&r.hits, 0)
	}
}

// emit records the next match of an ordered plan; it reports false when no
// more are needed.
func (r *result) emit(id string) bool {
	r.matched++
	if r.matched > r.offset && (r.limit == 0 || len(r.ordered) < r.limit) {
		r.ordered = append(r.ordered, id)
	}
	if r.k > 0 && r.matched >= r.k {
		r.stopped = true
		return false
	}
	return true
}

func (r *result) finish() ([]string, int) {
	total := r.matched
	if r.stopped {
		total = -1
	}
	if r.ordered != nil || len(r.hits.h) == 0 {
		return r.ordered, total
	}
	hs := r.hits.h
	slices.SortFunc(hs, func(a, b hit) int { return r.compare(&a, &b) })
	if r.offset >= len(hs) {
		return []string{}, total
	}
	hs = hs[r.offset:]
	if r.limit > 0 && len(hs) > r.limit {
		hs = hs[:r.limit]
	}
	ids := make([]string, len(hs))
	for i := range hs {
		ids[i] = hs[i].id
	}
	return ids, total
}

// hitHeap is a max-heap: the worst kept hit on top.
type hitHeap struct {
	h []hit
	r *result
}

func (h *hitHeap) Len() int           { return len(h.h) }
func (h *hitHeap) Less(i, j int) bool { return h.r.less(&h.h[j], &h.h[i]) }
func (h *hitHeap) Swap(i, j int)      { h.h[i], h.h[j] = h.h[j], h.h[i] }
func (h *hitHeap) Push(x any)         { h.h = append(h.h, x.(hit)) }
func (h *hitHeap) Pop() any {
	x := h.h[len(h.h)-1]
	h.h = h.h[:len(h.h)-1]
	return x
}
