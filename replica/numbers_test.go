package replica_test

import (
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// parseDoc is the document text as the store reads input: numbers in the
// document model, exactly as written.
func parseDoc(t testing.TB, text string) kv.Document {
	t.Helper()
	v, err := kv.ParseJSON([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return v.(map[string]any)
}

// Numbers travel exactly as written: a large integer, an integer past
// float64's 2^53, a long decimal and the largest uint64 arrive on the other
// device as the sender's store holds them, in user and built-in
// collections and singletons alike, and applying them is no change to
// push back.
func TestSync_numbersExact(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "A")
	b := openDevice(t, s.ClientURL(), "B")
	docs := []struct{ coll, id, text string }{
		{"mycoll", "u1", `{"id":"u1","big":9007199254740993,"dec":12345678901234567890.123456789,"nested":{"x":[18446744073709551615,1e400,0.1]}}`},
		{"tasks", "t1", `{"id":"t1","title":"t","estimate":9007199254740993}`},
		{"settings", "", `{"limit":9007199254740993,"ratio":1.00000000000000001}`},
	}
	for _, d := range docs {
		a.put(t, d.coll, parseDoc(t, d.text))
	}
	a.sync(t)
	b.sync(t)
	for _, d := range docs {
		want, got := js(a.get(t, d.coll, d.id)), js(b.get(t, d.coll, d.id))
		if got != want {
			t.Errorf("%s/%s on B: %s, want %s", d.coll, d.id, got, want)
		}
	}
	if res := b.sync(t); res.Pushed != 0 {
		t.Errorf("B pushed %d after applying, want 0 (the values it wrote were taken for edits)", res.Pushed)
	}
}
