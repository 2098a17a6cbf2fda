package buckets

import (
	"reflect"
	"runtime"
	"testing"
)

// TestBox_valuesLikeConversions: values boxed in a reader's slabs are the
// values an ordinary conversion gives (type switches, reflection and
// equality see no difference), and they survive collections while the
// slabs are shared by many values.
func TestBox_valuesLikeConversions(t *testing.T) {
	want := []any{"a", "", "ünïcode", []any{"x", int64(300)}, int64(-1), int64(1 << 40), int64(255), 1.5, float64(0), map[string]any{"k": "v", "n": int64(-70000)}}
	b, err := MarshalValue(want)
	if err != nil {
		t.Fatal(err)
	}
	var kept []any
	for range 200 {
		v, err := UnmarshalValue(b)
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, v)
	}
	runtime.GC()
	for i, v := range kept {
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("value %d: %#v, want %#v", i, v, want)
		}
		for j, e := range v.([]any) {
			if reflect.TypeOf(e).Comparable() && e != want[j] {
				t.Fatalf("value %d, element %d: %#v != %#v", i, j, e, want[j])
			}
		}
		switch s := v.([]any)[0].(type) {
		case string:
			if s != "a" {
				t.Fatalf("type switch: %q", s)
			}
		default:
			t.Fatalf("type switch: %T", s)
		}
	}
}
