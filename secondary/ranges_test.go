package secondary

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/cairnkv/cairn/buckets"
)

// TestValueLen checks splitKey against buckets.SplitIndexKey on every kind
// of value, including strings with NUL bytes and ids that look like values.
func TestValueLen(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vals := [][]byte{buckets.IndexBool(false), buckets.IndexBool(true), buckets.IndexNumber(-1.5), buckets.IndexNumber(0),
		buckets.IndexTime(-1), buckets.IndexTime(1735689600000), buckets.IndexString(""), buckets.IndexString("a\x00b"),
		buckets.IndexString("\x00\x00"), buckets.IndexString("\xff\x00\x01")}
	for range 200 {
		b := make([]byte, r.IntN(6))
		for i := range b {
			b[i] = []byte{0, 1, 0xFF, 'a'}[r.IntN(4)]
		}
		vals = append(vals, buckets.IndexString(string(b)))
	}
	for _, v := range vals {
		for _, id := range []string{"x", "\x01\x00", "session-1", "é"} {
			if id == "\x01\x00" {
				continue // ids never hold NUL
			}
			k := buckets.IndexKey(v, id)
			wv, wid, err := buckets.SplitIndexKey(k)
			gv, gid, ok := splitKey(k)
			if err != nil || !ok || !bytes.Equal(wv, gv) || wid != string(gid) {
				t.Fatalf("key %x: splitKey = %x %q %v, SplitIndexKey = %x %q %v", k, gv, gid, ok, wv, wid, err)
			}
		}
	}
	for _, bad := range [][]byte{nil, {0x10, 1}, {0x20, 'a'}, {0x20, 0, 7, 'x'}, {0x7F, 'x'}, buckets.IndexString("v")} {
		if _, _, ok := splitKey(bad); ok {
			t.Errorf("splitKey(%x) accepted a malformed key", bad)
		}
	}
}

func TestRanges(t *testing.T) {
	a := buckets.IndexTime(10)
	b := buckets.IndexTime(20)
	c := buckets.IndexTime(30)
	got := intersectRanges([]vrange{{a, classEnd[classTime]}}, []vrange{{classTag[classTime], c}})
	if len(got) != 1 || !bytes.Equal(got[0].lo, a) || !bytes.Equal(got[0].hi, c) {
		t.Errorf("intersect [10,∞) and (-∞,30] = %v", got)
	}
	if got := intersectRanges([]vrange{{b, c}}, []vrange{{a, a}}); len(got) != 0 {
		t.Errorf("disjoint ranges intersect: %v", got)
	}
	if got := normalizeRanges([]vrange{{b, c}, {a, b}}); len(got) != 1 || !bytes.Equal(got[0].lo, a) || !bytes.Equal(got[0].hi, c) {
		t.Errorf("normalize merges overlapping ranges: %v", got)
	}
}

// FuzzSplitKey checks splitKey agrees with buckets.SplitIndexKey on any
// bytes it accepts.
func FuzzSplitKey(f *testing.F) {
	f.Add(buckets.IndexKey(buckets.IndexString("a\x00b"), "id"))
	f.Add(buckets.IndexKey(buckets.IndexTime(5), "x"))
	f.Add([]byte{0x20, 0, 0xFF, 0, 1, 'z'})
	f.Fuzz(func(t *testing.T, k []byte) {
		wv, wid, err := buckets.SplitIndexKey(k)
		gv, gid, ok := splitKey(k)
		if err == nil && (!ok || !bytes.Equal(wv, gv) || wid != string(gid)) {
			t.Fatalf("key %x: splitKey %x %q %v, SplitIndexKey %x %q", k, gv, gid, ok, wv, wid)
		}
	})
}

func TestIDSet(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var s idSet
	want := map[string]bool{}
	for range 500 {
		id := []byte{byte('a' + r.IntN(26)), byte('a' + r.IntN(26)), byte('a' + r.IntN(3))}
		s.add(id)
		want[string(id)] = true
	}
	s.sortUnique()
	if s.len() != len(want) || !s.sorted() {
		t.Fatalf("sortUnique: %d ids (want %d), sorted %v", s.len(), len(want), s.sorted())
	}
	for _, indexed := range []bool{false, true} {
		if indexed {
			s.index()
		}
		for range 2000 {
			id := []byte{byte('a' + r.IntN(26)), byte('a' + r.IntN(26)), byte('a' + r.IntN(4))}
			if s.has(id) != want[string(id)] {
				t.Fatalf("has(%q) = %v (indexed %v)", id, !want[string(id)], indexed)
			}
		}
	}
}
