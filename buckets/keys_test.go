package buckets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/cairnkv/cairn/schema"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestLogKey_roundTrip(t *testing.T) {
	for _, seq := range []uint64{0, 1, 255, 256, 1 << 32, math.MaxUint64} {
		k := LogKey(seq)
		if len(k) != 8 {
			t.Fatalf("LogKey(%d) is %d bytes", seq, len(k))
		}
		got, err := ParseLogKey(k)
		if err != nil || got != seq {
			t.Errorf("ParseLogKey(LogKey(%d)) = %d, %v", seq, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {}, make([]byte, 7), make([]byte, 9)} {
		if _, err := ParseLogKey(bad); !errors.Is(err, ErrBadKey) {
			t.Errorf("ParseLogKey(%x) = %v, want ErrBadKey", bad, err)
		}
	}
}

func TestLogKey_order(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seqs := []uint64{0, 1, 255, 256, math.MaxUint64}
	for range 500 {
		seqs = append(seqs, r.Uint64()>>r.IntN(64))
	}
	assertSameOrder(t, len(seqs), func(i, j int) int {
		return cmpU(seqs[i], seqs[j])
	}, func(i int) []byte { return LogKey(seqs[i]) })
}

func TestPartKey_roundTrip(t *testing.T) {
	tests := []struct {
		id, field string
		index     int
	}{
		{"s1", "summary", -1},
		{"s1", "screenshots", 0},
		{"s1", "screenshots", 1},
		{"s1", "screenshots", 256},           // index bytes contain NUL
		{"s1", "screenshots", 0x00FF0000},    // NUL and 0xFF in the index
		{"s1", "screenshots", math.MaxInt32}, // the largest index
		{"ü/日本", "audioSegments", 7},
		{strings.Repeat("x", schema.MaxIDLen), "f", 3},
		{"a b\n\t", "x\xffy", -1},
	}
	for _, tt := range tests {
		k := PartKey(tt.id, tt.field, tt.index)
		if !bytes.HasPrefix(k, PartPrefix(tt.id)) {
			t.Errorf("PartKey(%q, %q, %d) = %q lacks PartPrefix", tt.id, tt.field, tt.index, k)
		}
		id, field, index, err := ParsePartKey(k)
		if err != nil || id != tt.id || field != tt.field || index != tt.index {
			t.Errorf("ParsePartKey(PartKey(%q, %q, %d)) = %q, %q, %d, %v", tt.id, tt.field, tt.index, id, field, index, err)
		}
	}
}

func TestPartKey_layout(t *testing.T) {
	if got, want := PartKey("id", "f", -1), []byte("id\x00f"); !bytes.Equal(got, want) {
		t.Errorf("blob part key %q, want %q", got, want)
	}
	if got, want := PartKey("id", "f", 258), []byte("id\x00f\x00\x00\x00\x01\x02"); !bytes.Equal(got, want) {
		t.Errorf("array part key %q, want %q", got, want)
	}
}

func TestParsePartKey_bad(t *testing.T) {
	for _, k := range []string{
		"", "id", "\x00f", "id\x00", "id\x00\x00\x00\x00\x00\x01",
		"id\x00f\x00", "id\x00f\x00\x00\x00\x01", "id\x00f\x00\x00\x00\x00\x01\x02",
		"id\x00f\x00\x80\x00\x00\x00", // index above MaxInt32
		strings.Repeat("x", schema.MaxIDLen+1) + "\x00f",
		"\xff\x00f",
	} {
		if id, f, i, err := ParsePartKey([]byte(k)); !errors.Is(err, ErrBadKey) {
			t.Errorf("ParsePartKey(%q) = %q, %q, %d, %v, want ErrBadKey", k, id, f, i, err)
		}
	}
}

func TestPartKey_order(t *testing.T) {
	// Parts of one document sort by field, then index; parts of another
	// document whose id extends this one never fall between them.
	keys := [][]byte{
		PartKey("a", "audioSegments", 0),
		PartKey("a", "audioSegments", 1),
		PartKey("a", "audioSegments", 300),
		PartKey("a", "screenshots", 0),
		PartKey("a", "screenshots", 255),
		PartKey("a", "screenshots", 256),
		PartKey("a", "screenshots", 65536),
		PartKey("a", "summary", -1),
		PartKey("a\x01", "audioSegments", 0),
		PartKey("ab", "audioSegments", 0),
	}
	if !slices.IsSortedFunc(keys, bytes.Compare) {
		t.Fatalf("part keys out of order: %q", keys)
	}
}

func encodeIndex(v any) []byte {
	switch x := v.(type) {
	case bool:
		return IndexBool(x)
	case float64:
		return IndexNumber(x)
	case IndexInstant:
		return IndexTime(int64(x))
	case string:
		return IndexString(x)
	}
	panic("bad test value")
}

func typeRank(v any) int {
	switch v.(type) {
	case bool:
		return 0
	case float64:
		return 1
	case IndexInstant:
		return 2
	}
	return 3
}

// cmpValues is the query order the index encoding must reproduce.
func cmpValues(a, b any) int {
	if ra, rb := typeRank(a), typeRank(b); ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case IndexInstant:
		y := b.(IndexInstant)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(a.(string), b.(string))
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// assertSameOrder checks that for every pair, the encodings compare like
// the values.
func assertSameOrder(t *testing.T, n int, cmp func(i, j int) int, enc func(i int) []byte) {
	t.Helper()
	encs := make([][]byte, n)
	for i := range encs {
		encs[i] = enc(i)
	}
	bad := 0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if want, got := sign(cmp(i, j)), bytes.Compare(encs[i], encs[j]); want != got {
				t.Errorf("item %d vs %d: value order %d, byte order %d (%x vs %x)", i, j, want, got, encs[i], encs[j])
				if bad++; bad > 10 {
					t.FailNow()
				}
			}
		}
	}
}

func randomIndexValues(r *rand.Rand) []any {
	vals := []any{
		false, true,
		0.0, math.Copysign(0, -1), 1.0, -1.0, 0.5, -0.5,
		math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
		math.Inf(1), math.Inf(-1), float64(1 << 53), -float64(1 << 53), 1e300, -1e300, 1e-300, -1e-300,
		IndexInstant(0), IndexInstant(-1), IndexInstant(1), IndexInstant(math.MinInt64), IndexInstant(math.MaxInt64),
		IndexInstant(1_764_115_200_000), IndexInstant(-62_135_596_800_000),
		"", "\x00", "\x00\x00", "\x00\x01", "\x00\xff", "\x01", "a", "a\x00", "a\x00b", "a\x01", "ab", "b",
		"\xff", "\xff\xff", "\xff\x00", "a\xff", "z", "日本", "\x00\x00\x01",
	}
	for range 60 {
		switch r.IntN(6) {
		case 0:
			vals = append(vals, float64(r.Int64N(2001)-1000))
		case 1:
			vals = append(vals, (r.Float64()-0.5)*math.Pow(10, float64(r.IntN(600)-300)))
		case 2:
			vals = append(vals, math.Float64frombits(r.Uint64())) // any bit pattern
		case 3:
			vals = append(vals, IndexInstant(r.Int64()-r.Int64()))
		case 4:
			vals = append(vals, IndexInstant(r.Int64N(4e12)-2e12))
		default:
			b := make([]byte, r.IntN(5))
			for i := range b {
				b[i] = []byte{0, 1, 0xfe, 0xff, 'a', 'b'}[r.IntN(6)]
			}
			vals = append(vals, string(b))
		}
	}
	// NaN has no order; the value model never holds one.
	return slices.DeleteFunc(vals, func(v any) bool { f, ok := v.(float64); return ok && math.IsNaN(f) })
}

func TestIndexValue_order(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vals := randomIndexValues(r)
	assertSameOrder(t, len(vals), func(i, j int) int { return cmpValues(vals[i], vals[j]) },
		func(i int) []byte { return encodeIndex(vals[i]) })
}

func TestIndexKey_order(t *testing.T) {
	// Whole keys (value then id) sort by value first, then by id, whatever
	// bytes the id holds: encodings are self-delimiting.
	r := rand.New(rand.NewPCG(5, 6))
	vals := randomIndexValues(r)
	ids := []string{"a", "b", "\x01", "\xff", "aa", "a\xff"}
	type kv struct {
		v  any
		id string
	}
	var items []kv
	for _, v := range vals[:40] {
		for _, id := range ids {
			items = append(items, kv{v, id})
		}
	}
	assertSameOrder(t, len(items), func(i, j int) int {
		if c := cmpValues(items[i].v, items[j].v); c != 0 {
			return c
		}
		return strings.Compare(items[i].id, items[j].id)
	}, func(i int) []byte { return IndexKey(encodeIndex(items[i].v), items[i].id) })
}

func TestIndexNumber_negativeZero(t *testing.T) {
	if !bytes.Equal(IndexNumber(math.Copysign(0, -1)), IndexNumber(0)) {
		t.Error("-0 and +0 encode differently")
	}
}

func TestIndexKey_roundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ids := []string{"a", "id-1", "x\x01", strings.Repeat("é", 128), "0ü"}
	for _, v := range randomIndexValues(r) {
		for _, id := range ids {
			k := IndexKey(encodeIndex(v), id)
			enc, gotID, err := SplitIndexKey(k)
			if err != nil {
				t.Fatalf("SplitIndexKey(IndexKey(%#v, %q)): %v", v, id, err)
			}
			if gotID != id || !bytes.Equal(enc, encodeIndex(v)) {
				t.Errorf("SplitIndexKey(IndexKey(%#v, %q)) = %x, %q", v, id, enc, gotID)
			}
			got, err := DecodeIndexValue(enc)
			if err != nil {
				t.Fatalf("DecodeIndexValue(%x): %v", enc, err)
			}
			want := v
			if f, ok := v.(float64); ok && f == 0 {
				want = 0.0 // -0 folds into +0
			}
			if got != want {
				t.Errorf("DecodeIndexValue(encode(%#v)) = %#v", v, got)
			}
		}
	}
}

func TestIndexString_layout(t *testing.T) {
	tests := []struct {
		s    string
		want []byte
	}{
		{"", []byte{tagString, 0, 1}},
		{"ab", []byte{tagString, 'a', 'b', 0, 1}},
		{"a\x00b", []byte{tagString, 'a', 0, 0xff, 'b', 0, 1}},
		{"\xff\x00", []byte{tagString, 0xff, 0, 0xff, 0, 1}},
	}
	for _, tt := range tests {
		if got := IndexString(tt.s); !bytes.Equal(got, tt.want) {
			t.Errorf("IndexString(%q) = %x, want %x", tt.s, got, tt.want)
		}
	}
	if got, want := IndexNumber(1), append([]byte{tagNumber}, binary.BigEndian.AppendUint64(nil, math.Float64bits(1)|1<<63)...); !bytes.Equal(got, want) {
		t.Errorf("IndexNumber(1) = %x, want %x", got, want)
	}
	if got, want := IndexTime(0), []byte{tagTime, 0x80, 0, 0, 0, 0, 0, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("IndexTime(0) = %x, want %x", got, want)
	}
}

func TestSplitIndexKey_bad(t *testing.T) {
	for _, k := range [][]byte{
		nil, {},
		{tagTrue},                      // no id
		{0x7f, 'a'},                    // unknown tag
		{tagNumber, 1, 2, 3},           // short number
		{tagTime, 1, 2, 3, 4, 5, 6, 7}, // short instant
		{tagString, 'a', 'b'},          // unterminated
		{tagString, 'a', 0},            // unterminated
		{tagString, 'a', 0, 2, 'x'},    // bad escape
		{tagString, 0, 1},              // no id
		{tagString, 0, 1, 0},           // id with NUL
		{tagString, 0, 1, 0xff},        // id not UTF-8
		append([]byte{tagFalse}, strings.Repeat("x", schema.MaxIDLen+1)...),
	} {
		if v, id, err := SplitIndexKey(k); !errors.Is(err, ErrBadKey) {
			t.Errorf("SplitIndexKey(%x) = %x, %q, %v, want ErrBadKey", k, v, id, err)
		}
	}
	for _, v := range [][]byte{nil, {tagTrue, 0}, append(IndexString("a"), 'x'), {tagNumber}} {
		if got, err := DecodeIndexValue(v); !errors.Is(err, ErrBadKey) {
			t.Errorf("DecodeIndexValue(%x) = %#v, %v, want ErrBadKey", v, got, err)
		}
	}
}

func TestRefKey_roundTrip(t *testing.T) {
	h := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	k, err := RefKey(h)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseRefKey(k)
	if err != nil || got != h {
		t.Errorf("ParseRefKey(RefKey(%q)) = %q, %v", h, got, err)
	}
	for _, bad := range []string{"", h[:63], h + "0", strings.ToUpper(h), "g" + h[1:], h[:63] + " "} {
		if _, err := RefKey(bad); !errors.Is(err, ErrBadKey) {
			t.Errorf("RefKey(%q) = %v, want ErrBadKey", bad, err)
		}
		if _, err := ParseRefKey([]byte(bad)); !errors.Is(err, ErrBadKey) {
			t.Errorf("ParseRefKey(%q) = %v, want ErrBadKey", bad, err)
		}
	}
}

func TestCount_roundTrip(t *testing.T) {
	for _, n := range []uint64{0, 1, 1 << 40, math.MaxUint64} {
		got, err := ParseCount(EncodeCount(n))
		if err != nil || got != n {
			t.Errorf("ParseCount(EncodeCount(%d)) = %d, %v", n, got, err)
		}
	}
	if _, err := ParseCount([]byte{1, 2, 3}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ParseCount(3 bytes) = %v, want ErrCorrupt", err)
	}
}

func TestLogKey_sortsLikeSequences(t *testing.T) {
	seqs := []uint64{5, 1, 256, 255, 1 << 40}
	keys := make([][]byte, len(seqs))
	for i, s := range seqs {
		keys[i] = LogKey(s)
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	slices.Sort(seqs)
	for i, k := range keys {
		if s, _ := ParseLogKey(k); s != seqs[i] {
			t.Fatalf("sorted keys give %d at %d, want %d", s, i, seqs[i])
		}
	}
}
