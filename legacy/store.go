package legacy

// This file is the glue between the legacy readers and a Cairn store: the
// migration of a scanned directory, and export and import of the app's
// export file. Apart from ReadExport's use of kv's document limits, it is
// the only part of the package that knows kv.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/cairnkv/cairn/kv"
)

// singletons are the store's singleton collections an export or a
// migration may carry.
var singletons = []string{"settings", "aiSettings", "preferences"}

// ExportFrom writes the store as the app's export file, format 1.0.0 (FORMAT.md
// §8), plus Cairn's extra keys (settings, attachments metadata, extras),
// from one consistent read transaction, streaming: documents are read one
// at a time. A store holding a damaged document (its value or a part fails
// its checksum) makes it fail, before anything is written, with an error
// wrapping kv.ErrCorrupt that names the damaged documents; SalvageExport
// writes the rest.
func ExportFrom(ctx context.Context, db *kv.DB, w io.Writer, compact bool) error {
	_, err := exportFrom(ctx, db, w, compact, false)
	return err
}

// SalvageExport writes what ExportFrom writes, from a store that may be
// damaged: every document that can be read is written, and those that
// cannot (a value or a part that fails its checksum, a singleton included)
// are left out and returned as "corrupt" problems naming collection and
// id. The file is a valid export file, which import reads back.
func SalvageExport(ctx context.Context, db *kv.DB, w io.Writer, compact bool) (damaged []kv.Problem, err error) {
	return exportFrom(ctx, db, w, compact, true)
}

// maxNamedDamage bounds the damaged documents an ExportFrom error names.
const maxNamedDamage = 10

func exportFrom(ctx context.Context, db *kv.DB, w io.Writer, compact, salvage bool) (damaged []kv.Problem, err error) {
	err = db.View(func(tx *kv.Tx) error {
		if !salvage {
			if ps := tx.Damaged(); len(ps) > 0 {
				names := make([]string, 0, maxNamedDamage)
				for _, p := range ps[:min(len(ps), maxNamedDamage)] {
					names = append(names, fmt.Sprintf("%s %q", p.Collection, p.ID))
				}
				more := ""
				if len(ps) > maxNamedDamage {
					more = fmt.Sprintf(" and %d more", len(ps)-maxNamedDamage)
				}
				return fmt.Errorf("%w: %d damaged document(s) (%s%s); nothing was written (kvtool export --salvage writes every readable document)", kv.ErrCorrupt, len(ps), strings.Join(names, ", "), more)
			}
		}
		skip := func(coll string) func(id string, err error) error {
			return func(id string, err error) error {
				damaged = append(damaged, kv.Problem{Kind: "corrupt", Collection: coll, ID: id, Detail: err.Error()})
				return nil
			}
		}
		if !salvage {
			skip = func(string) func(string, error) error {
				return func(_ string, err error) error { return err }
			}
		}
		iter := func(coll string) DocIter {
			return func(yield func(doc map[string]any) error) error {
				return tx.EachReadable(coll, func(_ string, doc any) error {
					if err := ctx.Err(); err != nil {
						return err
					}
					m, ok := doc.(map[string]any)
					if !ok {
						return nil
					}
					return yield(m)
				}, skip(coll))
			}
		}
		src := ExportSource{
			Topics: iter("topics"), Companies: iter("companies"), Contacts: iter("contacts"),
			Notes: iter("notes"), Tasks: iter("tasks"), Sessions: iter("sessions"),
			Attachments: iter("attachments"), Compact: compact,
		}
		for _, coll := range singletons {
			v, _, err := tx.GetValue(coll, "")
			switch {
			case err == nil:
				switch coll {
				case "aiSettings":
					src.AISettings = v
				case "preferences":
					src.Preferences = v
				case "settings":
					src.Settings, _ = v.(map[string]any)
				}
			case errors.Is(err, kv.ErrCorrupt):
				if err := skip(coll)(coll, err); err != nil {
					return err
				}
			case !errors.Is(err, kv.ErrNotFound):
				return err
			}
		}
		extras := map[string]any{}
		err := tx.EachReadable("extras", func(id string, doc any) error {
			extras[id] = doc
			return nil
		}, skip("extras"))
		if err != nil {
			return err
		}
		if len(extras) > 0 {
			src.Extras = extras
		}
		return WriteExport(w, src)
	})
	return damaged, err
}

// ImportResult reports an import or a migration.
type ImportResult struct {
	// Counts are the documents written per collection; Unchanged those
	// already stored exactly so (running an import twice writes nothing
	// the second time); Kept those skipped because the store's version is
	// newer.
	Counts    map[string]int `json:"counts"`
	Unchanged map[string]int `json:"unchanged"`
	Kept      map[string]int `json:"kept_newer"`
	// Blobs counts attachment contents stored (new files) and Dedup those
	// already present.
	Blobs int `json:"blobs"`
	// WithoutContent lists attachments whose content the store does not
	// hold. After an import (an export file carries attachment metadata
	// only) check reports them as blob-missing until their files are added
	// (kvtool attach add FILE --id ID). After a migration, no file of the
	// old app held their bytes: their documents say contentMissing, with
	// the recorded hash as legacyHash, and check does not report them.
	WithoutContent []string `json:"attachments_without_content,omitempty"`
	// UnreadableTimes lists the documents whose updatedAt or lastUpdated,
	// in the store or in the input, is not a time kv.ParseInstant reads,
	// so that newer-wins could not compare them: the input's version was
	// written (the stored one is in the backup taken first).
	UnreadableTimes []string `json:"unreadable_times,omitempty"`
	Backup          string   `json:"backup,omitempty"` // the verified backup taken first
	DryRun          bool     `json:"dry_run"`
}

func newImportResult() *ImportResult {
	return &ImportResult{Counts: map[string]int{}, Unchanged: map[string]int{}, Kept: map[string]int{}}
}

// ImportInto merges an export file into the store: every entity by id, keeping
// the newer of the stored and the imported version (updatedAt, else
// lastUpdated, read by kv.ParseInstant; see ImportResult.UnreadableTimes),
// the settings objects replaced by the file's. The whole file
// was validated by ReadExport; every document is validated again before
// anything is written. Unless dryRun, a verified backup is taken first
// (none, no import), then everything is written in one transaction. For
// an export file, ImportFile does the same without holding the file.
func ImportInto(ctx context.Context, db *kv.DB, x *Export, dryRun bool) (*ImportResult, error) {
	type item struct {
		coll string
		doc  map[string]any
	}
	var items []item
	for _, coll := range append(append([]string{}, exportCollections...), "attachments") {
		for i, d := range x.Collections[coll] {
			if err := db.Validate(coll, d); err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", coll, i, err)
			}
			items = append(items, item{coll, d})
		}
	}
	singles, extras := exportSingles(x)
	res := newImportResult()
	res.DryRun = dryRun
	write := func(tx *kv.Tx, dry bool) error {
		*res = ImportResult{Counts: map[string]int{}, Unchanged: map[string]int{}, Kept: map[string]int{}, Backup: res.Backup, DryRun: dryRun}
		for _, it := range items {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := mergeDoc(tx, res, it.coll, it.doc["id"].(string), it.doc, dry, true); err != nil {
				return err
			}
		}
		for _, coll := range singletons {
			if v, ok := singles[coll]; ok {
				if err := mergeDoc(tx, res, coll, coll, v, dry, false); err != nil {
					return err
				}
			}
		}
		for k, v := range extras {
			if err := mergeDoc(tx, res, "extras", k, v, dry, false); err != nil {
				return err
			}
		}
		return nil
	}
	for _, d := range x.Collections["attachments"] {
		if h, ok := d["hash"].(string); ok && !db.HasContent(h) {
			if id, _ := d["id"].(string); id != "" {
				res.WithoutContent = append(res.WithoutContent, id)
			}
		}
	}
	without := res.WithoutContent
	if dryRun {
		err := db.View(func(tx *kv.Tx) error { return write(tx, true) })
		res.WithoutContent = without
		return res, err
	}
	m, err := db.Backup(ctx, kv.ReasonPreImport)
	if err != nil {
		return nil, fmt.Errorf("import refused: the pre-import backup failed: %w", err)
	}
	res.Backup = m.Name
	err = db.Update(func(tx *kv.Tx) error { return write(tx, false) })
	if err != nil {
		return nil, err
	}
	res.WithoutContent = without
	return res, nil
}

// exportSingles returns what an export file holds besides its entities:
// the singleton documents by collection, and the extras by id (Cairn's
// extras, unknown top-level keys, and aiSettings or preferences that are
// not objects).
func exportSingles(x *Export) (singles, extras map[string]any) {
	singles = map[string]any{}
	if x.Settings != nil {
		singles["settings"] = x.Settings
	}
	if m, ok := x.AISettings.(map[string]any); ok {
		singles["aiSettings"] = m
	}
	if m, ok := x.Preferences.(map[string]any); ok {
		singles["preferences"] = m
	}
	extras = map[string]any{}
	for k, v := range x.Extras {
		extras[extraKey(k)] = v
	}
	for k, v := range x.Unknown {
		extras[extraKey("export:"+k)] = v
	}
	if x.AISettings != nil && singles["aiSettings"] == nil {
		extras["export:aiSettings"] = x.AISettings
	}
	if x.Preferences != nil && singles["preferences"] == nil {
		extras["export:preferences"] = x.Preferences
	}
	return singles, extras
}

// ImportOptions tune ImportFile.
type ImportOptions struct {
	// DryRun validates and counts what would be written, and writes
	// nothing.
	DryRun bool
	// Progress, if set, is called with stage "validate", then "import",
	// and the bytes of the file read so far out of its size.
	Progress func(stage string, done, total int)
	// Validated, if set, is called once the whole file has been
	// validated, before anything is written, with the number of entities
	// per collection it holds. An error it returns (a user's "no") ends
	// the import there: nothing is written, not even the backup.
	Validated func(counts map[string]int) error
}

// ImportFile merges the export file at path into the store as ImportInto
// does, without holding the file in memory. It reads the file once to
// validate all of it (a bad file writes nothing; errors are *ExportError
// values naming the JSON path and byte offset, or name the entity kv
// refuses). Then, unless a dry run, it takes a verified backup (none, no
// import) and reads the file again, writing it in batches through kv's
// Staged: all or nothing, with memory bounded by one batch (256
// documents, or 32 MiB of them plus one) and one document, each bounded by
// the store's MaxDocumentBytes while it is read. The file is checksummed
// on both reads; if it changed in between, nothing is written.
func ImportFile(ctx context.Context, db *kv.DB, path string, opts *ImportOptions) (*ImportResult, error) {
	var o ImportOptions
	if opts != nil {
		o = *opts
	}
	res := newImportResult()
	res.DryRun = o.DryRun
	var without []string
	found := map[string]int{}
	_, sum, err := readExportFile(ctx, path, db.MaxDocumentBytes(), "validate", o.Progress, func(coll string, i int, d map[string]any) error {
		if err := db.Validate(coll, d); err != nil {
			return fmt.Errorf("%s[%d]: %w", coll, i, err)
		}
		found[coll]++
		if h, ok := d["hash"].(string); ok && coll == "attachments" && !db.HasContent(h) {
			without = append(without, d["id"].(string))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if o.Validated != nil {
		if err := o.Validated(found); err != nil {
			return nil, err
		}
	}
	write := func(b *batcher) error {
		x, again, err := readExportFile(ctx, path, db.MaxDocumentBytes(), "import", o.Progress, func(coll string, _ int, d map[string]any) error {
			return b.addSized(docWrite{coll: coll, id: d["id"].(string), doc: d, newer: true}, kv.JSONSize(d))
		})
		if err != nil {
			return err
		}
		if again != sum {
			return fmt.Errorf("%s changed while it was being imported; nothing was written", path)
		}
		singles, extras := exportSingles(x)
		for _, coll := range singletons {
			if v, ok := singles[coll]; ok {
				if err := b.add(docWrite{coll: coll, id: coll, doc: v}); err != nil {
					return err
				}
			}
		}
		keys := make([]string, 0, len(extras))
		for k := range extras {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := b.add(docWrite{coll: "extras", id: k, doc: extras[k]}); err != nil {
				return err
			}
		}
		return b.flush()
	}
	if o.DryRun {
		if err := write(&batcher{ctx: ctx, dry: true, run: db.View, res: res}); err != nil {
			return nil, err
		}
		res.WithoutContent = without
		return res, nil
	}
	m, err := db.Backup(ctx, kv.ReasonPreImport)
	if err != nil {
		return nil, fmt.Errorf("import refused: the pre-import backup failed: %w", err)
	}
	err = db.Staged(ctx, func(s *kv.Stage) error {
		*res = *newImportResult()
		return write(&batcher{ctx: ctx, run: s.Update, res: res})
	})
	if err != nil {
		return nil, err
	}
	res.Backup, res.WithoutContent = m.Name, without
	return res, nil
}

// readExportFile runs EachExport over the file at path, with maxBytes
// the limit of one document, reporting progress in bytes, and returns the
// CRC-32C of every byte it read.
func readExportFile(ctx context.Context, path string, maxBytes int64, stage string, progress func(string, int, int), fn func(string, int, map[string]any) error) (*Export, uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if fi.IsDir() {
		return nil, 0, fmt.Errorf("%s is a directory", path)
	}
	cr := &crcReader{ctx: ctx, r: f, size: int(fi.Size()), stage: stage, progress: progress}
	x, err := EachExport(cr, maxBytes, fn)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, 0, cerr
		}
		return nil, 0, err
	}
	if progress != nil {
		progress(stage, cr.n, cr.n)
	}
	return x, cr.sum, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crcReader checksums what it reads, reports progress and stops when its
// context is done.
type crcReader struct {
	ctx      context.Context
	r        io.Reader
	sum      uint32
	n, size  int
	stage    string
	progress func(string, int, int)
}

func (c *crcReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.sum = crc32.Update(c.sum, castagnoli, p[:n])
	c.n += n
	if c.progress != nil {
		c.progress(c.stage, c.n, max(c.size, c.n+1))
	}
	return n, err
}

// extraKey makes a storage key usable as an extras id (1 to 256 bytes).
func extraKey(k string) string {
	if kv.CheckID(k) == nil {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	short := k
	if len(short) > 180 {
		short = short[:180]
	}
	for len(short) > 0 && kv.CheckID(short) != nil {
		short = short[:len(short)-1]
	}
	return short + "#" + hex.EncodeToString(sum[:8])
}

// mergeDoc writes doc unless the store holds the same document, or (when
// newer applies) a newer one.
func mergeDoc(tx *kv.Tx, res *ImportResult, coll, id string, doc any, dry, newer bool) error {
	cur, _, err := tx.GetValue(coll, id)
	v := doc // Put normalizes it; compared with what is stored, normalized here
	switch {
	case err == nil:
		norm, err := kv.Normalize(doc)
		if err != nil {
			return fmt.Errorf("%s %q: %w", coll, id, err)
		}
		if sameDoc(cur, norm) {
			res.Unchanged[coll]++
			return nil
		}
		if newer {
			ct, cbad := docTime(cur)
			nt, nbad := docTime(norm)
			switch {
			case cbad != "" || nbad != "":
				where, bad := "stored", cbad
				if nbad != "" {
					where, bad = "imported", nbad
				}
				res.UnreadableTimes = append(res.UnreadableTimes, fmt.Sprintf("%s %q: the %s version's %s; the two versions could not be compared, the imported one was written", coll, id, where, bad))
			case ct > nt:
				res.Kept[coll]++
				return nil
			}
		}
		v = norm
	case !isNotFound(err):
		return err
	case dry:
		if _, err := kv.Normalize(doc); err != nil {
			return fmt.Errorf("%s %q: %w", coll, id, err)
		}
	}
	res.Counts[coll]++
	if dry {
		return nil
	}
	if coll == "extras" {
		_, err = tx.PutValue(coll, id, v)
	} else {
		_, err = tx.Put(coll, v)
	}
	return err
}

func isNotFound(err error) bool { return err != nil && errorsIs(err, kv.ErrNotFound) }

func sameDoc(a, b any) bool { return kv.SameValue(a, b) }

// docTime is a document's own modification time in epoch ms: its
// updatedAt, else its lastUpdated, as kv.ParseInstant reads them; 0 when
// it has neither. bad says why, when neither present one is a time.
func docTime(v any) (ms int64, bad string) {
	m, ok := v.(map[string]any)
	if !ok {
		return 0, ""
	}
	for _, f := range []string{"updatedAt", "lastUpdated"} {
		t, present := m[f]
		if !present || t == nil {
			continue
		}
		if ms, ok := kv.ParseInstant(t); ok {
			return ms, ""
		}
		if bad == "" {
			text, _ := json.Marshal(t)
			if len(text) > 60 {
				text = append(text[:57:57], "..."...)
			}
			bad = fmt.Sprintf("%s %s is not a time", f, text)
		}
	}
	return 0, bad
}

// MigrateResult reports a migration: what was imported, and the scan's
// report of what was found, replayed, skipped and why.
type MigrateResult struct {
	ImportResult
	Replayed int `json:"replayed"`
	// Skipped lists what was not used, with the reason: WAL lines and
	// entries (Path the WAL, Line set), and files and directories (named
	// pipes, devices, sockets, unreadable entries, links out of the
	// directory).
	Skipped  []Skipped `json:"skipped"`
	Problems []string  `json:"problems"`
	Report   *Report   `json:"report"`
}

// migrateBatch is how many documents one transaction of a migration
// writes: enough to keep commits few, few enough to bound memory.
const migrateBatch = 256

// batchBytes bounds, as compact JSON, the documents of known size one
// batch holds (addSized), so that large documents do not fill a batch of
// migrateBatch: a batch holds at most batchBytes plus one document.
const batchBytes = 32 << 20

// Migrate imports everything the old app left in dir (see Walk).
//
// Unless dryRun, it takes a verified backup of the store first (none, no
// migration), then streams the directory into the store with kv's
// Staged: entities are written in batches of migrateBatch documents to a
// private copy of the store, attachment contents go to the blob store
// (deduplicated), and the copy replaces the store only once everything is
// written and verified. The migration is therefore all or nothing (an
// error, a cancellation or a crash leaves the store as it was) while its
// memory stays bounded by one batch and the scan's own bounds (see Walk).
// Other users of db wait until it ends.
//
// Entities already stored identically are not written again, so a second
// run imports nothing new. A dry run writes nothing; it reads the store
// and every attachment's bytes, so that it counts exactly what a real run
// would write.
func Migrate(ctx context.Context, db *kv.DB, dir string, opts *ScanOptions, dryRun bool) (*MigrateResult, error) {
	if dryRun {
		m := &migration{batcher: batcher{ctx: ctx, dry: true, run: db.View}, db: db}
		if err := m.walk(dir, opts); err != nil {
			return nil, err
		}
		return m.out, nil
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, err // before the backup: nothing to migrate
	}
	bm, err := db.Backup(ctx, kv.ReasonPreMigrate)
	if err != nil {
		return nil, fmt.Errorf("migration refused: the pre-migrate backup failed: %w", err)
	}
	var m *migration
	err = db.Staged(ctx, func(s *kv.Stage) error {
		m = &migration{batcher: batcher{ctx: ctx, run: s.Update}, db: db}
		return m.walk(dir, opts)
	})
	if err != nil {
		return nil, err
	}
	m.out.Backup = bm.Name
	return m.out, nil
}

// batcher writes documents through run (a Stage's Update, or a View for a
// dry run) migrateBatch at a time, counting into res.
type batcher struct {
	ctx     context.Context
	dry     bool
	run     func(func(tx *kv.Tx) error) error
	res     *ImportResult
	pending []docWrite
	bytes   int // sizes given to addSized since the last flush
	// tooLarge, if set, is given a document the store refuses as over its
	// size limit (the batch is then written again without it), instead of
	// the error.
	tooLarge func(w docWrite, err error) error
	// async writes each batch in a goroutine while the next one is
	// gathered; at most one is in flight (wait for it before any other
	// use of run).
	async bool
	busy  bool
	done  chan error
}

// wait waits for the batch in flight, if any, and returns its error.
func (b *batcher) wait() error {
	if !b.busy {
		return nil
	}
	b.busy = false
	return <-b.done
}

type docWrite struct {
	coll, id string
	doc      any
	newer    bool   // keep a stored version with a later updatedAt
	source   string // where it comes from (migration), for a document kept another way
}

func (b *batcher) add(w docWrite) error { return b.addSized(w, 0) }

// addSized adds a write whose document is size bytes as compact JSON.
func (b *batcher) addSized(w docWrite, size int) error {
	b.pending = append(b.pending, w)
	b.bytes += size
	if len(b.pending) >= migrateBatch || b.bytes >= batchBytes {
		return b.flush()
	}
	return nil
}

func (b *batcher) flush() error {
	if len(b.pending) == 0 {
		return nil
	}
	batch := b.pending
	b.pending, b.bytes = nil, 0 // let the written documents go
	if !b.async {
		return b.write(batch)
	}
	if err := b.wait(); err != nil {
		return err
	}
	if b.done == nil {
		b.done = make(chan error, 1)
	}
	b.busy = true
	go func() { b.done <- b.write(batch) }()
	return nil
}

// write writes one batch in one transaction.
func (b *batcher) write(batch []docWrite) error {
	for {
		counts, unchanged, kept := maps.Clone(b.res.Counts), maps.Clone(b.res.Unchanged), maps.Clone(b.res.Kept)
		bad := -1
		err := b.run(func(tx *kv.Tx) error {
			for i, w := range batch {
				if err := b.ctx.Err(); err != nil {
					return err
				}
				if err := mergeDoc(tx, b.res, w.coll, w.id, w.doc, b.dry, w.newer); err != nil {
					if b.tooLarge != nil && errors.Is(err, kv.ErrTooLarge) {
						bad = i
					}
					return err
				}
			}
			return nil
		})
		if bad < 0 {
			return err
		}
		// The transaction was rolled back: count again without the
		// document over the size limit, kept another way.
		b.res.Counts, b.res.Unchanged, b.res.Kept = counts, unchanged, kept
		if err := b.tooLarge(batch[bad], err); err != nil {
			return err
		}
		batch = slices.Delete(batch, bad, bad+1)
	}
}

// migration is one run of Migrate: it writes what Walk hands it in
// batches, each while the walk goes on (batcher.async).
type migration struct {
	batcher
	db  *kv.DB
	out *MigrateResult
	mu  struct {
		sync.Mutex
		problems []string // the batch writer reports too
	}
}

// problem reports one thing the migration could not do as asked.
func (m *migration) problem(format string, args ...any) {
	m.mu.Lock()
	m.mu.problems = append(m.mu.problems, fmt.Sprintf(format, args...))
	m.mu.Unlock()
}

// put adds one write to the batch. A document over the store's size
// limit is kept whole as an attachment and reported (oversized): a dry
// run checks every document's size first, a real one learns it from the
// write (the size is computed once, by the store).
func (m *migration) put(w docWrite) error {
	if m.dry {
		if err := m.db.Validate(w.coll, w.doc); errors.Is(err, kv.ErrTooLarge) {
			if err := m.wait(); err != nil { // one writer of the counts at a time
				return err
			}
			return m.oversized(w, err)
		}
	}
	return m.add(w) // other errors surface from the write, with the batch
}

// oversized keeps a document the store refuses as too large whole, as an
// attachment, and reports it.
func (m *migration) oversized(w docWrite, err error) error {
	aid, err2 := m.keepOversized(w.coll, w.id, w.doc, w.source)
	if err2 != nil {
		return err2
	}
	m.problem("%s %q not imported as a document: %v; kept whole as the JSON content of attachment %q (kvtool attach get %s)", w.coll, w.id, err, aid, aid)
	return nil
}

// keepOversized stores an entity too large for the store's document limit
// whole, as the JSON content of an attachment, so that nothing is lost:
// the old app's monolithic sessions could exceed any sane limit. It
// returns the attachment's id.
func (m *migration) keepOversized(coll, id string, doc any, source string) (string, error) {
	text, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", coll, id, err)
	}
	return m.keepText(coll, id, text, source)
}

// keepText stores the JSON text of an entity too large for the store's
// document limit as the content of attachment legacy-oversized-<hash of
// collection and id>, streamed, and returns the attachment's id.
func (m *migration) keepText(coll, id string, text []byte, source string) (string, error) {
	sum := sha256.Sum256([]byte(coll + "\x00" + id))
	aid := "legacy-oversized-" + hex.EncodeToString(sum[:8])
	att := map[string]any{"id": aid, "name": coll + "-" + id + ".json", "mimeType": "application/json",
		"legacySource": source, "oversized": map[string]any{"collection": coll, "id": id}}
	err := m.run(func(tx *kv.Tx) error {
		var h string
		var n int64
		var err error
		if m.dry {
			h, n, err = hashReader(bytes.NewReader(text))
		} else {
			h, n, err = tx.StoreContent(m.ctx, bytes.NewReader(text))
		}
		if err != nil {
			return err
		}
		att["hash"], att["size"] = h, n
		return mergeDoc(tx, m.res, "attachments", aid, att, m.dry, false)
	})
	return aid, err
}

// walk streams dir into the store: entities as Walk yields them, then the
// attachment contents, the attachment records (which name the contents'
// hashes), the settings and the extras.
func (m *migration) walk(dir string, opts *ScanOptions) (err error) {
	m.out = &MigrateResult{ImportResult: *newImportResult()}
	m.out.DryRun = m.dry
	m.res = &m.out.ImportResult
	m.async = true
	defer func() {
		// No batch may outlive the walk (its stage): on an error too.
		if werr := m.wait(); err == nil {
			err = werr
		}
	}()
	if !m.dry {
		m.tooLarge = m.oversized
	}
	attach := map[string]map[string]any{}
	sources := map[string]string{}
	var o ScanOptions
	if opts != nil {
		o = *opts
	}
	if o.TempDir == "" {
		o.TempDir = m.db.Dir() // the spilled texts beside the store, not in a memory-backed /tmp
	}
	o.MaxDocumentBytes = m.db.MaxDocumentBytes()
	ds, rep, err := Walk(m.ctx, dir, &o, func(coll, id string, e Entity) error {
		if e.Text != nil {
			if err := m.wait(); err != nil { // one writer at a time
				return err
			}
			aid, err := m.keepText(coll, id, e.Text, e.Source)
			if err == nil {
				m.problem("%s %q not imported as a document: it is over the store's document limit (%d bytes as JSON); its text is kept whole as the content of attachment %q (kvtool attach get %s)", coll, id, o.MaxDocumentBytes, aid, aid)
			}
			return err
		}
		if err := kv.Validate(coll, e.Doc); err != nil {
			m.problem("%s %q not imported: %v", coll, id, err)
			return nil
		}
		if coll == "attachments" {
			attach[id] = e.Doc // written once their contents are stored
			sources[id] = e.Source
			return nil
		}
		return m.put(docWrite{coll: coll, id: id, doc: e.Doc, newer: true, source: e.Source})
	})
	if err != nil {
		return err
	}
	if err := m.flush(); err != nil {
		return err
	}
	if err := m.wait(); err != nil { // storeBlobs writes directly
		return err
	}
	out := m.out
	out.Report, out.Replayed = rep, rep.WAL.Replayed
	out.Skipped = skippedOf(rep)
	stored, err := m.storeBlobs(ds, attach)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(attach))
	for id := range attach {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		d := attach[id]
		if h, ok := d["hash"].(string); ok && !stored[h] && !m.db.HasContent(h) {
			// No file of the old app holds these bytes: say so in the
			// document rather than leave a reference check must report as
			// damage. The recorded hash is kept as legacyHash.
			delete(d, "hash")
			d["legacyHash"], d["contentMissing"] = h, true
			m.res.WithoutContent = append(m.res.WithoutContent, id)
		}
		if err := m.put(docWrite{coll: "attachments", id: id, doc: d, newer: true, source: sources[id]}); err != nil {
			return err
		}
	}
	slices.Sort(m.res.WithoutContent)
	m.res.WithoutContent = slices.Compact(m.res.WithoutContent)
	if ds.Settings != nil {
		if err := m.put(docWrite{coll: "settings", id: "settings", doc: ds.Settings}); err != nil {
			return err
		}
	}
	for _, coll := range []string{"aiSettings", "preferences"} {
		v := ds.AISettings
		if coll == "preferences" {
			v = ds.Preferences
		}
		if v == nil {
			continue
		}
		target, id := coll, coll
		if _, ok := v.(map[string]any); !ok {
			target, id = "extras", "legacy:"+coll
		}
		if err := m.put(docWrite{coll: target, id: id, doc: v}); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(ds.Extras))
	for k := range ds.Extras {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := m.put(docWrite{coll: "extras", id: extraKey(k), doc: ds.Extras[k], source: k}); err != nil {
			return err
		}
	}
	if err := m.flush(); err != nil {
		return err
	}
	if err := m.wait(); err != nil {
		return err
	}
	out.Problems = append(problemsOf(rep, ds.Extras), m.mu.problems...)
	return nil
}

// storeBlob stores a blob's bytes: the first copy that hashes to the
// recorded hash, else, so that nothing is lost, the first readable copy as
// it is (damaged). hash is "" when no copy could be read. err is the
// store's failure (the migration stops); problem reports the old app's.
func (m *migration) storeBlob(tx *kv.Tx, b Blob) (hash string, size int64, damaged bool, problem string, err error) {
	copies := b.Copies
	if len(copies) == 0 {
		copies = []BlobCopy{{Source: b.Source, Open: b.Open}}
	}
	var failures []string
	store := func(c BlobCopy) (string, int64, bool, error) {
		r, err := c.Open()
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", c.Source, err))
			return "", 0, false, nil
		}
		src := &readTracker{r: r}
		var h string
		var n int64
		if m.dry {
			h, n, err = hashReader(src) // what would be stored
		} else {
			h, n, err = tx.StoreContent(m.ctx, src)
		}
		cerr := r.Close()
		if err != nil && src.err == nil {
			// Writing to the store failed (disk full, I/O error): the
			// migration is all or nothing, so it stops here.
			return "", 0, false, fmt.Errorf("attachment bytes %s: %w", c.Source, err)
		}
		if err != nil || cerr != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", c.Source, firstErr(err, cerr)))
			return "", 0, false, nil
		}
		return h, n, true, nil
	}
	if b.Hash == "" || len(copies) == 1 {
		for _, c := range copies {
			h, n, ok, err := store(c)
			if err != nil || !ok {
				if err != nil {
					return "", 0, false, "", err
				}
				continue
			}
			if b.Hash != "" && h != b.Hash {
				return h, n, true, fmt.Sprintf("attachment bytes %s do not hash to the recorded %s; kept as they are (hash %s, attachments %v marked contentDamaged)", c.Source, b.Hash, h, b.AttachmentIDs), nil
			}
			return h, n, false, "", nil
		}
		return m.salvage(tx, b, copies, failures)
	}
	// Several copies: find an intact one by hashing before storing, so
	// that a damaged copy is stored only when it is all there is.
	first := -1
	for i, c := range copies {
		h, err := hashCopy(c)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", c.Source, err))
			continue
		}
		if h == b.Hash {
			if hh, n, ok, err := store(c); err != nil || (ok && hh == b.Hash) {
				return hh, n, false, "", err
			}
			continue // changed under us: go on looking
		}
		failures = append(failures, fmt.Sprintf("%s does not hash to %s", c.Source, b.Hash))
		if first < 0 {
			first = i
		}
	}
	if first >= 0 {
		h, n, ok, err := store(copies[first])
		if err != nil {
			return "", 0, false, "", err
		}
		if ok {
			return h, n, h != b.Hash, fmt.Sprintf("attachment bytes recorded as %s are damaged in every copy (%s); kept as they are from %s (hash %s, attachments %v marked contentDamaged)",
				b.Hash, strings.Join(failures, "; "), copies[first].Source, h, b.AttachmentIDs), nil
		}
	}
	return m.salvage(tx, b, copies, failures)
}

// salvage keeps what can still be read of a blob none of whose copies
// reads to the end (a truncated file, bad base64 half way): the bytes up
// to the failure, from the copy that yields most, marked damaged. hash is
// "" when nothing at all can be read.
func (m *migration) salvage(tx *kv.Tx, b Blob, copies []BlobCopy, failures []string) (hash string, size int64, damaged bool, problem string, err error) {
	unreadable := fmt.Sprintf("attachment bytes unreadable: %s", strings.Join(failures, "; "))
	tmp, err := os.CreateTemp("", "cairn-salvage-*")
	if err != nil {
		return "", 0, false, unreadable, nil
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	best, bestN := -1, int64(0)
	for i, c := range copies {
		r, err := c.Open()
		if err != nil {
			continue
		}
		n, _ := io.Copy(io.Discard, r) // up to the failure
		r.Close()
		if n > bestN {
			best, bestN = i, n
		}
	}
	if best < 0 {
		return "", 0, false, unreadable, nil
	}
	// Read the best copy again into the file, then store its first bestN
	// bytes.
	r, err := copies[best].Open()
	if err != nil {
		return "", 0, false, unreadable, nil
	}
	n, _ := io.Copy(tmp, io.LimitReader(r, bestN))
	r.Close()
	if n != bestN {
		return "", 0, false, unreadable, nil
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", 0, false, unreadable, nil
	}
	src := io.LimitReader(tmp, bestN)
	if m.dry {
		hash, size, err = hashReader(src)
		if err != nil {
			return "", 0, false, unreadable, nil
		}
	} else if hash, size, err = tx.StoreContent(m.ctx, src); err != nil {
		return "", 0, false, "", fmt.Errorf("attachment bytes %s: %w", copies[best].Source, err)
	}
	return hash, size, true, fmt.Sprintf("%s; the first %d readable bytes of %s kept (hash %s, attachments %v marked contentDamaged)",
		unreadable, bestN, copies[best].Source, hash, b.AttachmentIDs), nil
}

// hashCopy returns the hex SHA-256 of a blob copy's bytes.
func hashCopy(c BlobCopy) (string, error) {
	r, err := c.Open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	h, _, err := hashReader(r)
	return h, err
}

// hashReader returns the hex SHA-256 and the length of what r yields.
func hashReader(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// blobBatch is how many attachment contents one transaction stores.
const blobBatch = 64

// storeBlobs stores every attachment content (unless a dry run) and
// records its hash and size in the attachment records, adding a record
// for bytes no imported attachment names so that nothing is lost.
func (m *migration) storeBlobs(ds *Dataset, attach map[string]map[string]any) (stored map[string]bool, err error) {
	res := &m.out.ImportResult
	stored = map[string]bool{}
	for start := 0; start < len(ds.Blobs); start += blobBatch {
		blobs := ds.Blobs[start:min(start+blobBatch, len(ds.Blobs))]
		err := m.run(func(tx *kv.Tx) error {
			for _, b := range blobs {
				if err := m.ctx.Err(); err != nil {
					return err
				}
				hash, size, damaged, problem, err := m.storeBlob(tx, b)
				if err != nil {
					return err
				}
				if problem != "" {
					m.problem("%s", problem)
				}
				if hash == "" {
					continue // its attachments are marked contentMissing
				}
				stored[hash] = true
				if !m.dry {
					res.Blobs++
				}
				ids := b.AttachmentIDs
				if len(ids) == 0 {
					// Keep orphan bytes reachable so nothing is lost.
					ids = []string{"legacy-orphan-" + hash[:16]}
				}
				for _, id := range ids {
					if kv.CheckID(id) != nil {
						continue
					}
					d, ok := attach[id]
					if !ok {
						d = map[string]any{"id": id, "name": id, "legacySource": b.Source}
						if b.Orphan || len(b.AttachmentIDs) == 0 {
							d["orphan"] = true
						}
						attach[id] = d
					}
					if _, has := d["mimeType"]; !has && b.MIME != "" {
						d["mimeType"] = b.MIME
					}
					d["hash"], d["size"] = hash, size
					if damaged {
						d["contentDamaged"] = true
						if b.Hash != "" {
							d["legacyHash"] = b.Hash
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return stored, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// skippedOf lists everything the scan did not use, WAL lines first.
func skippedOf(rep *Report) []Skipped {
	out := []Skipped{}
	for _, w := range rep.WAL.Skipped {
		w.Path = walFile(rep)
		out = append(out, w)
	}
	out = append(out, rep.Skipped...)
	for _, p := range rep.OutsideDir {
		out = append(out, Skipped{Path: p, Reason: "symbolic link to outside the directory: not followed"})
	}
	return out
}

// walFile is the WAL's path relative to the scanned directory.
func walFile(rep *Report) string {
	if rep.DBDir == "." {
		return "wal.log"
	}
	return "db/wal.log"
}

// problemsOf lists what the scan found wrong, one line each, naming the
// file (relative to the scanned directory) or the session and chunk.
func problemsOf(rep *Report, extras map[string]any) []string {
	out := []string{}
	for _, u := range rep.Unreadable {
		kept := "not needed: an older or partial copy, or nothing could be read"
		if x, ok := extras["unreadable:"+u.Path].(map[string]any); ok {
			kept = "its bytes are kept in extras unreadable:" + u.Path
			if id, ok := x["attachment"].(string); ok {
				kept = "its bytes are kept whole as attachment " + id
			}
		}
		out = append(out, fmt.Sprintf("unreadable %s: %s (%s)", u.Path, u.Error, kept))
	}
	for _, sk := range rep.Skipped {
		out = append(out, fmt.Sprintf("skipped %s: %s", sk.Path, sk.Reason))
	}
	for _, c := range rep.ChecksumMismatches {
		out = append(out, fmt.Sprintf("checksum mismatch (%s) in %s: data kept", c.Kind, c.Path))
	}
	for _, c := range rep.ManifestShortfalls {
		out = append(out, fmt.Sprintf("chunk manifest shortfall in session %s, %s: %s", c.SessionID, c.Which, c.Detail))
	}
	for _, c := range rep.StaleChunks {
		out = append(out, fmt.Sprintf("stale chunk in session %s, %s: %s (kept in extras)", c.SessionID, c.Which, c.Detail))
	}
	for _, p := range rep.OutsideDir {
		out = append(out, "outside the directory, not followed: "+p)
	}
	for _, r := range rep.RawValues {
		out = append(out, fmt.Sprintf("%s %q %s in %s: %s; the original text is kept in its legacyRaw member", r.Collection, r.ID, pathOrWhole(r.Path), r.Source, r.Problem))
	}
	for _, e := range rep.InvalidIDs {
		where := e.Source
		if e.Index >= 0 {
			where = fmt.Sprintf("%s[%d]", e.Source, e.Index)
		}
		out = append(out, fmt.Sprintf("%s entity without a usable id in %s: %s", e.Collection, where, e.Reason))
	}
	return out
}

func pathOrWhole(p string) string {
	if p == "" {
		return "(the object itself)"
	}
	return p
}

// readTracker remembers whether reading the source failed, to tell a
// damaged legacy file (reported) from a failing store (fatal).
type readTracker struct {
	r   io.Reader
	err error
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}
