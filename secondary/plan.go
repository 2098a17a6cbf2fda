package secondary

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	bolt "go.etcd.io/bbolt"
)

// Relative costs used by the planner, in units of one index key read.
const (
	costKey    = 1.0  // read one index key
	costSet    = 3.0  // read one index key into an id set
	costMember = 1.5  // read one index key and test it against an id set
	unknownSel = 0.5  // assumed selectivity of a filter no index estimates
	countCap   = 1024 // keys counted, at most, to estimate an index without histogram
)

// costEval is the cost of decoding and checking one document per level.
var costEval = [3]float64{levelMeta: 60, levelHeader: 200, levelFull: 2000}

// indexUse is one index restricted by the filters on its field.
type indexUse struct {
	def      *IndexDef
	ranges   []vrange
	est      int // estimated keys in ranges
	filters  []*cfilter
	restrict bool        // the Restrict ids, not an index
	union    []*indexUse // an "or" filter: the ids of any of these (def is nil)
}

func (u *indexUse) name() string {
	if u.restrict {
		return "restrict"
	}
	if u.union != nil {
		names := make([]string, 0, len(u.union))
		for _, s := range u.union {
			if n := s.name(); !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		return strings.Join(names, "|")
	}
	return u.def.Name
}

// plan is the strategy Run executes.
type plan struct {
	kind   string
	driver *indexUse   // set plans: the smallest set; index-order: the walked index
	sets   []*indexUse // further sets intersected (set plans) or used as prefilters (index-order)
	cost   float64
	scan   bool // reads every document or metadata entry
	exact  bool // set plans: the sets are exactly the matches, no document is read
}

// estimate returns the estimated keys of u.
func (e *engine) estimate(u *indexUse) int {
	if u.restrict {
		return len(e.q.Restrict)
	}
	if u.union != nil {
		n := 0
		for _, s := range u.union {
			s.est = e.estimate(s)
			n += s.est
		}
		return n
	}
	if u.def.Stats {
		if n, ok := histEstimate(e.sys, e.coll.Name, u.def.Name, u.ranges); ok {
			return n
		}
	}
	b := buckets.Lookup(e.tx, buckets.IndexBucket(e.coll.Name, u.def.Name))
	n := countRanges(b, u.ranges, countCap)
	e.estKeys += n
	if n >= countCap {
		if total, ok := getCount(e.sys, keysKey(e.coll.Name, u.def.Name)); ok && int(total) > n {
			return int(total)
		}
	}
	return n
}

// indexOnly reports whether the ids of set plan p are exactly the
// matches, so that no document needs reading: no sort key is needed, and
// every filter is served by a use of p whose index keys match exactly
// what the filter does (see exactFilter).
func (e *engine) indexOnly(p plan) bool {
	if e.sort != nil {
		return false
	}
	covered := map[*cfilter]bool{}
	fromIndex := false // the Restrict ids alone may name documents that do not exist
	for _, u := range append([]*indexUse{p.driver}, p.sets...) {
		if u.restrict {
			continue
		}
		if u.def != nil && u.def.Compound() {
			return false // its ranges need not be exact for every filter
		}
		fromIndex = true
		for _, f := range u.filters {
			if !exactFilter(f) {
				return false
			}
			covered[f] = true
		}
	}
	for _, f := range e.filters {
		if !covered[f] {
			return false
		}
	}
	return fromIndex
}

// exactFilter reports whether the keys its index yields for f are
// exactly f's matches: equality (=, in, contains, or an OR of them) on an
// index that is not folded and holds every value type, with operands
// that compare as strings, booleans or instants only (numbers share
// float64 encodings, so their keys may merge distinct values).
func exactFilter(f *cfilter) bool {
	if f.Op == OpOr {
		for _, s := range f.or {
			if !exactFilter(s) {
				return false
			}
		}
		return f.orIdx
	}
	d := f.index
	if d == nil || d.Folded || d.Type != schema.TypeAny && d.Type != schema.TypeTime {
		return false
	}
	switch f.Op {
	case OpEq, OpIn, OpContains:
	default:
		return false
	}
	for i := range f.vals {
		if f.vals[i].ok[classNumber] {
			return false
		}
		if d.Type == schema.TypeTime && (f.vals[i].ok[classString] || f.vals[i].ok[classBool]) {
			return false
		}
	}
	return true
}

// unionUse returns the use of an "or" filter whose alternatives all have
// an index: the union of one range use per alternative.
func unionUse(f *cfilter) *indexUse {
	u := &indexUse{filters: []*cfilter{f}}
	for _, l := range f.leaves(nil) {
		u.union = append(u.union, &indexUse{def: l.index, ranges: l.ranges(l.index), filters: []*cfilter{l}})
	}
	return u
}

// makePlan chooses the cheapest plan.
func (e *engine) makePlan() plan {
	n := float64(max(e.docs, 1))
	// Index uses: one per filter, except that filters on an index whose
	// documents all have at most one key share one use, their ranges
	// intersected (with several keys per document, each filter may match
	// a different key).
	byIndex := map[string]*indexUse{}
	var uses []*indexUse
	indexed := map[*cfilter]bool{}
	for _, f := range e.filters {
		if f.Op == OpOr && f.orIdx {
			indexed[f] = true
			uses = append(uses, unionUse(f))
			continue
		}
		if f.index == nil {
			continue
		}
		indexed[f] = true
		r := f.ranges(f.index)
		if u, ok := byIndex[f.index.Name]; ok {
			u.ranges = intersectRanges(u.ranges, r)
			u.filters = append(u.filters, f)
			continue
		}
		u := &indexUse{def: f.index, ranges: r, filters: []*cfilter{f}}
		if e.singleValued(f.index) {
			byIndex[f.index.Name] = u
		}
		uses = append(uses, u)
	}
	for _, u := range uses {
		u.est = e.estimate(u)
	}
	if e.q.Restrict != nil {
		uses = append(uses, &indexUse{restrict: true, est: len(e.q.Restrict)})
	}
	slices.SortStableFunc(uses, func(a, b *indexUse) int { return a.est - b.est })
	sel := 1.0
	for _, u := range uses {
		sel *= math.Min(1, float64(u.est)/n)
	}
	for _, f := range e.filters {
		if !indexed[f] {
			sel *= unknownSel
		}
	}
	// Compound indexes: estimated after the selectivity, which their
	// filters already counted through the single-field uses.
	if cu := e.compoundUses(); len(cu) > 0 && !e.noCompound {
		for _, u := range cu {
			u.est = e.estimate(u)
		}
		uses = append(uses, cu...)
		// Equal estimates: the use serving more filters first.
		slices.SortStableFunc(uses, func(a, b *indexUse) int {
			if a.est != b.est {
				return a.est - b.est
			}
			return len(b.filters) - len(a.filters)
		})
	}
	ce := costEval[e.level]
	k := satAdd(e.q.Offset, e.q.Limit)
	early := e.q.Limit > 0 && !e.q.Count // can stop after k matches in order

	var plans []plan

	// No filters, no restriction, id order: walk the primary keys.
	if len(e.filters) == 0 && e.q.Restrict == nil && e.sort == nil {
		return plan{kind: "id-order", cost: float64(k)}
	}

	// Scan: every metadata entry or document.
	{
		m := n
		if early && e.sort == nil {
			m = math.Min(n, float64(k)/math.Max(sel, 1e-9))
		}
		kind := "full-scan"
		if e.level == levelMeta {
			kind = "metadata-scan"
		}
		plans = append(plans, plan{kind: kind, cost: m * (ce + costKey), scan: true})
	}

	// Set plans: the smallest index range (or the Restrict ids), then
	// intersections with further ranges while they pay for themselves.
	if len(uses) > 0 {
		d := uses[0]
		p := plan{kind: "index-range", driver: d}
		cand := float64(d.est)
		if d.restrict {
			p.kind = "id-set"
		} else {
			p.cost = float64(d.est) * costSet
		}
		covered := map[*cfilter]bool{}
		for _, f := range d.filters {
			covered[f] = true
		}
		for _, u := range uses[1:] {
			if !u.restrict && len(u.filters) > 0 && !slices.ContainsFunc(u.filters, func(f *cfilter) bool { return !covered[f] }) {
				continue // its filters already narrow the sets (a compound index)
			}
			s := math.Min(1, float64(u.est)/n)
			walk := float64(u.est) * costMember
			if u.restrict {
				walk = 0
			}
			if walk < cand*(1-s)*ce {
				for _, f := range u.filters {
					covered[f] = true
				}
				p.sets = append(p.sets, u)
				p.cost += walk
				cand *= s
			}
		}
		switch {
		case len(p.sets) > 0:
			p.kind = "index-intersection"
		case d.restrict:
			p.kind = "id-set"
		}
		if p.exact = e.indexOnly(p); !p.exact {
			p.cost += cand * ce
		}
		plans = append(plans, p)
	}

	// Index order: walk the sort field's index in order, stop after k.
	if early && e.sort != nil {
		if d := e.coll.IndexFor(e.sort.name); d != nil && ordered(d) {
			// A range of the sort field can bound the walk only when every
			// document has at most one key: otherwise a document matching
			// through one element sorts by its smallest, maybe outside.
			var walk *indexUse
			if e.singleValued(d) {
				walk = byIndex[d.Name]
			}
			restricted := walk != nil
			if walk == nil {
				w := &indexUse{def: d, ranges: allRanges}
				if total, ok := getCount(e.sys, keysKey(e.coll.Name, d.Name)); ok {
					w.est = int(total)
				} else {
					w.est = int(n)
				}
				walk = w
			}
			p := plan{kind: "index-order", driver: walk}
			// Selectivity of everything but the walked range.
			rest := sel
			if walk.est > 0 && restricted {
				rest /= math.Min(1, float64(walk.est)/n)
			}
			rest = math.Max(rest, 1e-9)
			walked := math.Min(float64(walk.est), float64(k)/rest+float64(k))
			prefilter := 1.0
			for _, u := range uses {
				if u == walk {
					continue
				}
				s := math.Min(1, float64(u.est)/n)
				build := float64(u.est) * costSet
				if u.restrict {
					build = 0
				}
				if build < walked*prefilter*(1-s)*ce {
					p.sets = append(p.sets, u)
					p.cost += build
					prefilter *= s
				}
			}
			p.cost += walked*costKey + walked*prefilter*ce
			plans = append(plans, p)
		}
	}

	best := plans[0]
	if e.force != "" {
		for _, p := range plans {
			if p.kind == e.force {
				e.planDetail = planDetail(plans)
				return p
			}
		}
	}
	for _, p := range plans[1:] {
		if (e.q.NoScan && best.scan && !p.scan) || (p.cost < best.cost && !(e.q.NoScan && p.scan && !best.scan)) {
			best = p
		}
	}
	e.planDetail = planDetail(plans)
	return best
}

func planDetail(plans []plan) string {
	var b strings.Builder
	b.WriteString("costs:")
	for _, p := range plans {
		b.WriteString(" ")
		b.WriteString(p.kind)
		if p.driver != nil {
			b.WriteString("(" + p.driver.name())
			if d := p.driver.def; d != nil && d.Compound() {
				b.WriteString(" ~" + strconv.Itoa(p.driver.est) + " keys")
			}
			b.WriteString(")")
		}
		b.WriteString("=")
		b.WriteString(formatCost(p.cost))
	}
	return b.String()
}

func formatCost(c float64) string {
	switch {
	case c >= 1e6:
		return trimFloat(c/1e6) + "M"
	case c >= 1e3:
		return trimFloat(c/1e3) + "k"
	}
	return trimFloat(c)
}

func trimFloat(f float64) string {
	s := strings.TrimRight(strings.TrimRight(strconvFormat(f), "0"), ".")
	if s == "" {
		return "0"
	}
	return s
}

// engine state shared by planning and execution.
type engine struct {
	tx      *bolt.Tx
	coll    *schema.Collection
	q       Query
	l       Loader
	filters []*cfilter
	sort    *fieldRef
	members map[string]bool // the top-level members filters and sort read
	level   int
	docs    int
	sys     *bolt.Bucket
	meta    *bolt.Bucket
	primary *bolt.Bucket

	estKeys    int
	planDetail string
	force      string // plan kind forced by tests and benchmarks
	noCompound bool   // plan without compound indexes (forceNoCompound)
	ex         Explain
}

// singleValued reports whether no document has more than one key in d.
func (e *engine) singleValued(d *IndexDef) bool {
	n, ok := getCount(e.sys, multiKey(e.coll.Name, d.Name))
	return ok && n == 0
}

// satAdd is a+b for non-negative a and b, at most math.MaxInt: an offset
// near the largest int plus a limit must not wrap to a negative bound.
func satAdd(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}
