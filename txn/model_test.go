package txn

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/secondary"
	bolt "go.etcd.io/bbolt"
)

// model is what the store must hold: every document, whole, with its
// revision, and the change log. Everything else (records and their
// sizes, parts, summaries, index keys, blob reference counts) follows
// from it.
type model struct {
	docs map[string]map[string]*mdoc // collection → key → document
	log  []buckets.Change
}

type mdoc struct {
	doc any
	rev uint64
	// damaged: its primary value was made to fail its checksum. What it
	// derived (summary, index keys, parts, blob reference) is still
	// stored; a Put or a Delete replaces or removes it, anything that
	// needs the stored version fails with buckets.ErrCorrupt.
	damaged bool
}

func newModel() *model { return &model{docs: map[string]map[string]*mdoc{}} }

func (m *model) get(coll, key string) *mdoc { return m.docs[coll][key] }

func (m *model) rev(coll, key string) uint64 {
	if d := m.get(coll, key); d != nil {
		return d.rev
	}
	return 0
}

// commit records a successful write of doc, or a delete, and returns the
// change-log entry it must have produced.
func (m *model) commit(coll, key string, doc any, del bool) buckets.Change {
	ch := buckets.Change{Seq: uint64(len(m.log)) + 1, Collection: coll, ID: key, Op: buckets.OpPut, TimeMs: testNow.UnixMilli()}
	if m.docs[coll] == nil {
		m.docs[coll] = map[string]*mdoc{}
	}
	if del {
		ch.Op = buckets.OpDelete
		delete(m.docs[coll], key)
	} else {
		// The fields changed: the top-level fields whose values differ
		// from the document's before (all of a new one's).
		if nd, ok := doc.(map[string]any); ok {
			var od map[string]any
			if prev := m.docs[coll][key]; prev != nil && !prev.damaged { // a damaged one is replaced as absent
				od, _ = prev.doc.(map[string]any)
			}
			ch.Fields = []string{}
			for k, v := range nd {
				if ov, had := od[k]; !had || !reflect.DeepEqual(ov, v) {
					ch.Fields = append(ch.Fields, k)
				}
			}
			for k := range od {
				if _, has := nd[k]; !has {
					ch.Fields = append(ch.Fields, k)
				}
			}
			sort.Strings(ch.Fields)
		}
		m.docs[coll][key] = &mdoc{doc: deepCopy(doc), rev: ch.Seq}
	}
	m.log = append(m.log, ch)
	return ch
}

// refs derives the blob reference counts from the documents.
func (m *model) refs(s *schema.Schema) map[string]uint64 {
	out := map[string]uint64{}
	for coll, docs := range m.docs {
		c, _ := s.Lookup(coll)
		if c.BlobRef == "" {
			continue
		}
		for _, d := range docs {
			if doc, ok := d.doc.(map[string]any); ok {
				if h, _ := doc[c.BlobRef].(string); buckets.ValidHash(h) {
					out[h]++
				}
			}
		}
	}
	return out
}

// arrayParts returns the array part fields of doc that are stored as
// parts (those holding an array) and their lengths, and the blob parts
// (those holding anything but null).
func arrayParts(c *schema.Collection, doc any) (map[string]uint32, []string) {
	m, _ := doc.(map[string]any)
	var arr map[string]uint32
	var blobs []string
	for _, f := range c.ArrayParts {
		if a, ok := m[f].([]any); ok {
			if arr == nil {
				arr = map[string]uint32{}
			}
			arr[f] = uint32(len(a))
		}
	}
	for _, f := range c.BlobParts {
		if v, ok := m[f]; ok && v != nil {
			blobs = append(blobs, f)
		}
	}
	return arr, blobs
}

// check compares everything the store holds for the model's collections
// with what the model derives, reading through the read side.
func (m *model) check(t *testing.T, st *testStore, colls []string, step string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: %s", step, fmt.Sprintf(format, args...))
	}
	st.view(func(tx *bolt.Tx) {
		for _, coll := range colls {
			c, err := st.s.Lookup(coll)
			if err != nil {
				t.Fatal(err)
			}
			want := m.docs[coll]
			// Documents, revisions, sizes and the part layout.
			var keys []string
			err = buckets.EachRecord(tx, c, nil, false, func(k []byte, _ *buckets.Record, err error) error {
				keys = append(keys, string(k))
				if d := want[string(k)]; err != nil && (d == nil || !d.damaged) {
					return err
				}
				return nil
			})
			if err != nil {
				fail("%s: walking records: %v", coll, err)
			}
			if !slices.Equal(keys, sortedKeys(want)) {
				fail("%s: keys %q, want %q", coll, keys, sortedKeys(want))
			}
			wantParts := map[string]bool{}
			for _, key := range keys {
				d := want[key]
				if d.damaged {
					if _, err := buckets.ReadRecord(tx, c, key, true); !errors.Is(err, buckets.ErrCorrupt) {
						fail("%s/%s: damaged record read with %v, want ErrCorrupt", coll, key, err)
					}
					arr, blobs := arrayParts(c, d.doc)
					for f, n := range arr {
						for ci := 0; ci < buckets.Chunks(n); ci++ {
							wantParts[string(buckets.PartKey(key, f, ci))] = true
						}
					}
					for _, f := range blobs {
						wantParts[string(buckets.PartKey(key, f, -1))] = true
					}
					continue
				}
				rec, doc, err := buckets.ReadDocument(tx, c, key)
				if err != nil {
					fail("%s/%s: %v", coll, key, err)
				}
				if g, w := canon(doc), canon(d.doc); g != w {
					fail("%s/%s: document\n got %s\nwant %s", coll, key, g, w)
				}
				if rec.Rev != d.rev {
					fail("%s/%s: revision %d, want %d", coll, key, rec.Rev, d.rev)
				}
				if w := uint64(buckets.JSONSize(d.doc)); rec.Size != w {
					fail("%s/%s: logical size %d, want %d (the JSON size of %s)", coll, key, rec.Size, w, canon(d.doc))
				}
				arr, blobs := arrayParts(c, d.doc)
				if len(rec.ArrayParts) != len(arr) {
					fail("%s/%s: array parts %v, want %v", coll, key, rec.ArrayParts, arr)
				}
				for f, n := range arr {
					if got, ok := rec.ArrayParts[f]; !ok || got != n {
						fail("%s/%s: array parts %v, want %v", coll, key, rec.ArrayParts, arr)
					}
					for ci := 0; ci < buckets.Chunks(n); ci++ {
						wantParts[string(buckets.PartKey(key, f, ci))] = true
					}
				}
				slices.Sort(blobs)
				if got := slices.Sorted(slices.Values(rec.BlobParts)); !slices.Equal(got, blobs) {
					fail("%s/%s: blob parts %v, want %v", coll, key, got, blobs)
				}
				for _, f := range blobs {
					wantParts[string(buckets.PartKey(key, f, -1))] = true
				}
				// The header, as a Get without parts returns it.
				hdr, _ := rec.Doc.(map[string]any)
				for f := range arr {
					if _, in := hdr[f]; in {
						fail("%s/%s: array part %s also in the header", coll, key, f)
					}
				}
				// The metadata summary.
				if c.HasMeta() {
					mb := tx.Bucket(buckets.MetaBucket(coll))
					if mb == nil {
						fail("%s: no metadata bucket", coll)
					}
					raw := mb.Get([]byte(key))
					if raw == nil {
						fail("%s/%s: no metadata entry", coll, key)
					}
					got, err := buckets.DecodeValue(buckets.MetaBucket(coll), []byte(key), raw)
					if err != nil {
						fail("%s/%s: metadata: %v", coll, key, err)
					}
					ws := secondary.Summary(c, key, &secondary.DocState{Doc: d.doc, Rev: d.rev, Size: uint64(buckets.JSONSize(d.doc)), ArrayParts: arr})
					if canon(got) != canon(ws) {
						fail("%s/%s: metadata\n got %s\nwant %s", coll, key, canon(got), canon(ws))
					}
				}
				// The status index, by hand (secondary.Verify below checks
				// every index against the primary data).
				if c.IndexFor("status") != nil {
					if s, ok := d.doc.(map[string]any)["status"].(string); ok {
						b := tx.Bucket(buckets.IndexBucket(coll, "status"))
						k := buckets.IndexKey(buckets.IndexString(s), key)
						if b == nil || !bucketHas(b, k) {
							fail("%s/%s: status index has no key for %q", coll, key, s)
						}
					}
				}
			}
			// No part, summary or index key without its document.
			if pb := tx.Bucket(buckets.PartsBucket(coll)); pb != nil {
				got := map[string]bool{}
				_ = pb.ForEach(func(k, _ []byte) error { got[string(k)] = true; return nil })
				if canon(sortedKeys(got)) != canon(sortedKeys(wantParts)) {
					fail("%s: part keys %q, want %q", coll, sortedKeys(got), sortedKeys(wantParts))
				}
			} else if len(wantParts) > 0 {
				fail("%s: no parts bucket, want %q", coll, sortedKeys(wantParts))
			}
			if mb := tx.Bucket(buckets.MetaBucket(coll)); mb != nil {
				n := 0
				_ = mb.ForEach(func(k, _ []byte) error {
					n++
					if want[string(k)] == nil {
						fail("%s/%s: metadata entry without a document", coll, k)
					}
					return nil
				})
				if n != len(want) {
					fail("%s: %d metadata entries, want %d", coll, n, len(want))
				}
			}
			for _, ix := range c.Indexes {
				b := tx.Bucket(buckets.IndexBucket(coll, ix.Name))
				if b == nil {
					continue
				}
				_ = b.ForEach(func(k, _ []byte) error {
					_, id, err := buckets.SplitIndexKey(k)
					if err != nil || want[id] == nil {
						fail("%s: index %s key %x of no document (%v)", coll, ix.Name, k, err)
					}
					return nil
				})
			}
		}
		// The change log.
		var log []buckets.Change
		if lb := tx.Bucket(buckets.LogBucket); lb != nil {
			_ = lb.ForEach(func(k, v []byte) error {
				ch, err := buckets.DecodeChange(k, v)
				if err != nil {
					fail("log: %v", err)
				}
				log = append(log, *ch)
				return nil
			})
		}
		if canon(log) != canon(m.log) {
			fail("change log\n got %s\nwant %s", canon(log), canon(m.log))
		}
		// Blob reference counts.
		got := map[string]uint64{}
		if rb := tx.Bucket(buckets.RefsBucket); rb != nil {
			_ = rb.ForEach(func(k, v []byte) error {
				n, err := buckets.ParseCount(v)
				if err != nil {
					fail("refs %s: %v", k, err)
				}
				got[string(k)] = n
				return nil
			})
		}
		if canon(got) != canon(m.refs(st.s)) {
			fail("blob references %s, want %s", canon(got), canon(m.refs(st.s)))
		}
	})
	for _, p := range st.problems() {
		if d := m.get(p.Collection, p.ID); p.Kind == "unreadable" && d != nil && d.damaged {
			continue
		}
		t.Fatalf("%s: secondary.Verify: %v", step, p)
	}
}

func bucketHas(b *bolt.Bucket, k []byte) bool {
	ck, _ := b.Cursor().Seek(k)
	return string(ck) == string(k)
}

// gen makes random documents, patches and elements from a small pool of
// ids, field names and values, so that writes collide, replace, delete
// and re-create.
type gen struct {
	r *rand.Rand
}

var (
	genColls    = []string{"sessions", "sessions", "sessions", "notes", "tasks", "attachments", "widgets", "extras", "settings"}
	genIDs      = []string{"a", "b", "c", "2024-01-01T09:00:00Z-d"}
	genStatuses = []string{"active", "paused", "done", "todo"}
	genHashes   = []string{
		"0000000000000000000000000000000000000000000000000000000000000001",
		"00000000000000000000000000000000000000000000000000000000000000aa",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	}
)

func (g *gen) pick(list []string) string { return list[g.r.Intn(len(list))] }

// value returns a random scalar or small container.
func (g *gen) value(depth int) any {
	switch n := g.r.Intn(10); {
	case n == 0:
		return nil
	case n == 1:
		return g.r.Intn(2) == 0
	case n == 2:
		return int64(g.r.Intn(2000) - 1000)
	case n == 3:
		return float64(g.r.Intn(1000)) + 0.25
	case n == 4 && depth < 3:
		a := make([]any, g.r.Intn(4))
		for i := range a {
			a[i] = g.value(depth + 1)
		}
		return a
	case n == 5 && depth < 3:
		m := map[string]any{}
		for i := g.r.Intn(3); i > 0; i-- {
			m["k"+strconv.Itoa(g.r.Intn(4))] = g.value(depth + 1)
		}
		return m
	case n == 6:
		return "2024-0" + strconv.Itoa(1+g.r.Intn(9)) + "-1" + strconv.Itoa(g.r.Intn(10)) + "T10:00:00Z"
	}
	words := []string{"alpha", "beta", "# Heading", "<b>bold</b> text", "ünïcode", "", "line\nnext"}
	return g.pick(words)
}

// elems returns n array-part elements (sometimes enough to fill several
// chunks).
func (g *gen) elems() []any {
	n := g.r.Intn(5)
	if g.r.Intn(4) == 0 {
		n = g.r.Intn(3 * buckets.PartChunk)
	}
	out := make([]any, n)
	for i := range out {
		if g.r.Intn(3) == 0 {
			out[i] = g.value(1)
		} else {
			out[i] = map[string]any{"timestamp": g.value(2), "aiAnalysis": map[string]any{"summary": g.value(2)}}
		}
	}
	return out
}

// field returns a random field name and value for a document of c.
func (g *gen) field(c *schema.Collection) (string, any) {
	switch c.Name {
	case "sessions":
		switch g.r.Intn(9) {
		case 0, 1:
			f := g.pick(c.ArrayParts)
			switch g.r.Intn(8) {
			case 0, 1:
				return f, nil // kept in the header; Append replaces it
			case 2:
				return f, g.value(1) // mostly not an array: kept in the header
			}
			return f, g.elems()
		case 2, 3:
			return g.pick(c.BlobParts), g.value(0)
		case 4:
			return "status", g.pick(genStatuses)
		case 5:
			return "tags", []any{g.pick(genStatuses), "t" + strconv.Itoa(g.r.Intn(3))}
		case 6:
			return "startTime", g.value(0)
		case 7:
			return "relationships", []any{map[string]any{"targetId": g.pick(genIDs)}}
		}
	case "notes":
		if g.r.Intn(2) == 0 {
			return g.pick([]string{"content", "summary"}), g.value(0)
		}
	case "tasks":
		if g.r.Intn(2) == 0 {
			return g.pick([]string{"status", "priority", "done", "dueDate"}), g.value(0)
		}
	case "attachments":
		switch g.r.Intn(3) {
		case 0:
			return "hash", g.pick(genHashes)
		case 1:
			return "hash", g.value(0) // not a hash: no reference
		}
		return "size", g.value(0)
	case "widgets":
		if g.r.Intn(2) == 0 {
			return "color", g.value(1)
		}
	}
	return g.pick([]string{"name", "x", "y", "nested"}), g.value(0)
}

// doc returns a random whole document of c stored under key.
func (g *gen) doc(t testing.TB, c *schema.Collection, key string) any {
	if c.Kind == schema.Extras && g.r.Intn(3) == 0 {
		return mustNorm(t, g.value(0))
	}
	m := map[string]any{}
	for i := g.r.Intn(6); i >= 0; i-- {
		f, v := g.field(c)
		m[f] = v
	}
	if c.Kind == schema.Entity {
		m["id"] = key
	}
	return mustNorm(t, m)
}

// patch returns a random merge patch for c: fields set, changed, or
// removed (null), nested objects merged.
func (g *gen) patch(t testing.TB, c *schema.Collection) any {
	if c.Kind == schema.Extras && g.r.Intn(4) == 0 {
		return mustNorm(t, g.value(0))
	}
	m := map[string]any{}
	for i := g.r.Intn(3); i >= 0; i-- {
		f, v := g.field(c)
		if g.r.Intn(4) == 0 {
			v = nil
		}
		m[f] = v
	}
	return mustNorm(t, m)
}

func envInt(t *testing.T, name string, def int64) int64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// TestWriter_model drives the Writer with random operations (Put, Patch,
// Modify, Append, Delete, with and without expected revisions, valid and
// not) against an in-memory model and compares, after every operation,
// the whole store read back with the model: documents, revisions, sizes,
// parts, metadata summaries, index keys (secondary.Verify and a direct
// look at the status index), the change log and blob reference counts. A
// failed operation must leave the store as it was, byte for byte.
//
// CAIRN_TXN_SEED picks the run (the seed is logged on failure);
// CAIRN_TXN_ITERS makes it longer.
func TestWriter_model(t *testing.T) {
	seed := envInt(t, "CAIRN_TXN_SEED", 1)
	iters := int(envInt(t, "CAIRN_TXN_ITERS", 400))
	if testing.Short() && os.Getenv("CAIRN_TXN_ITERS") == "" {
		iters = 150
	}
	t.Logf("CAIRN_TXN_SEED=%d CAIRN_TXN_ITERS=%d", seed, iters)
	g := &gen{r: rand.New(rand.NewSource(seed))}
	st := openStore(t)
	m := newModel()
	colls := []string{"sessions", "notes", "tasks", "attachments", "widgets", "extras", "settings"}
	ops := map[string]int{}
	for i := 0; i < iters; i++ {
		coll := g.pick(genColls)
		c, _ := st.s.Lookup(coll)
		id := g.pick(genIDs)
		key, _ := c.Key(id)
		cur := m.get(coll, key)
		if cur != nil && !cur.damaged && g.r.Intn(25) == 0 {
			st.corrupt(coll, key)
			cur.damaged = true
			ops["damage"]++
			m.check(t, st, colls, fmt.Sprintf("seed %d step %d: damage %s/%s", seed, i, coll, key))
			continue
		}
		damaged := cur != nil && cur.damaged
		before := st.dump()
		refsBefore := m.refs(st.s)

		// expect: any revision, the right one, or a wrong one.
		var expect uint64
		switch g.r.Intn(5) {
		case 0:
			expect = m.rev(coll, key)
		case 1:
			expect = m.rev(coll, key) + 1 + uint64(g.r.Intn(3))
		}
		conflict := expect != 0 && expect != m.rev(coll, key)

		var (
			op      string
			wantErr error
			newDoc  any  // the document after a successful write
			deleted bool // a successful delete
			noop    bool // a successful call that changes nothing
			call    func(w *Writer) error
		)
		switch n := g.r.Intn(10); {
		case n < 3:
			op = "put"
			doc := g.doc(t, c, key)
			switch {
			case c.Kind == schema.Entity && g.r.Intn(12) == 0:
				doc = mustNorm(t, map[string]any{"id": key + "x"})
				wantErr = ErrInvalid
			case damaged && expect != 0:
				wantErr = buckets.ErrCorrupt // the stored revision cannot be compared
			case damaged:
				// Replaced without being read.
			case conflict:
				wantErr = ErrConflict
			}
			newDoc = doc
			call = func(w *Writer) error {
				in := canon(doc)
				rev, err := w.Put(coll, id, doc, expect)
				if err == nil && rev != uint64(len(m.log))+1 {
					return fmt.Errorf("revision %d, want %d", rev, len(m.log)+1)
				}
				if canon(doc) != in {
					return fmt.Errorf("Put changed its argument: %s, was %s", canon(doc), in)
				}
				return err
			}
		case n < 6:
			op = "patch"
			p := g.patch(t, c)
			pm, isMap := p.(map[string]any)
			if c.Kind == schema.Entity && isMap && g.r.Intn(10) == 0 {
				pm["id"] = key + "x"
			}
			var base any = map[string]any{}
			switch {
			case c.Kind == schema.Entity && isMap && pm["id"] != nil && pm["id"] != key:
				wantErr = ErrInvalid
			case damaged:
				wantErr = buckets.ErrCorrupt
			case cur == nil && c.Kind != schema.Singleton:
				wantErr = ErrNotFound
			case conflict:
				wantErr = ErrConflict
			case cur != nil:
				base = cur.doc
			}
			if wantErr == nil {
				newDoc = MergePatch(deepCopy(base), p)
				if c.Kind == schema.Entity {
					newDoc.(map[string]any)["id"] = key
				}
			}
			call = func(w *Writer) error {
				in := canon(p)
				_, err := w.Patch(coll, id, p, expect)
				if canon(p) != in {
					return fmt.Errorf("Patch changed its argument: %s, was %s", canon(p), in)
				}
				return err
			}
		case n < 7:
			op = "modify"
			f, v := g.field(c)
			v = mustNorm(t, v)
			refuse := g.r.Intn(8) == 0
			switch {
			case cur == nil:
				wantErr = ErrNotFound
			case damaged:
				wantErr = buckets.ErrCorrupt
			case refuse:
				wantErr = errRefused
			case c.Kind == schema.Extras:
				newDoc = v
			default:
				d := deepCopy(cur.doc).(map[string]any)
				d[f] = v
				newDoc = d
			}
			call = func(w *Writer) error {
				_, err := w.Modify(coll, id, func(doc any) (any, error) {
					if refuse {
						return nil, errRefused
					}
					if c.Kind == schema.Extras {
						return v, nil
					}
					d := doc.(map[string]any)
					// Change a part array in place first: the write
					// must not be fooled by shared maps and slices.
					if a, ok := d["screenshots"].([]any); ok && len(a) > 0 {
						a[0] = "scribbled"
					}
					d[f] = v
					if a, ok := cur.doc.(map[string]any)["screenshots"].([]any); ok && len(a) > 0 && f != "screenshots" {
						d["screenshots"] = deepCopy(a)
					}
					return d, nil
				})
				return err
			}
		case n < 9:
			op = "append"
			field := "screenshots"
			if coll == "sessions" {
				field = g.pick(c.ArrayParts)
			} else if g.r.Intn(2) == 0 {
				field = "name"
			}
			elems := g.elems()
			switch part, array := c.IsPart(field); {
			case !part || !array:
				wantErr = ErrInvalid
			case cur == nil:
				wantErr = ErrNotFound
			case damaged:
				wantErr = buckets.ErrCorrupt
			default:
				d := deepCopy(cur.doc).(map[string]any)
				switch old := d[field].(type) {
				case nil:
					d[field] = mustNorm(t, elems)
					newDoc = d
				case []any:
					d[field] = append(old, mustNorm(t, elems).([]any)...)
					newDoc = d
				default:
					wantErr = ErrInvalid
				}
			}
			call = func(w *Writer) error {
				in := canon(elems)
				_, err := w.Append(coll, id, field, elems)
				if canon(elems) != in {
					return fmt.Errorf("Append changed its argument: %s, was %s", canon(elems), in)
				}
				return err
			}
		default:
			op = "delete"
			switch {
			case damaged && expect != 0:
				wantErr = buckets.ErrCorrupt
			case damaged:
				deleted = true
			case conflict:
				wantErr = ErrConflict
			case cur == nil:
				noop = true
			default:
				deleted = true
			}
			call = func(w *Writer) error {
				existed, err := w.Delete(coll, id, expect)
				if err == nil && existed != (cur != nil) {
					return fmt.Errorf("Delete reported existed=%v, want %v", existed, cur != nil)
				}
				return err
			}
		}
		// Sometimes a size limit at the new document's exact size, one
		// byte above or one below: the write's own accounting of the
		// logical size (parts kept, appended, replaced) must agree.
		var maxSize uint64
		// (Not over a damaged record: a Put removes what it derived
		// before it sizes the new version, and rolls back.)
		if wantErr == nil && !deleted && !noop && !damaged && buckets.JSONSize(newDoc) > 2 && g.r.Intn(5) == 0 {
			maxSize = uint64(buckets.JSONSize(newDoc)) + uint64(g.r.Intn(3)) - 1
			if maxSize < uint64(buckets.JSONSize(newDoc)) {
				wantErr = buckets.ErrTooLarge
			}
		}
		newDoc = deepCopy(newDoc) // what the store must hold, whatever the call does to its arguments
		step := fmt.Sprintf("seed %d step %d: %s %s/%s (expect %d, max size %d)", seed, i, op, coll, key, expect, maxSize)
		w, err := st.run(func(w *Writer) error {
			w.MaxSize = maxSize
			return call(w)
		})
		ops[op+errName(wantErr)]++
		if wantErr != nil {
			if !errors.Is(err, wantErr) {
				t.Fatalf("%s: error %v, want %v", step, err, wantErr)
			}
			if w.Dirty() {
				t.Fatalf("%s: failed with %v after changing the transaction", step, err)
			}
			if after := st.dump(); after != before {
				t.Fatalf("%s: failed with %v but changed the store:\n%s", step, err, dumpDiff(before, after))
			}
			m.check(t, st, colls, step)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		var want []buckets.Change
		switch {
		case noop:
			if w.Dirty() || st.dump() != before {
				t.Fatalf("%s: deleting an absent document changed the store", step)
			}
		case deleted:
			want = append(want, m.commit(coll, key, nil, true))
		default:
			want = append(want, m.commit(coll, key, newDoc, false))
		}
		if canon(w.Changes()) != canon(want) {
			t.Fatalf("%s: Changes() = %s, want %s", step, canon(w.Changes()), canon(want))
		}
		refsAfter := m.refs(st.s)
		var zeroed []string
		for h := range refsBefore {
			if refsAfter[h] == 0 {
				zeroed = append(zeroed, h)
			}
		}
		slices.Sort(zeroed)
		if got := slices.Sorted(slices.Values(w.Zeroed())); !slices.Equal(got, zeroed) {
			t.Fatalf("%s: Zeroed() = %q, want %q", step, got, zeroed)
		}
		m.check(t, st, colls, step)
		// Read back inside a writer: Get sees the same document.
		if d := m.get(coll, key); d != nil {
			_, err := st.run(func(w *Writer) error {
				doc, rev, err := w.Get(coll, id, true)
				if err != nil {
					return err
				}
				if canon(doc) != canon(d.doc) || rev != d.rev {
					return fmt.Errorf("Get = %s rev %d, want %s rev %d", canon(doc), rev, canon(d.doc), d.rev)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
		}
	}
	// A recount finds the counts the writes kept.
	if _, err := st.run(func(w *Writer) error {
		n, err := w.RecountRefs()
		if err == nil && n != 0 {
			err = fmt.Errorf("RecountRefs changed %d counts", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	m.check(t, st, colls, "after RecountRefs")
	t.Logf("operations: %v", ops)
}

var errRefused = errors.New("refused by the caller")

func errName(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotFound):
		return "/notfound"
	case errors.Is(err, ErrConflict):
		return "/conflict"
	case errors.Is(err, ErrInvalid):
		return "/invalid"
	case errors.Is(err, buckets.ErrTooLarge):
		return "/toolarge"
	case errors.Is(err, buckets.ErrCorrupt):
		return "/corrupt"
	}
	return "/other"
}
