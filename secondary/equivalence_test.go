package secondary

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	bolt "go.etcd.io/bbolt"
)

var (
	equivQueries = flag.Int("equiv.queries", 150, "random queries per phase of TestRun_equivalence (4 phases)")
	equivSeed    = flag.Uint64("equiv.seed", 20251126, "seed of TestRun_equivalence")
)

// gen makes random documents and queries over a small shared vocabulary so
// that filters match often, sort keys tie, and every value type meets every
// other.
type gen struct {
	r *rand.Rand
}

var (
	genStatus = []any{"active", "completed", "paused", "Completed", "interrupted", "", "ünïcode", int64(3), true}
	genTags   = []any{"work", "deep work", "Work", "ÉTÉ", "日本", "a\x00b", "a", "ab", "b", int64(7), 2.5, false}
	genNums   = []any{int64(0), int64(-1), int64(5), 5.0, 5.5, int64(1) << 53, int64(1)<<53 + 1, uint64(1) << 63,
		json.Number("123456789012345678901234567890"), json.Number("1e300"), -2.25, int64(1700000000000),
		// Numbers float64 does not hold, next to the floats nearest them.
		0.1, json.Number("0.10000000000000000001"), json.Number("0.09999999999999999999"),
		json.Number("5.00000000000000000001"), float64(1 << 60), int64(1 << 60), json.Number("1152921504606847000.5"),
		json.Number("1e400"), json.Number("-1e-400")}
	genDates = []any{
		"2025-01-01", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00.000Z", "2024-12-31T23:00:00-01:00",
		"2025-03-15T10:30:00.123Z", "2025-03-15T10:30:00.123456Z", "2025-03-15T10:30:00", "2025-03-15 10:30:00",
		"2025-06-30T12:00:00+02:00", "2024-02-29", "2025-07-04T08:00Z", int64(1735689600000), int64(1742034600123),
		1.7420346001235e12, "not a date", "2025-13-01", "", true, int64(-5),
		"2025-01-01T01:00:00+0100", "2025-01-01t00:00:00z", "2025-03-15T10:30:00,123+00", "1735689600000",
		"1742034600123.5", json.Number("1735689600000.25"), "2025-01-01T24:00:00Z", "+002025-01-01T00:00:00Z",
	}
	genNames = []any{"Acme", "acme", "ACME", "Ärger", "ärger", "straße", "STRASSE", "Kelvin", "kelvin", "", "Zed"}
	genIDs   = []any{"t-1", "t-2", "n-1", "c-1", "c-2", "x"}
)

func (g *gen) pick(xs []any) any { return xs[g.r.IntN(len(xs))] }

// maybe returns v, or null, or nothing (ok false), or a surprise.
func (g *gen) field(m map[string]any, name string, v func() any) {
	switch g.r.IntN(12) {
	case 0:
		return // missing
	case 1:
		m[name] = nil
	case 2:
		m[name] = g.pick(genNums)
	case 3:
		m[name] = []any{v(), v()}
	default:
		m[name] = v()
	}
}

func (g *gen) list(xs []any) any {
	n := g.r.IntN(4)
	a := make([]any, 0, n)
	for range n {
		a = append(a, g.pick(xs))
	}
	if g.r.IntN(10) == 0 {
		a = append(a, nil, []any{"nested"}, map[string]any{"o": 1})
	}
	return a
}

func (g *gen) doc(coll string) map[string]any {
	m := map[string]any{}
	switch coll {
	case "sessions":
		g.field(m, "status", func() any { return g.pick(genStatus) })
		g.field(m, "tags", func() any { return g.list(genTags) })
		g.field(m, "startTime", func() any { return g.pick(genDates) })
		g.field(m, "endTime", func() any { return g.pick(genDates) })
		g.field(m, "category", func() any { return g.pick(genNames) })
		g.field(m, "name", func() any { return g.pick(genNames) })
		g.field(m, "score", func() any { return g.pick(genNums) })
		g.field(m, "enrichmentStatus", func() any {
			return map[string]any{"status": g.pick(genStatus), "completedAt": g.pick(genDates)}
		})
		g.field(m, "relationships", func() any {
			return []any{map[string]any{"targetId": g.pick(genIDs), "targetType": "task"}, map[string]any{"targetId": g.pick(genIDs)}}
		})
		g.field(m, "companyIds", func() any { return g.list(genIDs) })
		g.field(m, "trackingNoteId", func() any { return g.pick(genIDs) })
		if g.r.IntN(3) == 0 {
			m["screenshots"] = []any{map[string]any{"timestamp": g.pick(genDates), "flagged": g.r.IntN(2) == 0}}
		}
		if g.r.IntN(3) == 0 {
			m["summary"] = map[string]any{"narrative": g.pick(genNames), "lastUpdated": g.pick(genDates)}
		}
	case "tasks":
		g.field(m, "title", func() any { return g.pick(genNames) })
		g.field(m, "status", func() any { return g.pick(genStatus) })
		g.field(m, "priority", func() any { return g.pick(genNums) })
		g.field(m, "done", func() any { return g.r.IntN(2) == 0 })
		g.field(m, "dueDate", func() any { return g.pick(genDates) })
		g.field(m, "createdAt", func() any { return g.pick(genDates) })
		g.field(m, "tags", func() any { return g.list(genTags) })
		g.field(m, "aiContext", func() any { return map[string]any{"sourceNoteId": g.pick(genIDs)} })
		g.field(m, "noteId", func() any { return g.pick(genIDs) })
	case "topics":
		g.field(m, "name", func() any { return g.pick(genNames) })
		g.field(m, "lastUpdated", func() any { return g.pick(genDates) })
		g.field(m, "noteCount", func() any { return g.pick(genNums) })
	}
	return m
}

var genFields = map[string][]string{
	"sessions": {"status", "tags", "startTime", "endTime", "category", "name", "score", "enrichmentStatus.status",
		"enrichmentStatus.completedAt", "relationships.targetId", LinksField, "companyIds", "screenshots.timestamp",
		"screenshots.flagged", "summary.lastUpdated", "missing", "id"},
	"tasks":  {"title", "status", "priority", "done", "dueDate", "createdAt", "tags", "aiContext.sourceNoteId", LinksField, "noteId"},
	"topics": {"name", "lastUpdated", "noteCount"},
}

var genOps = []string{OpEq, OpEq, OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpGe, OpIn, OpContains, OpExists}

// operand picks a query value that often matches field's values.
func (g *gen) operand(coll, field string) any {
	if field == LinksField || field == "relationships.targetId" || field == "companyIds" || field == "noteId" || field == "aiContext.sourceNoteId" {
		return g.pick(genIDs)
	}
	if mustLookup(coll).IsTimestamp(field) {
		for {
			v := g.pick(genDates)
			if _, err := coerce(v, true); err == nil {
				return v
			}
		}
	}
	switch g.r.IntN(6) {
	case 0:
		return g.pick(genNums)
	case 1:
		return g.pick(genTags)
	case 2:
		return g.pick(genNames)
	case 3:
		return json.Number(fmt.Sprint(g.r.IntN(8)))
	}
	return g.pick(genStatus)
}

// filter makes one random filter: a comparison, or (one time in five, at
// most two levels deep) an "or" of 1 to 3 filters.
func (g *gen) filter(coll string, depth int) Filter {
	if depth < 2 && g.r.IntN(5) == 0 {
		f := Filter{Op: OpOr}
		for range 1 + g.r.IntN(3) {
			f.Or = append(f.Or, g.filter(coll, depth+1))
		}
		return f
	}
	field := genFields[coll][g.r.IntN(len(genFields[coll]))]
	f := Filter{Field: field, Op: genOps[g.r.IntN(len(genOps))]}
	if depth > 0 && g.r.IntN(2) == 0 {
		f.Op = OpEq // alternatives on indexed equality: a union plan
	}
	switch f.Op {
	case OpIn:
		for range 1 + g.r.IntN(3) {
			f.Values = append(f.Values, g.operand(coll, field))
		}
	case OpExists:
		if g.r.IntN(3) == 0 {
			f.Value = false
		}
	default:
		f.Value = g.operand(coll, field)
	}
	return f
}

func (g *gen) query(coll string, ids []string) Query {
	q := Query{Collection: coll}
	if coll == "sessions" && g.r.IntN(4) == 0 {
		// The shape the compound index status+startTime serves:
		// equality on status, then a range on startTime (or another
		// equality), in either order among the other filters.
		q.Filters = append(q.Filters, Filter{Field: "status", Op: OpEq, Value: g.operand(coll, "status")})
		ops := []string{OpGe, OpLt, OpLe, OpGt, OpEq}
		q.Filters = append(q.Filters, Filter{Field: "startTime", Op: ops[g.r.IntN(len(ops))], Value: g.operand(coll, "startTime")})
		if g.r.IntN(2) == 0 {
			q.Filters[0], q.Filters[1] = q.Filters[1], q.Filters[0]
		}
	}
	for range g.r.IntN(4) {
		q.Filters = append(q.Filters, g.filter(coll, 0))
	}
	if g.r.IntN(3) > 0 {
		q.Sort = genFields[coll][g.r.IntN(len(genFields[coll]))]
		q.Desc = g.r.IntN(2) == 0
	}
	if g.r.IntN(3) > 0 {
		q.Limit = 1 + g.r.IntN(25)
	}
	if g.r.IntN(3) == 0 {
		q.Offset = g.r.IntN(15)
	}
	q.Count = g.r.IntN(10) == 0
	if g.r.IntN(8) == 0 && len(ids) > 0 {
		q.Restrict = map[string]struct{}{"no-such-id": {}}
		for range g.r.IntN(len(ids)) {
			q.Restrict[ids[g.r.IntN(len(ids))]] = struct{}{}
		}
	}
	return q
}

// model mirrors the store: collection → id → full document.
type model map[string]map[string]any

func (m model) ids(coll string) []string {
	var out []string
	for id := range m[coll] {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

var equivColls = []string{"sessions", "tasks", "topics"}

// checkQueries runs n random queries and compares each with naiveRun.
func checkQueries(t *testing.T, s *testStore, g *gen, m model, n int, phase string, plans map[string]int) {
	t.Helper()
	for i := range n {
		coll := equivColls[i%len(equivColls)]
		q := g.query(coll, m.ids(coll))
		want, wantTotal := naiveRun(q, m[coll])
		// The planner's choice, then (every other query) every other
		// candidate plan forced.
		forces := []string{""}
		if i%2 == 0 {
			forces = append(forces, "index-order", "index-range", "index-intersection", "id-set", "metadata-scan", "full-scan")
		}
		for _, force := range forces {
			ids, total, ex, err := s.runForced(q, force)
			if err != nil {
				t.Fatalf("%s: query %+v: %v", phase, q, err)
			}
			if force != "" && ex.Plan != force {
				continue // not a candidate for this query
			}
			plans[ex.Plan]++
			if strings.Contains(ex.Index, "status+startTime") {
				plans["compound"]++
			}
			if strings.Contains(ex.Index, "|") {
				plans["union"]++
			}
			if strings.Contains(ex.Detail, "index-only") {
				plans["index-only"]++
			}
			if q.Count {
				if total != wantTotal || ids != nil {
					t.Fatalf("%s: count query %+v: got %d (ids %v), want %d\nexplain %+v", phase, q, total, ids, wantTotal, ex)
				}
				continue
			}
			if !slices.Equal(ids, want) && !(len(ids) == 0 && len(want) == 0) {
				t.Fatalf("%s: query %+v\n got  %q\n want %q\nexplain %+v", phase, q, ids, want, ex)
			}
			if total != -1 && total != wantTotal {
				t.Fatalf("%s: query %+v: total %d, want %d (explain %+v)", phase, q, total, wantTotal, ex)
			}
		}
	}
}

// TestRun_equivalence is the core property: on random documents, every
// random query returns exactly what a naive full scan returns, in the same
// order; after creates, after random updates and deletes, after Rebuild,
// and after a Sync-triggered backfill.
func TestRun_equivalence(t *testing.T) {
	seed := *equivSeed
	g := &gen{r: rand.New(rand.NewPCG(seed, seed))}
	s := openStore(t)
	m := model{}
	plans := map[string]int{}
	const perColl = 220
	write := func(coll, id string, doc map[string]any) {
		d := mustNormalize(t, doc)
		if m[coll] == nil {
			m[coll] = map[string]any{}
		}
		m[coll][id] = d
		s.put(coll, id, d)
	}
	for _, coll := range equivColls {
		if err := s.db.Update(func(tx *bolt.Tx) error {
			for i := range perColl {
				id := idf(coll[:2], i)
				d := mustNormalize(t, g.doc(coll))
				if m[coll] == nil {
					m[coll] = map[string]any{}
				}
				m[coll][id] = d
				if err := s.putTx(tx, coll, id, d); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	checkQueries(t, s, g, m, *equivQueries, "after create", plans)

	// Random updates and deletes.
	for i := range 300 {
		coll := equivColls[g.r.IntN(len(equivColls))]
		id := idf(coll[:2], g.r.IntN(perColl+20))
		if i%4 == 0 {
			delete(m[coll], id)
			s.delete(coll, id)
			continue
		}
		write(coll, id, g.doc(coll))
	}
	if ps := s.verify(); len(ps) > 0 {
		t.Fatalf("Verify after updates: %v", ps)
	}
	checkQueries(t, s, g, m, *equivQueries, "after updates", plans)

	// Rebuild everything.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := Rebuild(tx, nil, nil, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	checkQueries(t, s, g, m, *equivQueries, "after rebuild", plans)

	// A changed declaration (altered fingerprint), a lost index bucket and
	// a lost histogram: Sync backfills them.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		sys := tx.Bucket(buckets.SysBucket)
		if err := sys.Put(fpKey("sessions", "tags"), []byte("v0;old")); err != nil {
			return err
		}
		// The compound index, emptied and stale: Sync backfills it.
		if err := sys.Put(fpKey("sessions", "status+startTime"), []byte("v0;old")); err != nil {
			return err
		}
		if err := tx.DeleteBucket(buckets.IndexBucket("sessions", "status+startTime")); err != nil {
			return err
		}
		if err := tx.DeleteBucket(buckets.IndexBucket("tasks", "status")); err != nil {
			return err
		}
		return tx.DeleteBucket(buckets.IndexBucket("topics", "name"))
	}); err != nil {
		t.Fatal(err)
	}
	var changed []string
	if err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		changed, err = Sync(tx, nil, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(changed)
	if want := []string{"sessions/status+startTime", "sessions/tags", "tasks/status", "topics/name"}; !slices.Equal(changed, want) {
		t.Fatalf("Sync changed %v, want %v", changed, want)
	}
	checkQueries(t, s, g, m, *equivQueries, "after sync", plans)
	t.Logf("plans used: %v", plans)
	for _, p := range []string{"index-range", "index-order", "metadata-scan", "full-scan", "union", "index-only", "compound"} {
		if plans[p] == 0 {
			t.Errorf("no query used plan %s (plans: %v)", p, plans)
		}
	}
}

// TestRun_noScan checks NoScan refuses scans and allows index plans.
func TestRun_noScan(t *testing.T) {
	s := openStore(t)
	for i := range 50 {
		s.put("sessions", idf("s", i), map[string]any{"status": []string{"active", "completed"}[i%2], "startTime": fmt.Sprintf("2025-01-%02dT10:00:00Z", 1+i%28)})
	}
	_, _, _, err := s.run(Query{Collection: "sessions", Filters: []Filter{{Field: "description", Op: OpEq, Value: "x"}}, NoScan: true})
	if !errors.Is(err, ErrFullScan) {
		t.Fatalf("unindexed filter with NoScan: err %v, want ErrFullScan", err)
	}
	ids, _, ex, err := s.run(Query{Collection: "sessions", Filters: []Filter{{Field: "status", Op: OpEq, Value: "active"}}, NoScan: true})
	if err != nil || len(ids) != 25 || ex.Plan != "index-range" {
		t.Fatalf("indexed filter with NoScan: %d ids, plan %q, err %v", len(ids), ex.Plan, err)
	}
}

// TestRun_compoundNotBuilt: a compound index the store has not built yet
// (a read-only handle on a store older than the index) is not used.
func TestRun_compoundNotBuilt(t *testing.T) {
	s := openStore(t)
	s.put("sessions", "s1", mustNormalize(t, map[string]any{"id": "s1", "status": "active", "startTime": "2025-01-02T00:00:00Z"}))
	q := Query{Collection: "sessions", Filters: []Filter{
		{Field: "status", Op: OpEq, Value: "active"},
		{Field: "startTime", Op: OpGe, Value: "2025-01-01"},
	}}
	ids, _, ex, err := s.run(q)
	if err != nil || len(ids) != 1 || !strings.Contains(ex.Detail, "status+startTime") {
		t.Fatalf("built: %v %+v %v", ids, ex, err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(buckets.SysBucket).Delete(fpKey("sessions", "status+startTime")); err != nil {
			return err
		}
		return tx.DeleteBucket(buckets.IndexBucket("sessions", "status+startTime"))
	}); err != nil {
		t.Fatal(err)
	}
	ids, _, ex, err = s.run(q)
	if err != nil || len(ids) != 1 || strings.Contains(ex.Detail, "status+startTime") {
		t.Fatalf("not built: %v %+v %v", ids, ex, err)
	}
	// Sync (as a writable open does) builds it again, and Verify is clean at teardown.
	if err := s.db.Update(func(tx *bolt.Tx) error { _, err := Sync(tx, nil, nil); return err }); err != nil {
		t.Fatal(err)
	}
}
