package docmodel_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/cairnkv/cairn/internal/docmodel"
	"github.com/cairnkv/cairn/schema"
)

func TestSameValue(t *testing.T) {
	a, err := docmodel.Normalize(map[string]any{"a": 1, "b": []any{"x", true, nil}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := docmodel.Normalize(map[string]any{"b": []any{"x", true, nil}, "a": json.Number("1")})
	if err != nil {
		t.Fatal(err)
	}
	if !docmodel.SameValue(a, b) {
		t.Fatalf("%v and %v differ", a, b)
	}
	c, _ := docmodel.Normalize(map[string]any{"a": 1, "b": []any{"x", false, nil}})
	if docmodel.SameValue(a, c) {
		t.Fatalf("%v and %v are the same", a, c)
	}
	if n := docmodel.JSONSize(a); n != len(`{"a":1,"b":["x",true,null]}`) {
		t.Fatalf("JSONSize %d", n)
	}
}

func TestCheckID(t *testing.T) {
	if err := docmodel.CheckID("s1"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "a\x00b", "caf\xe9"} {
		if err := docmodel.CheckID(id); !errors.Is(err, schema.ErrInvalidID) {
			t.Errorf("CheckID(%q) = %v", id, err)
		}
	}
}
