package kv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/internal/blobstore"
	"github.com/cairnkv/cairn/snapshot"
	bolt "go.etcd.io/bbolt"
)

// BlobsDir is the directory of attachment contents inside a store.
const BlobsDir = "blobs"

// blobs guards the blob store. Adding a reference (write the blob, then
// commit the document) and deleting an unreferenced blob must not
// interleave, or a blob could be deleted between its write and the commit
// that references it: adders write under the read lock and mark the hash
// pending until their transaction has committed or failed; deleters hold
// the write lock and skip pending hashes.
type blobs struct {
	once  sync.Once
	store *blobstore.Store
	err   error
	mu    sync.RWMutex // read: adders writing; write: deleters
	pmu   sync.Mutex
	pend  map[string]int
	async sync.WaitGroup // deletions running after commits
}

func (db *DB) blobStore() (*blobstore.Store, error) {
	db.blobs.once.Do(func() {
		root := filepath.Join(db.dir, BlobsDir)
		if db.opts.ReadOnly {
			if _, err := os.Lstat(root); errors.Is(err, os.ErrNotExist) {
				db.blobs.err = fmt.Errorf("%w: the store has no blobs directory", ErrNotFound)
				return
			}
		}
		db.blobs.store, db.blobs.err = blobstore.Open(root, nil)
	})
	return db.blobs.store, db.blobs.err
}

// StoreContent writes content to the blob store (once: it is addressed by
// its SHA-256) and returns its hash and size. The blob is durable when
// StoreContent returns, before the transaction commits; reference it from
// an attachment document's "hash" in the same transaction. When the
// transaction fails, or commits without a reference to the blob, the blob
// is deleted just after it ends (unless a backup or another document
// holds it); only a crash before then leaves an orphan, which check
// reports and GC removes.
func (t *Tx) StoreContent(ctx context.Context, content io.Reader) (hash string, size int64, err error) {
	if t.w == nil {
		return "", 0, ErrReadOnly
	}
	db := t.db
	store, err := db.blobStore()
	if err != nil {
		return "", 0, err
	}
	db.blobs.mu.RLock()
	hash, size, err = store.Put(ctx, content)
	if err == nil && !t.pend[hash] {
		t.pend[hash] = true
		db.blobs.pmu.Lock()
		if db.blobs.pend == nil {
			db.blobs.pend = map[string]int{}
		}
		db.blobs.pend[hash]++
		db.blobs.pmu.Unlock()
	}
	db.blobs.mu.RUnlock()
	if err != nil {
		return "", 0, fmt.Errorf("cairn: store attachment content: %w", err)
	}
	return hash, size, nil
}

// releasePending ends the protection of hashes written by one Update or
// stage, once it has committed or failed, and deletes those of them that
// nothing references: a failed transaction's, and those a transaction
// wrote but did not keep (a replica's pulled attachment that lost its
// merge).
func (db *DB) releasePending(pend map[string]bool) {
	if len(pend) == 0 {
		return
	}
	hashes := make([]string, 0, len(pend))
	db.blobs.pmu.Lock()
	for h := range pend {
		if db.blobs.pend[h]--; db.blobs.pend[h] <= 0 {
			delete(db.blobs.pend, h)
		}
		hashes = append(hashes, h)
	}
	db.blobs.pmu.Unlock()
	db.deleteLater(hashes)
}

// deleteLater deletes, in the background, those of hashes that nothing
// references. Asynchronously: deleters wait for adders, and an adder may
// be the very commit batch that calls it. Failures leave orphans, which
// check reports and gc removes; Close, Check, Backup and Staged wait for
// the deletions started.
func (db *DB) deleteLater(hashes []string) {
	if len(hashes) == 0 {
		return
	}
	db.blobs.async.Add(1)
	go func() {
		defer db.blobs.async.Done()
		_, _, _, _ = db.deleteUnreferenced(hashes, true)
	}()
}

// attachmentDoc validates an attachment's metadata and fills its defaults
// (a generated id, createdAt now).
func (db *DB) attachmentDoc(meta Document) (Document, error) {
	doc := Document{}
	for k, v := range meta {
		doc[k] = v
	}
	now := db.opts.Now()
	if _, ok := doc["id"]; !ok {
		doc["id"] = newAttachmentID(now)
	}
	if _, ok := doc["createdAt"]; !ok {
		doc["createdAt"] = now.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	v, err := normalizeDoc("attachments", doc)
	if err != nil {
		return nil, err
	}
	if err := Validate("attachments", v); err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// AddAttachment stores content in the blob store and creates or replaces
// the attachment document meta with its hash and size (see
// DB.AddAttachment).
func (t *Tx) AddAttachment(ctx context.Context, content io.Reader, meta Document) (Document, error) {
	doc, err := t.db.attachmentDoc(meta)
	if err != nil {
		return nil, err
	}
	hash, size, err := t.StoreContent(ctx, content)
	if err != nil {
		return nil, &EntityError{Op: "attach", Collection: "attachments", ID: fmt.Sprint(doc["id"]), Err: err}
	}
	doc["hash"], doc["size"] = hash, size
	if _, err := t.Put("attachments", doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// AddAttachment stores content once (content-addressed by SHA-256,
// deduplicated) and creates or replaces the attachment document meta
// (docs/FORMAT.md §7.6 fields; id generated if missing, createdAt defaulted)
// with the content's hash and size, in one transaction that also counts
// the reference. The content is written durably before that transaction
// commits; a 2 GB video streams through and never sits in memory. It
// returns the stored document.
func (db *DB) AddAttachment(ctx context.Context, content io.Reader, meta Document) (Document, error) {
	doc, err := db.attachmentDoc(meta)
	if err != nil {
		return nil, err
	}
	var hash string
	err = db.Update(ctx, func(tx *Tx) error {
		if hash == "" { // content is a stream: write it once even if fn runs again
			h, size, err := tx.StoreContent(ctx, content)
			if err != nil {
				return &EntityError{Op: "attach", Collection: "attachments", ID: fmt.Sprint(doc["id"]), Err: err}
			}
			hash, doc["hash"], doc["size"] = h, h, size
		}
		_, err := tx.Put("attachments", doc)
		return err
	})
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// MergeAttachment stores content once, as AddAttachment does, and merges
// meta (which must hold the id) with the content's hash and size into the
// attachment document: the fields of a stored document that meta does not
// name (a thumbnail, dimensions, an AI analysis) are kept, and the marks
// of a migration that found no content or damaged content
// (contentMissing, contentDamaged) are dropped unless meta sets them.
// Without a stored document, or over one whose value is damaged, it
// creates the document as AddAttachment does. Adding the content of a
// damaged blob again this way repairs the blob file (the store replaces a
// copy that does not hash to its name). It returns the stored document.
func (db *DB) MergeAttachment(ctx context.Context, content io.Reader, meta Document) (Document, error) {
	id, ok := meta["id"].(string)
	if !ok {
		return nil, &EntityError{Op: "attach", Collection: "attachments", Field: "id", Err: fmt.Errorf("%w: MergeAttachment needs the id of the attachment", ErrInvalid)}
	}
	fresh, err := db.attachmentDoc(meta)
	if err != nil {
		return nil, err
	}
	var hash string
	var size int64
	var doc Document
	err = db.Update(ctx, func(tx *Tx) error {
		if hash == "" { // content is a stream: write it once even if fn runs again
			h, n, err := tx.StoreContent(ctx, content)
			if err != nil {
				return &EntityError{Op: "attach", Collection: "attachments", ID: id, Err: err}
			}
			hash, size = h, n
		}
		old, _, err := tx.Get("attachments", id)
		switch {
		case err == nil:
			for _, mark := range []string{"contentMissing", "contentDamaged"} {
				if _, set := meta[mark]; !set {
					delete(old, mark)
				}
			}
			for k, v := range fresh {
				if _, given := meta[k]; given || old[k] == nil {
					old[k] = v
				}
			}
			doc = old
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorrupt):
			doc = Document{}
			for k, v := range fresh {
				doc[k] = v
			}
		default:
			return err
		}
		doc["hash"], doc["size"] = hash, size
		_, err = tx.Put("attachments", doc)
		return err
	})
	if err != nil {
		return nil, err
	}
	return doc, nil
}

func newAttachmentID(t time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("attachment-%d-%s", t.UnixMilli(), hex.EncodeToString(b[:]))
}

// OpenAttachment returns the attachment document id and a reader of its
// content. The reader verifies the content's hash as it streams: if the
// bytes on disk do not match, the read that reaches the end returns an
// error wrapping ErrCorrupt naming the attachment instead of io.EOF (bytes
// already returned may be wrong: read to the end before trusting them).
// A content file that is missing is damage too: the error wraps ErrCorrupt.
func (db *DB) OpenAttachment(ctx context.Context, id string) (io.ReadCloser, Document, error) {
	doc, _, err := db.Get(ctx, "attachments", id)
	if err != nil {
		return nil, nil, err
	}
	hash, _ := doc["hash"].(string)
	if !buckets.ValidHash(hash) {
		return nil, doc, &EntityError{Op: "attach get", Collection: "attachments", ID: id, Field: "hash", Err: fmt.Errorf("%w: the attachment has no content hash", ErrNotFound)}
	}
	store, err := db.blobStore()
	if err != nil {
		return nil, doc, &EntityError{Op: "attach get", Collection: "attachments", ID: id, Err: err}
	}
	r, err := store.Open(hash)
	if errors.Is(err, blobstore.ErrNotFound) {
		// The document refers to content the store should hold: damage,
		// as Check's blob-missing says, not an absent attachment.
		err = fmt.Errorf("%w: %w (the attachment's content file is missing; kvtool check names the way back)", ErrCorrupt, err)
	}
	if err != nil {
		return nil, doc, &EntityError{Op: "attach get", Collection: "attachments", ID: id, Err: err}
	}
	return &attachReader{r: r, id: id}, doc, nil
}

type attachReader struct {
	r  *blobstore.Reader
	id string
}

func (a *attachReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err != nil && err != io.EOF {
		err = &EntityError{Op: "attach get", Collection: "attachments", ID: a.id, Err: err}
	}
	return n, err
}

func (a *attachReader) Close() error { return a.r.Close() }

// backupBlobs returns the blob hashes referenced by retained backups.
func (db *DB) backupBlobs() (map[string]bool, error) {
	ms, err := snapshot.List(db.backupsDir())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	out := map[string]bool{}
	for _, m := range ms {
		if m.Problem != "" {
			// A damaged manifest no longer says reliably which blobs its
			// backup needs: keep them all until it is pruned.
			return nil, errKeepAll
		}
		for _, h := range m.Blobs {
			out[h] = true
		}
	}
	return out, nil
}

// errKeepAll stops blob deletion while a backup's needs are unknown.
var errKeepAll = errors.New("cairn: a backup manifest is damaged; no blob is deleted until it is pruned or repaired")

// deleteUnreferenced removes the blobs of hashes that no document and no
// retained backup refers to (docs/DESIGN.md invariant 6). It re-reads the counts
// under the deleters' lock, so a concurrent add cannot lose its blob, and
// confirms a count of 0 against the attachments themselves: it returns as
// miscounted, and keeps, the blobs an attachment refers to although
// their stored count is 0. Without remove it only counts what it would
// delete.
func (db *DB) deleteUnreferenced(hashes []string, remove bool) (deleted int, bytes int64, miscounted []string, err error) {
	if len(hashes) == 0 {
		return 0, 0, nil, nil
	}
	store, err := db.blobStore()
	if err != nil {
		return 0, 0, nil, err
	}
	db.blobs.mu.Lock()
	defer db.blobs.mu.Unlock()
	db.blobs.pmu.Lock()
	pending := map[string]bool{}
	for h := range db.blobs.pend {
		pending[h] = true
	}
	db.blobs.pmu.Unlock()
	// The stored count has no checksum: a flipped bit can make it 0 while
	// an attachment still refers to the blob, and a blob deleted then is
	// lost for good (backups do not hold blob contents). When a count is
	// 0, the references are counted from the attachments themselves, in
	// the same transaction, and a blob the two disagree about is kept:
	// its count is damaged, which check reports and gc --recount repairs.
	refs := map[string]uint64{}
	var candidates []string
	var held map[string]uint64
	err = guard(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			b := buckets.Lookup(tx, buckets.RefsBucket)
			for _, h := range hashes {
				if b == nil {
					continue
				}
				if v := b.Get([]byte(h)); v != nil {
					n, err := buckets.ParseCount(v)
					if err != nil {
						return err
					}
					refs[h] = n
				}
			}
			for _, h := range hashes {
				if refs[h] == 0 && !pending[h] {
					candidates = append(candidates, h)
				}
			}
			if len(candidates) == 0 {
				return nil // the usual end of an attachment's commit
			}
			var err error
			if held, err = countRefs(tx); err != nil {
				return fmt.Errorf("cairn: no blob deleted: the attachments referring to them cannot be counted: %w", err)
			}
			return nil
		})
	})
	if err != nil || len(candidates) == 0 {
		return 0, 0, nil, err
	}
	keep, err := db.backupBlobs()
	if err != nil {
		return 0, 0, nil, err
	}
	var errs []error
	for _, h := range candidates {
		if held[h] > 0 {
			miscounted = append(miscounted, h)
			continue
		}
		if keep[h] {
			continue
		}
		size, serr := store.Stat(h)
		if serr != nil {
			continue // already gone
		}
		if !remove {
			deleted++ // counted, kept
			bytes += size
			continue
		}
		if err := store.Remove(h); err != nil {
			errs = append(errs, err)
			continue
		}
		deleted++
		bytes += size
	}
	return deleted, bytes, miscounted, errors.Join(errs...)
}

// GCResult reports a garbage collection.
type GCResult struct {
	Deleted   int   `json:"deleted"`
	Bytes     int64 `json:"bytes"`
	Temp      int   `json:"temp_removed"`
	Recounted int   `json:"recounted"` // reference counts corrected
	// Miscounted are the blobs kept because an attachment refers to them
	// although their stored reference count is 0: the count is damaged
	// (GC with recount repairs it).
	Miscounted []string `json:"miscounted,omitempty"`
	// KeptAside counts the unreferenced blobs kept because a damaged data
	// file set aside by a restore (AsideFiles) may be what refers to them
	// (the attachments written after the backup restored), or a damaged
	// meta page may have held the commit that did. Salvage what it holds,
	// then remove it (or, for a meta page, let the next write rewrite it),
	// and gc deletes them.
	KeptAside int `json:"kept_for_damaged_files,omitempty"`
}

// AsideFiles returns the damaged data files that restores set aside in the
// store's directory (DamagedPrefix), oldest first: files, and symbolic
// links to where one was moved (to free space, say), which still name a
// file whose documents may refer to blobs.
func AsideFiles(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), DamagedPrefix) && (e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0) {
			out = append(out, e.Name())
		}
	}
	return out
}

// GC deletes blob files that no attachment and no retained backup refers
// to (orphans of a crash between writing a blob and committing its
// reference, and blobs whose last backup rotated out), and crash debris.
// With recount it first rebuilds every reference count from the documents.
// A blob whose stored count is 0 is deleted only once the attachments
// themselves are counted and none refers to it; one they do refer to is
// kept and returned in Miscounted (its count is damaged).
func (db *DB) GC(ctx context.Context, recount bool) (GCResult, error) {
	var res GCResult
	if err := db.enter(); err != nil {
		return res, err
	}
	defer db.leave()
	if db.opts.ReadOnly {
		return res, ErrReadOnly
	}
	if recount {
		n, err := db.recountRefs()
		if err != nil {
			return res, err
		}
		res.Recounted = n
	}
	store, err := db.blobStore()
	if err != nil {
		return res, err
	}
	var all []string
	err = store.Walk(func(hash string, _ int64) error {
		all = append(all, hash)
		return ctx.Err()
	}, nil)
	if err != nil {
		return res, err
	}
	if lines, _ := snapshot.DamagedMeta(db.Path()); len(AsideFiles(db.dir)) > 0 || len(lines) > 0 || db.metaDamagedAtOpen {
		// The attachments of a damaged file a restore set aside, or of
		// the commit a damaged meta page held, are not counted anywhere:
		// their blobs look unreferenced, and may be the only copy of
		// their content.
		res.KeptAside, _, res.Miscounted, err = db.deleteUnreferenced(all, false)
		if err != nil {
			return res, err
		}
		res.Temp, err = store.CleanTemp(time.Minute)
		return res, err
	}
	res.Deleted, res.Bytes, res.Miscounted, err = db.deleteUnreferenced(all, true)
	if err != nil {
		return res, err
	}
	res.Temp, err = store.CleanTemp(time.Minute)
	return res, err
}

// recountRefs rewrites the refs bucket from the attachments collection and
// returns how many counts changed.
func (db *DB) recountRefs() (int, error) {
	changed := 0
	err := db.commit.run(func(w *txnWriter) error {
		var err error
		changed, err = w.RecountRefs()
		return err
	})
	return changed, err
}

// checkBlobs verifies every referenced blob exists and hashes to its name,
// and that every blob file is explained by a document, a backup or a
// transaction in progress.
//
// The reference counts and the listing of files are taken together under
// the blob store's write lock, so that no blob is written or deleted
// between them: a commit that adds or drops a reference meanwhile cannot
// make a blob look orphaned or missing. The hashes pending (written by a
// transaction not yet ended) are read before the counts: a blob whose
// transaction commits after the counts were read is pending then. The
// contents are hashed after the lock is released.
func (db *DB) checkBlobs(ctx context.Context) []Problem {
	db.blobs.async.Wait() // deletions this process started: let them land
	root := filepath.Join(db.dir, BlobsDir)
	countRefsNow := func() (map[string]uint64, error) {
		var refs map[string]uint64
		err := guard(func() error {
			return db.bolt.View(func(tx *bolt.Tx) error {
				var err error
				refs, err = countRefs(tx)
				return err
			})
		})
		return refs, err
	}
	if _, err := os.Lstat(root); errors.Is(err, os.ErrNotExist) {
		refs, err := countRefsNow()
		if err != nil {
			return []Problem{{Kind: "blob", Detail: err.Error()}}
		}
		var out []Problem
		for h := range refs {
			out = append(out, Problem{Kind: "blob-missing", ID: h, Detail: "referenced blob has no file (restore it by adding the attachment's file again: backups do not hold blob contents)"})
		}
		sortProblems(out)
		return out
	}
	store, err := db.blobStore()
	if err != nil {
		return []Problem{{Kind: "blob", Detail: err.Error()}}
	}
	keep, _ := db.backupBlobs()
	var out []Problem
	files := map[string]bool{}
	pending := map[string]bool{}
	db.blobs.mu.Lock()
	db.blobs.pmu.Lock()
	for h := range db.blobs.pend {
		pending[h] = true
	}
	db.blobs.pmu.Unlock()
	refs, err := countRefsNow()
	if err == nil {
		err = store.Walk(func(hash string, _ int64) error {
			files[hash] = true
			return nil
		}, func(rel, reason string) error {
			if !strings.HasPrefix(rel, "tmp") {
				out = append(out, Problem{Kind: "blob-stray", ID: rel, Detail: reason + " (not written by Cairn; move it out of blobs/)"})
			}
			return nil
		})
	}
	db.blobs.mu.Unlock()
	if err != nil {
		return append(out, Problem{Kind: "blob", Detail: err.Error()})
	}
	hashes := make([]string, 0, len(refs))
	for h := range refs {
		hashes = append(hashes, h)
	}
	sort.Strings(hashes)
	for _, h := range hashes {
		if ctx.Err() != nil {
			break
		}
		if !files[h] {
			out = append(out, Problem{Kind: "blob-missing", ID: h, Detail: "referenced blob has no file (restore it by adding the attachment's file again: backups do not hold blob contents)"})
			continue
		}
		if err := store.Verify(ctx, h); err != nil {
			if ctx.Err() != nil {
				break
			}
			if _, serr := store.Stat(h); errors.Is(serr, fs.ErrNotExist) {
				continue // deleted since the listing, its last reference dropped
			}
			out = append(out, Problem{Kind: "blob-corrupt", ID: h, Detail: err.Error() + " (restore it by adding the attachment's file again, from its source: backups do not hold blob contents)"})
		}
	}
	aside := AsideFiles(db.dir)
	for h := range files {
		if _, ok := refs[h]; !ok && !keep[h] && !pending[h] {
			if len(aside) > 0 {
				out = append(out, Problem{Kind: "blob-orphan", ID: h, Detail: fmt.Sprintf("no attachment or backup refers to it, but the damaged data file set aside by a restore (%s) may: gc keeps it until that file is salvaged and removed", strings.Join(aside, ", "))})
				continue
			}
			out = append(out, Problem{Kind: "blob-orphan", ID: h, Detail: "no attachment or backup refers to it (kvtool gc removes it)"})
		}
	}
	sortProblems(out)
	return out
}

// WaitBlobDeletes waits for the deletions of unreferenced blobs that
// commits started (they run just after each commit).
func (db *DB) WaitBlobDeletes() { db.blobs.async.Wait() }

// HasContent reports whether the blob store holds the content with this
// SHA-256 hash (an attachment imported from an export file carries its
// metadata only).
func (db *DB) HasContent(ctx context.Context, hash string) bool {
	if !buckets.ValidHash(hash) {
		return false
	}
	store, err := db.blobStore()
	return err == nil && store.Has(hash)
}
