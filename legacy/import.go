package legacy

// Import of an export file into a Cairn store: every entity merged by id
// (newer wins on request), in batches, all or nothing.

import (
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
	"time"

	"github.com/cairnkv/cairn/internal/docmodel"
	"github.com/cairnkv/cairn/internal/jsonx"
	"github.com/cairnkv/cairn/kv"
)

// ImportResult reports an import or a migration.
type ImportResult struct {
	// Counts are the documents written per collection; Unchanged those
	// already stored exactly so (running an import twice writes nothing
	// the second time); Kept those skipped because the store's version is
	// newer, or the two could not be ordered by time (listed in
	// KeptStored or UnreadableTimes).
	Counts    map[string]int `json:"counts"`
	Unchanged map[string]int `json:"unchanged"`
	Kept      map[string]int `json:"kept_newer"`
	// Blobs counts attachment contents stored (new files) and Dedup those
	// already present; a migration's dry run counts those a real one
	// would store.
	Blobs int `json:"blobs"`
	// WithoutContent lists attachments whose content the store does not
	// hold. After an import (an export file carries attachment metadata
	// only) check reports them as blob-missing until their files are added
	// (kvtool attach add FILE --id ID). After a migration, no file of the
	// old app held their bytes: their documents say contentMissing, with
	// the recorded hash as legacyHash, and check does not report them.
	WithoutContent []string `json:"attachments_without_content,omitempty"`
	// UnreadableTimes lists the documents whose updatedAt or lastUpdated,
	// in the store or in the input, is not a time docmodel.ParseInstant reads,
	// so that newer-wins could not compare them: the stored version was
	// kept.
	UnreadableTimes []string `json:"unreadable_times,omitempty"`
	// KeptStored lists, one line each, what an import or a migration left
	// as the store has it although the incoming version differs, because the two
	// could not be ordered by time (neither, or only one, carries an
	// updatedAt or lastUpdated): a document (also counted in Kept), or
	// members of settings, aiSettings or preferences, which are merged
	// member by member (members the store lacks are added, the others
	// keep the store's value).
	KeptStored []string `json:"kept_stored,omitempty"`
	Backup     string   `json:"backup,omitempty"` // the verified backup taken first
	DryRun     bool     `json:"dry_run"`
}

func newImportResult() *ImportResult {
	return &ImportResult{Counts: map[string]int{}, Unchanged: map[string]int{}, Kept: map[string]int{}}
}

// ImportInto merges an export file into the store: every entity by id, the
// imported version written only when it is newer (both carry updatedAt,
// else lastUpdated, read by docmodel.ParseInstant, and its is later; see
// ImportResult.KeptStored and UnreadableTimes), the settings objects merged
// member by member (the store's members kept), extras likewise by time. The whole file
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
	for _, coll := range append(append(append([]string{}, exportCollections...), "attachments"), x.UserCollections()...) {
		for i, d := range x.Collections[coll] {
			if err := db.Validate(coll, d); err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", coll, i, err)
			}
			items = append(items, item{coll, d})
		}
	}
	singles, extras, err := exportSingles(x)
	if err != nil {
		return nil, err
	}
	res := newImportResult()
	res.DryRun = dryRun
	write := func(tx *kv.Tx, dry bool) error {
		*res = ImportResult{Counts: map[string]int{}, Unchanged: map[string]int{}, Kept: map[string]int{}, Backup: res.Backup, DryRun: dryRun}
		for _, it := range items {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := mergeDoc(tx, res, it.coll, it.doc["id"].(string), it.doc, dry, mergeNewer); err != nil {
				return err
			}
		}
		for _, coll := range singletons {
			if v, ok := singles[coll]; ok {
				if err := mergeDoc(tx, res, coll, coll, v, dry, mergeMembersImported); err != nil {
					return err
				}
			}
		}
		for k, v := range extras {
			if err := mergeDoc(tx, res, "extras", k, v, dry, mergeNewer); err != nil {
				return err
			}
		}
		return nil
	}
	for _, d := range x.Collections["attachments"] {
		if h, ok := d["hash"].(string); ok && !db.HasContent(ctx, h) {
			if id, _ := d["id"].(string); id != "" {
				res.WithoutContent = append(res.WithoutContent, id)
			}
		}
	}
	without := res.WithoutContent
	if dryRun {
		err := db.View(ctx, func(tx *kv.Tx) error { return write(tx, true) })
		res.WithoutContent = without
		return res, err
	}
	m, err := db.Backup(ctx, kv.ReasonPreImport)
	if err != nil {
		return nil, fmt.Errorf("import refused: the pre-import backup failed: %w", err)
	}
	res.Backup = m.Name
	err = db.Update(ctx, func(tx *kv.Tx) error { return write(tx, false) })
	if err != nil {
		return nil, err
	}
	res.WithoutContent = without
	return res, nil
}

// exportSingles returns what an export file holds besides its entities:
// the singleton documents by collection, and the extras by id (Cairn's
// extras, unknown top-level keys as "export:<key>", and aiSettings or
// preferences that are not objects, likewise). An extras key that is not
// a usable id, or two values that would take the same id, is an
// *ExportError: the file is refused rather than a key renamed or a value
// dropped.
func exportSingles(x *Export) (singles, extras map[string]any, err error) {
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
	from := map[string]string{} // extras id -> the JSON path it came from
	add := func(id string, v any, path string, off int64) error {
		if err := docmodel.CheckID(id); err != nil {
			return &ExportError{Path: path, Offset: off, Msg: fmt.Sprintf("cannot be kept as the extras id %q: %v", id, err)}
		}
		if first, dup := from[id]; dup {
			return &ExportError{Path: path, Offset: off, Msg: fmt.Sprintf("would be kept as the extras id %q, which %s takes already; rename one of them", id, first)}
		}
		extras[id], from[id] = v, path
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(x.Extras)) {
		if err := add(k, x.Extras[k], jsonx.PathKey("extras", k), x.offsets["extras."+k]); err != nil {
			return nil, nil, err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(x.Unknown)) {
		if err := add("export:"+k, x.Unknown[k], jsonx.PathKey("", k), x.offsets[k]); err != nil {
			return nil, nil, err
		}
	}
	if x.AISettings != nil && singles["aiSettings"] == nil {
		if err := add("export:aiSettings", x.AISettings, "aiSettings", 0); err != nil {
			return nil, nil, err
		}
	}
	if x.Preferences != nil && singles["preferences"] == nil {
		if err := add("export:preferences", x.Preferences, "preferences", 0); err != nil {
			return nil, nil, err
		}
	}
	return singles, extras, nil
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
	x, sum, err := readExportFile(ctx, path, db.MaxDocumentBytes(), "validate", o.Progress, func(coll string, i int, d map[string]any) error {
		if err := db.Validate(coll, d); err != nil {
			return fmt.Errorf("%s[%d]: %w", coll, i, err)
		}
		found[coll]++
		if h, ok := d["hash"].(string); ok && coll == "attachments" && !db.HasContent(ctx, h) {
			without = append(without, d["id"].(string))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, _, err := exportSingles(x); err != nil {
		return nil, err
	}
	if o.Validated != nil {
		if err := o.Validated(found); err != nil {
			return nil, err
		}
	}
	write := func(b *batcher) error {
		x, again, err := readExportFile(ctx, path, db.MaxDocumentBytes(), "import", o.Progress, func(coll string, _ int, d map[string]any) error {
			return b.addSized(docWrite{coll: coll, id: d["id"].(string), doc: d, mode: mergeNewer}, docmodel.JSONSize(d))
		})
		if err != nil {
			return err
		}
		if again != sum {
			return fmt.Errorf("%s changed while it was being imported; nothing was written", path)
		}
		singles, extras, err := exportSingles(x)
		if err != nil {
			return err
		}
		for _, coll := range singletons {
			if v, ok := singles[coll]; ok {
				if err := b.add(docWrite{coll: coll, id: coll, doc: v, mode: mergeMembersImported}); err != nil {
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
			if err := b.add(docWrite{coll: "extras", id: k, doc: extras[k], mode: mergeNewer}); err != nil {
				return err
			}
		}
		return b.flush()
	}
	if o.DryRun {
		if err := write(&batcher{ctx: ctx, dry: true, run: func(fn func(*kv.Tx) error) error { return db.View(ctx, fn) }, res: res}); err != nil {
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
	if docmodel.CheckID(k) == nil {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	short := k
	if len(short) > 180 {
		short = short[:180]
	}
	for len(short) > 0 && docmodel.CheckID(short) != nil {
		short = short[:len(short)-1]
	}
	return short + "#" + hex.EncodeToString(sum[:8])
}

// mergeMode is how mergeDoc treats a stored version that differs from the
// one to write.
type mergeMode int

const (
	// mergeReplace writes the new version.
	mergeReplace mergeMode = iota
	// mergeNewer (import) is mergeKeepStored for an export file's
	// version: written only when both carry a time and its is later. An
	// import of an older export so never undoes an edit made in the store
	// to a document that carries no time (tasks, sessions: the old app
	// wrote none, and kvtool patch adds none).
	mergeNewer
	// mergeKeepStored (migration) writes the old app's version only when
	// both carry a time and its is later: when they cannot be ordered (no
	// time on one side or both, or a time that cannot be read), the
	// stored version stays, counted in Kept and listed in KeptStored or
	// UnreadableTimes. A second migration so never undoes an edit made in
	// the store to a document without a time (tasks, attachments, extras).
	mergeKeepStored
	// mergeMembers (migration, for settings, aiSettings and preferences)
	// adds the members the stored object lacks, and keeps the stored
	// value of every other member, listing in KeptStored those whose
	// values differ.
	mergeMembers
	// mergeMembersImported is mergeMembers for an export file's version.
	mergeMembersImported
)

// theirs names the version a mode merges in, and source where it comes
// from, for the report's lines.
func (m mergeMode) theirs() string {
	if m.imported() {
		return "the imported"
	}
	return "the old app's"
}

func (m mergeMode) source() string {
	if m.imported() {
		return "the imported file"
	}
	return "the old app"
}

func (m mergeMode) imported() bool { return m == mergeNewer || m == mergeMembersImported }

// mergeDoc writes doc unless the store holds the same document, or one
// mode says to keep.
func mergeDoc(tx *kv.Tx, res *ImportResult, coll, id string, doc any, dry bool, mode mergeMode) error {
	cur, _, err := tx.GetValue(coll, id)
	v := doc // Put normalizes it; compared with what is stored, normalized here
	switch {
	case err == nil:
		norm, err := docmodel.Normalize(doc)
		if err != nil {
			return fmt.Errorf("%s %q: %w", coll, id, err)
		}
		if sameDoc(cur, norm) || coll == "attachments" && sameBesideSource(cur, norm) {
			res.Unchanged[coll]++
			return nil
		}
		if filled := filledContent(coll, mode, cur, norm); filled != nil {
			norm, mode = filled, mergeReplace
		}
		switch mode {
		case mergeNewer, mergeKeepStored:
			ct, cbad := docTime(cur)
			nt, nbad := docTime(norm)
			switch {
			case cbad != "" || nbad != "":
				where, bad := "stored", cbad
				if nbad != "" {
					where, bad = "imported", nbad
				}
				res.UnreadableTimes = append(res.UnreadableTimes, fmt.Sprintf("%s %q: the %s version's %s; the two versions could not be compared, the stored one was kept", coll, id, where, bad))
				res.Kept[coll]++
				return keepOtherBytes(tx, res, coll, id, cur, norm, dry, mode)
			case ct == 0 || nt == 0:
				why := "neither version carries updatedAt or lastUpdated"
				if ct != 0 {
					why = "only the stored version carries a time"
				} else if nt != 0 {
					why = "only " + mode.theirs() + " version carries a time"
				}
				res.KeptStored = append(res.KeptStored, fmt.Sprintf("%s %q: %s, so the two cannot be ordered; the stored one was kept, %s differs", coll, id, why, mode.theirs()))
				res.Kept[coll]++
				return keepOtherBytes(tx, res, coll, id, cur, norm, dry, mode)
			case ct == nt && ct != 0 && finerLater(norm, cur):
				// The same millisecond, but the imported time's finer
				// digits are later: it is the newer version.
			case ct > nt, ct == nt && ct != 0:
				// On a tie the stored version stays: it may hold an edit
				// that did not move the time (kvtool patch, for one),
				// which a second import or migration must not undo.
				res.Kept[coll]++
				return keepOtherBytes(tx, res, coll, id, cur, norm, dry, mode)
			}
		case mergeMembers, mergeMembersImported:
			merged, added, differs := mergeMembersOf(res, coll, cur, norm, mode)
			if !added {
				if differs {
					res.Kept[coll]++
				} else {
					res.Unchanged[coll]++ // the store has more members, the same values
				}
				return nil
			}
			norm = merged
		}
		v = norm
	case !isNotFound(err):
		return err
	case dry:
		if _, err := docmodel.Normalize(doc); err != nil {
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

// keepOtherBytes keeps, when a migration leaves the stored document of
// attachment id as it is and the old app's version norm names other
// bytes (a hash; migrate stored them), those bytes as the orphan
// attachment legacy-orphan-<hash>, as two files of one id in one
// directory are kept: an id the user added, or a second machine's
// directory migrated after the first's, must not lose the old app's
// bytes. A line in KeptStored says so. Nothing happens for an import (an
// export file carries no bytes) or when the orphan is stored already.
func keepOtherBytes(tx *kv.Tx, res *ImportResult, coll, id string, cur, norm any, dry bool, mode mergeMode) error {
	if coll != "attachments" || mode != mergeKeepStored {
		return nil
	}
	cm, _ := cur.(map[string]any)
	nm, _ := norm.(map[string]any)
	h, _ := nm["hash"].(string)
	if len(h) < 16 || cm == nil || strings.EqualFold(fmt.Sprint(cm["hash"]), h) {
		return nil
	}
	oid := "legacy-orphan-" + strings.ToLower(h[:16])
	if _, _, err := tx.GetValue(coll, oid); err == nil {
		return nil
	} else if !isNotFound(err) {
		return err
	}
	doc := map[string]any{"id": oid, "name": oid, "hash": h, "orphan": true, "legacyOf": id}
	for _, k := range []string{"size", "mimeType", "legacySource"} {
		if v, ok := nm[k]; ok {
			doc[k] = v
		}
	}
	res.KeptStored = append(res.KeptStored, fmt.Sprintf("%s %q: the old app's bytes (sha256 %s) differ from the stored document's; they are kept as attachment %s", coll, id, h, oid))
	res.Counts[coll]++
	if dry {
		return nil
	}
	_, err := tx.Put(coll, doc)
	return err
}

// filledContent returns, for a stored attachment document a migration
// marked contentMissing (no hash: its bytes were in no file it read),
// when the old app's version norm now has its bytes (a hash; migrate
// stored them), the stored document with norm's hash and size, the
// members it lacks from norm, and the marker removed (legacyHash too when
// it is that hash). A migration of the whole directory after one of its
// db/ alone, or after its attachments/ folder (symlinked, not followed)
// was copied in, so attaches the bytes: the stored document is otherwise
// kept, since neither version carries a time. nil when that is not the
// case.
func filledContent(coll string, mode mergeMode, cur, norm any) any {
	if coll != "attachments" || mode != mergeKeepStored {
		return nil
	}
	cm, ok := cur.(map[string]any)
	nm, ok2 := norm.(map[string]any)
	if !ok || !ok2 || cm["contentMissing"] != true || nm["contentMissing"] == true {
		return nil
	}
	h, ok := nm["hash"].(string)
	if _, has := cm["hash"]; has || !ok {
		return nil
	}
	out := maps.Clone(cm)
	delete(out, "contentMissing")
	if lh, _ := out["legacyHash"].(string); strings.EqualFold(lh, h) {
		delete(out, "legacyHash")
	}
	out["hash"], out["size"] = h, nm["size"]
	for k, v := range nm {
		if _, has := out[k]; !has {
			out[k] = v
		}
	}
	return out
}

// mergeMembersOf merges the old app's version of a settings object into
// the stored one: members the stored one lacks are added, the others keep
// the stored value; those whose values differ are listed in
// res.KeptStored. added is false when the stored version has every
// member (it stays as it is); differs, when a member's values differ.
func mergeMembersOf(res *ImportResult, coll string, cur, doc any, mode mergeMode) (merged any, added, differs bool) {
	cm, cok := cur.(map[string]any)
	dm, dok := doc.(map[string]any)
	if !cok || !dok {
		res.KeptStored = append(res.KeptStored, fmt.Sprintf("%s: the stored version or %s is not an object; the stored one was kept", coll, mode.theirs()))
		return nil, false, true
	}
	out := maps.Clone(cm)
	var add, kept []string
	for _, k := range slices.Sorted(maps.Keys(dm)) {
		sv, has := cm[k]
		switch {
		case !has:
			out[k] = dm[k]
			add = append(add, k)
		case !sameDoc(sv, dm[k]):
			kept = append(kept, k)
		}
	}
	if len(kept) > 0 {
		l := fmt.Sprintf("%s: members %s keep the store's values (%s differ and carry no time to order them by)", coll, strings.Join(kept, ", "), mode.theirs())
		if len(add) > 0 {
			l += "; members " + strings.Join(add, ", ") + " added from " + mode.source()
		}
		res.KeptStored = append(res.KeptStored, l)
	}
	return out, len(add) > 0, len(kept) > 0
}

func isNotFound(err error) bool { return errors.Is(err, kv.ErrNotFound) }

func sameDoc(a, b any) bool { return docmodel.SameValue(a, b) }

// sameBesideSource reports whether attachment documents a and b differ
// in legacySource only: the old app's file a migration found the bytes
// in, named from the directory migrated, so that the db/ directory and
// the directory holding it name one file two ways.
func sameBesideSource(a, b any) bool {
	am, ok := a.(map[string]any)
	bm, ok2 := b.(map[string]any)
	if !ok || !ok2 || am["legacySource"] == nil || bm["legacySource"] == nil {
		return false
	}
	strip := func(m map[string]any) map[string]any {
		out := make(map[string]any, len(m))
		for k, v := range m {
			if k != "legacySource" {
				out[k] = v
			}
		}
		return out
	}
	return sameDoc(strip(am), strip(bm))
}

// docTime is a document's own modification time in epoch ms: its
// updatedAt, else its lastUpdated, as docmodel.ParseInstant reads them; 0 when
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
		if ms, ok := docmodel.ParseInstant(t); ok {
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

// finerLater reports whether a's time (the field docTime reads) is later
// than b's when both are date-times with digits below the millisecond,
// which docTime drops: "…00.000200Z" is later than "…00.000100Z". A time
// in epoch ms, or without finer digits, orders nothing here.
func finerLater(a, b any) bool {
	ta, oka := fineTime(a)
	tb, okb := fineTime(b)
	return oka && okb && ta.After(tb)
}

// fineTime is the date-time with a zone and a fraction of the second
// (RFC 3339) docTime reads from v, to the nanosecond.
func fineTime(v any) (time.Time, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return time.Time{}, false
	}
	for _, f := range []string{"updatedAt", "lastUpdated"} {
		t, present := m[f]
		if !present || t == nil {
			continue
		}
		s, ok := t.(string)
		if !ok || !strings.Contains(s, ".") {
			return time.Time{}, false
		}
		ts, err := time.Parse(time.RFC3339Nano, s)
		return ts, err == nil
	}
	return time.Time{}, false
}

// migrateBatch is how many documents one transaction of a migration
// writes: enough to keep commits few, few enough to bound memory.
const migrateBatch = 256

// batchBytes bounds, as compact JSON, the documents of known size one
// batch holds (addSized), so that large documents do not fill a batch of
// migrateBatch: a batch holds at most batchBytes plus one document.
const batchBytes = 32 << 20

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
	mode     mergeMode // how a differing stored version is treated
	source   string    // where it comes from (migration), for a document kept another way
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
		nTimes, nStored := len(b.res.UnreadableTimes), len(b.res.KeptStored)
		bad := -1
		err := b.run(func(tx *kv.Tx) error {
			for i, w := range batch {
				if err := b.ctx.Err(); err != nil {
					return err
				}
				if err := mergeDoc(tx, b.res, w.coll, w.id, w.doc, b.dry, w.mode); err != nil {
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
		b.res.UnreadableTimes, b.res.KeptStored = b.res.UnreadableTimes[:nTimes], b.res.KeptStored[:nStored]
		if err := b.tooLarge(batch[bad], err); err != nil {
			return err
		}
		batch = slices.Delete(batch, bad, bad+1)
	}
}
