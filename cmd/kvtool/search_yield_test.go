package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// TestSearch_waitingWriterGoesFirst: a search that waits for the index's
// rebuild (after a restore) holds the store's shared lock; a writer that
// waits for the store gets it before the search ends, instead of waiting
// out the whole rebuild or its own timeout (round 7, conc7 #1: a put with
// the default 5 s failed during 10-29 s rebuilds). The search then goes on
// from where the rebuild stopped and answers in full, the writer's
// document included.
func TestSearch_waitingWriterGoesFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilds an index of 20,000 notes (45 s with -race); run without -short")
	}
	dir := filepath.Join(t.TempDir(), "store")
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	err = db.Update(t.Context(), func(tx *kv.Tx) error {
		for i := range n {
			if _, err := tx.Put("notes", kv.Document{"id": fmt.Sprintf("bulk-%d", i), "content": fmt.Sprintf("budget meeting notes number %d with some more words to index", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, kv.SearchDir)); err != nil { // as a restore does
		t.Fatal(err)
	}

	searched := make(chan result, 1)
	go func() { searched <- kvtool(t, "", "--db", dir, "--json", "search", "budget") }()
	// The search holds the store from before it creates the index until
	// it ends; then a writer waits for the store.
	for {
		if _, err := os.Stat(filepath.Join(dir, kv.SearchDir)); err == nil {
			break
		}
		select {
		case r := <-searched:
			t.Fatalf("the search ended before it was seen rebuilding the index: %+v", r)
		case <-time.After(time.Millisecond):
		}
	}
	w, err := kv.Open(dir, &kv.Options{NoAutoBackup: true, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-searched:
		t.Fatalf("the writer got the store only once the search had ended (it waited out the rebuild): %+v", r)
	default:
	}
	if _, err := w.Put(t.Context(), "notes", kv.Document{"id": "during", "content": "budget written while the index was rebuilt"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := <-searched
	wantExit(t, r, exitOK, "search")
	var res searchResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if res.Total != n+1 {
		t.Errorf("the search found %d notes, want %d", res.Total, n+1)
	}
}
