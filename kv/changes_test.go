package kv_test

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

func collect(t *testing.T, db *kv.DB, after uint64) []kv.Change {
	t.Helper()
	var out []kv.Change
	for ch, err := range db.ChangesSoFar(context.Background(), after) {
		if err != nil {
			t.Fatalf("ChangesSoFar(%d): %v", after, err)
		}
		out = append(out, ch)
	}
	return out
}

func TestChanges_feed(t *testing.T) {
	db := openTest(t)
	if got := collect(t, db, 0); len(got) != 0 {
		t.Fatalf("empty store: %d changes", len(got))
	}
	r1, err := db.Put(context.Background(), "notes", kv.Document{"id": "n1", "title": "a", "body": "x"})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := db.Patch(context.Background(), "notes", "n1", kv.Document{"title": "b", "body": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Delete(context.Background(), "notes", "n1"); err != nil {
		t.Fatal(err)
	}
	got := collect(t, db, 0)
	if len(got) != 3 {
		t.Fatalf("got %d changes, want 3: %+v", len(got), got)
	}
	want := []struct {
		rev     uint64
		deleted bool
	}{{r1, false}, {r2, false}, {0, true}}
	for i, w := range want {
		c := got[i]
		if c.Collection != "notes" || c.ID != "n1" || c.Rev != w.rev || c.Deleted != w.deleted {
			t.Errorf("change %d = %+v, want rev %d deleted %v", i, c, w.rev, w.deleted)
		}
		if i > 0 && c.Seq != got[i-1].Seq+1 {
			t.Errorf("change %d: seq %d after %d", i, c.Seq, got[i-1].Seq)
		}
	}
	// Resumable by sequence.
	if rest := collect(t, db, got[0].Seq); len(rest) != 2 || rest[0].Seq != got[1].Seq {
		t.Errorf("resume after %d: %+v", got[0].Seq, rest)
	}
	if rest := collect(t, db, got[2].Seq); len(rest) != 0 {
		t.Errorf("resume at the end: %+v", rest)
	}
}

func TestChanges_blocksForNewCommits(t *testing.T) {
	db := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := make(chan kv.Change)
	ended := make(chan error, 1)
	go func() {
		for ch, err := range db.Changes(ctx, 0) {
			if err != nil {
				ended <- err
				return
			}
			seen <- ch
		}
		ended <- nil
	}()
	for i, id := range []string{"a", "b", "c"} {
		if _, err := db.Put(context.Background(), "notes", kv.Document{"id": id, "title": id}); err != nil {
			t.Fatal(err)
		}
		ch := <-seen
		if ch.ID != id || ch.Seq != uint64(i+1) {
			t.Fatalf("change %d = %+v, want id %s", i, ch, id)
		}
	}
	cancel()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("feed ended with %v, want context.Canceled", err)
	}
}

// TestChanges_trimmed proves the change log is trimmed once the search
// index has applied entries older than the retention (it never was: the
// trim ran on a writer that looked clean, and the committer rolled it
// back), and that a reader asking for trimmed entries is told so.
func TestChanges_trimmed(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	opts := &kv.Options{
		Now:                func() time.Time { return time.UnixMilli(now.Load()) },
		ChangeLogRetention: time.Hour,
		NoAutoBackup:       true,
		EagerSearch:        true,
	}
	dir := t.TempDir()
	db, err := kv.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		if _, err := db.Put(context.Background(), "notes", kv.Document{"id": id, "title": id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	now.Add((2 * time.Hour).Milliseconds())
	db, err = kv.Open(dir, opts) // opening catches the index up, then trims
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		checkClean(t, db)
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := db.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.ChangeLog == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("change log still holds %d entries past the retention", st.ChangeLog)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, err := range db.ChangesSoFar(context.Background(), 1) {
		if !errors.Is(err, kv.ErrChangesTrimmed) {
			t.Fatalf("Changes after a trimmed sequence: %v, want ErrChangesTrimmed", err)
		}
	}
	if got := collect(t, db, 4); len(got) != 0 {
		t.Errorf("changes after the last trimmed one: %+v", got)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "e"}); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, db, 4); len(got) != 1 || got[0].ID != "e" {
		t.Errorf("changes after the trim: %+v", got)
	}
}

func TestWatch_yieldsOnCommit(t *testing.T) {
	db := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan []string)
	go func() {
		for res, err := range db.Watch(ctx, kv.Query{Collection: "notes"}, &kv.QueryOptions{IDsOnly: true}) {
			if err != nil {
				close(results)
				return
			}
			results <- res.IDs
		}
	}()
	if ids := <-results; len(ids) != 0 {
		t.Fatalf("first result %v, want empty", ids)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "n1"}); err != nil {
		t.Fatal(err)
	}
	if ids := <-results; !reflect.DeepEqual(ids, []string{"n1"}) {
		t.Fatalf("after put: %v", ids)
	}
	// A commit in another collection does not yield; the next one in
	// notes does.
	if _, err := db.Put(context.Background(), "tasks", kv.Document{"id": "t1", "title": "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Delete(context.Background(), "notes", "n1"); err != nil {
		t.Fatal(err)
	}
	if ids := <-results; len(ids) != 0 {
		t.Fatalf("after delete: %v", ids)
	}
	cancel()
	if _, ok := <-results; ok {
		t.Fatal("watch went on after cancel")
	}
}

// TestChanges_fields: each change names the top-level fields it set,
// replaced or removed: all of a new document's, only those a patch or a
// put changed (part fields by their stored bytes), the one field of an
// append, none for an unchanged put, and nil for a delete and an extras
// value.
func TestChanges_fields(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	last := func() kv.Change {
		t.Helper()
		seq, err := db.LastSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := collect(t, db, seq-1)
		if len(got) != 1 {
			t.Fatalf("%d changes after %d", len(got), seq-1)
		}
		return got[0]
	}
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"new note", func() error {
			_, err := db.Put(ctx, "notes", kv.Document{"id": "n1", "title": "a", "body": "x", "n": 1.5, "tags": []any{"t"}})
			return err
		}, []string{"body", "id", "n", "tags", "title"}},
		{"patch one field", func() error {
			_, err := db.Patch(ctx, "notes", "n1", kv.Document{"title": "b", "n": 1.5})
			return err
		}, []string{"title"}},
		{"put removing a field", func() error {
			_, err := db.Put(ctx, "notes", kv.Document{"id": "n1", "title": "b", "n": 1.5, "tags": []any{"t"}})
			return err
		}, []string{"body"}},
		{"put of the same document", func() error {
			_, err := db.Put(ctx, "notes", kv.Document{"id": "n1", "title": "b", "n": 1.5, "tags": []any{"t"}})
			return err
		}, []string{}},
		{"new session with parts", func() error {
			_, err := db.Put(ctx, "sessions", kv.Document{"id": "s1", "name": "x", "summary": "long", "screenshots": []any{"a", "b"}})
			return err
		}, []string{"id", "name", "screenshots", "summary"}},
		{"patch beside the parts", func() error {
			_, err := db.Patch(ctx, "sessions", "s1", kv.Document{"name": "y"})
			return err
		}, []string{"name"}},
		{"patch of a blob part", func() error {
			_, err := db.Patch(ctx, "sessions", "s1", kv.Document{"summary": "longer"})
			return err
		}, []string{"summary"}},
		{"patch of an array part", func() error {
			_, err := db.Patch(ctx, "sessions", "s1", kv.Document{"screenshots": []any{"a"}})
			return err
		}, []string{"screenshots"}},
		{"append", func() error {
			_, err := db.Append(ctx, "sessions", "s1", "screenshots", "c")
			return err
		}, []string{"screenshots"}},
		{"delete", func() error {
			_, err := db.Delete(ctx, "notes", "n1")
			return err
		}, nil},
		{"extras value", func() error {
			return db.Update(ctx, func(tx *kv.Tx) error {
				_, err := tx.PutValue("extras", "k", []any{1.0})
				return err
			})
		}, nil},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := last().Fields; !reflect.DeepEqual(got, s.want) {
			t.Errorf("%s: fields %#v, want %#v", s.name, got, s.want)
		}
	}
}
