package buckets

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestRecord_roundTrip(t *testing.T) {
	tests := []*Record{
		{Doc: map[string]any{}},
		{Rev: 1, Size: 2, Doc: map[string]any{"id": "x"}},
		{Rev: math.MaxUint64, Size: math.MaxUint64, Doc: nil},
		{Rev: 7, Size: 30_000, ArrayParts: map[string]uint32{"screenshots": 120, "audioSegments": 0, "contextItems": math.MaxUint32},
			BlobParts: []string{"summary", "canvasSpec"}, Doc: sessionDoc(1)},
		{Rev: 3, Doc: []any{"extras hold any value", int64(1), json.Number("1e400")}},
		{Rev: 4, Doc: "a bare string"},
	}
	for _, r := range tests {
		b, err := EncodeRecord(r)
		if err != nil {
			t.Fatalf("EncodeRecord(%+v): %v", r, err)
		}
		got, err := DecodeRecord([]byte("c/extras"), []byte("s"), b, true) // extras: any value, no id
		if err != nil {
			t.Fatalf("DecodeRecord: %v", err)
		}
		if got.Rev != r.Rev || got.Size != r.Size || !reflect.DeepEqual(got.BlobParts, r.BlobParts) || len(got.ArrayParts) != len(r.ArrayParts) {
			t.Errorf("DecodeRecord = %+v, want %+v", got, r)
		}
		for k, n := range r.ArrayParts {
			if got.ArrayParts[k] != n {
				t.Errorf("ArrayParts[%s] = %d, want %d", k, got.ArrayParts[k], n)
			}
		}
		assertModelEqual(t, got.Doc, r.Doc)

		head, err := DecodeRecord([]byte("c/sessions"), []byte("s"), b, false)
		if err != nil {
			t.Fatalf("DecodeRecord without doc: %v", err)
		}
		if head.Doc != nil || head.Rev != r.Rev || head.Size != r.Size || !reflect.DeepEqual(head.BlobParts, r.BlobParts) {
			t.Errorf("DecodeRecord without doc = %+v", head)
		}
	}
}

func TestRecord_layout(t *testing.T) {
	// The payload is a msgpack array of 5: rev, size, {field: count} with
	// sorted keys, [blob fields], doc.
	r := &Record{Rev: 9, Size: 100, ArrayParts: map[string]uint32{"b": 2, "a": 1}, BlobParts: []string{"s"}, Doc: map[string]any{"id": "x"}}
	b, err := EncodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(nil, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x95, 9, 100, 0x82, 0xa1, 'a', 1, 0xa1, 'b', 2, 0x91, 0xa1, 's', 0x81, 0xa2, 'i', 'd', 0xa1, 'x'}
	if string(p) != string(want) {
		t.Errorf("record payload %x, want %x", p, want)
	}
}

func TestDecodeRecord_damaged(t *testing.T) {
	good, _ := EncodeRecord(&Record{Rev: 1, Doc: map[string]any{"id": "x"}})
	enc := func(vals ...any) []byte {
		b, err := msgpack.Marshal(vals)
		if err != nil {
			t.Fatal(err)
		}
		return Seal(b)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"flipped bit", func() []byte { b := append([]byte{}, good...); b[3] ^= 0x10; return b }()},
		{"truncated", good[:len(good)-2]},
		{"not an array", Seal([]byte{0xc0})},
		{"four fields", enc(1, 2, map[string]uint32{}, []string{})},
		{"six fields", enc(1, 2, map[string]uint32{}, []string{}, nil, nil)},
		{"string size", enc(1, "2", map[string]uint32{}, []string{}, nil)},
		{"count above uint32", enc(1, 2, map[string]uint64{"a": 1 << 32}, []string{}, nil)},
		{"part map claims 2^31", Seal([]byte{0x95, 1, 2, 0xdf, 0x80, 0, 0, 0, 0x90, 0xc0})},
		{"blob list claims 2^31", Seal([]byte{0x95, 1, 2, 0x80, 0xdd, 0x80, 0, 0, 0, 0xc0})},
		{"blob name claims 4 GiB", Seal([]byte{0x95, 1, 2, 0x80, 0x91, 0xdb, 0xff, 0xff, 0xff, 0xff, 0xc0})},
		{"doc claims 2^31 elements", Seal([]byte{0x95, 1, 2, 0x80, 0x90, 0xdd, 0x80, 0, 0, 0})},
		{"trailing bytes", Seal([]byte{0x95, 1, 2, 0x80, 0x90, 0xc0, 0xc0})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeRecord([]byte("c/notes"), []byte("n-1"), tt.b, true)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeRecord = %+v, %v, want ErrCorrupt", r, err)
			}
			if !strings.Contains(err.Error(), `bucket "c/notes" key "n-1"`) {
				t.Errorf("%q does not name bucket and key", err)
			}
		})
	}
}

func TestChange_roundTrip(t *testing.T) {
	for _, c := range []*Change{
		{Seq: 1, Collection: "sessions", ID: "s-1", Op: OpPut, TimeMs: 1_764_115_200_000},
		{Seq: math.MaxUint64, Collection: "settings", ID: "settings", Op: OpDelete, TimeMs: -1},
		{Seq: 0, Collection: "", ID: "ü", Op: OpPut, TimeMs: math.MinInt64},
		{Seq: 42, Collection: "notes", ID: "n", Op: OpPut, TimeMs: math.MaxInt64},
		{Seq: 43, Collection: "notes", ID: "n", Op: OpPut, TimeMs: 7, Fields: []string{"body", "title"}},
		{Seq: 44, Collection: "notes", ID: "n", Op: OpPut, TimeMs: 8, Fields: []string{}},
	} {
		v, err := EncodeChange(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeChange(LogKey(c.Seq), v)
		if err != nil {
			t.Fatalf("DecodeChange: %v", err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("DecodeChange = %+v, want %+v", got, c)
		}
	}
}

// TestDecodeChange_formatVersion2: an entry of a version 2 store (four
// elements, no fields) still decodes, with Fields nil (not recorded).
func TestDecodeChange_formatVersion2(t *testing.T) {
	v, err := EncodeValue([]any{"notes", "n", OpPut, int64(5)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := DecodeChange(LogKey(9), v)
	if err != nil || c.Fields != nil || c.ID != "n" || c.TimeMs != 5 {
		t.Fatalf("DecodeChange = %+v, %v", c, err)
	}
}

func TestDecodeChange_damaged(t *testing.T) {
	good, _ := EncodeChange(&Change{Seq: 42, Collection: "notes", ID: "n", Op: OpPut, TimeMs: 5})
	mk := func(v any) []byte {
		b, err := EncodeValue(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"flipped bit", func() []byte { b := append([]byte{}, good...); b[5] ^= 1; return b }()},
		{"truncated", good[:len(good)-1]},
		{"not an array", mk(map[string]any{})},
		{"three fields", mk([]any{"notes", "n", "put"})},
		{"numeric id", mk([]any{"notes", int64(1), "put", int64(5)})},
		{"float time", mk([]any{"notes", "n", "put", 1.5})},
		{"uint64 time", mk([]any{"notes", "n", "put", uint64(math.MaxUint64)})},
		{"fields not an array", mk([]any{"notes", "n", "put", int64(5), "title"})},
		{"numeric field name", mk([]any{"notes", "n", "put", int64(5), []any{"title", int64(1)}})},
		{"six elements", mk([]any{"notes", "n", "put", int64(5), []any{}, "x"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeChange(LogKey(42), tt.b)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeChange = %+v, %v, want ErrCorrupt", c, err)
			}
			if !strings.Contains(err.Error(), `bucket "log" key "42"`) {
				t.Errorf("%q does not name the log bucket and sequence", err)
			}
		})
	}
	if _, err := DecodeChange([]byte{1, 2, 3}, good); !errors.Is(err, ErrBadKey) {
		t.Errorf("DecodeChange with a 3-byte key: %v, want ErrBadKey", err)
	}
}

// TestRecord_damagedKey: the checksum covers a record's value, not its
// key, so DecodeRecord compares the id an entity document carries with
// the key it was read under: a mismatch (a flipped bit in the key) is
// ErrCorrupt naming the bucket and key, for built-in and user
// collections; extras and singletons carry no id.
func TestRecord_damagedKey(t *testing.T) {
	b, err := EncodeRecord(&Record{Rev: 1, Doc: map[string]any{"id": "m1", "content": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		bucket, key string
		bad         bool
	}{
		{"c/notes", "m1", false},
		{"c/notes", "m0", true},
		{"c/widgets", "m0", true},
		{"c/extras", "m0", false},
		{"c/settings", "settings", false},
	}
	for _, tt := range tests {
		_, err := DecodeRecord([]byte(tt.bucket), []byte(tt.key), b, true)
		var ce *CorruptError
		switch {
		case !tt.bad && err != nil:
			t.Errorf("%s %s: %v", tt.bucket, tt.key, err)
		case tt.bad && (!errors.As(err, &ce) || ce.Bucket != tt.bucket || ce.Key != tt.key || ce.StoredID != "m1"):
			t.Errorf("%s %s: %v, want a CorruptError naming the key and the stored id", tt.bucket, tt.key, err)
		}
		if _, err := DecodeRecord([]byte(tt.bucket), []byte(tt.key), b, false); err != nil {
			t.Errorf("%s %s without the document: %v", tt.bucket, tt.key, err)
		}
	}
}
