package secondary

import (
	"bytes"
	"container/heap"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cairnkv/cairn/buckets"
	bolt "go.etcd.io/bbolt"
)

func strconvFormat(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// Run answers q inside tx and returns the matching ids in order (by the
// sort field, ties and unsorted results by id), the number of matches
// before offset and limit (exact when it cost nothing extra or q.Count is
// set, else -1), and how the answer was found. Every candidate an index
// yields is checked against every filter on its metadata entry (when all
// filter and sort fields are metadata fields) or on its document from l
// (Header, or Full when a field is stored as a part), so results are
// exactly those of a full scan. l may be nil unless a field is a part.
func Run(tx *bolt.Tx, q Query, l Loader) (ids []string, total int, ex Explain, err error) {
	return run(tx, q, l, "")
}

// run is Run with a forced plan kind (for benchmarks comparing plans): ""
// lets the planner choose; "full-scan" decodes every document.
func run(tx *bolt.Tx, q Query, l Loader, force string) (ids []string, total int, ex Explain, err error) {
	e, err := newEngine(tx, q, l)
	if err != nil {
		return nil, 0, ex, err
	}
	if force == "full-scan" {
		e.level = max(e.level, levelHeader)
	}
	e.force = force
	p := e.makePlan()
	e.ex.Plan = p.kind
	e.ex.Detail = e.planDetail
	if e.estKeys > 0 {
		e.ex.Detail += fmt.Sprintf("; %d index keys read to estimate", e.estKeys)
	}
	var names []string
	if p.driver != nil {
		names = append(names, p.driver.name())
	}
	for _, s := range p.sets {
		names = append(names, s.name())
	}
	e.ex.Index = strings.Join(names, ",")
	if q.NoScan && p.scan {
		return nil, 0, e.ex, fmt.Errorf("%w: %s of %s (no index serves the filters)", ErrFullScan, p.kind, q.Collection)
	}
	r := e.newResult()
	switch p.kind {
	case "id-order":
		err = e.runIDOrder(r)
	case "metadata-scan", "full-scan":
		err = e.runScan(r)
	case "index-order":
		err = e.runIndexOrder(r, p)
	default:
		err = e.runSets(r, p)
	}
	if err != nil {
		return nil, 0, e.ex, err
	}
	ids, total = r.finish()
	if q.Count {
		ids = nil
		e.ex.Returned = total
	} else {
		e.ex.Returned = len(ids)
	}
	return ids, total, e.ex, nil
}

func newEngine(tx *bolt.Tx, q Query, l Loader) (*engine, error) {
	c, err := buckets.Lookup(q.Collection)
	if err != nil {
		return nil, err
	}
	if !hasMeta(c) {
		return nil, fmt.Errorf("%w: %s is a singleton, it has no documents to query", ErrBadQuery, c.Name)
	}
	if q.Limit < 0 || q.Offset < 0 {
		return nil, fmt.Errorf("%w: negative limit (%d) or offset (%d)", ErrBadQuery, q.Limit, q.Offset)
	}
	e := &engine{tx: tx, coll: c, q: q, l: l}
	for _, f := range q.Filters {
		cf, err := compileFilter(c, f)
		if err != nil {
			return nil, err
		}
		e.filters = append(e.filters, cf)
		e.level = max(e.level, cf.level)
	}
	if q.Sort != "" {
		if q.Sort[0] == '.' || q.Sort[len(q.Sort)-1] == '.' || containsEmptySegment(q.Sort) {
			return nil, fmt.Errorf("%w: sort field %q has an empty path segment", ErrBadQuery, q.Sort)
		}
		ref := newFieldRef(c.Name, q.Sort)
		e.sort = &ref
		e.level = max(e.level, fieldLevel(c, q.Sort))
	}
	if e.level == levelFull && l == nil {
		return nil, fmt.Errorf("%w: a field stored as a part needs a loader", ErrBadQuery)
	}
	e.sys = tx.Bucket(buckets.SysBucket)
	e.meta = tx.Bucket(buckets.MetaBucket(c.Name))
	e.primary = tx.Bucket(buckets.PrimaryBucket(c.Name))
	if n, ok := getCount(e.sys, docsKey(c.Name)); ok {
		e.docs = int(n)
	} else {
		e.docs = countKeys(e.meta)
	}
	return e, nil
}

// load returns the document (or metadata entry) needed to evaluate the
// query on id; nil if there is none.
func (e *engine) load(id string) (any, error) {
	if e.level == levelMeta && e.meta != nil {
		if v := e.meta.Get([]byte(id)); v != nil {
			e.ex.DocsRead++
			return buckets.DecodeValue(buckets.MetaBucket(e.coll.Name), []byte(id), v)
		}
		// No metadata entry: fall back on the document itself.
	}
	if e.level == levelFull {
		e.ex.DocsRead++
		d, err := e.l.Full(id)
		if d == nil || err != nil {
			return nil, err
		}
		return d, nil
	}
	if e.l != nil {
		e.ex.DocsRead++
		d, err := e.l.Header(id)
		if d == nil || err != nil {
			return nil, err
		}
		return d, nil
	}
	if e.primary == nil {
		return nil, nil
	}
	v := e.primary.Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	e.ex.DocsRead++
	rec, err := buckets.DecodeRecord(buckets.PrimaryBucket(e.coll.Name), []byte(id), v, true)
	if err != nil {
		return nil, err
	}
	return rec.Doc, nil
}

// needDoc reports whether evaluating a candidate needs its document.
func (e *engine) needDoc() bool { return len(e.filters) > 0 || e.sort != nil }

// check evaluates the query on id; doc is returned for sorting.
func (e *engine) check(id string) (bool, any, error) {
	if e.q.Restrict != nil {
		if _, ok := e.q.Restrict[id]; !ok {
			return false, nil, nil
		}
	}
	if !e.needDoc() {
		return e.primary != nil && e.primary.Get([]byte(id)) != nil, nil, nil
	}
	doc, err := e.load(id)
	if err != nil || doc == nil {
		return false, nil, err
	}
	return e.matchDoc(doc), doc, nil
}

func (e *engine) matchDoc(doc any) bool {
	for _, f := range e.filters {
		if !f.match(doc) {
			return false
		}
	}
	return true
}

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
		r.k = e.q.Offset + e.q.Limit
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

func (r *result) done() bool { return r.k > 0 && r.matched >= r.k && r.stopped }

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

// record adds a match, with its sort key when sorting.
func (e *engine) record(r *result, id string, doc any) {
	h := hit{id: id}
	if e.sort != nil {
		h.key, h.has = e.sort.sortKey(doc)
	}
	r.add(h)
}

// runIDOrder walks the primary keys: no filters, no sort.
func (e *engine) runIDOrder(r *result) error {
	if e.primary == nil {
		return nil
	}
	c := e.primary.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if !r.emit(string(k)) {
			break
		}
	}
	if r.stopped && e.docs > 0 {
		r.stopped = false
		r.matched = e.docs
	}
	return nil
}

// ordered reports whether matches are found in final order by a scan (id
// order without a sort).
func (e *engine) idOrdered() bool { return e.sort == nil }

// runScan reads every metadata entry or document in id order.
func (e *engine) runScan(r *result) error {
	visit := func(id string, doc any) bool {
		if doc == nil || !e.matchDoc(doc) {
			return true
		}
		if e.idOrdered() {
			return r.emit(id)
		}
		e.record(r, id, doc)
		return true
	}
	restricted := func(k []byte) bool {
		if e.q.Restrict == nil {
			return true
		}
		_, ok := e.q.Restrict[string(k)]
		return ok
	}
	if e.level == levelMeta {
		if e.meta == nil {
			return nil
		}
		name := buckets.MetaBucket(e.coll.Name)
		c := e.meta.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !restricted(k) {
				continue
			}
			e.ex.DocsRead++
			doc, err := buckets.DecodeValue(name, k, v)
			if err != nil {
				return err
			}
			if !visit(string(k), doc) {
				return nil
			}
		}
		return nil
	}
	if e.primary == nil {
		return nil
	}
	name := buckets.PrimaryBucket(e.coll.Name)
	c := e.primary.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil || !restricted(k) {
			continue
		}
		var doc any
		if e.level == levelFull {
			e.ex.DocsRead++
			d, err := e.l.Full(string(k))
			if err != nil {
				return err
			}
			if d != nil {
				doc = d
			}
		} else {
			e.ex.DocsRead++
			rec, err := buckets.DecodeRecord(name, k, v, true)
			if err != nil {
				return err
			}
			doc = rec.Doc
		}
		if !visit(string(k), doc) {
			return nil
		}
	}
	return nil
}

// walkIDs calls fn with the value and id of every key of u's ranges, in
// order; both slices are valid only during the call.
func (e *engine) walkIDs(u *indexUse, desc bool, fn func(val, id []byte) bool) error {
	name := buckets.IndexBucket(e.coll.Name, u.def.Name)
	b := e.tx.Bucket(name)
	if b == nil {
		return nil
	}
	rc := newRangeCursor(b, u.ranges, desc)
	defer func() { e.ex.Scanned += rc.read }()
	for k := rc.next(); k != nil; k = rc.next() {
		val, id, ok := splitKey(k)
		if !ok {
			return &buckets.CorruptError{Bucket: string(name), Key: fmt.Sprintf("%x", k), Detail: "malformed index key"}
		}
		if !fn(val, id) {
			return nil
		}
	}
	return nil
}

// buildSet reads the ids of u (the Restrict ids for a restrict use), only
// those within within if it is not nil.
func (e *engine) buildSet(u *indexUse, within map[string]struct{}) (map[string]struct{}, error) {
	if u.restrict {
		if within == nil {
			return e.q.Restrict, nil
		}
		out := make(map[string]struct{}, min(len(within), len(e.q.Restrict)))
		for id := range within {
			if _, ok := e.q.Restrict[id]; ok {
				out[id] = struct{}{}
			}
		}
		return out, nil
	}
	size := u.est + 1
	if within != nil {
		size = min(size, len(within))
	}
	out := make(map[string]struct{}, min(size, 1<<16))
	err := e.walkIDs(u, false, func(_, id []byte) bool {
		if within != nil {
			if _, ok := within[string(id)]; !ok {
				return true
			}
		}
		out[string(id)] = struct{}{}
		return true
	})
	return out, err
}

// runSets intersects the driver's ids with further sets, then checks the
// candidates in id order.
func (e *engine) runSets(r *result, p plan) error {
	set, err := e.buildSet(p.driver, nil)
	if err != nil {
		return err
	}
	for _, u := range p.sets {
		if set, err = e.buildSet(u, set); err != nil {
			return err
		}
	}
	cands := make([]string, 0, len(set))
	for id := range set {
		cands = append(cands, id)
	}
	slices.Sort(cands)
	for _, id := range cands {
		ok, doc, err := e.check(id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if e.idOrdered() {
			if !r.emit(id) {
				return nil
			}
			continue
		}
		e.record(r, id, doc)
	}
	return nil
}

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
	var sets []map[string]struct{}
	for _, u := range p.sets {
		s, err := e.buildSet(u, nil)
		if err != nil {
			return err
		}
		sets = append(sets, s)
	}
	pass := func(id []byte) bool {
		for _, s := range sets {
			if _, ok := s[string(id)]; !ok {
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
	flush := func() bool {
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
			gh = append(gh, hit{id: id, key: st.key, has: true})
		}
		pending = pending[:0]
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
		for id := range sets[0] {
			if pass([]byte(id)) {
				cands = append(cands, id)
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
