package legacy

// Migration of a scanned old-app directory into a Cairn store: what Walk
// hands over written in batches while the walk goes on, attachment bytes
// stored with their references, everything kept or reported.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cairnkv/cairn/internal/docmodel"
	"github.com/cairnkv/cairn/kv"
)

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
		m := &migration{batcher: batcher{ctx: ctx, dry: true, run: func(fn func(*kv.Tx) error) error { return db.View(ctx, fn) }}, db: db}
		if err := m.walk(dir, opts); err != nil {
			return nil, err
		}
		return m.out, nil
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, err // before the backup: nothing to migrate
	}
	if _, err := CheckStoreDir(dir, db.Dir()); err != nil {
		return nil, err
	}
	bm, err := db.Backup(ctx, kv.ReasonPreMigrate)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			// Stopped (Ctrl-C, a deadline), not a backup that failed.
			return nil, fmt.Errorf("migration stopped while taking its pre-migrate backup, before anything was imported: %w", err)
		}
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
	// own are, by attachment id, the members of the old app's attachment
	// document named like one of markerMembers: the document's own, never
	// replaced by a marker (see marker).
	own    map[string]map[string]bool
	marked map[string]bool // "<id>\x00<member>" whose renaming is noted
	// undecodable maps an attachment id to its base64 file that did not
	// decode, kept in Extras (keepUndecodable).
	undecodable map[string]string
}

// markerMembers are the members Migrate marks attachment documents with
// (and perIDDoc's orphan).
var markerMembers = []string{"orphan", "contentMissing", "contentDamaged", "legacyHash", "legacySize"}

// ownMarkers notes the members of attachment document d, as the scan
// gave it, named like a marker or a marker~N.
func (m *migration) ownMarkers(id string, d map[string]any) {
	for k := range d {
		base, _, _ := strings.Cut(k, "~")
		if slices.Contains(markerMembers, base) {
			if m.own == nil {
				m.own = map[string]map[string]bool{}
			}
			if m.own[id] == nil {
				m.own[id] = map[string]bool{}
			}
			m.own[id][k] = true
		}
	}
}

// marker is the member attachment id's document d takes marker in: the
// marker itself, or, when the old app's document has a member of that
// name of its own, the first of marker~2, marker~3, ... it lacks, as for
// legacyRaw (docs/FORMAT.md; the old member is kept as it is). The
// report notes the renaming once.
func (m *migration) marker(id, marker string) string {
	name := freeMarker(m.own[id], marker)
	if name != marker && !m.marked[id+"\x00"+marker] {
		if m.marked == nil {
			m.marked = map[string]bool{}
		}
		m.marked[id+"\x00"+marker] = true
		m.out.Report.note(fmt.Sprintf("attachment %q: the old app's document has a member %q of its own, kept as it is; Migrate's %s marker is %q instead", id, marker, marker, name))
	}
	return name
}

// freeMarker is marker, or the first of marker~2, marker~3, ... that is
// not among taken.
func freeMarker(taken map[string]bool, marker string) string {
	name := marker
	for n := 2; taken[name]; n++ {
		name = marker + "~" + strconv.Itoa(n)
	}
	return name
}

// problem reports one thing the migration could not do as asked.
func (m *migration) problem(format string, args ...any) {
	m.mu.Lock()
	m.mu.problems = append(m.mu.problems, fmt.Sprintf(format, args...))
	m.mu.Unlock()
}

// put adds one write to the batch. A document over the store's size
// limit, or nested deeper than it allows, is kept whole as an attachment
// and reported (oversized): a dry run checks every document's size first,
// a real one learns it from the write (the size is computed once, by the
// store); the depth is checked here, in both.
func (m *migration) put(w docWrite) error {
	if tooDeep(w.doc, 0) {
		if err := m.wait(); err != nil { // one writer of the counts at a time
			return err
		}
		return m.oversized(w, fmt.Errorf("it is nested deeper than the store's limit of %d levels", docmodel.MaxDepth))
	}
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
	from := ""
	if w.source != "" {
		from = " from " + w.source
	}
	m.problem("%s %q not imported as a document%s: %v; kept whole as the JSON content of attachment %q (kvtool attach get %s)", w.coll, w.id, from, err, aid, aid)
	return nil
}

// tooDeep reports whether v, at depth, nests arrays and objects deeper
// than a document may (docmodel.MaxDepth, counted as the store does).
func tooDeep(v any, depth int) bool {
	if depth > docmodel.MaxDepth {
		return true
	}
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if tooDeep(e, depth+1) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if tooDeep(e, depth+1) {
				return true
			}
		}
	case []map[string]any:
		for _, e := range x {
			if tooDeep(e, depth+1) {
				return true
			}
		}
	}
	return false
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
		return mergeDoc(tx, m.res, "attachments", aid, att, m.dry, mergeReplace)
	})
	if err == nil {
		m.res.Blobs++ // its content is a blob stored (a dry run: would be), as an attachment's is
	}
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
	var cleaned []string
	if o.TempDir == "" {
		o.TempDir = m.db.Dir() // the spilled texts beside the store, not in a memory-backed /tmp
		if !m.dry {
			// A migration killed before it could remove its spill
			// directory left it here.
			cleaned = removeStaleSpills(o.TempDir)
		}
	}
	o.MaxDocumentBytes = m.db.MaxDocumentBytes()
	exclude, err := CheckStoreDir(dir, m.db.Dir())
	if err != nil {
		return err
	}
	if o.Exclude == "" {
		o.Exclude = exclude
	}
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
			if err := m.wait(); err != nil { // one writer at a time
				return err
			}
			return m.oversized(docWrite{coll: coll, id: id, doc: e.Doc, source: e.Source}, err)
		}
		if coll == "attachments" {
			m.ownMarkers(id, e.Doc)
			attach[id] = e.Doc // written once their contents are stored
			sources[id] = e.Source
			return nil
		}
		return m.put(docWrite{coll: coll, id: id, doc: e.Doc, mode: mergeKeepStored, source: e.Source})
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
	for _, d := range cleaned {
		rep.note("removed " + d + " from the store's directory: the spill directory of a migration that was interrupted")
	}
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
		missing, places := false, contentPlaces(id, d)
		if h, ok := d["hash"].(string); ok && !stored[h] && !m.db.HasContent(context.Background(), h) {
			// No file of the old app holds these bytes: say so in the
			// document rather than leave a reference check must report as
			// damage. The recorded hash is kept as legacyHash.
			delete(d, "hash")
			d[m.marker(id, "legacyHash")], d[m.marker(id, "contentMissing")] = h, true
			missing = true
		} else if _, has := d["hash"]; !has && expectsContent(d) {
			// No hash recorded, and no bytes under its id, path or
			// inline base64: the same, without a hash to keep.
			d[m.marker(id, "contentMissing")] = true
			missing = true
		}
		if missing && m.undecodable[id] != "" {
			m.res.WithoutContent = append(m.res.WithoutContent, id)
			m.problem("attachment %q: its bytes are in %s, which does not decode (its text is kept in extras unreadable:%s); imported without content, marked %s", id, m.undecodable[id], m.undecodable[id], freeMarker(m.own[id], "contentMissing"))
		} else if missing {
			m.res.WithoutContent = append(m.res.WithoutContent, id)
			m.problem("attachment %q: its bytes are in no file of the %s (looked for %s); imported without content, marked %s", id, scannedDir(rep), strings.Join(places, ", "), freeMarker(m.own[id], "contentMissing"))
		}
		if err := m.put(docWrite{coll: "attachments", id: id, doc: d, mode: mergeKeepStored, source: sources[id]}); err != nil {
			return err
		}
	}
	for _, r := range rep.MissingReferences {
		what := fmt.Sprintf("attachment %q", r.ID)
		doc := map[string]any{}
		if r.Hash != "" {
			doc["hash"] = r.Hash
			if r.ID == "" {
				what = "attachment bytes with hash " + r.Hash
			}
		}
		m.problem("%s referred to by %s: its bytes are in no file of the %s (looked for %s); the reference is imported as it is", what, r.From, scannedDir(rep), strings.Join(contentPlaces(r.ID, doc), ", "))
	}
	slices.Sort(m.res.WithoutContent)
	m.res.WithoutContent = slices.Compact(m.res.WithoutContent)
	if ds.Settings != nil {
		if err := m.put(docWrite{coll: "settings", id: "settings", doc: ds.Settings, mode: mergeMembers}); err != nil {
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
		target, id, mode := coll, coll, mergeMembers
		if _, ok := v.(map[string]any); !ok {
			target, id, mode = "extras", "legacy:"+coll, mergeKeepStored
		}
		if err := m.put(docWrite{coll: target, id: id, doc: v, mode: mode}); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(ds.Extras))
	for k := range ds.Extras {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	used := map[string]string{} // extras id -> the key it keeps
	renamed := map[string]any{} // extras id -> the key it keeps, where they differ
	for _, k := range keys {
		id := extraKey(k)
		for n := 2; used[id] != ""; n++ {
			id = extraKey(fmt.Sprintf("%s~%d", k, n))
		}
		if id != extraKey(k) {
			m.problem("extras key %q would be kept under the id %q, which %q takes already; kept as extras %q", k, extraKey(k), used[extraKey(k)], id)
		} else if id != k {
			m.problem("storage key %q is not usable as an id (%v); kept as extras %q, the key recorded in extras %q", k, docmodel.CheckID(k), id, renamedKeysID)
		}
		if id != k {
			renamed[id] = k
		}
		used[id] = k
		if err := m.put(docWrite{coll: "extras", id: id, doc: ds.Extras[k], mode: mergeKeepStored, source: k}); err != nil {
			return err
		}
	}
	if len(renamed) > 0 {
		// The original keys, which no id can hold: extras id -> key.
		if err := m.put(docWrite{coll: "extras", id: renamedKeysID, doc: map[string]any{"keys": renamed}, mode: mergeMembers}); err != nil {
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

// renamedKeysID is the extras document recording, under "keys", the
// storage key each extras id keeps where the key itself is not a usable
// id (over 256 bytes, for one).
const renamedKeysID = "legacy:renamedKeys"

// storeBlob stores a blob's bytes: the first copy that hashes to the
// recorded hash, else, so that nothing is lost, the first readable copy as
// it is (damaged). hash is "" when no copy could be read. err is the
// store's failure (the migration stops), or ErrDenied when a copy that
// could not be opened for lack of permission was needed (no intact copy
// was stored); problem reports the old app's.
func (m *migration) storeBlob(tx *kv.Tx, b Blob) (hash string, size int64, damaged bool, problem string, err error) {
	var denied []string
	copies := slices.Clone(b.Copies)
	if len(copies) == 0 {
		copies = []BlobCopy{{Source: b.Source, Open: b.Open}}
	}
	for i, c := range copies {
		open := c.Open
		copies[i].Open = func() (io.ReadCloser, error) {
			r, err := open()
			if errors.Is(err, fs.ErrPermission) {
				denied = append(denied, c.Source)
			}
			return r, err
		}
	}
	b.Copies = copies
	hash, size, damaged, problem, err = m.storeCopies(tx, b)
	if err == nil && (hash == "" || damaged) && len(denied) > 0 {
		slices.Sort(denied)
		return "", 0, false, "", fmt.Errorf("%w: attachment bytes %s cannot be opened; give the user running this read permission on it and run again (no other copy holds them intact)", ErrDenied, strings.Join(slices.Compact(denied), ", "))
	}
	return hash, size, damaged, problem, err
}

// storeCopies is storeBlob without the permission check.
func (m *migration) storeCopies(tx *kv.Tx, b Blob) (hash string, size int64, damaged bool, problem string, err error) {
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
				if len(failures) > 0 && err == nil {
					// An intact copy after damaged ones: stored, and the
					// damaged ones named.
					return hh, n, false, fmt.Sprintf("attachment bytes recorded as %s: %s; the intact copy %s is stored (attachments %v)", b.Hash, strings.Join(failures, "; "), c.Source, b.AttachmentIDs), nil
				}
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

// stubDoc reports whether d is the stub document the scan gives an
// attachment stored by id with no document or metadata file of its own
// (perIDDoc): its id, its id as its name, and the file it came from.
func stubDoc(id string, d map[string]any) bool {
	_, src := d["legacySource"].(string)
	return len(d) == 3 && d["id"] == id && d["name"] == id && src
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
					m.keepUndecodable(ds, b)
					continue // its attachments are marked contentMissing
				}
				stored[hash] = true
				res.Blobs++ // a dry run counts what a real one stores, as it does documents
				ids := b.AttachmentIDs
				if len(ids) == 0 {
					// Keep orphan bytes reachable so nothing is lost.
					ids = []string{"legacy-orphan-" + hash[:16]}
				}
				for _, id := range ids {
					if docmodel.CheckID(id) != nil {
						continue
					}
					d, ok := attach[id]
					if !ok {
						d = map[string]any{"id": id, "name": id, "legacySource": cmp.Or(b.SourceOf[id], b.Source)}
						// What the entities' inline records say of it.
						maps.Copy(d, b.Meta[id])
						if b.Orphan || len(b.AttachmentIDs) == 0 {
							d["orphan"] = true
						}
						attach[id] = d
					} else if stubDoc(id, d) {
						// The stub a file stored by id got (nothing of the
						// old app described it): what the entities' records
						// say of it is all there is.
						maps.Copy(d, b.Meta[id])
					}
					if _, has := d["mimeType"]; !has && b.MIME != "" {
						d["mimeType"] = b.MIME
					}
					if !damaged {
						m.checkRecorded(id, d, b.Source, hash, size)
					}
					d["hash"], d["size"] = hash, size
					if damaged {
						d[m.marker(id, "contentDamaged")] = true
						if b.Hash != "" {
							d[m.marker(id, "legacyHash")] = b.Hash
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

// keepUndecodable keeps in Extras, under "unreadable:<path>", the text
// of each base64 file (a .dat) of blob b, none of whose copies could be
// read: {path, error, text} (base64 when the text is not UTF-8), as the
// scan keeps any other unreadable file; the attachments' problem names
// the entry (see undecodable).
func (m *migration) keepUndecodable(ds *Dataset, b Blob) {
	for _, c := range b.Copies {
		if c.Raw == nil {
			continue
		}
		key := "unreadable:" + c.Source
		if _, done := ds.Extras[key]; done {
			continue
		}
		rc, err := c.Raw()
		if err != nil {
			continue // the problem names it
		}
		text, err := io.ReadAll(rc)
		_ = rc.Close() // read only
		if err != nil {
			continue
		}
		x := map[string]any{"path": c.Source, "error": "attachment bytes: not base64 that decodes"}
		if utf8.Valid(text) {
			x["text"] = string(text)
		} else {
			x["base64"] = base64.StdEncoding.EncodeToString(text)
		}
		ds.Extras[key] = x
		for _, id := range b.AttachmentIDs {
			if m.undecodable == nil {
				m.undecodable = map[string]string{}
			}
			m.undecodable[id] = c.Source
		}
	}
}

// checkRecorded compares the hash and size the old app recorded in
// attachment document d with the bytes found for it (hash, size, from
// source) before they are overwritten. Bytes that do not hash to the
// recorded hash, or fewer than the recorded size (a file cut short that
// still decodes, docs/FORMAT.md §11.14), are not the attachment as
// recorded: d is marked contentDamaged, the recorded values are kept as
// legacyHash and legacySize, and a problem names the file. More bytes
// than recorded are kept and reported, with legacySize.
func (m *migration) checkRecorded(id string, d map[string]any, source, hash string, size int64) {
	var what []string
	if rh, ok := d["hash"].(string); ok && isHexHash(rh) && !strings.EqualFold(rh, hash) {
		d[m.marker(id, "legacyHash")], d[m.marker(id, "contentDamaged")] = rh, true
		what = append(what, fmt.Sprintf("do not hash to the recorded %s (hash %s)", rh, hash))
	}
	if rs, ok := numInt64(d["size"]); ok && rs != size {
		d[m.marker(id, "legacySize")] = d["size"]
		if rs > size {
			d[m.marker(id, "contentDamaged")] = true
		}
		what = append(what, fmt.Sprintf("are %d bytes, the record says size %d", size, rs))
	}
	if len(what) == 0 {
		return
	}
	damaged := ""
	if mark := freeMarker(m.own[id], "contentDamaged"); d[mark] == true {
		damaged = ", marked " + mark
	}
	m.problem("attachment %q: its bytes from %s %s; kept as they are (recorded values kept as %s/%s%s)", id, source, strings.Join(what, " and "), freeMarker(m.own[id], "legacyHash"), freeMarker(m.own[id], "legacySize"), damaged)
}

// scannedDir names, for a problem, the directory whose files were
// looked at: the old directory, or only its db/ when pointed at it with
// attachments/ or videos/ beside it not scanned.
func scannedDir(rep *Report) string {
	if len(rep.NotScanned) > 0 {
		return "db/ directory given (" + strings.Join(rep.NotScanned, ", ") + " beside it not scanned)"
	}
	return "old directory"
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
		kept := "its bytes are not kept; the report's fallbacks name the copy used in its place, if any"
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
	for _, c := range rep.Clobbered {
		out = append(out, "clobbered collection file: "+c+"; the collection is restored from its other copies")
	}
	for _, c := range rep.ChecksumBugRecovered {
		out = append(out, fmt.Sprintf("%s: that backup would have failed the old app's own checksum check (compressed:false, hashed over compact JSON, docs/FORMAT.md §2.3), so the app loaded the collection as empty and its next save dropped what it held (§11.2); its entities are imported beside the main file's, not treated as deleted", c))
	}
	for _, p := range rep.NotScanned {
		out = append(out, fmt.Sprintf("not scanned: %s beside the db/ directory given (nothing outside the given directory is read); migrate the directory holding db/ to import what it holds", p))
	}
	for _, r := range rep.RawValues {
		if r.Collection == "extras" && strings.HasPrefix(r.ID, RawField+":") {
			// A container's (keepContainerRaw): an envelope, a WAL line, a chunk.
			out = append(out, fmt.Sprintf("%s %s: %s, of which the old app read the last; the original text is kept in extras %q", r.Source, pathOrWhole(r.Path), r.Problem, r.ID))
			continue
		}
		member := cmp.Or(r.Member, RawField)
		out = append(out, fmt.Sprintf("%s %q %s in %s: %s; the original text is kept in its %s member", r.Collection, r.ID, pathOrWhole(r.Path), r.Source, r.Problem, member))
	}
	for _, e := range rep.InvalidIDs {
		where := e.Source
		if e.Index >= 0 {
			where = fmt.Sprintf("%s[%d]", e.Source, e.Index)
		}
		out = append(out, fmt.Sprintf("%s entity without a usable id in %s: %s%s", e.Collection, where, e.Reason, keptIn(extras, "invalid:"+where)))
	}
	for _, e := range rep.DuplicateIDs {
		where := fmt.Sprintf("%s[%d]", e.Source, e.Index)
		out = append(out, fmt.Sprintf("%s %q appears more than once in %s: another element with that id is imported, not %s%s", e.Collection, e.Reason, e.Source, where, keptIn(extras, "duplicate:"+where)))
	}
	for _, r := range rep.ExtrasRenamed {
		out = append(out, fmt.Sprintf("storage key %q of %s is kept as extras %q: its own name is taken by an entry the migration made", r.Key, r.Source, extraKey(r.As)))
	}
	for _, d := range rep.IndexOnly {
		out = append(out, fmt.Sprintf("%s %q is listed in %s but held by no file (deleted, or its file lost): not imported, an index row being a derived summary (docs/FORMAT.md §3.3); the row is kept in extras %s",
			d.Collection, d.ID, d.Source, extraKey("index-only:"+d.Source+"#"+d.ID)))
	}
	for _, j := range rep.JunkSkipped {
		what := "not imported as an entity"
		if !strings.Contains(j, "[") {
			// A per-entity file or WAL write (addPerEntity, walSpread).
			what = "a snapshot of its collection, not imported as one entity: each entity it holds is a copy of that entity, used where it is the newest"
		}
		out = append(out, fmt.Sprintf("junk in %s: an array spread into an object (docs/FORMAT.md §3.3), %s%s", j, what, keptIn(extras, "junk:"+j)))
	}
	return out
}

// keptIn says where in extras the bytes of something not imported are
// kept, when they are.
func keptIn(extras map[string]any, key string) string {
	if _, ok := extras[key]; ok {
		return "; its bytes are kept in extras " + extraKey(key)
	}
	return ""
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
