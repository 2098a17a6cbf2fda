package peers

import (
	"reflect"
	"testing"
)

func TestMergePatch(t *testing.T) {
	doc := map[string]any{"a": 1.0, "b": map[string]any{"x": 1.0, "y": 2.0}, "c": "keep"}
	mergePatch(doc, map[string]any{"a": nil, "b": map[string]any{"y": nil, "z": 3.0}, "d": map[string]any{"n": nil, "m": 1.0}})
	want := map[string]any{"b": map[string]any{"x": 1.0, "z": 3.0}, "c": "keep", "d": map[string]any{"m": 1.0}}
	if !reflect.DeepEqual(doc, want) {
		t.Errorf("got %v, want %v", doc, want)
	}
}

func TestMemQuery(t *testing.T) {
	docs := []map[string]any{
		{"id": "c", "startTime": "2025-01-02", "tags": []any{"x"}},
		{"id": "a", "startTime": "2025-01-02", "tags": []any{"y"}},
		{"id": "b", "startTime": "2025-01-03", "tags": []any{"x"}},
		{"id": "d", "startTime": "2025-01-01", "tags": []any{"x"}},
	}
	got := ids(memQuery(docs, func(map[string]any) bool { return true }, "startTime", true, 1, 2))
	if !reflect.DeepEqual(got, []string{"a", "c"}) {
		t.Errorf("desc page: %v", got)
	}
	got = ids(memQuery(docs, func(d map[string]any) bool { return hasTag(d, "x") }, "", false, 0, 0))
	if !reflect.DeepEqual(got, []string{"b", "c", "d"}) {
		t.Errorf("tag, id order: %v", got)
	}
}

func TestSummaryHeader(t *testing.T) {
	d := map[string]any{"id": "s", "name": "n", "screenshots": []any{1, 2}, "summary": map[string]any{}, "tags": []any{"t"}}
	if h := header(d); h["screenshots"] != nil || h["summary"] != nil || h["name"] != "n" || d["screenshots"] == nil {
		t.Errorf("header %v (doc %v)", h, d)
	}
	if s := summary(d); s["screenshotCount"] != 2 || s["audioSegmentCount"] != 0 || s["id"] != "s" {
		t.Errorf("summary %v", s)
	}
	if idsHash([]string{"a", "b"}) == idsHash([]string{"b", "a"}) {
		t.Error("idsHash ignores order")
	}
}
