package txn

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	bolt "go.etcd.io/bbolt"
)

// BenchmarkWriter_append appends one screenshot record to a session
// holding n, in its own transaction on a bbolt file without fsync: the
// write path's own cost, which must not grow with n.
func BenchmarkWriter_append(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("shots=%d", n), func(b *testing.B) {
			db, err := bolt.Open(filepath.Join(b.TempDir(), "data.db"), 0o600, &bolt.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			shot := func(i int) any {
				return map[string]any{"id": fmt.Sprintf("shot-%06d", i), "timestamp": "2025-06-01T10:00:00Z",
					"aiAnalysis": map[string]any{"summary": "editing the quarterly budget", "confidence": 0.9}}
			}
			shots := make([]any, n)
			for i := range shots {
				shots[i] = shot(i)
			}
			doc, err := buckets.Normalize(map[string]any{"id": "s1", "name": "work", "status": "active", "screenshots": shots})
			if err != nil {
				b.Fatal(err)
			}
			if err := db.Update(func(tx *bolt.Tx) error {
				_, err := New(tx, nil, nil).Put("sessions", "s1", doc, 0)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := db.Update(func(tx *bolt.Tx) error {
					_, err := New(tx, nil, nil).Append("sessions", "s1", "screenshots", []any{shot(n + i)})
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
