package kv

import (
	"context"
	"errors"
	"fmt"
	"github.com/cairnkv/cairn/schema"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/snapshot"
	bolt "go.etcd.io/bbolt"
)

// maxBackupLookups bounds how many damaged documents Check looks for in
// the backups (each lookup opens the backup files).
const maxBackupLookups = 100

// addFixes sets the Fix of every problem of rep: the way back from that
// kind of problem. A backup restore is advised only when a backup holds
// what was lost: for a damaged document, the newest verified backup that
// holds a readable copy of it; for a damaged file structure, the newest
// verified backup. Blob contents are not in backups (they stay in blobs/
// while a backup refers to them), so a missing or damaged blob is fixed by
// adding its file again, and the fix names the attachments that need it.
func (db *DB) addFixes(rep *CheckReport) {
	ms, _ := db.Backups(context.Background())
	var verified []Manifest
	for _, m := range ms {
		if m.Verified {
			verified = append(verified, m)
		}
	}
	sort.SliceStable(verified, func(i, j int) bool { return verified[i].Time.After(verified[j].Time) })
	// A restore verifies every byte of the backup first and refuses one
	// that fails (damaged since it was taken): advise only a backup that
	// passes now, each verified at most once, and only when advised.
	passes := map[string]bool{}
	restorableNow := func(m Manifest) bool {
		ok, seen := passes[m.Name]
		if !seen {
			_, _, err := restorable(context.Background(), db.backupsDir(), m.Name)
			ok = err == nil
			passes[m.Name] = ok
		}
		return ok
	}
	kvtool := "kvtool --db " + shellQuote(db.dir)
	restore := func(m Manifest) string {
		return fmt.Sprintf("%s backup restore %s --yes (taken %s; changes since then are lost: %s export --salvage -o FILE saves what still reads first)", kvtool, m.Name, m.Time.Format(time.RFC3339), kvtool)
	}
	var lookups []int                    // problems naming a damaged document, to look for in the backups
	attachments := map[string][]string{} // hash → "id (name)", read once when needed
	attachmentsRead := false
	metaDamaged := false
	for _, p := range rep.Problems {
		metaDamaged = metaDamaged || p.Kind == "meta"
	}
	for i := range rep.Problems {
		p := &rep.Problems[i]
		switch p.Kind {
		case "corrupt", "part-missing", "unreadable":
			switch {
			case p.Collection != "" && p.ID == "": // an index key
				p.Fix = kvtool + " reindex --secondary rebuilds the indexes from the documents"
				continue
			case buckets.IsLogProblem(*p):
				p.Fix = kvtool + " reindex --search rebuilds the search index from the documents, then drops the change-log entries that do not read (with the older ones: sync then sends every document again); no document is lost"
				continue
			case p.Collection == "" && buckets.ValidHash(p.ID): // a blob reference count
				p.Fix = kvtool + " gc --recount rebuilds the blob reference counts"
				continue
			case p.Collection == "" || p.ID == "": // the change log, or the structure
				p.Fix = db.structuralFix(kvtool, verified, restorableNow, restore)
				continue
			}
			if p.Kind == "corrupt" && db.documentReadable(p.Collection, p.ID) {
				p.Fix = kvtool + " reindex --secondary rebuilds the damaged metadata from the document"
				continue
			}
			if id, lost := db.damagedKey(p.Collection, p.ID); lost {
				// bbolt can neither find nor delete a key out of order.
				p.Fix = fmt.Sprintf("the key of document %s is damaged (it reads %s) and out of the bucket's order, where no write can reach it: %s export --salvage -o FILE writes the document under its id, then kvtool --db NEWDIR import FILE makes a store without the damage (copy %s into NEWDIR first, for the attachments' content)",
					shellQuote(id), shellQuote(p.ID), kvtool, filepath.Join(db.dir, BlobsDir))
				continue
			} else if id != "" {
				// The document is whole, under a key that is not its id:
				// drop the record, then the metadata, indexes and search
				// entries its real id left behind, and write it again.
				p.Fix = fmt.Sprintf("the key of document %s is damaged (it reads %s): %s delete %s %s, then %s reindex (drops what %s left in the indexes), then put %s again (%s put %s FILE)",
					shellQuote(id), shellQuote(p.ID), kvtool, p.Collection, shellQuote(p.ID), kvtool, shellQuote(id), shellQuote(id), kvtool, p.Collection)
				continue
			}
			if c, err := db.lookup(p.Collection); err == nil && c.Kind != schema.Singleton {
				if _, kerr := c.Key(p.ID); kerr != nil {
					// A damaged key size makes the key bytes no id is
					// (invalid UTF-8, a NUL): no delete or put can name it.
					p.Fix = fmt.Sprintf("the key of this document is damaged into bytes no command can name (%v): %s", kerr, db.structuralFix(kvtool, verified, restorableNow, restore))
					continue
				}
			}
			redo := fmt.Sprintf("%s delete %s %s, or put it again (%s put %s FILE)", kvtool, p.Collection, shellQuote(p.ID), kvtool, p.Collection)
			if c, err := db.lookup(p.Collection); err == nil && c.Kind == schema.Singleton {
				redo = fmt.Sprintf("put it again: %s put %s FILE", kvtool, p.Collection)
			}
			if !IsLocalCollection(p.Collection) && db.syncs() {
				// A delete, or a put of anything else, would reach
				// every device, though another one may hold the document
				// whole.
				redo = fmt.Sprintf("this store syncs with other devices: put a readable copy from another device here (kvtool get %s %s there, then %s put %s FILE); a delete here deletes it on every device", p.Collection, shellQuote(p.ID), kvtool, p.Collection)
			}
			p.Fix = "the document cannot be read: " + redo
			if len(lookups) < maxBackupLookups {
				lookups = append(lookups, i)
			}
		case "bbolt", "read", "structure":
			p.Fix = db.structuralFix(kvtool, verified, restorableNow, restore)
			if p.Kind == "bbolt" && strings.HasSuffix(p.Detail, snapshot.WriteHazard) {
				// Only the freelist is damaged: every document reads, and
				// a restore would lose what came after the backup.
				p.Fix = fmt.Sprintf("only the list of free pages is damaged, so writes are refused but every document reads: write them into a new store with %s export -o FILE, then kvtool --db NEWDIR import FILE, and use NEWDIR (copy %s into NEWDIR first, for the attachments' content); a restore would lose the changes since its backup", kvtool, filepath.Join(db.dir, BlobsDir))
			}
		case "meta":
			p.Fix = "the store reads as of the sound meta page, and its next write rewrites the damaged one: if the last write is missing, write it again before anything else, or " + db.structuralFix(kvtool, verified, restorableNow, restore)
		case "metadata-missing", "metadata-extra", "metadata-stale", "index-missing", "index-extra", "index-stale", "count-stale":
			p.Fix = kvtool + " reindex --secondary rebuilds metadata and indexes from the documents"
		case "part-extra":
			p.Fix = "nothing to do: parts that belong to no document are never read"
		case "refcount", "refs":
			p.Fix = kvtool + " gc --recount recounts the blob references"
		case "blob-missing", "blob-corrupt":
			if !attachmentsRead {
				attachmentsRead = true
				db.attachmentsByHash(attachments)
			}
			who := attachments[p.ID]
			if len(who) == 0 {
				p.Fix = kvtool + " gc --recount, then check again (no attachment names this blob)"
				continue
			}
			verb := "the blob's file is missing"
			if p.Kind == "blob-corrupt" {
				verb = "the blob's file is damaged"
			}
			p.Fix = fmt.Sprintf("%s (backups do not hold blob contents): re-add the file of attachment %s with %s attach add FILE --id ID, which stores it again", verb, strings.Join(who, ", "), kvtool)
		case "blob-orphan":
			p.Fix = kvtool + " gc removes it"
			if metaDamaged {
				p.Fix = "the commit the damaged meta page held may be what refers to it: " + kvtool + " export --salvage -o FILE first (it reads that commit when it can); gc keeps it while the meta page is damaged"
			}
			if aside := AsideFiles(db.dir); len(aside) > 0 {
				p.Fix = fmt.Sprintf("salvage the damaged data file a restore set aside (copy %s to DIR/data.db, then kvtool --db DIR export --salvage -o FILE, and %s import FILE), which may hold the attachment that refers to it; once that file is removed, %s gc removes what is still unreferenced", filepath.Join(db.dir, aside[len(aside)-1]), kvtool, kvtool)
			}
		case "blob-stray":
			p.Fix = "move it out of " + filepath.Join(db.dir, BlobsDir)
		case "blob":
			p.Fix = "make " + filepath.Join(db.dir, BlobsDir) + " a readable directory again (its permissions, or what replaced it)"
		case "unknown-bucket", "unexpected-bucket":
			p.Fix = "nothing to do: Cairn never reads it (another program wrote it into data.db)"
		default:
			if strings.HasPrefix(p.Kind, "search") {
				p.Fix = kvtool + " reindex --search rebuilds the search index"
				dir := filepath.Join(db.dir, SearchDir)
				if fi, err := os.Lstat(dir); err == nil && !fi.IsDir() {
					p.Fix = "move " + dir + " away (it is not a directory: the index is rebuilt in its place), then " + p.Fix
				}
			}
		}
	}
	if len(lookups) == 0 {
		return
	}
	docs := make([]docRef, len(lookups))
	for j, i := range lookups {
		docs[j] = docRef{rep.Problems[i].Collection, rep.Problems[i].ID}
	}
	holders := db.backupsHolding(verified, docs, restorableNow)
	for _, i := range lookups {
		p := &rep.Problems[i]
		if m, ok := holders[docRef{p.Collection, p.ID}]; ok {
			p.Fix += fmt.Sprintf("; backup %s holds a readable copy of it: %s", m.Name, restore(m))
		} else {
			p.Fix += "; no verified backup holds a readable copy of it"
		}
	}
}

// syncs reports whether the store syncs with other devices: a collection
// of a device's own bookkeeping (IsLocalCollection) holds a document.
func (db *DB) syncs() bool {
	found := false
	_ = db.View(context.Background(), func(t *Tx) error {
		for _, c := range t.Collections() {
			if b := buckets.Lookup(t.tx, buckets.PrimaryBucket(c)); IsLocalCollection(c) && b != nil {
				if k, _ := b.Cursor().First(); k != nil {
					found = true
				}
			}
		}
		return nil
	})
	return found
}

// docRef names one document.
type docRef struct{ coll, id string }

// structuralFix is the way back from damage to data.db's structure.
func (db *DB) structuralFix(kvtool string, verified []Manifest, restorableNow func(Manifest) bool, restore func(Manifest) string) string {
	for _, m := range verified {
		if restorableNow(m) {
			return "data.db is damaged: restore the newest verified backup: " + restore(m)
		}
	}
	return "data.db is damaged and there is no backup that passes verification: " + kvtool + " export --salvage -o FILE saves every document that still reads; keep a copy of the directory"
}

// documentReadable reports whether the primary value and the parts of
// coll/id pass their checksums (a "corrupt" problem naming it is then in
// its metadata entry, which is derived data).
func (db *DB) documentReadable(coll, id string) bool {
	ok := false
	_ = db.View(context.Background(), func(t *Tx) error {
		ok = t.damagedDocument(coll, id) == nil
		return nil
	})
	return ok
}

// damagedKey returns, if the record stored under coll/key is whole but
// carries another id (its key is damaged), that id, or "".
func (db *DB) damagedKey(coll, key string) (id string, lost bool) {
	var ce *buckets.CorruptError
	_ = db.View(context.Background(), func(t *Tx) error {
		err := t.damagedDocument(coll, key)
		if errors.Is(err, ErrNotFound) {
			// Out of the bucket's order, which bbolt's lookup (and so
			// a delete) cannot find: only a walk of the keys does.
			if sid, _, ok := t.Misfiled(coll, key); ok {
				id, lost = sid, true
			}
			return nil
		}
		if errors.As(err, &ce) {
			id = ce.StoredID
		}
		return nil
	})
	return id, lost
}

// damagedDocument returns what fails in coll/id's value and parts; the
// document must exist.
func (t *Tx) damagedDocument(coll, id string) error {
	c, err := t.db.lookup(coll)
	if err != nil {
		return err
	}
	rec, _, err := buckets.ReadDocument(t.tx, c, id)
	if err == nil && rec == nil {
		return ErrNotFound
	}
	return err
}

// backupsHolding returns, for each of docs that a verified backup holds
// readably, the newest such backup. Each backup file is opened once; its
// meta pages and the pages of the collections looked at are checked from
// the file first (a backup damaged since it was verified must not fault
// or hang the check).
func (db *DB) backupsHolding(verified []Manifest, docs []docRef, restorableNow func(Manifest) bool) map[docRef]Manifest {
	found := map[docRef]Manifest{}
	var names [][]byte
	seen := map[string]bool{}
	for _, d := range docs {
		if !seen[d.coll] {
			seen[d.coll] = true
			names = append(names, buckets.PrimaryBucket(d.coll), buckets.PartsBucket(d.coll))
		}
	}
	for _, m := range verified {
		if len(found) == len(docs) {
			break
		}
		path := filepath.Join(db.backupsDir(), m.Name+".db")
		if snapshot.CheckMeta(path) != nil {
			continue
		}
		var hits []docRef
		var bdb *bolt.DB
		if guard(func() (err error) {
			bdb, err = bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
			return err
		}) != nil {
			continue
		}
		_ = guard(func() error {
			return bdb.View(func(tx *bolt.Tx) error {
				if pp, err := snapshot.CheckPages(tx, names...); err != nil || len(pp) > 0 {
					return nil
				}
				t := &Tx{db: db, tx: tx}
				for _, d := range docs {
					if _, done := found[d]; !done && t.damagedDocument(d.coll, d.id) == nil {
						hits = append(hits, d)
					}
				}
				return nil
			})
		})
		_ = bdb.Close() // read-only
		// Only a backup a restore would accept holds what was lost.
		if len(hits) > 0 && restorableNow(m) {
			for _, d := range hits {
				found[d] = m
			}
		}
	}
	return found
}

// attachmentsByHash fills out with the attachments of the store by the
// hash of their content, as "id (name)".
func (db *DB) attachmentsByHash(out map[string][]string) {
	_ = db.View(context.Background(), func(t *Tx) error {
		return t.EachReadable("attachments", func(id string, doc any) error {
			m, _ := doc.(map[string]any)
			h, _ := m["hash"].(string)
			if h == "" {
				return nil
			}
			label := shellQuote(id)
			if name, ok := m["name"].(string); ok && name != "" {
				label += fmt.Sprintf(" (%q)", name)
			}
			out[h] = append(out[h], label)
			return nil
		}, func(string, error) error { return nil })
	})
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string { return fsutil.ShellQuote(s) }
