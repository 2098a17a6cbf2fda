package txn

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	bolt "go.etcd.io/bbolt"
)

// seed writes the documents every error case starts from: a session
// with parts (17 screenshots: a full chunk and one more), a session
// without any part and an explicit null array part, a note, an
// attachment referring to a blob, an extras value and the settings.
func seedStore(t *testing.T, st *testStore) {
	t.Helper()
	shots := make([]any, 17)
	for i := range shots {
		shots[i] = map[string]any{"timestamp": int64(1000 + i)}
	}
	docs := []struct {
		coll, id string
		doc      any
	}{
		{"sessions", "s1", map[string]any{"id": "s1", "name": "one", "status": "active", "screenshots": shots, "summary": map[string]any{"narrative": "n"}}},
		{"sessions", "s2", map[string]any{"id": "s2", "name": "two", "audioSegments": nil, "contextItems": "inline"}},
		{"notes", "n1", map[string]any{"id": "n1", "content": "# Title\nbody", "tags": []any{"x"}}},
		{"attachments", "a1", map[string]any{"id": "a1", "name": "f.png", "hash": strings.Repeat("ab", 32), "size": int64(10)}},
		{"extras", "k1", []any{"any", "value"}},
		{"settings", "", map[string]any{"theme": "dark"}},
	}
	for _, d := range docs {
		if _, err := st.run(func(w *Writer) error {
			_, err := w.Put(d.coll, d.id, mustNorm(t, d.doc), 0)
			return err
		}); err != nil {
			t.Fatalf("seed %s/%s: %v", d.coll, d.id, err)
		}
	}
}

// deep returns an object nested n levels deep.
func deep(n int) map[string]any {
	m := map[string]any{"leaf": true}
	for i := 0; i < n; i++ {
		m = map[string]any{"d": m}
	}
	return m
}

// TestWriter_errors runs every way a write can be refused and checks the
// error (its sentinel, and that it names the collection), that the
// writer did not change the transaction (Dirty false), and that the
// store, committed as kv commits a batch around a failed write, is
// byte for byte what it was.
func TestWriter_errors(t *testing.T) {
	longID := strings.Repeat("x", schema.MaxIDLen+1)
	nan := math.NaN()
	cases := []struct {
		name    string
		coll    string
		maxSize uint64
		damage  string // "record": s1's primary value fails its checksum; "chunk": its last screenshot chunk does; "nochunk": is missing
		op      func(w *Writer) error
		want    error
	}{
		// Collections and ids.
		{name: "unknown collection", coll: "Bad Name", op: func(w *Writer) error { _, err := w.Put("Bad Name", "a", map[string]any{"id": "a"}, 0); return err }, want: schema.ErrUnknownCollection},
		{name: "empty id", coll: "notes", op: func(w *Writer) error { _, err := w.Put("notes", "", map[string]any{"id": ""}, 0); return err }, want: schema.ErrInvalidID},
		{name: "long id", coll: "notes", op: func(w *Writer) error { _, err := w.Put("notes", longID, map[string]any{"id": longID}, 0); return err }, want: schema.ErrInvalidID},
		{name: "id not UTF-8", coll: "notes", op: func(w *Writer) error { _, err := w.Patch("notes", "a\xff", map[string]any{}, 0); return err }, want: schema.ErrInvalidID},
		{name: "id with NUL", coll: "sessions", op: func(w *Writer) error {
			_, err := w.Append("sessions", "s\x001", "screenshots", []any{int64(1)})
			return err
		}, want: schema.ErrInvalidID},
		{name: "delete bad id", coll: "extras", op: func(w *Writer) error { _, err := w.Delete("extras", "", 0); return err }, want: schema.ErrInvalidID},
		{name: "modify bad id", coll: "tasks", op: func(w *Writer) error {
			_, err := w.Modify("tasks", "", func(d any) (any, error) { return d, nil })
			return err
		}, want: schema.ErrInvalidID},
		{name: "get bad id", coll: "notes", op: func(w *Writer) error { _, _, err := w.Get("notes", "", true); return err }, want: schema.ErrInvalidID},

		// Documents that break their collection's rules.
		{name: "not an object", coll: "notes", op: func(w *Writer) error { _, err := w.Put("notes", "n2", []any{"x"}, 0); return err }, want: ErrInvalid},
		{name: "singleton not an object", coll: "settings", op: func(w *Writer) error { _, err := w.Put("settings", "", "dark", 0); return err }, want: ErrInvalid},
		{name: "id missing", coll: "notes", op: func(w *Writer) error { _, err := w.Put("notes", "n2", map[string]any{"content": "x"}, 0); return err }, want: ErrInvalid},
		{name: "id not a string", coll: "notes", op: func(w *Writer) error { _, err := w.Put("notes", "n2", map[string]any{"id": int64(2)}, 0); return err }, want: ErrInvalid},
		{name: "id differs from key", coll: "notes", op: func(w *Writer) error { _, err := w.Put("notes", "n1", map[string]any{"id": "n2"}, 0); return err }, want: ErrInvalid},
		{name: "too deep", coll: "notes", op: func(w *Writer) error {
			_, err := w.Put("notes", "n1", map[string]any{"id": "n1", "x": deep(buckets.MaxDepth + 1)}, 0)
			return err
		}, want: ErrInvalid},

		// Too big.
		{name: "put too large", coll: "notes", maxSize: 100, op: func(w *Writer) error {
			_, err := w.Put("notes", "n1", map[string]any{"id": "n1", "content": strings.Repeat("x", 200)}, 0)
			return err
		}, want: buckets.ErrTooLarge},
		{name: "patch too large", coll: "sessions", maxSize: 500, op: func(w *Writer) error {
			_, err := w.Patch("sessions", "s1", map[string]any{"description": strings.Repeat("x", 400)}, 0)
			return err
		}, want: buckets.ErrTooLarge},
		{name: "append too large, parts kept", coll: "sessions", maxSize: 500, op: func(w *Writer) error {
			_, err := w.Append("sessions", "s1", "screenshots", []any{strings.Repeat("x", 400)})
			return err
		}, want: buckets.ErrTooLarge},
		{name: "append too large, first part", coll: "sessions", maxSize: 100, op: func(w *Writer) error {
			_, err := w.Append("sessions", "s2", "audioSegments", []any{strings.Repeat("x", 100)})
			return err
		}, want: buckets.ErrTooLarge},

		// Bad patches and changes.
		{name: "patch not an object", coll: "notes", op: func(w *Writer) error { _, err := w.Patch("notes", "n1", "x", 0); return err }, want: ErrInvalid},
		{name: "patch changes the id", coll: "notes", op: func(w *Writer) error {
			_, err := w.Patch("notes", "n1", map[string]any{"id": "n9"}, 0)
			return err
		}, want: ErrInvalid},
		{name: "patch absent", coll: "notes", op: func(w *Writer) error { _, err := w.Patch("notes", "n9", map[string]any{"a": "b"}, 0); return err }, want: ErrNotFound},
		{name: "patch absent extras", coll: "extras", op: func(w *Writer) error { _, err := w.Patch("extras", "k9", "v", 0); return err }, want: ErrNotFound},
		{name: "modify absent", coll: "notes", op: func(w *Writer) error {
			_, err := w.Modify("notes", "n9", func(d any) (any, error) { return d, nil })
			return err
		}, want: ErrNotFound},
		{name: "modify refused", coll: "sessions", op: func(w *Writer) error {
			_, err := w.Modify("sessions", "s1", func(d any) (any, error) {
				d.(map[string]any)["name"] = "changed in place"
				return nil, errRefused
			})
			return err
		}, want: errRefused},
		{name: "modify returns NaN", coll: "notes", op: func(w *Writer) error {
			_, err := w.Modify("notes", "n1", func(d any) (any, error) { d.(map[string]any)["x"] = nan; return d, nil })
			return err
		}, want: ErrInvalid},
		{name: "modify changes the id", coll: "notes", op: func(w *Writer) error {
			_, err := w.Modify("notes", "n1", func(d any) (any, error) { d.(map[string]any)["id"] = "n9"; return d, nil })
			return err
		}, want: ErrInvalid},
		{name: "append to a field that is not a part", coll: "sessions", op: func(w *Writer) error {
			_, err := w.Append("sessions", "s1", "tags", []any{"t"})
			return err
		}, want: ErrInvalid},
		{name: "append to a part stored inline", coll: "sessions", op: func(w *Writer) error {
			_, err := w.Append("sessions", "s2", "contextItems", []any{"t"})
			return err
		}, want: ErrInvalid},
		{name: "append to absent", coll: "sessions", op: func(w *Writer) error {
			_, err := w.Append("sessions", "s9", "screenshots", []any{"t"})
			return err
		}, want: ErrNotFound},
		{name: "append NaN", coll: "sessions", op: func(w *Writer) error {
			_, err := w.Append("sessions", "s1", "screenshots", []any{int64(1), nan})
			return err
		}, want: ErrInvalid},

		// Revision conflicts.
		{name: "put stale revision", coll: "notes", op: func(w *Writer) error {
			_, err := w.Put("notes", "n1", map[string]any{"id": "n1"}, 1)
			return err
		}, want: ErrConflict},
		{name: "put expecting an absent document", coll: "notes", op: func(w *Writer) error {
			_, err := w.Put("notes", "n9", map[string]any{"id": "n9"}, 3)
			return err
		}, want: ErrConflict},
		{name: "patch stale revision", coll: "sessions", op: func(w *Writer) error {
			_, err := w.Patch("sessions", "s1", map[string]any{"name": "x"}, 99)
			return err
		}, want: ErrConflict},
		{name: "patch singleton stale revision", coll: "settings", op: func(w *Writer) error {
			_, err := w.Patch("settings", "", map[string]any{"theme": "x"}, 1)
			return err
		}, want: ErrConflict},
		{name: "delete stale revision", coll: "attachments", op: func(w *Writer) error {
			_, err := w.Delete("attachments", "a1", 1)
			return err
		}, want: ErrConflict},
		{name: "delete absent with a revision", coll: "attachments", op: func(w *Writer) error {
			_, err := w.Delete("attachments", "a9", 1)
			return err
		}, want: ErrConflict},

		// Damaged values: what needs the stored version fails.
		{name: "patch damaged", coll: "sessions", damage: "record", op: func(w *Writer) error {
			_, err := w.Patch("sessions", "s1", map[string]any{"name": "x"}, 0)
			return err
		}, want: buckets.ErrCorrupt},
		{name: "modify damaged", coll: "sessions", damage: "record", op: func(w *Writer) error {
			_, err := w.Modify("sessions", "s1", func(d any) (any, error) { return d, nil })
			return err
		}, want: buckets.ErrCorrupt},
		{name: "append damaged", coll: "sessions", damage: "record", op: func(w *Writer) error {
			_, err := w.Append("sessions", "s1", "screenshots", []any{"x"})
			return err
		}, want: buckets.ErrCorrupt},
		{name: "put damaged with a revision", coll: "sessions", damage: "record", op: func(w *Writer) error {
			_, err := w.Put("sessions", "s1", map[string]any{"id": "s1"}, 1)
			return err
		}, want: buckets.ErrCorrupt},
		{name: "delete damaged with a revision", coll: "sessions", damage: "record", op: func(w *Writer) error {
			_, err := w.Delete("sessions", "s1", 1)
			return err
		}, want: buckets.ErrCorrupt},
		{name: "get damaged", coll: "sessions", damage: "record", op: func(w *Writer) error {
			_, _, err := w.Get("sessions", "s1", false)
			return err
		}, want: buckets.ErrCorrupt},
		{name: "append after a damaged chunk", coll: "sessions", damage: "chunk", op: func(w *Writer) error {
			_, err := w.Append("sessions", "s1", "screenshots", []any{"x"})
			return err
		}, want: buckets.ErrCorrupt},
		{name: "append after a missing chunk", coll: "sessions", damage: "nochunk", op: func(w *Writer) error {
			_, err := w.Append("sessions", "s1", "screenshots", []any{"x"})
			return err
		}, want: buckets.ErrCorrupt},
		{name: "patch a damaged part", coll: "sessions", damage: "chunk", op: func(w *Writer) error {
			_, err := w.Patch("sessions", "s1", map[string]any{"screenshots": nil}, 0)
			return err
		}, want: buckets.ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			seedStore(t, st)
			switch tc.damage {
			case "record":
				st.corrupt("sessions", "s1")
			case "chunk", "nochunk":
				if err := st.db.Update(func(tx *bolt.Tx) error {
					pb := tx.Bucket(buckets.PartsBucket("sessions"))
					k := buckets.PartKey("s1", "screenshots", 1)
					if tc.damage == "nochunk" {
						return pb.Delete(k)
					}
					v := bytes.Clone(pb.Get(k))
					v[len(v)/2] ^= 0x40
					return pb.Put(k, v)
				}); err != nil {
					t.Fatal(err)
				}
			}
			before := st.dump()
			w, err := st.run(func(w *Writer) error {
				w.MaxSize = tc.maxSize
				return tc.op(w)
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.coll) {
				t.Errorf("error %q does not name the collection %s", err, tc.coll)
			}
			if w.Dirty() {
				t.Errorf("the writer changed the transaction before failing with %v", err)
			}
			if len(w.Changes()) != 0 {
				t.Errorf("Changes() = %v after a failure", w.Changes())
			}
			if after := st.dump(); after != before {
				t.Errorf("the failed write changed the store:\n%s", dumpDiff(before, after))
			}
		})
	}
}

// A failed Append on a collection that has no parts bucket yet leaves no
// empty one behind: kv commits a batch around a write that failed on a
// clean writer, which would keep the bucket.
func TestAppend_failedCreatesNoBucket(t *testing.T) {
	st := openStore(t)
	if _, err := st.run(func(w *Writer) error {
		_, err := w.Put("sessions", "s1", map[string]any{"id": "s1", "name": "no parts yet"}, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	before := st.dump()
	w, err := st.run(func(w *Writer) error {
		w.MaxSize = 60
		_, err := w.Append("sessions", "s1", "screenshots", []any{strings.Repeat("x", 100)})
		return err
	})
	if !errors.Is(err, buckets.ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	if w.Dirty() {
		t.Error("Dirty after a refused Append")
	}
	if after := st.dump(); after != before {
		t.Errorf("the refused Append changed the store:\n%s", dumpDiff(before, after))
	}
}

// Appending to an array part stored as an explicit null replaces the
// null: the logical size counts the array, not the null as well.
func TestAppend_replacedNullSize(t *testing.T) {
	st := openStore(t)
	m := newModel()
	doc := mustNorm(t, map[string]any{"id": "s1", "screenshots": nil, "name": "n"})
	if _, err := st.run(func(w *Writer) error { _, err := w.Put("sessions", "s1", doc, 0); return err }); err != nil {
		t.Fatal(err)
	}
	m.commit("sessions", "s1", doc, false)
	if _, err := st.run(func(w *Writer) error {
		_, err := w.Append("sessions", "s1", "screenshots", []any{"a", "b"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	m.commit("sessions", "s1", mustNorm(t, map[string]any{"id": "s1", "screenshots": []any{"a", "b"}, "name": "n"}), false)
	m.check(t, st, []string{"sessions"}, "append to a null")
}
