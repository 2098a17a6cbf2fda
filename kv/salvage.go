package kv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
// it are lost to the copy. Values are copied as stored: a damaged one
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
		if len(pp) == 0 {
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
	pp, err := snapshot.Salvage(filepath.Join(dir, DataFile), filepath.Join(tmp, DataFile))
	if err != nil {
		return nil, nil, errors.Join(err, os.RemoveAll(tmp))
	}
	o.NoSearch, o.EagerSearch = true, false
	db, err = Open(tmp, &o)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("cairn: salvage: the copy of the readable pages does not open: %w", err), os.RemoveAll(tmp))
	}
	db.scratch = tmp
	for _, p := range pp {
		problems = append(problems, Problem{Kind: "bbolt", Detail: "data.db: " + p + " (what is stored under it is left out)"})
	}
	return db, problems, nil
}
