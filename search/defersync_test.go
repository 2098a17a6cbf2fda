package search

import (
	"path/filepath"
	"slices"
	"testing"
)

// With DeferSync, Apply makes changes searchable at once, Durable brings
// DurableApplied up to LastApplied, and Close persists what Durable was not
// asked for: a reopened index has every change.
func TestIndex_DeferSync(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "search")
	opts := &Options{DeferSync: true}
	ix, _, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, ix, 11, fixture(t)...)
	if got := ids(mustSearch(t, ix, "quokka", SearchOptions{})); !slices.Equal(got, []string{"sessions/s1"}) {
		t.Fatalf("not searchable after Apply: %v", got)
	}
	if err := ix.Durable(); err != nil {
		t.Fatal(err)
	}
	if ix.DurableApplied() != 11 || ix.LastApplied() != 11 {
		t.Fatalf("after Durable: durable %d, last %d; want 11, 11", ix.DurableApplied(), ix.LastApplied())
	}
	if err := ix.Durable(); err != nil { // nothing new: returns at once
		t.Fatal(err)
	}
	apply(t, ix, 12, upsert(t, "notes", "late", 1, `{"content":"late wallaby"}`))
	if ix.LastApplied() != 12 {
		t.Fatalf("LastApplied %d, want 12", ix.LastApplied())
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if got, ok := readHint(dir); !ok || got != 12 {
		t.Fatalf("hint after Close = %d, %v; want 12", got, ok)
	}

	ix, res, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if res.Rebuilt {
		t.Fatalf("reopen rebuilt: %s", res.Reason)
	}
	if ix.LastApplied() != 12 || ix.DurableApplied() != 12 {
		t.Fatalf("after reopen: last %d, durable %d; want 12, 12", ix.LastApplied(), ix.DurableApplied())
	}
	if got := ids(mustSearch(t, ix, "wallaby", SearchOptions{})); !slices.Equal(got, []string{"notes/late"}) {
		t.Fatalf("after reopen: %v", got)
	}
	checkConsistent(t, ix)
}

// Without DeferSync every Apply is durable when it returns.
func TestIndex_DurableApplied_sync(t *testing.T) {
	ix := openTest(t)
	apply(t, ix, 5, fixture(t)...)
	if ix.DurableApplied() != 5 {
		t.Fatalf("DurableApplied %d, want 5", ix.DurableApplied())
	}
	if err := ix.Durable(); err != nil {
		t.Fatal(err)
	}
}
