package kv

import (
	"context"
	"os"

	"github.com/cairnkv/cairn/buckets"
)

// CollectionStats are the figures of one collection.
type CollectionStats struct {
	Count        int    `json:"count"`
	LogicalBytes uint64 `json:"logical_bytes"` // documents as compact JSON
	StoredBytes  uint64 `json:"stored_bytes"`  // primary and part values as stored
}

// BlobStats are the figures of the attachment blob store.
type BlobStats struct {
	Count         int    `json:"count"`          // distinct blobs referenced
	LogicalBytes  uint64 `json:"logical_bytes"`  // sum of attachment sizes
	PhysicalBytes uint64 `json:"physical_bytes"` // sum of distinct blob sizes
}

// Stats describe a store.
type Stats struct {
	Collections      map[string]CollectionStats `json:"collections"`
	LogicalBytes     uint64                     `json:"logical_bytes"`
	StoredBytes      uint64                     `json:"stored_bytes"`
	CompressionRatio float64                    `json:"compression_ratio"` // stored / logical
	FileBytes        int64                      `json:"file_bytes"`
	FreeBytes        int64                      `json:"free_bytes"`
	PageSize         int                        `json:"page_size"`
	Blobs            BlobStats                  `json:"blobs"`
	ChangeLog        int                        `json:"change_log_entries"`
	LastSeq          uint64                     `json:"last_seq"`
}

// Stats counts documents and bytes. It reads record headers, never whole
// documents.
func (db *DB) Stats(ctx context.Context) (*Stats, error) {
	st := &Stats{Collections: map[string]CollectionStats{}}
	err := db.View(ctx, func(t *Tx) error {
		tx := t.tx
		for _, name := range buckets.CollectionsIn(tx) {
			c, err := db.lookup(name)
			if err != nil {
				continue // not a collection Cairn wrote; check reports it
			}
			cs := CollectionStats{}
			name := buckets.PrimaryBucket(c.Name)
			if b := buckets.Lookup(tx, name); b != nil {
				err := b.ForEach(func(k, v []byte) error {
					rec, err := buckets.DecodeRecord(name, k, v, false)
					if err != nil {
						return err
					}
					cs.Count++
					cs.LogicalBytes += rec.Size
					cs.StoredBytes += uint64(len(v))
					return nil
				})
				if err != nil {
					return err
				}
			}
			if b := buckets.Lookup(tx, buckets.PartsBucket(c.Name)); b != nil {
				_ = b.ForEach(func(_, v []byte) error {
					cs.StoredBytes += uint64(len(v))
					return nil
				})
			}
			st.Collections[c.Name] = cs
			st.LogicalBytes += cs.LogicalBytes
			st.StoredBytes += cs.StoredBytes
		}
		if st.LogicalBytes > 0 {
			st.CompressionRatio = float64(st.StoredBytes) / float64(st.LogicalBytes)
		}
		if b := buckets.Lookup(tx, buckets.LogBucket); b != nil {
			st.ChangeLog = b.Stats().KeyN
			st.LastSeq = b.Sequence()
		}
		st.FileBytes = tx.Size()
		// Attachment blob figures.
		sizes := map[string]uint64{}
		name := buckets.PrimaryBucket("attachments")
		if b := buckets.Lookup(tx, name); b != nil {
			err := b.ForEach(func(k, v []byte) error {
				rec, err := buckets.DecodeRecord(name, k, v, true)
				if err != nil {
					return err
				}
				m, _ := rec.Doc.(map[string]any)
				h, _ := m["hash"].(string)
				if !buckets.ValidHash(h) {
					return nil
				}
				sz := docSize(m)
				st.Blobs.LogicalBytes += sz
				sizes[h] = sz
				return nil
			})
			if err != nil {
				return err
			}
		}
		st.Blobs.Count = len(sizes)
		for _, s := range sizes {
			st.Blobs.PhysicalBytes += s
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	bs := db.bolt.Stats()
	st.PageSize = db.bolt.Info().PageSize
	st.FreeBytes = int64(bs.FreePageN+bs.PendingPageN) * int64(st.PageSize)
	if fi, err := os.Stat(db.Path()); err == nil {
		st.FileBytes = fi.Size()
	}
	return st, nil
}

func docSize(m map[string]any) uint64 {
	switch n := m["size"].(type) {
	case int64:
		if n > 0 {
			return uint64(n)
		}
	case float64:
		if n > 0 {
			return uint64(n)
		}
	case uint64:
		return n
	}
	return 0
}
