package secondary

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
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
func Run(tx *bolt.Tx, s *schema.Schema, q Query, l Loader) (ids []string, total int, ex Explain, err error) {
	return run(tx, s, q, l, "")
}

// run is Run with a forced plan kind (for benchmarks comparing plans): ""
// lets the planner choose; "full-scan" decodes every document.
func run(tx *bolt.Tx, s *schema.Schema, q Query, l Loader, force string) (ids []string, total int, ex Explain, err error) {
	e, err := newEngine(tx, s, q, l)
	if err != nil {
		return nil, 0, ex, err
	}
	if force == "full-scan" {
		e.level = max(e.level, levelHeader)
	}
	if force == forceNoCompound {
		e.noCompound, force = true, ""
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
	if e.ex.Warnings, err = e.warnings(); err != nil {
		return nil, 0, e.ex, err
	}
	ids, total = r.finish()
	if ids == nil {
		ids = []string{} // no match: an empty list, not null
	}
	if q.Count {
		ids = nil
		e.ex.Returned = total
	} else {
		e.ex.Returned = len(ids)
	}
	return ids, total, e.ex, nil
}

func newEngine(tx *bolt.Tx, s *schema.Schema, q Query, l Loader) (*engine, error) {
	c, err := s.Lookup(q.Collection)
	if err != nil {
		return nil, err
	}
	if !c.HasMeta() {
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
		ref := newFieldRef(c, q.Sort)
		e.sort = &ref
		e.level = max(e.level, fieldLevel(c, q.Sort))
	}
	e.members = map[string]bool{}
	var add func(f *cfilter)
	add = func(f *cfilter) {
		for _, p := range f.ref.paths {
			e.members[p[0]] = true
		}
		for _, o := range f.or {
			add(o)
		}
	}
	for _, f := range e.filters {
		add(f)
	}
	if e.sort != nil {
		for _, p := range e.sort.paths {
			e.members[p[0]] = true
		}
	}
	if e.level == levelFull && l == nil {
		return nil, fmt.Errorf("%w: a field stored as a part needs a loader", ErrBadQuery)
	}
	e.sys = buckets.Lookup(tx, buckets.SysBucket)
	e.meta = buckets.Lookup(tx, buckets.MetaBucket(c.Name))
	e.primary = buckets.Lookup(tx, buckets.PrimaryBucket(c.Name))
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
			if ml, ok := e.l.(MetaLoader); ok {
				return ml.Meta(id, v, e.member)
			}
			return buckets.DecodeMembers(buckets.MetaBucket(e.coll.Name), []byte(id), v, e.member)
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
	if e.l != nil && e.coll.Kind != schema.Extras { // extras need not be objects
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

// storedNull stands for a stored value that is JSON null (an extras value
// may be any JSON): a document with no field, not an absent one.
type storedNull struct{}

// needDoc reports whether evaluating a candidate needs its document.
// member tells whether the query reads the document's top-level member
// name (filters and sort).
func (e *engine) member(name string) bool { return e.members[name] }

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
	if err != nil {
		return false, nil, err
	}
	if doc == nil {
		if e.coll.Kind != schema.Extras || e.primary == nil || e.primary.Get([]byte(id)) == nil {
			return false, nil, nil
		}
		// A stored null: a sort or a count must not leave it out.
		doc = storedNull{}
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

// record adds a match, with its sort key when sorting.
func (e *engine) record(r *result, id string, doc any) {
	h := hit{id: id}
	if e.sort != nil {
		h.key, h.has = e.sort.sortKey(doc)
	}
	r.add(h)
}

// hiddenCheck walks a collection's summary keys beside a walk of its
// primary keys in the same order, to find a document the summaries list
// and the primary bucket does not hold. A summary is written and deleted
// with its document in one transaction, so such a document is one
// damaged pages hide (a leaf whose element count lost a bit): a scan that
// passed it by would answer without it, exit 0, as if it did not exist.
type hiddenCheck struct {
	c        *bolt.Cursor // over the meta bucket; nil: nothing to check
	k        []byte       // its current key
	coll     string
	restrict map[string]struct{}
}

func (e *engine) hiddenCheck() *hiddenCheck {
	h := &hiddenCheck{coll: e.coll.Name, restrict: e.q.Restrict}
	if e.meta != nil {
		h.c = e.meta.Cursor()
		h.k, _ = h.c.First()
	}
	return h
}

// upTo checks the summary keys below primary key k (nil: every one left),
// and steps past k's own.
func (h *hiddenCheck) upTo(k []byte) error {
	for h.c != nil && h.k != nil && (k == nil || bytes.Compare(h.k, k) < 0) {
		if _, ok := h.restrict[string(h.k)]; h.restrict == nil || ok {
			return &buckets.CorruptError{Bucket: string(buckets.PrimaryBucket(h.coll)), Key: string(h.k), Detail: "its summary is stored, but the document is not found: the pages of data.db that hold it are damaged"}
		}
		h.k, _ = h.c.Next()
	}
	if h.c != nil && h.k != nil && k != nil && bytes.Equal(h.k, k) {
		h.k, _ = h.c.Next()
	}
	return nil
}

// runIDOrder walks the primary keys: no filters, no sort.
func (e *engine) runIDOrder(r *result) error {
	if e.primary == nil {
		return nil
	}
	hidden := e.hiddenCheck()
	c := e.primary.Cursor()
	done := true
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		e.ex.Scanned++
		if err := hidden.upTo(k); err != nil {
			return err
		}
		if !r.emit(string(k)) {
			done = false
			break
		}
	}
	if done {
		if err := hidden.upTo(nil); err != nil {
			return err
		}
	}
	if r.stopped && e.docs > 0 {
		r.stopped = false
		r.matched = e.docs
	}
	return nil
}

// idOrdered reports whether candidates checked in id order are matches in
// final order (no sort).
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
			e.ex.Scanned++
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
	hidden := e.hiddenCheck()
	c := e.primary.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		e.ex.Scanned++
		if err := hidden.upTo(k); err != nil {
			return err
		}
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
		if doc == nil && e.coll.Kind == schema.Extras {
			doc = storedNull{} // stored, as JSON null
		}
		if !visit(string(k), doc) {
			return nil
		}
	}
	return hidden.upTo(nil)
}

// walkIDs calls fn with the value and id of every key of u's ranges, in
// order; both slices are valid only during the call.
//
// For a union use, the ranges of each alternative are walked in turn: the
// ids come in no overall order, and an id may come more than once.
func (e *engine) walkIDs(u *indexUse, desc bool, fn func(val, id []byte) bool) error {
	if u.union != nil {
		stopped := false
		for _, s := range u.union {
			err := e.walkIDs(s, desc, func(val, id []byte) bool {
				stopped = !fn(val, id)
				return !stopped
			})
			if err != nil || stopped {
				return err
			}
		}
		return nil
	}
	name := buckets.IndexBucket(e.coll.Name, u.def.Name)
	b := buckets.Lookup(e.tx, name)
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

// idFilter answers set membership for an id.
type idFilter interface{ has(id []byte) bool }

// buildSet reads the ids of u (the Restrict ids for a restrict use), only
// those within within if it is not nil, sorted.
func (e *engine) buildSet(u *indexUse, within idFilter) (*idSet, error) {
	out := &idSet{}
	if u.restrict {
		for id := range e.q.Restrict {
			if within == nil || within.has([]byte(id)) {
				out.add([]byte(id))
			}
		}
		out.sortUnique()
		return out, nil
	}
	n := min(u.est+1, 1<<16)
	out.ends = make([]int32, 0, n)
	out.buf = make([]byte, 0, n*24)
	err := e.walkIDs(u, false, func(_, id []byte) bool {
		if within == nil || within.has(id) {
			out.add(id)
		}
		return true
	})
	out.sortUnique()
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
		set.index()
		if set, err = e.buildSet(u, set); err != nil {
			return err
		}
	}
	if p.exact {
		e.ex.Detail += "; index-only: no document read"
		for i := range set.len() {
			if !r.emit(string(set.at(i))) {
				return nil
			}
		}
		return nil
	}
	for i := range set.len() {
		id := string(set.at(i))
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
