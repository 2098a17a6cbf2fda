package kv_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// TestStore_enrichmentRace runs a user editing sessions and an AI
// enrichment patching the same sessions at once. Every field must end with
// the last value its writer wrote, and each writer must see its revisions
// strictly increase: no update is ever lost.
func TestStore_enrichmentRace(t *testing.T) {
	db := openTest(t)
	const sessions = 5
	updates := 1000
	if testing.Short() {
		updates = 200
	}
	for i := 0; i < sessions; i++ {
		if _, err := db.Put(context.Background(), "sessions", kv.Document{"id": fmt.Sprint("s", i), "name": "start", "status": "active", "tags": []any{}}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { // the user: name, tags and description
		defer wg.Done()
		var last uint64
		for u := 0; u < updates; u++ {
			id := fmt.Sprint("s", u%sessions)
			rev, err := db.Patch(context.Background(), "sessions", id, kv.Document{"name": fmt.Sprint("name-", u), "tags": []any{fmt.Sprint("tag-", u)}, "description": fmt.Sprint("desc-", u)})
			if err != nil {
				errs <- err
				return
			}
			if rev <= last {
				errs <- fmt.Errorf("user: revision %d after %d", rev, last)
				return
			}
			last = rev
		}
	}()
	go func() { // the enrichment: status, summary and a screenshot's analysis
		defer wg.Done()
		var last uint64
		for u := 0; u < updates; u++ {
			id := fmt.Sprint("s", u%sessions)
			var rev uint64
			var err error
			if u%2 == 0 {
				rev, err = db.Patch(context.Background(), "sessions", id, kv.Document{"enrichmentStatus": kv.Document{"status": "in-progress", "progress": u}, "summary": kv.Document{"narrative": fmt.Sprint("summary-", u)}})
			} else {
				rev, err = db.Modify(context.Background(), "sessions", id, func(doc kv.Document) error {
					doc["enrichmentStatus"] = kv.Document{"status": "completed", "progress": u}
					doc["summary"] = kv.Document{"narrative": fmt.Sprint("summary-", u)}
					return nil
				})
			}
			if err != nil {
				errs <- err
				return
			}
			if rev <= last {
				errs <- fmt.Errorf("enrichment: revision %d after %d", rev, last)
				return
			}
			last = rev
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := 0; i < sessions; i++ {
		doc, _, err := db.Get(context.Background(), "sessions", fmt.Sprint("s", i))
		if err != nil {
			t.Fatal(err)
		}
		lastU := updates - sessions + i // the last update each writer made to session i
		if doc["name"] != fmt.Sprint("name-", lastU) || doc["description"] != fmt.Sprint("desc-", lastU) {
			t.Errorf("s%d: user fields lost: %v / %v", i, doc["name"], doc["description"])
		}
		if tags, _ := doc["tags"].([]any); len(tags) != 1 || tags[0] != fmt.Sprint("tag-", lastU) {
			t.Errorf("s%d: tags lost: %v", i, doc["tags"])
		}
		sum, _ := doc["summary"].(map[string]any)
		if sum["narrative"] != fmt.Sprint("summary-", lastU) {
			t.Errorf("s%d: enrichment summary lost: %v", i, doc["summary"])
		}
		es, _ := doc["enrichmentStatus"].(map[string]any)
		if fmt.Sprint(es["progress"]) != fmt.Sprint(lastU) {
			t.Errorf("s%d: enrichment status lost: %v", i, es)
		}
	}
}

// TestStore_corruptValue flips bytes of a stored value in data.db on disk:
// Get must return ErrCorrupt naming the collection and id, Check must list
// it, and nothing may panic.
func TestStore_corruptValue(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 64)
	_, _ = rand.Read(raw)
	marker := hex.EncodeToString(raw) // 128 incompressible-enough characters
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "victim", "content": marker}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "bystander", "content": "fine"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := dir + "/" + kv.DataFile
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Every copy: a free page may still hold an older one.
	flipped := false
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte(marker[20:60]))
		if i < 0 {
			break
		}
		flipped = true
		data[off+i+5] ^= 0x20
		off += i + 60
	}
	if !flipped {
		t.Fatal("marker not found in data.db")
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, _, err = db.Get(context.Background(), "notes", "victim")
	if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "notes") || !strings.Contains(err.Error(), "victim") {
		t.Fatalf("get corrupt: %v", err)
	}
	if _, _, err := db.Get(context.Background(), "notes", "bystander"); err != nil {
		t.Fatalf("bystander: %v", err)
	}
	rep, err := db.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range rep.Problems {
		if p.Kind == "corrupt" && p.Collection == "notes" && p.ID == "victim" {
			found = true
		}
	}
	if rep.OK || !found {
		t.Fatalf("check did not report the corrupt value: %+v", rep)
	}
}

// TestStore_groupCommit runs many concurrent writers and checks every
// acknowledged write is there.
func TestStore_groupCommit(t *testing.T) {
	db := openTest(t)
	const writers, each = 16, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				doc := kv.Document{"id": fmt.Sprintf("w%d-%d", w, i), "title": "t", "status": "todo"}
				if i%10 == 9 {
					doc["id"] = 42 // invalid: must fail alone, not its batch
					if _, err := db.Put(context.Background(), "tasks", doc); err == nil {
						errs <- errors.New("invalid document accepted")
						return
					}
					continue
				}
				if _, err := db.Put(context.Background(), "tasks", doc); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n := 0
	if err := db.List(context.Background(), "tasks", 0, 0, func(kv.Document) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if want := writers * (each - each/10); n != want {
		t.Fatalf("%d tasks, want %d", n, want)
	}
}

// TestReadOnly_checkWhileReading runs Check on a read-only handle while
// other reads end around it: bbolt loads a read-only freelist lazily on
// the first check, which raced with every read transaction's end (found
// by the -race run of the web inspector's tests).
func TestReadOnly_checkWhileReading(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := db.Put(context.Background(), "notes", kv.Document{"id": fmt.Sprint("n", i), "content": "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := kv.Open(dir, &kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if err := ro.List(context.Background(), "notes", 0, 0, func(kv.Document) error { return nil }); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	rep, err := ro.Check(t.Context())
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("check: %+v", rep)
	}
}
