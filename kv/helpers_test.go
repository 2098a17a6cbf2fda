package kv_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// openTest opens a store in a fresh temporary directory and, when the test
// ends, closes it and runs the full integrity check (docs/STYLE.md rule 13): a
// test that leaves an index, summary or count wrong fails.
func openTest(t testing.TB) *kv.DB {
	t.Helper()
	dir := t.TempDir()
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		checkClean(t, db)
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db
}

func checkClean(t testing.TB, db *kv.DB) {
	t.Helper()
	rep, err := db.Check(context.Background())
	if err != nil {
		t.Errorf("check: %v", err)
		return
	}
	for _, p := range rep.Problems {
		t.Errorf("check: %s", p)
	}
}

// jsonEqual reports whether two values are equal as JSON documents.
func jsonEqual(t testing.TB, a, b any) bool {
	t.Helper()
	return canon(t, a) == canon(t, b)
}

func canon(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	d := json.NewDecoder(bytesReader(b))
	d.UseNumber()
	if err := d.Decode(&x); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(x)
	return string(out)
}
