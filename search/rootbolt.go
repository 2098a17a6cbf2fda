package search

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Bleve's root.bolt (scorch): bucket "s" holds one bucket per snapshot,
// keyed by its epoch in an ascending encoding, so the last is the newest;
// in it, besides "m" (metadata) and "i" (internal values), one bucket per
// segment, whose "p" is the segment file's name.
var (
	rootSnapshots = []byte{'s'}
	rootMeta      = []byte{'m'}
	rootInternal  = []byte{'i'}
	rootPath      = []byte{'p'}
)

// errRootBusy is rootSegments's error when another handle holds root.bolt
// for writing.
var errRootBusy = errors.New("cairn: search: root.bolt is held by another handle")

// rootSegments reads, from root.bolt read-only, the names of the segment
// files of the newest snapshot, which Bleve opens first, and calls fn with
// them while it holds root.bolt's shared lock (no writer can add or remove
// a segment meanwhile). A missing root.bolt is no segments. It returns
// errRootBusy when a writer holds the file longer than timeout.
func rootSegments(dir string, timeout time.Duration, fn func(names []string) error) (err error) {
	defer guard("read root.bolt", &err)
	path := filepath.Join(dir, "store", "root.bolt")
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return errRootBusy
		}
		return err
	}
	defer func() { _ = db.Close() }() // read only
	var names []string
	err = db.View(func(tx *bolt.Tx) error {
		snaps := tx.Bucket(rootSnapshots)
		if snaps == nil {
			return nil
		}
		k, _ := snaps.Cursor().Last()
		if k == nil {
			return nil
		}
		snap := snaps.Bucket(k)
		if snap == nil {
			return fmt.Errorf("snapshot %x is not a bucket", k)
		}
		return snap.ForEachBucket(func(k []byte) error {
			if len(k) > 0 && (k[0] == rootMeta[0] || k[0] == rootInternal[0]) {
				return nil
			}
			p := snap.Bucket(k).Get(rootPath)
			if len(p) == 0 {
				return fmt.Errorf("segment %x has no path", k)
			}
			names = append(names, filepath.Base(string(p)))
			return nil
		})
	})
	if err != nil {
		return err
	}
	return fn(names)
}
