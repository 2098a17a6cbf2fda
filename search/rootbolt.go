package search

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
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
	if err := rootFits(path); err != nil {
		return err
	}
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

// rootFits checks that the sound meta pages of the bbolt file at path
// claim no page past its end: bbolt maps the file and would fault reading
// one (a root.bolt cut short), a crash no recover catches. A file that
// does not exist, or whose meta pages do not read, is left to bolt.Open.
// (snapshot.CheckMeta does this for the store's files; search does not
// import snapshot.)
func rootFits(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // bolt.Open says what is wrong
	}
	defer func() { _ = f.Close() }() // read-only
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	le := binary.LittleEndian
	for _, off := range []int64{0, -1} {
		m := make([]byte, 80) // page header, then the meta up to its checksum
		if off < 0 {
			// Meta page 1, one page in: at the size meta page 0 gives,
			// else the usual one.
			off = 4096
			var m0 [80]byte
			if _, err := f.ReadAt(m0[:], 0); err == nil && le.Uint32(m0[16:]) == 0xED0CDAED {
				off = int64(le.Uint32(m0[24:]))
			}
		}
		if _, err := f.ReadAt(m, off); err != nil || le.Uint32(m[16:]) != 0xED0CDAED {
			continue
		}
		h := fnv.New64a()
		_, _ = h.Write(m[16:72]) // hash.Hash never fails
		if h.Sum64() != le.Uint64(m[72:]) {
			continue // bbolt does not use it
		}
		ps, hwm := int64(le.Uint32(m[24:])), le.Uint64(m[56:])
		if ps <= 0 || hwm > uint64(fi.Size()/ps) {
			return fmt.Errorf("%s claims %d pages of %d bytes, but the file is %d bytes (cut short?)", path, hwm, ps, fi.Size())
		}
	}
	return nil
}
