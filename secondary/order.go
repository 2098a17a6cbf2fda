package secondary

import (
	"bytes"
	"fmt"
	"slices"
)

// ostate is what the index-order walk knows of one id.
type ostate struct {
	done  bool // emitted or rejected
	match bool
	has   bool
	key   scalar
	enc   []byte // encoding of key
}

// runIndexOrder walks the sort field's index in order; see the package
// documentation for how ties, arrays and missing sort fields are handled.
func (e *engine) runIndexOrder(r *result, p plan) error {
	var sets []*idSet
	for _, u := range p.sets {
		s, err := e.buildSet(u, nil)
		if err != nil {
			return err
		}
		s.index()
		sets = append(sets, s)
	}
	pass := func(id []byte) bool {
		for _, s := range sets {
			if !s.has(id) {
				return false
			}
		}
		return true
	}
	states := map[string]*ostate{}
	var group []byte
	var pending []string
	var ferr error
	var gh []hit
	// Within a group of keys with one encoded value, the exact order is
	// by id, except for numbers (float64 keys may merge distinct
	// integers): other groups are checked lazily in id order and the walk
	// stops as soon as enough matches are out; number groups are checked
	// whole and sorted.
	flush := func() bool {
		defer func() { pending = pending[:0] }()
		exact := len(group) == 0 || group[0] != classTag[classNumber][0]
		if exact && e.q.Desc {
			slices.Reverse(pending) // walked backwards: ids descending
		}
		gh = gh[:0]
		for _, id := range pending {
			st := states[id]
			if st == nil {
				st = &ostate{}
				states[id] = st
				ok, doc, err := e.check(id)
				if err != nil {
					ferr = err
					return false
				}
				st.match = ok
				if ok {
					st.key, st.has = e.sort.sortKey(doc)
					if st.has {
						st.enc = st.key.encode(false)
					}
				}
			}
			if !st.match {
				st.done = true
				continue
			}
			if !bytes.Equal(st.enc, group) {
				continue // not at its smallest value: it comes again
			}
			st.done = true
			if exact {
				if !r.emit(id) {
					return false
				}
				continue
			}
			gh = append(gh, hit{id: id, key: st.key, has: true})
		}
		if len(gh) > 1 {
			slices.SortFunc(gh, func(a, b hit) int { return r.compare(&a, &b) })
		}
		for _, h := range gh {
			if !r.emit(h.id) {
				return false
			}
		}
		return true
	}
	stopped := false
	err := e.walkIDs(p.driver, e.q.Desc, func(val, id []byte) bool {
		if !bytes.Equal(val, group) {
			if !flush() {
				stopped = true
				return false
			}
			group = append(group[:0], val...)
		}
		if st := states[string(id)]; st != nil && st.done {
			return true
		}
		if !pass(id) {
			// Not recorded: the sets say no again, cheaply.
			return true
		}
		pending = append(pending, string(id))
		return true
	})
	if err != nil {
		return err
	}
	if !stopped && !flush() {
		stopped = true
	}
	if ferr != nil {
		return ferr
	}
	if stopped {
		return nil
	}
	// The walk is complete. Documents without the sort field come last,
	// in id order; they can match only if the walk was not restricted to
	// a range of the sort field.
	if p.driver.filters != nil {
		return nil
	}
	var cands []string
	switch {
	case len(sets) > 0:
		for i := range sets[0].len() {
			if id := sets[0].at(i); pass(id) {
				cands = append(cands, string(id))
			}
		}
	case e.q.Restrict != nil:
		for id := range e.q.Restrict {
			cands = append(cands, id)
		}
	default:
		if e.q.NoScan {
			return fmt.Errorf("%w: finding %s documents without %s", ErrFullScan, e.coll.Name, e.sort.name)
		}
		b := e.meta
		if b == nil || e.level != levelMeta {
			b = e.primary
		}
		if b != nil {
			c := b.Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if states[string(k)] == nil {
					cands = append(cands, string(k))
				}
			}
		}
	}
	slices.Sort(cands)
	for _, id := range cands {
		if states[id] != nil {
			continue
		}
		ok, doc, err := e.check(id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if _, has := e.sort.sortKey(doc); has {
			continue // has a sort key, so it was in the index: judged there
		}
		if !r.emit(id) {
			return nil
		}
	}
	return nil
}
