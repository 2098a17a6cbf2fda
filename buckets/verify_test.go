package buckets

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/cairnkv/cairn/schema"
)

func openTestDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "data.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func put(t *testing.T, tx *bolt.Tx, bucket, key, value []byte) {
	t.Helper()
	b, err := tx.CreateBucketIfNotExists(bucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(key, value); err != nil {
		t.Fatal(err)
	}
}

const testHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// fillStore writes a small store with every kind of bucket.
func fillStore(t *testing.T, db *bolt.DB) {
	t.Helper()
	err := db.Update(func(tx *bolt.Tx) error {
		for i, id := range []string{"s-1", "s-2", "s-3"} {
			doc := sessionDoc(0)
			doc["id"] = id
			rec, err := EncodeRecord(&Record{Rev: uint64(i + 1), Size: 100, ArrayParts: map[string]uint32{"screenshots": 1}, BlobParts: []string{"summary"}, Doc: doc})
			if err != nil {
				return err
			}
			put(t, tx, PrimaryBucket("sessions"), []byte(id), rec)
			meta, _ := EncodeValue(map[string]any{"id": id, "name": "n"})
			put(t, tx, MetaBucket("sessions"), []byte(id), meta)
			shot, _ := EncodeValue([]any{map[string]any{"id": "shot of " + id, "analysis": "text"}}) // chunk 0
			put(t, tx, PartsBucket("sessions"), PartKey(id, "screenshots", 0), shot)
			sum, _ := EncodeValue("the summary of " + id)
			put(t, tx, PartsBucket("sessions"), PartKey(id, "summary", -1), sum)
			put(t, tx, IndexBucket("sessions", "status"), IndexKey(IndexString("completed"), id), []byte{})
			put(t, tx, IndexBucket("sessions", "startTime"), IndexKey(IndexTime(int64(i)), id), nil)
			ch, _ := EncodeChange(&Change{Seq: uint64(i + 1), Collection: "sessions", ID: id, Op: OpPut, TimeMs: 1})
			put(t, tx, LogBucket, LogKey(uint64(i+1)), ch)
		}
		rec, _ := EncodeRecord(&Record{Rev: 4, Doc: map[string]any{"theme": "dark"}})
		put(t, tx, PrimaryBucket("settings"), []byte("settings"), rec)
		put(t, tx, RefsBucket, []byte(testHash), EncodeCount(2))
		put(t, tx, SysBucket, []byte("format"), []byte{FormatVersion})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestVerifyTx_clean(t *testing.T) {
	db := openTestDB(t)
	fillStore(t, db)
	err := db.View(func(tx *bolt.Tx) error {
		counts, problems := VerifyTx(tx)
		for _, p := range problems {
			t.Errorf("problem: %s", p)
		}
		if counts["sessions"] != 3 || counts["settings"] != 1 || counts["notes"] != 0 {
			t.Errorf("counts %v", counts)
		}
		if len(counts) != len(schema.BuiltinNames()) {
			t.Errorf("counts has %d collections, want every one", len(counts))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// flipValueOnDisk damages the stored value of key in bucket on disk: it closes
// the database, flips a byte of the value in the file, and reopens it.
func flipValueOnDisk(t *testing.T, db *bolt.DB, bucket, key []byte) *bolt.DB {
	t.Helper()
	path := db.Path()
	var val []byte
	if err := db.View(func(tx *bolt.Tx) error {
		val = append([]byte{}, tx.Bucket(bucket).Get(key)...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), string(val))
	if i < 0 || strings.Count(string(data), string(val)) != 1 {
		t.Fatalf("value of %s/%s not found exactly once in the file", bucket, key)
	}
	data[i+len(val)/2] ^= 0x20
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestVerifyTx_damaged(t *testing.T) {
	tests := []struct {
		name       string
		bucket     []byte
		key        []byte
		collection string
		id         string
		detail     string
	}{
		{"primary", PrimaryBucket("sessions"), []byte("s-2"), "sessions", "s-2", "bucket c/sessions: checksum mismatch"},
		{"singleton", PrimaryBucket("settings"), []byte("settings"), "settings", "settings", "bucket c/settings"},
		{"meta", MetaBucket("sessions"), []byte("s-3"), "sessions", "s-3", "bucket m/sessions"},
		{"array part", PartsBucket("sessions"), PartKey("s-1", "screenshots", 0), "sessions", "s-1", "bucket p/sessions"},
		{"blob part", PartsBucket("sessions"), PartKey("s-2", "summary", -1), "sessions", "s-2", "bucket p/sessions"},
		{"log", LogBucket, LogKey(2), "", "", `key "2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTestDB(t)
			fillStore(t, db)
			db = flipValueOnDisk(t, db, tt.bucket, tt.key)
			err := db.View(func(tx *bolt.Tx) error {
				counts, problems := VerifyTx(tx)
				if counts["sessions"] != 3 {
					t.Errorf("counts %v", counts)
				}
				if len(problems) != 1 {
					t.Fatalf("problems %v, want one", problems)
				}
				p := problems[0]
				if p.Kind != "corrupt" || p.Collection != tt.collection || p.ID != tt.id || !strings.Contains(p.Detail, tt.detail) {
					t.Errorf("problem %+v, want corrupt in %q id %q with %q", p, tt.collection, tt.id, tt.detail)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVerifyTx_strayKeysAndBuckets(t *testing.T) {
	db := openTestDB(t)
	fillStore(t, db)
	err := db.Update(func(tx *bolt.Tx) error {
		put(t, tx, []byte("c/Unknown"), []byte("k"), []byte("v")) // not a valid collection name
		put(t, tx, IndexBucket("notes", "tags"), []byte{0x7f, 'x'}, nil)
		put(t, tx, PartsBucket("notes"), []byte("no-nul"), Seal(nil))
		put(t, tx, RefsBucket, []byte("not-a-hash"), EncodeCount(1))
		put(t, tx, RefsBucket, []byte(strings.Replace(testHash, "e", "f", 1)), []byte{1})
		put(t, tx, LogBucket, []byte{1}, Seal(nil))
		if _, err := tx.Bucket(PrimaryBucket("sessions")).CreateBucket([]byte("nested")); err != nil {
			return err
		}
		if _, err := tx.Bucket(IndexBucket("sessions", "status")).CreateBucket([]byte("nested")); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		_, problems := VerifyTx(tx)
		wantProblems(t, problems, 8,
			`unknown-bucket: bucket "c/Unknown"`,
			`corrupt notes: bucket x/notes/tags`,
			`corrupt notes: cairn: malformed key: part key "no-nul"`,
			`corrupt: cairn: malformed key: ref key "not-a-hash"`,
			`count of 1 bytes`,
			`malformed key: log key of 1 bytes`,
			`unexpected-bucket sessions: nested bucket "nested" in "c/sessions"`,
			`unexpected-bucket sessions: nested bucket "nested" in "x/sessions/status"`,
		)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// VerifyChecksums counts what VerifyTx counts on a sound store, and finds
// a damaged envelope and malformed index keys, an id that is not valid
// among them, without decoding anything.
func TestVerifyChecksums(t *testing.T) {
	db := openTestDB(t)
	fillStore(t, db)
	err := db.View(func(tx *bolt.Tx) error {
		want, _ := VerifyTx(tx)
		got, problems := VerifyChecksums(tx)
		if len(problems) != 0 {
			t.Errorf("problems on a sound store: %v", problems)
		}
		if !maps.Equal(got, want) {
			t.Errorf("counts %v, VerifyTx counts %v", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		bad := Seal([]byte{0x80})
		bad[2] ^= 0xff // the payload, under the checksum
		put(t, tx, MetaBucket("sessions"), []byte("s-1"), bad)
		put(t, tx, IndexBucket("notes", "tags"), []byte{0x7f, 'x'}, nil)
		put(t, tx, IndexBucket("notes", "tags"), IndexKey(IndexString("a"), "bad\x00id"), nil)
		put(t, tx, IndexBucket("notes", "tags"), IndexKey(IndexString("a"), "\xff"), nil)
		put(t, tx, IndexBucket("notes", "tags"), IndexKey(IndexString("a"), "good-id"), nil)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		_, problems := VerifyChecksums(tx)
		wantProblems(t, problems, 4,
			`corrupt sessions "s-1": cairn: corrupt data in bucket "m/sessions" key "s-1": checksum mismatch`,
			`unknown index value tag 0x7f`,
			`index key 20610001626164006964 has an invalid id`, // a NUL
			`index key 20610001ff has an invalid id`,           // not UTF-8
		)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// wantProblems fails t unless there are n problems and each of wants is
// part of one of them.
func wantProblems(t *testing.T, problems []Problem, n int, wants ...string) {
	t.Helper()
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range wants {
		if !strings.Contains(all, want) {
			t.Errorf("no problem mentions %q; problems:\n%s", want, all)
		}
	}
	if len(problems) != n {
		t.Errorf("%d problems, want %d:\n%s", len(problems), n, all)
	}
}

// TestVerifyChecksums_keyOrder: a key damaged on disk, out of its
// bucket's order (bbolt's lookups can no longer find it, and its
// envelope's checksum does not cover it), is a problem: a backup of the
// store is refused instead of counted as verified.
func TestVerifyChecksums_keyOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	val := Seal([]byte{0x80})
	err = db.Update(func(tx *bolt.Tx) error {
		for _, k := range []string{"key-a", "key-b", "key-c"} {
			put(t, tx, MetaBucket("notes"), []byte(k), val)
		}
		return nil
	})
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), "key-b"+string(val))
	if i < 0 {
		t.Fatal("key-b not found in the file")
	}
	data[i+4] = 'z' // key-z, now after key-c's place
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		_, problems := VerifyChecksums(tx)
		wantProblems(t, problems, 1, `key "key-c" comes after key "key-z"`)
		return nil
	})
}
