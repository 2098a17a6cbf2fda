package secondary_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/secondary"
	bolt "go.etcd.io/bbolt"
)

// Example writes three sessions the way the write path does (primary
// record, then Apply with the old and new versions) and queries them: the
// completed sessions since 2025, newest first, refusing a full scan.
func Example() {
	dir, _ := os.MkdirTemp("", "cairn-example")
	defer os.RemoveAll(dir)
	db, err := bolt.Open(filepath.Join(dir, "data.db"), 0o600, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	var s *schema.Schema // the built-in collections; a store's schema also holds declared indexes
	sessions, _ := s.Lookup("sessions")

	put := func(tx *bolt.Tx, id string, doc map[string]any) error {
		st := &secondary.DocState{Doc: doc, Rev: 1, Size: uint64(buckets.JSONSize(doc))}
		rec, err := buckets.EncodeRecord(&buckets.Record{Rev: st.Rev, Size: st.Size, Doc: doc})
		if err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists(buckets.PrimaryBucket("sessions"))
		if err != nil {
			return err
		}
		if err := b.Put([]byte(id), rec); err != nil {
			return err
		}
		return secondary.Apply(tx, sessions, id, nil, st) // nil: a create
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := secondary.Sync(tx, s, nil); err != nil { // as Open does
			return err
		}
		for id, doc := range map[string]map[string]any{
			"s1": {"status": "completed", "startTime": "2024-06-30T09:00:00Z", "tags": []any{"work"}},
			"s2": {"status": "completed", "startTime": "2025-03-01T09:00:00.000Z", "tags": []any{"work"}},
			"s3": {"status": "completed", "startTime": int64(1746090000000), "tags": []any{"home"}}, // epoch ms
		} {
			if err := put(tx, id, doc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		panic(err)
	}

	since, _ := secondary.ParseWhere(sessions, "startTime>=2025-01-01")
	err = db.View(func(tx *bolt.Tx) error {
		ids, total, ex, err := secondary.Run(tx, s, secondary.Query{
			Collection: "sessions",
			Filters:    []secondary.Filter{{Field: "status", Op: "=", Value: "completed"}, since},
			Sort:       "startTime",
			Desc:       true,
			NoScan:     true, // fail rather than read every session
		}, nil)
		fmt.Println(ids, total, ex.Plan, ex.Index)
		fmt.Println(len(secondary.Verify(tx, s, nil)), "problems")
		return err
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// [s3 s2] 2 index-range status+startTime
	// 0 problems
}
