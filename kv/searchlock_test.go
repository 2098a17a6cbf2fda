package kv_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// TestSearch_waitsForTheIndexLock: the search index is held by one handle
// at a time (a search in another process, or its rebuild); a search
// waits for it up to Options.Timeout, as Open waits for the store.
func TestSearch_waitsForTheIndexLock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(ctx, "notes", kv.Document{"id": "n1", "content": "copper kettle"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	holder, err := kv.Open(dir, &kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Search(ctx, "kettle", kv.SearchOptions{}); err != nil {
		t.Fatal(err)
	}
	waiter, err := kv.Open(dir, &kv.Options{ReadOnly: true, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()
	go func() {
		time.Sleep(2 * time.Second) // past the index's own one-second default
		_ = holder.Close()
	}()
	res, err := waiter.Search(ctx, "kettle", kv.SearchOptions{})
	if err != nil {
		t.Fatalf("a search while another handle held the index for 2 s, with Timeout 20 s: %v", err)
	}
	if res.Total != 1 {
		t.Fatalf("found %d", res.Total)
	}
}

// TestCheck_busySearchIndex: while another handle held the search index
// (another process rebuilding it), check reported a search problem, exit
// 3 and reindex advice, for what is a wait that ran out: it is ErrLocked.
func TestCheck_busySearchIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(ctx, "notes", kv.Document{"id": "n1", "content": "copper kettle"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	holder, err := kv.Open(dir, &kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.Search(ctx, "kettle", kv.SearchOptions{}); err != nil {
		t.Fatal(err)
	}
	checker, err := kv.Open(dir, &kv.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer checker.Close()
	rep, err := checker.Check(ctx)
	if !errors.Is(err, kv.ErrLocked) {
		t.Fatalf("check while another handle held the search index: %+v, %v; want ErrLocked", rep, err)
	}
}
