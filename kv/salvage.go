package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/snapshot"
)

// OpenSalvage opens the store in dir read-only for reading what it still
// holds (kvtool export --salvage), also when bbolt's page structure is
// damaged. When the store opens and every page of its file is sound
// (snapshot.CheckPages), it is that store, and problems is empty.
// Otherwise (Open fails with ErrCorrupt, or a page is damaged, where a
// cursor could fault, loop forever, or stop a walk at the first bad page)
// the readable pages of data.db are copied, read from the file itself,
// into a new store in a temporary directory (os.TempDir; snapshot.Salvage:
// every subtree under a page that cannot be used is skipped), and the DB
// returned reads that copy, without search; Close removes it. problems
// then names each page skipped (kind "bbolt"): the documents stored under
// it are lost to the copy, but for the leaf pages found cut off from the
// tree (snapshot.SalvageReport.Recovered, also named); and, when neither
// meta page was sound, which one's root was read as it stands (kind
// "bbolt" too). Values are copied as stored: a damaged one
// still fails its checksum when read. data.db is never written.
func OpenSalvage(ctx context.Context, dir string, opts *Options) (db *DB, problems []Problem, err error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.ReadOnly = true
	db, err = Open(dir, &o)
	if err == nil {
		var pp []string
		err = db.View(ctx, func(t *Tx) (err error) {
			pp, err = snapshot.CheckPages(t.tx)
			return err
		})
		if err != nil {
			return nil, nil, errors.Join(err, db.Close())
		}
		// A damaged meta page (bbolt reads the other, maybe a commit
		// older) is read through Salvage, which reads the newer commit
		// when the damaged page still names a root that reads.
		if lines, _ := snapshot.DamagedMeta(db.Path()); len(pp) == 0 && len(lines) == 0 {
			return db, nil, nil
		}
		if err := db.Close(); err != nil {
			return nil, nil, err
		}
	} else if !errors.Is(err, ErrCorrupt) {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	tmp, err := os.MkdirTemp("", "cairn-salvage-")
	if err != nil {
		return nil, nil, fmt.Errorf("cairn: salvage: %w", err)
	}
	report, err := snapshot.Salvage(filepath.Join(dir, DataFile), filepath.Join(tmp, DataFile))
	if err != nil {
		if errors.Is(err, snapshot.ErrNoRoot) {
			err = fmt.Errorf("%w: %w; %s", ErrCorrupt, err, restoreAdvice(filepath.Join(dir, DataFile)))
		}
		return nil, nil, errors.Join(err, os.RemoveAll(tmp))
	}
	o.NoSearch, o.EagerSearch = true, false
	db, err = Open(tmp, &o)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("cairn: salvage: the copy of the readable pages does not open: %w", err), os.RemoveAll(tmp))
	}
	db.scratch = tmp
	if report.Meta != "" {
		problems = append(problems, Problem{Kind: "bbolt", Detail: "data.db: " + report.Meta})
	} else if lines, _ := snapshot.DamagedMeta(filepath.Join(dir, DataFile)); len(lines) > 0 {
		// Read from the sound meta page: a commit after it may be lost.
		problems = append(problems, Problem{Kind: "meta", Detail: "data.db: " + lines[0] + "; the damaged page names no root that reads"})
	}
	lost := " (what is stored under it is left out)"
	if len(report.Recovered) > 0 {
		lost = " (what is stored under it was looked for: see below)"
	}
	for _, p := range report.Skipped {
		problems = append(problems, Problem{Kind: "bbolt", Detail: "data.db: " + p + lost})
	}
	for _, p := range report.Recovered {
		problems = append(problems, Problem{Kind: "bbolt", Detail: "data.db: " + p})
	}
	return db, problems, nil
}

// Misfiled returns the document stored in coll under key when key is
// damaged (the document carries another id; the checksum covers the value
// only, so the value itself may be whole): its stored id and the whole
// document, parts assembled. ok is false when key holds no such document,
// when its value or parts do not read, or when coll also holds a document
// under that id (the misfiled one is then an older copy, or the damage is
// elsewhere). A salvage writes the document under its id, which is what
// the store held before the key was damaged.
func (t *Tx) Misfiled(coll, key string) (id string, doc any, ok bool) {
	c, err := t.db.lookup(coll)
	if err != nil {
		return "", nil, false
	}
	name := buckets.PrimaryBucket(coll)
	_ = guard(func() error {
		b := buckets.Lookup(t.tx, name)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(key))
		if v == nil {
			// A damaged key breaks the bucket's order, and bbolt's
			// lookup may pass it by: look at the keys around where it
			// would be, one by one.
			v = getNear(b, []byte(key))
		}
		var ce *buckets.CorruptError
		if _, err := buckets.DecodeRecord(name, []byte(key), v, true); !errors.As(err, &ce) || ce.StoredID == "" || ce.StoredID == key {
			return nil
		}
		if b.Get([]byte(ce.StoredID)) != nil {
			return nil
		}
		// Decoded as stored under its id: the checksum does not cover the key.
		rec, err := buckets.DecodeRecord(name, []byte(ce.StoredID), v, true)
		if err != nil {
			return nil
		}
		d, err := buckets.LoadParts(t.tx, c, ce.StoredID, rec, nil)
		if err != nil {
			return nil
		}
		id, doc, ok = ce.StoredID, d, true
		return nil
	})
	return id, doc, ok
}

// getNear returns the value of key in b by walking the keys around where a
// lookup lands, for a key out of order (damaged) that b.Get cannot find;
// nil if none of them is key.
func getNear(b *bolt.Bucket, key []byte) []byte {
	const reach = 256
	c := b.Cursor()
	k, v := c.Seek(key)
	for i := 0; k != nil && i < reach; i++ {
		if bytes.Equal(k, key) {
			return v
		}
		k, v = c.Next()
	}
	c.Seek(key)
	for i := 0; i < reach; i++ {
		if k, v = c.Prev(); k == nil {
			break
		}
		if bytes.Equal(k, key) {
			return v
		}
	}
	return nil
}
