package buckets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cairnkv/cairn/schema"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Seeds shared by the fuzz tests and written to testdata/fuzz by
// TestWriteFuzzSeeds (CAIRN_WRITE_FUZZ_SEEDS=1 go test -run TestWriteFuzzSeeds).

// Seeds are kept small (under 1 KB): the fuzzer minimizes every new
// interesting input, and minimizing a large one stalls a short run.

func msgpackSeeds() [][]byte {
	var out [][]byte
	for _, v := range append(modelValues(), sessionDoc(0)) {
		b, err := MarshalValue(v)
		if err != nil {
			panic(err)
		}
		if len(b) <= 1024 {
			out = append(out, b)
		}
	}
	return append(out,
		[]byte{0xdd, 0x80, 0, 0, 0, 1, 2, 3, 4, 5}, // array claiming 2^31
		[]byte{0xdf, 0x80, 0, 0, 0, 0xa1, 'a', 1},  // map claiming 2^31
		[]byte{0xdb, 0xff, 0xff, 0xff, 0xff, 'a'},  // string claiming 4 GiB
		[]byte{0xc9, 0x80, 0, 0, 0, 1, '1'},        // ext claiming 2 GiB
		[]byte{0xd5, 0x01, 'N', 'a'},               // bad literal
		[]byte{0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1}, // NaN
		bytes.Repeat([]byte{0x91}, MaxDepth+1),
	)
}

func envelopeSeeds() [][]byte {
	var out [][]byte
	for _, p := range msgpackSeeds()[:12] {
		out = append(out, Seal(p))
	}
	doc, _ := MarshalValue(sessionDoc(0))
	out = append(out, Seal(doc), Seal(nil), Seal(make([]byte, 200)),
		sealedWithFlags(flagSnappy, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}),
		sealedWithFlags(flagSnappy, []byte{0x05, 0xff}),
		[]byte{1, 0, 0, 0, 0},
	)
	return out
}

func recordSeeds() [][]byte {
	var out [][]byte
	for _, r := range []*Record{
		{Rev: 1, Size: 2, Doc: map[string]any{"id": "x"}},
		{Rev: 9, Size: 30000, ArrayParts: map[string]uint32{"screenshots": 3}, BlobParts: []string{"summary"}, Doc: sessionDoc(0)},
		{Doc: []any{int64(1), json.Number("1e400")}},
	} {
		b, err := EncodeRecord(r)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return append(out,
		Seal([]byte{0x95, 1, 2, 0xdf, 0x80, 0, 0, 0, 0x90, 0xc0}),
		Seal([]byte{0x95, 1, 2, 0x80, 0xdd, 0x80, 0, 0, 0, 0xc0}),
	)
}

func changeSeeds() (keys, vals [][]byte) {
	for _, c := range []*Change{
		{Seq: 1, Collection: "sessions", ID: "s-1", Op: OpPut, TimeMs: 1_764_115_200_000},
		{Seq: math.MaxUint64, Collection: "settings", ID: "settings", Op: OpDelete, TimeMs: -1},
		{Seq: 2, Collection: "notes", ID: "n", Op: OpPut, TimeMs: 3, Fields: []string{"title"}},
	} {
		b, _ := EncodeChange(c)
		keys, vals = append(keys, LogKey(c.Seq)), append(vals, b)
	}
	b, _ := EncodeValue([]any{"notes", int64(1), "put", int64(5)})
	keys, vals = append(keys, LogKey(3), []byte{1}), append(vals, b, b)
	return keys, vals
}

func indexKeySeeds() [][]byte {
	return [][]byte{
		IndexKey(IndexBool(true), "id"),
		IndexKey(IndexBool(false), "\xc3\xbc"),
		IndexKey(IndexNumber(-1.5), "a"),
		IndexKey(IndexNumber(math.MaxFloat64), "a"),
		IndexKey(IndexTime(-1), "b"),
		IndexKey(IndexString(""), "c"),
		IndexKey(IndexString("a\x00b\xff"), "d"),
		{tagString, 'a', 0, 2, 'x'},
		{tagNumber, 1, 2},
		{0x7f},
	}
}

func partKeySeeds() [][]byte {
	return [][]byte{
		PartKey("s1", "summary", -1),
		PartKey("s1", "screenshots", 0),
		PartKey("s1", "screenshots", 0x00FF0100),
		[]byte("id\x00f\x00\x80\x00\x00\x00"),
		[]byte("\x00f"),
		[]byte("id\x00"),
	}
}

func bucketSeeds() [][]byte {
	out := [][]byte{LogBucket, RefsBucket, SysBucket, []byte("x/sessions/"), []byte("c/nope"), []byte("x/sessions/a/b")}
	for _, c := range schema.BuiltinNames() {
		out = append(out, PrimaryBucket(c), MetaBucket(c), PartsBucket(c), IndexBucket(c, "date"))
	}
	return out
}

func addSeeds(f *testing.F, seeds [][]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
}

func FuzzOpenEnvelope(f *testing.F) {
	addSeeds(f, envelopeSeeds())
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(v []byte) {
			p, err := Open([]byte("c/sessions"), []byte("k"), v)
			if err != nil {
				var ce *CorruptError
				if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) || ce.Bucket != "c/sessions" || ce.Key != "k" {
					t.Fatalf("Open error %v is not a CorruptError naming bucket and key", err)
				}
				return
			}
			p = append([]byte(nil), p...)
			q, err := Open(nil, nil, Seal(p))
			if err != nil || !bytes.Equal(p, q) {
				t.Fatalf("Open(Seal(%x)) = %x, %v", p, q, err)
			}
		}
		check(b)
		// Reach past the checksum: the same bytes as a checksummed payload,
		// plain and as snappy data.
		check(sealedWithFlags(0, b))
		check(sealedWithFlags(flagSnappy, b))
	})
}

func FuzzUnmarshalValue(f *testing.F) {
	addSeeds(f, msgpackSeeds())
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := UnmarshalValue(b)
		if err != nil {
			return
		}
		enc, err := MarshalValue(v)
		if err != nil {
			t.Fatalf("MarshalValue of a decoded value %#v: %v", v, err)
		}
		back, err := UnmarshalValue(enc)
		if err != nil {
			t.Fatalf("UnmarshalValue(MarshalValue(v)): %v", err)
		}
		if d := modelDiff(back, v, "$"); d != "" {
			t.Fatalf("round trip: %s", d)
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("decoded value %#v has no JSON form: %v", v, err)
		}
		if got, want := JSONSize(v), len(compactJSON(t, v)); got != want {
			t.Fatalf("JSONSize = %d, JSON is %d bytes: %s", got, want, j)
		}
		if _, err := DecodeValue(nil, nil, Seal(b)); err != nil {
			t.Fatalf("DecodeValue(Seal(b)): %v", err)
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	for _, s := range recordSeeds() {
		f.Add(s)
		p, _ := Open(nil, nil, s)
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range [][]byte{b, Seal(b)} {
			head, errHead := DecodeRecord([]byte("c/notes"), []byte("n"), v, false)
			r, err := DecodeRecord([]byte("c/notes"), []byte("n"), v, true)
			for _, e := range []error{errHead, err} {
				if e != nil && !errors.Is(e, ErrCorrupt) {
					t.Fatalf("DecodeRecord error %v is not ErrCorrupt", e)
				}
			}
			if err != nil {
				continue
			}
			if errHead != nil || head.Rev != r.Rev || head.Size != r.Size {
				t.Fatalf("header-only decode %+v, %v disagrees with %+v", head, errHead, r)
			}
			enc, err := EncodeRecord(r)
			if err != nil {
				t.Fatalf("EncodeRecord of a decoded record: %v", err)
			}
			back, err := DecodeRecord(nil, nil, enc, true)
			if err != nil {
				t.Fatalf("DecodeRecord(EncodeRecord(r)): %v", err)
			}
			if back.Rev != r.Rev || back.Size != r.Size || len(back.ArrayParts) != len(r.ArrayParts) || len(back.BlobParts) != len(r.BlobParts) {
				t.Fatalf("round trip %+v != %+v", back, r)
			}
			if d := modelDiff(back.Doc, r.Doc, "$"); d != "" {
				t.Fatalf("round trip: %s", d)
			}
		}
	})
}

func FuzzDecodeChange(f *testing.F) {
	keys, vals := changeSeeds()
	for i := range keys {
		f.Add(keys[i], vals[i])
	}
	f.Fuzz(func(t *testing.T, key, b []byte) {
		for _, v := range [][]byte{b, Seal(b)} {
			c, err := DecodeChange(key, v)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrBadKey) {
					t.Fatalf("DecodeChange error %v", err)
				}
				continue
			}
			enc, err := EncodeChange(c)
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeChange(key, enc)
			if err != nil || !reflect.DeepEqual(back, c) {
				t.Fatalf("round trip %+v, %v != %+v", back, err, c)
			}
		}
	})
}

func FuzzSplitIndexKey(f *testing.F) {
	addSeeds(f, indexKeySeeds())
	f.Fuzz(func(t *testing.T, k []byte) {
		v, id, err := SplitIndexKey(k)
		if err != nil {
			if !errors.Is(err, ErrBadKey) {
				t.Fatalf("SplitIndexKey error %v", err)
			}
			return
		}
		if !bytes.Equal(IndexKey(v, id), k) {
			t.Fatalf("IndexKey(SplitIndexKey(%x)) = %x", k, IndexKey(v, id))
		}
		val, err := DecodeIndexValue(v)
		if err != nil {
			t.Fatalf("DecodeIndexValue(%x) of a split key: %v", v, err)
		}
		if f, ok := val.(float64); ok && f == 0 && math.Signbit(f) {
			return // -0 is written as +0
		}
		if enc := encodeIndex(val); !bytes.Equal(enc, v) {
			t.Fatalf("encode(DecodeIndexValue(%x)) = %x", v, enc)
		}
	})
}

func FuzzParsePartKey(f *testing.F) {
	addSeeds(f, partKeySeeds())
	f.Fuzz(func(t *testing.T, k []byte) {
		id, field, index, err := ParsePartKey(k)
		if err != nil {
			if !errors.Is(err, ErrBadKey) {
				t.Fatalf("ParsePartKey error %v", err)
			}
			return
		}
		if schema.CheckID(id) != nil || index < -1 {
			t.Fatalf("ParsePartKey(%q) = %q, %q, %d", k, id, field, index)
		}
		if got := PartKey(id, field, index); !bytes.Equal(got, k) {
			t.Fatalf("PartKey(ParsePartKey(%q)) = %q", k, got)
		}
	})
}

func FuzzParseBucket(f *testing.F) {
	addSeeds(f, bucketSeeds())
	f.Fuzz(func(t *testing.T, name []byte) {
		kind, coll, index, ok := ParseBucket(name)
		if !ok {
			if kind != BucketUnknown {
				t.Fatalf("ParseBucket(%q) = %v, not ok", name, kind)
			}
			return
		}
		var back []byte
		switch kind {
		case BucketPrimary:
			back = PrimaryBucket(coll)
		case BucketMeta:
			back = MetaBucket(coll)
		case BucketParts:
			back = PartsBucket(coll)
		case BucketIndex:
			back = IndexBucket(coll, index)
		case BucketLog:
			back = LogBucket
		case BucketRefs:
			back = RefsBucket
		case BucketSys:
			back = SysBucket
		}
		if !bytes.Equal(back, name) {
			t.Fatalf("ParseBucket(%q) = %v %q %q, which names %q", name, kind, coll, index, back)
		}
		if err := schema.ValidName(coll); kind != BucketLog && kind != BucketRefs && kind != BucketSys && err != nil {
			t.Fatalf("ParseBucket(%q) names an unknown collection %q", name, coll)
		}
	})
}

// TestWriteFuzzSeeds writes the seeds above into testdata/fuzz in the go
// test corpus format. It runs only with CAIRN_WRITE_FUZZ_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("CAIRN_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set CAIRN_WRITE_FUZZ_SEEDS=1 to rewrite testdata/fuzz seeds")
	}
	write := func(fuzz string, args ...[][]byte) {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range args[0] {
			var buf bytes.Buffer
			buf.WriteString("go test fuzz v1\n")
			for _, a := range args {
				fmt.Fprintf(&buf, "[]byte(%q)\n", a[i])
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("FuzzOpenEnvelope", envelopeSeeds())
	write("FuzzUnmarshalValue", msgpackSeeds())
	write("FuzzDecodeRecord", recordSeeds())
	k, v := changeSeeds()
	write("FuzzDecodeChange", k, v)
	write("FuzzSplitIndexKey", indexKeySeeds())
	write("FuzzParsePartKey", partKeySeeds())
	write("FuzzParseBucket", bucketSeeds())
}

// FuzzDecodeMembers: reading a few members of any input never panics and
// never errs on an input UnmarshalValue accepts, where it gives exactly
// the kept members of the whole value (or the whole value, for one that
// is not a map).
func FuzzDecodeMembers(f *testing.F) {
	addSeeds(f, msgpackSeeds())
	doc, err := MarshalValue(sessionDoc(3))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(doc)
	f.Fuzz(func(t *testing.T, b []byte) {
		keep := func(name string) bool { return len(name)%2 == 0 }
		got, err := DecodeMembers(nil, nil, Seal(b), keep)
		v, verr := UnmarshalValue(b)
		if verr != nil {
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeMembers error %v is not ErrCorrupt", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("DecodeMembers of a value UnmarshalValue accepts: %v", err)
		}
		want := v
		if m, ok := v.(map[string]any); ok {
			kept := map[string]any{}
			for k, x := range m {
				if keep(k) {
					kept[k] = x
				}
			}
			want = kept
		}
		if d := modelDiff(got, want, "$"); d != "" {
			t.Fatalf("members: %s", d)
		}
	})
}
