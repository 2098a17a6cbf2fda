package legacy

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cairnkv/cairn/kv"
)

// ScanOptions tune Scan and Walk. A nil *ScanOptions or a zero field means the
// documented default.
type ScanOptions struct {
	// SettingsBackups is how many of the newest timestamped settings
	// backups are merged into Settings (docs/FORMAT.md §7.7). Default 10;
	// negative means none.
	SettingsBackups int
	// ChapterSources is how many of the newest backup copies of the
	// sessions collection (timestamped, single-slot, backups/ snapshots,
	// rollback points) are read to recover video chapters dropped by the
	// chunked store (docs/FORMAT.md §11.8). Default 3; negative means none.
	ChapterSources int
	// MaxDocumentBytes, if positive, bounds what Walk decodes: an entity
	// of a collection file whose text would decode to a document over it
	// (its size as compact JSON) is handed over undecoded (Entity.Text),
	// so that memory stays bounded by it. Scan ignores it. Migrate uses
	// the store's limit.
	MaxDocumentBytes int64
	// RecoveryCopies is how many of the newest copies of each kind
	// (timestamped backups, backups/ snapshots) are read to recover an
	// array collection whose file is bad (see the package documentation,
	// "Choosing versions"). Default 10, the old app's rotation.
	RecoveryCopies int
	// Workers is how many goroutines read and decode collection,
	// per-entity and chunked-session files ahead of use, within a bounded
	// window. Default runtime.GOMAXPROCS(0); 1 reads sequentially.
	// Results are identical either way.
	Workers int
	// TempDir is where Walk writes the decoded text of collection files
	// (GZIP_V1 and JSON-string payloads), read back from there mapped
	// rather than held in memory; the files are unlinked at once and
	// their directory removed when Walk returns. Default os.TempDir().
	// Migrate uses the store's directory.
	TempDir string
	// Exclude, if set, is a directory inside the scanned one that is not
	// scanned (noted in the report): Migrate puts the store's directory
	// here when it lies inside the old app's (see CheckStoreDir).
	Exclude string
	// Progress, if set, is called from Walk's goroutine: with stage
	// "sessions indexed" while the chunked sessions' metadata is read
	// (large directories only), then with "entities" as Walk hands
	// entities over, total being the number found (an upper bound until
	// the last call, where done equals total).
	Progress func(stage string, done, total int)
}

func (o *ScanOptions) withDefaults() ScanOptions {
	var r ScanOptions
	if o != nil {
		r = *o
	}
	if r.SettingsBackups == 0 {
		r.SettingsBackups = 10
	}
	if r.ChapterSources == 0 {
		r.ChapterSources = 3
	}
	if r.RecoveryCopies <= 0 {
		r.RecoveryCopies = 10
	}
	if r.Workers <= 0 {
		r.Workers = runtime.GOMAXPROCS(0)
	}
	return r
}

// Layouts reported in Report.Layout.
const (
	LayoutAppData = "appdata" // the app-data directory holding db/
	LayoutDB      = "db"      // pointed at db/ itself
	LayoutEraA    = "era-a"   // no db/: attachments and state files only
)

// copyTimeSlack: an mtime later than every timestamp recorded inside the
// directory by more than this is taken as a copy time and ignored.
const copyTimeSlack = int64(24 * time.Hour / time.Millisecond)

type backupRef struct {
	ms   int64
	path string // relative to root
}

type keyFiles struct {
	main       string
	tmp        string
	single     string
	compressed string // <key>.compressed.json duplicate (§3.4), a fallback
	staged     []backupRef
	backups    []backupRef // timestamped <key>.<ms>.backup.json
}

type peFile struct {
	rel    string // relative to root
	dbRel  string // relative to db/
	replay bool   // db/db/ junk copy
}

type scanner struct {
	ctx    context.Context
	opts   ScanOptions
	root   string // absolute, symlinks resolved
	skipAt string // ScanOptions.Exclude, resolved like root
	dbRel  string // "db/" or "" (prefix of db files relative to root), "-" when none
	hasDB  bool
	rep    *Report
	ds     *Dataset
	seq    int
	maxTS  int64
	mtimes map[string]int64 // rel → mtime ms
	sizes  map[string]int64 // rel → size, for the read-ahead's bounds

	keys      map[string]*keyFiles
	perEntity []peFile
	checksums map[string]string      // rel of data file → rel of checksum file
	sessions  map[string]*sessionDir // chunked sessions by id
	snapshots []backupRef
	rollbacks []string
	walPath   string
	ckptPath  string
	// entityIndexes are the per-entity folders' index.json files.
	entityIndexes []string
	stateFiles    []string
	attachFiles   []string // under attachments/
	casFiles      []string // under db/attachments-ca/
	videoFiles    []string

	walKeys      map[string][]*keyVersion // whole-key WAL writes/deletes
	walUpserts   []walUpsert
	walDeletes   map[string]map[string][]walUpsert // by collection and id, in WAL order
	pf           *prefetcher
	spill        *spill
	lazies       []*lazyArray           // every lazy array read
	resolved     map[string]*keyVersion // resolved keys, except chunked-session files
	settingsVers []*keyVersion          // every decodable non-backup version of settings
	cands        map[string]map[string][]*cand
	srcs         [len(groups)][]*arraySrc // array payloads candidates are read from, by group
	stateCache   map[string]map[string]any
	baseTime     map[string]int64
	primary      map[string]map[string]bool
	stateVals    map[string]any
	stateFrom    map[string]stateSrc // where each of stateVals came from
	chapterFinds map[string]*chapterFind
	imported     map[string]map[string]bool // ids handed to fn, by collection
	facts        map[string]*attachmentFacts
	blobKeys     *blobKeys
	single       map[string][]*keyVersion // array collections' copies holding one entity (WAL replay, §5.3)
	badMain      map[string]string        // array collections whose main file is unreadable: why
	recovered    map[string]string        // array collections recovered from older copies: the newest one
	newestBak    map[string]*keyVersion   // array collections' newest decodable timestamped backup (nil: none)
	readBak      map[string]bool          // timestamped backups read by newestBackup
	keptRaw      map[string]bool          // Extras keys keepContainerRaw filled
	badNameFiles []badNameFile            // attachment files named by no usable id (blobsFromBadNames)
	// deletedSessions are the sessions the chunked store shows deleted
	// (a directory without metadata, not in session-index): no older
	// copy of them is imported.
	deletedSessions map[string]bool
	perID           map[string]*perIDFiles
	dedupFiles      map[string]*dedupFiles
	bigUnreadable   []bigFile // unreadable files kept whole as attachments
	denied          []string  // files and directories that could not be opened for lack of permission
}

// Scan reads a legacy Taskerino directory and resolves every entity to
// its newest correct version (see the package documentation for the
// rules). dir may be the app-data directory (holding db/), the db/
// directory itself, or an era-A directory holding attachments/ and state
// files. Scan never writes to dir and never follows a path outside it.
// The error is only for an unusable dir, a cancelled ctx, or a file that
// changed while it was being scanned (ErrChanged); everything else is in
// the Report.
//
// Scan is Walk collecting every entity into Dataset.Collections, so it
// holds every resolved entity in memory at once; Walk does not.
func Scan(ctx context.Context, dir string, opts *ScanOptions) (*Dataset, *Report, error) {
	if opts != nil && opts.MaxDocumentBytes != 0 {
		o := *opts
		o.MaxDocumentBytes = 0 // every entity is decoded and kept
		opts = &o
	}
	cols := map[string]map[string]Entity{}
	for _, c := range Collections {
		cols[c] = map[string]Entity{}
	}
	ds, rep, err := Walk(ctx, dir, opts, func(coll, id string, e Entity) error {
		cols[coll][id] = e
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	ds.Collections = cols
	return ds, rep, nil
}

// Probe lists dir as Scan and Walk begin, without reading any file, and
// returns the error they would return for a path that is not a readable
// directory or holds nothing the old app wrote (ErrNoData). It is cheap:
// a caller can refuse such a directory before creating anything.
func Probe(ctx context.Context, dir string) error {
	s, err := listDir(ctx, dir, nil)
	if err != nil {
		return err
	}
	defer s.closeAll()
	return s.deniedErr()
}

// listDir resolves dir, detects its layout and lists its files into a new
// scanner, reading none of them; the caller closes it (closeAll).
func listDir(ctx context.Context, dir string, opts *ScanOptions) (*scanner, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s", ErrNotDir, dir)
	}
	s := &scanner{
		ctx: ctx, opts: opts.withDefaults(), root: root, spill: &spill{base: opts.withDefaults().TempDir},
		rep:    &Report{Root: dir, Counts: map[string]int{}, Sources: map[string]map[string]int{}},
		ds:     &Dataset{Extras: map[string]any{}},
		mtimes: map[string]int64{}, sizes: map[string]int64{}, keys: map[string]*keyFiles{}, checksums: map[string]string{},
		sessions: map[string]*sessionDir{},
		walKeys:  map[string][]*keyVersion{}, walDeletes: map[string]map[string][]walUpsert{}, resolved: map[string]*keyVersion{},
		cands: map[string]map[string][]*cand{}, baseTime: map[string]int64{}, primary: map[string]map[string]bool{}, stateVals: map[string]any{},
		imported: map[string]map[string]bool{}, facts: map[string]*attachmentFacts{},
		single: map[string][]*keyVersion{}, badMain: map[string]string{}, recovered: map[string]string{},
		newestBak: map[string]*keyVersion{}, readBak: map[string]bool{},
	}
	for _, c := range Collections {
		s.cands[c] = map[string][]*cand{}
		s.primary[c] = map[string]bool{}
		s.imported[c] = map[string]bool{}
	}
	if s.opts.Exclude != "" {
		s.skipAt = resolvePath(s.opts.Exclude)
	}
	s.detectLayout()
	if err := s.walk(); err != nil {
		s.closeAll()
		return nil, err
	}
	if n := s.rep.MacOSArtefacts; n > 0 {
		s.rep.note(fmt.Sprintf("ignored %d macOS copy artefacts (AppleDouble ._* files, .DS_Store, __MACOSX/): the old app wrote none of them", n))
	}
	if !s.hasDB {
		// Backups stand in only for a bad file of db/ (docs/FORMAT.md
		// §11.15); without db/ nothing reads them: say so.
		for _, b := range s.snapshots {
			s.skip(b.path, "a full snapshot of the old app's db/ (docs/FORMAT.md §3.6), not read: backups only stand in for a bad db/ file, and there is no db/ here")
		}
	}
	if !s.hasDB && len(s.attachFiles) == 0 && len(s.stateFiles) == 0 && len(s.videoFiles) == 0 {
		s.closeAll()
		if len(s.snapshots) > 0 {
			return nil, fmt.Errorf("%w in %s: only full snapshots in backups/ (%s), which stand in for a bad db/ file and are not read without db/", ErrNoData, dir, s.snapshots[len(s.snapshots)-1].path)
		}
		if len(s.rep.OutsideDir) > 0 {
			return nil, fmt.Errorf("%w in %s: %s link to outside the directory, not followed (migrate the directory linked to)", ErrNoData, dir, strings.Join(s.rep.OutsideDir, ", "))
		}
		return nil, fmt.Errorf("%w in %s", ErrNoData, dir)
	}
	return s, nil
}

// Walk scans dir exactly as Scan does, but does not hold the resolved
// entities: it calls fn once per resolved entity, collection by collection
// in the order of Collections ("topics", "companies", "contacts", "notes",
// "tasks", "sessions", "attachments"), ids ascending within a collection.
// The Entity is fn's to keep or modify. An error from fn stops the walk and
// is returned. The returned Dataset has Settings, AISettings, Preferences,
// Extras and Blobs filled, and Collections nil; the Report is complete
// (counts and sources included) once Walk returns.
//
// Memory: Walk indexes every candidate version of every entity, keeping
// only what the choice needs and where to read the document again, then
// reads and emits one collection at a time (topics, companies and
// contacts together), letting each entity go once fn returns; chunked
// sessions are assembled one at a time, when emitted. Collection files'
// texts are mapped (a compressed payload decoded into a spill file
// first), not held in the heap, and decoded an element at a time, so a
// step holds one document (none over ScanOptions.MaxDocumentBytes: see
// Entity.Text). Held throughout: the candidate index, the imported ids,
// what documents say about the attachment files of the directory,
// Settings and Extras, and the WAL's newest write per key and its entity
// writes. Per-entity files and sessions' metadata are read twice; one
// that changed in between fails the walk with ErrChanged. See the
// package documentation's caveats.
func Walk(ctx context.Context, dir string, opts *ScanOptions, fn func(coll, id string, e Entity) error) (*Dataset, *Report, error) {
	s, err := listDir(ctx, dir, opts)
	if err != nil {
		return nil, nil, err
	}
	defer s.closeAll()
	if err := s.deniedErr(); err != nil {
		return nil, nil, err
	}
	if s.opts.Workers > 1 {
		s.pf = newPrefetcher(s.root, s.sizes, s.spill, s.opts.Workers)
	}
	steps := []func() error{
		s.classifyAttachments, s.planIndex, s.readWAL, s.buildCollections, s.buildChunkedSessions, s.addRollbackPoints, s.addPerEntity,
		s.addWALUpserts, s.addStateFiles, s.checkEntityIndexes,
	}
	done, total := 0, 0
	if p := s.opts.Progress; p != nil {
		steps = append(steps, func() error {
			for _, c := range Collections {
				total += len(s.cands[c])
			}
			return nil
		})
		inner := fn
		fn = func(coll, id string, e Entity) error {
			err := inner(coll, id, e)
			done++
			p("entities", done, max(total, done+1))
			return err
		}
	}
	for g := range groups {
		steps = append(steps, func() error { return s.emitGroup(g, fn) })
	}
	steps = append(steps, s.reportDeletedInBackups, s.reportSnapshotOnly, s.olderInline, s.buildSettingsAndExtras, s.buildBlobs)
	for _, step := range steps {
		if err := s.ctx.Err(); err != nil {
			return nil, nil, err
		}
		if err := step(); err != nil {
			return nil, nil, err
		}
		if err := s.deniedErr(); err != nil {
			return nil, nil, err
		}
	}
	s.finish()
	if p := s.opts.Progress; p != nil {
		p("entities", done, done)
	}
	return s.ds, s.rep, nil
}

// closeAll stops the read-ahead and releases every mapped text and the
// spill directory, when Walk returns.
func (s *scanner) closeAll() {
	s.pf.close()
	for _, a := range s.lazies {
		a.close()
	}
	_ = s.spill.remove() // a temporary directory: a failure leaves files the system's cleaning removes
}

// detectLayout tells the three layouts apart. A directory that itself
// holds the old app's db files (see holdsDBFiles) is db/, even when it has
// a db/ subdirectory: WAL replay writes its junk to db/db/ (docs/FORMAT.md
// §5.3), so db/ pointed at directly often has one.
func (s *scanner) detectLayout() {
	sub := filepath.Join(s.root, "db")
	fi, err := os.Stat(sub)
	hasSub := err == nil && fi.IsDir()
	if li, err := os.Lstat(sub); hasSub && err == nil && li.Mode()&fs.ModeSymlink != 0 {
		// A db/ linked to outside the directory is not followed (walk
		// reports it): the directory has no db/ to scan.
		if target, err := filepath.EvalSymlinks(sub); err != nil || !s.within(target) {
			hasSub = false
		}
	}
	if hasSub && !holdsDBFiles(s.root, true) {
		s.rep.Layout, s.dbRel, s.hasDB = LayoutAppData, "db/", true
		s.rep.DBDir = "db"
		return
	}
	if hasSub || filepath.Base(s.root) == "db" || holdsDBFiles(s.root, false) {
		s.rep.Layout, s.dbRel, s.hasDB = LayoutDB, "", true
		s.rep.DBDir = "."
		s.rep.note("pointed at db/ itself: attachments/, backups/ and videos/ beside it are not scanned (nothing outside the given directory is read)")
		parent := filepath.Dir(s.root)
		for _, sib := range []string{"attachments", "videos", "backups"} {
			if fi, err := os.Stat(filepath.Join(parent, sib)); err == nil && fi.IsDir() && parent != s.root {
				s.rep.NotScanned = append(s.rep.NotScanned, "../"+sib)
			}
		}
		return
	}
	s.rep.Layout, s.dbRel = LayoutEraA, "-"
}

// dbMarkers are names only the old app's db/ directory holds at its top
// level (docs/FORMAT.md §2, §3, §5, §6): the WAL, the session index, and
// the collection files of the keys every era wrote (with their backup and
// temporary copies). sessions.json is one too, but an app-data directory
// may hold a sessions.json of its own (§1, load_session_summaries), so
// beside a db/ subdirectory it is not taken as a sign.
var dbMarkers = []string{"wal.log", "wal.checkpoint", "session-index.json", "ca-attachment-index.json"}

var dbMarkerKeys = []string{"notes", "tasks", "topics", "settings", "companies", "contacts", "attachments", "attachment_refs", "sessions"}

// holdsDBFiles reports whether dir holds at its top level a file only the
// old app's db/ directory holds; withSub: dir also has a db/
// subdirectory (sessions.json is then no sign, see dbMarkers).
func holdsDBFiles(dir string, withSub bool) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() {
			if n == "attachments-ca" || n == "rollback-points" || strings.HasPrefix(n, ".tx-") || strings.HasPrefix(n, "tx-temp-") {
				return true
			}
			continue
		}
		if slices.Contains(dbMarkers, n) {
			return true
		}
		for _, k := range dbMarkerKeys {
			if k == "sessions" && withSub {
				continue
			}
			rest, ok := strings.CutPrefix(n, k+".")
			if !ok {
				continue
			}
			if rest == "json" || rest == "tmp.json" || rest == "backup.json" {
				return true
			}
			if ms, ok := strings.CutSuffix(rest, ".backup.json"); ok {
				if _, err := strconv.ParseInt(ms, 10, 64); err == nil {
					return true
				}
			}
		}
	}
	return false
}

// resolvePath makes p absolute with symlinks resolved, as far as it
// exists: a path not made yet resolves through its nearest existing
// parent.
func resolvePath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	parent := filepath.Dir(abs)
	if parent == abs {
		return abs
	}
	return filepath.Join(resolvePath(parent), filepath.Base(abs))
}

// CheckStoreDir tells whether a store in storeDir can take a migration of
// dir: an error wrapping ErrStoreInside when storeDir is dir or dir's db/
// (the store's files would be read as the old app's); otherwise exclude
// is storeDir when it lies inside dir, to be left out of the scan
// (ScanOptions.Exclude), else "". storeDir need not exist yet.
func CheckStoreDir(dir, storeDir string) (exclude string, err error) {
	root, store := resolvePath(dir), resolvePath(storeDir)
	if store == root || store == filepath.Join(root, "db") {
		return "", fmt.Errorf("%w: the store %s is the directory being migrated (%s) or its db/: use a store directory outside it, or inside it in a directory of its own", ErrStoreInside, storeDir, dir)
	}
	rel, err := filepath.Rel(root, store)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", nil
	}
	if folder := oldAppFolder(filepath.ToSlash(rel)); folder != "" {
		// The scan would leave the whole folder out, and with it the
		// old app's files there (FORMAT §3): refused, never skipped.
		return "", fmt.Errorf("%w: the store %s is inside %s, a folder of the old app's data in %s: use a store directory outside it, or inside it in a directory of its own", ErrStoreInside, storeDir, folder, dir)
	}
	return store, nil
}

// oldAppFolder returns the folder of the old app's own (FORMAT §3) that
// rel (slash-separated, relative to the old app's directory) is or lies
// in, "" when it is in none: attachments/, videos/, backups/, and in db/
// the per-entity, chunked session, content-addressed, rollback,
// enrichment, junk db/ and transaction staging folders.
func oldAppFolder(rel string) string {
	// Case-insensitively: the old app's platform's file systems are.
	parts := strings.Split(strings.ToLower(rel), "/")
	switch parts[0] {
	case "attachments", "videos", "backups":
		return parts[0] + "/"
	case "db":
	default:
		return ""
	}
	if len(parts) < 2 {
		return "db/"
	}
	switch n := parts[1]; {
	case n == "attachments-ca", n == "rollback-points", n == "enrichment", n == "db",
		strings.HasPrefix(n, ".tx-"), strings.HasPrefix(n, "tx-temp-"), entityCollections[n] != "":
		return "db/" + n + "/"
	}
	return ""
}

// within reports whether abs (symlinks resolved) lies inside the root.
func (s *scanner) within(abs string) bool {
	rel, err := filepath.Rel(s.root, abs)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func (s *scanner) abs(rel string) string { return absPath(s.root, rel) }

func absPath(root, rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }

func (s *scanner) walk() error {
	n := 0
	return filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			rel, _ := filepath.Rel(s.root, p)
			s.skip(filepath.ToSlash(rel), "cannot be read: "+err.Error())
			s.noteDenied(filepath.ToSlash(rel), err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if n++; n%1024 == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		rel, _ := filepath.Rel(s.root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && rel != "." && p == s.skipAt {
			s.rep.note("not scanned: " + rel + ", the store's own directory")
			return fs.SkipDir
		}
		if d.IsDir() && rel != "." && isCairnStore(p) {
			s.rep.note("not scanned: " + rel + ", a Cairn store (its " + kv.DataFile + "), which the old app never wrote")
			return fs.SkipDir
		}
		if rel != "." && isMacOSArtefact(p, d) {
			s.rep.MacOSArtefacts++
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if rel == "." || d.IsDir() {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				// A loop, a dangling link: not one out of the directory.
				s.skip(rel, "symbolic link that cannot be followed: "+err.Error())
				s.noteDenied(rel, err)
				return nil
			}
			if !s.within(target) {
				s.rep.OutsideDir = append(s.rep.OutsideDir, rel)
				return nil
			}
			fi, err := os.Stat(target)
			if err != nil {
				s.skip(rel, "cannot be read: "+err.Error())
				s.noteDenied(rel, err)
				return nil
			}
			if fi.IsDir() {
				// A link to a directory inside the root: scanned there.
				s.rep.note("symbolic link " + rel + " to a directory inside the scanned one: not followed, its files are read where it points")
				return nil
			}
			if !fi.Mode().IsRegular() {
				s.skip(rel, "symbolic link to "+fileKind(fi.Mode())+", not a regular file")
				return nil
			}
		} else if !d.Type().IsRegular() {
			s.skip(rel, fileKind(d.Type())+", not a regular file")
			return nil
		}
		if s.classifyChunked(rel) {
			return nil // size and mtime looked up when needed: they are many
		}
		if fi, err := d.Info(); err == nil {
			s.mtimes[rel] = fi.ModTime().UnixMilli()
			s.sizes[rel] = fi.Size()
		}
		s.classify(rel)
		return nil
	})
}

// isCairnStore reports whether directory p holds a Cairn store: a
// regular file kv.DataFile that is a bbolt database (its first meta
// page's magic number). The old app wrote JSON and attachment files only;
// a store kept inside its directory (another migration's target, say)
// would otherwise have its backup manifests and search metadata read as
// the old app's data.
func isCairnStore(p string) bool {
	f, err := os.Open(filepath.Join(p, kv.DataFile))
	if err != nil {
		return false
	}
	defer f.Close() // read only
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	var head [20]byte // page header (16 bytes), then the meta's magic
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return false
	}
	return binary.LittleEndian.Uint32(head[16:]) == 0xED0CDAED || binary.BigEndian.Uint32(head[16:]) == 0xED0CDAED
}

// isMacOSArtefact reports whether a directory entry is one a copy from a
// Mac leaves beside the old app's files, none of which it wrote: a
// .DS_Store, a __MACOSX/ directory (zip), or an AppleDouble file ._<name>
// (exFAT, zip), recognised by its magic number.
func isMacOSArtefact(p string, d fs.DirEntry) bool {
	name := d.Name()
	switch {
	case d.IsDir():
		return name == "__MACOSX"
	case name == ".DS_Store":
		return d.Type().IsRegular()
	case strings.HasPrefix(name, "._") && d.Type().IsRegular():
		f, err := os.Open(p)
		if err != nil {
			return false // read as any other file, and reported there
		}
		defer f.Close() // read only
		var magic [4]byte
		_, err = io.ReadFull(f, magic[:])
		return err == nil && magic == [4]byte{0x00, 0x05, 0x16, 0x07}
	}
	return false
}

// skip reports a directory entry that is not read.
func (s *scanner) skip(rel, reason string) {
	s.rep.Skipped = append(s.rep.Skipped, Skipped{Path: rel, Reason: reason})
}

// fileKind names the kind of a file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeDir != 0:
		return "a directory"
	}
	return "an irregular file"
}

// sessionDir is what the directory walk found in one chunked session's
// directory, db/sessions/<id>/: which of its canonical main files exist
// (their paths are derived from the key). Other files of its keys (tmp,
// backups, staged copies) are in scanner.keys. A 100,000-session
// directory holds about half a million such files, so they are not kept
// one map entry each.
type sessionDir struct {
	plain  uint8    // bit 0: metadata.json; bit 1+i: sessionParts[i]
	chunks [3][]int // indices of chunk-NNN.json files, per chunkKinds
	lost   []string // Session fields assembleSession found short: missing parts, chunks or items
}

// session returns the entry of a chunked session's directory.
func (s *scanner) session(id string) *sessionDir {
	sd := s.sessions[id]
	if sd == nil {
		sd = &sessionDir{}
		s.sessions[id] = sd
	}
	return sd
}

// classifyChunked records a canonical main file of a chunked session
// (metadata.json, a part, a chunk-NNN.json); it reports false for any
// other file.
func (s *scanner) classifyChunked(rel string) bool {
	if !s.hasDB || !strings.HasPrefix(rel, s.dbRel+"sessions/") || !strings.HasSuffix(rel, ".json") {
		return false
	}
	p := strings.TrimSuffix(rel[len(s.dbRel)+len("sessions/"):], ".json")
	id, rest, ok := strings.Cut(p, "/")
	if !ok || id == "indexes" || strings.ContainsAny(rest, ".") {
		return false
	}
	if rest == "metadata" {
		s.session(id).plain |= 1
		return true
	}
	for i, part := range sessionParts {
		if rest == part.Name {
			s.session(id).plain |= 1 << (i + 1)
			return true
		}
	}
	dir, name, ok := strings.Cut(rest, "/")
	if !ok {
		return false
	}
	for k, kind := range chunkKinds {
		if dir == kind.Dir {
			if i, ok := parseChunkName(name); ok && chunkName(i) == name {
				sd := s.session(id)
				sd.chunks[k] = append(sd.chunks[k], i)
				return true
			}
		}
	}
	return false
}

// files returns a key's files, with the derived main file of a chunked
// session's canonical key.
func (s *scanner) files(k string) keyFiles {
	var kf keyFiles
	if p := s.keys[k]; p != nil {
		kf = *p
	}
	if kf.main == "" && s.plainMain(k) {
		kf.main = s.dbRel + k + ".json"
	}
	return kf
}

// plainMain reports whether the walk found the canonical main file of a
// chunked session's key k.
func (s *scanner) plainMain(k string) bool {
	rest, ok := strings.CutPrefix(k, "sessions/")
	if !ok {
		return false
	}
	id, rest, ok := strings.Cut(rest, "/")
	sd := s.sessions[id]
	if !ok || sd == nil {
		return false
	}
	if rest == "metadata" {
		return sd.plain&1 != 0
	}
	for i, part := range sessionParts {
		if rest == part.Name {
			return sd.plain&(1<<(i+1)) != 0
		}
	}
	dir, name, _ := strings.Cut(rest, "/")
	for k, kind := range chunkKinds {
		if dir == kind.Dir {
			i, ok := parseChunkName(name)
			return ok && slices.Contains(sd.chunks[k], i)
		}
	}
	return false
}

func (s *scanner) key(k string) *keyFiles {
	kf := s.keys[k]
	if kf == nil {
		kf = &keyFiles{}
		s.keys[k] = kf
	}
	return kf
}

func (s *scanner) seen(ts int64) {
	if ts > s.maxTS {
		s.maxTS = ts
	}
}

func (s *scanner) classify(rel string) {
	if s.hasDB && strings.HasPrefix(rel, s.dbRel) {
		s.classifyDB(rel, strings.TrimPrefix(rel, s.dbRel))
		return
	}
	if s.rep.Layout == LayoutAppData || s.rep.Layout == LayoutEraA {
		first, rest, _ := strings.Cut(rel, "/")
		switch {
		case first == "attachments" && rest != "":
			s.attachFiles = append(s.attachFiles, rel)
			return
		case first == "videos" && rest != "":
			s.videoFiles = append(s.videoFiles, rel)
			return
		case first == "backups" && !strings.Contains(rest, "/"):
			if ms, ok := parseMsName(rest, "backup-", ".json"); ok {
				s.snapshots = append(s.snapshots, backupRef{ms, rel})
				s.seen(ms)
			} else {
				s.rep.Ignored = append(s.rep.Ignored, rel)
			}
			return
		case first == "taskerino" && strings.HasPrefix(rest, "attachments/"):
			s.attachFiles = append(s.attachFiles, rel) // era A under $HOME
			return
		}
		if !strings.Contains(rel, "/") && strings.HasSuffix(rel, ".json") && isStateFileName(rel) {
			s.stateFiles = append(s.stateFiles, rel)
			return
		}
	}
	s.rep.Ignored = append(s.rep.Ignored, rel)
}

func isStateFileName(n string) bool {
	for _, p := range []string{"taskerino-v3-state", "taskerino-v2-state", "taskerino-backup-", "taskerino-export-", "localStorage"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

func parseMsName(name, prefix, suffix string) (int64, bool) {
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
		return 0, false
	}
	ms, err := strconv.ParseInt(name[len(prefix):len(name)-len(suffix)], 10, 64)
	return ms, err == nil
}

func (s *scanner) classifyDB(rel, p string) {
	parts := strings.Split(p, "/")
	name := parts[len(parts)-1]
	switch {
	case p == "wal.log":
		s.walPath = rel
	case p == "wal.checkpoint":
		s.ckptPath = rel
	case parts[0] == "db" && len(parts) > 1:
		if _, c, _ := NormalizeKey(p); c != "" {
			s.perEntity = append(s.perEntity, peFile{rel: rel, dbRel: p, replay: true})
		} else {
			s.rep.note("ignored WAL-replay file " + rel)
		}
	case len(parts) > 1 && (strings.HasPrefix(parts[0], ".tx-") || strings.HasPrefix(parts[0], "tx-temp-")):
		msText := strings.TrimPrefix(strings.TrimPrefix(parts[0], ".tx-"), "tx-temp-")
		ms, _ := strconv.ParseInt(msText, 10, 64)
		rest := strings.Join(parts[1:], "/")
		if strings.HasSuffix(rest, ".json") && !strings.Contains(name, ".backup") && !strings.Contains(name, ".tmp") {
			k, _, _ := NormalizeKey(rest)
			kf := s.key(k)
			kf.staged = append(kf.staged, backupRef{ms, rel})
			s.seen(ms)
			s.noteSessionFile(k)
		}
	case strings.HasSuffix(name, ".checksum"):
		s.checksums[strings.TrimSuffix(rel, ".checksum")] = rel
	case strings.HasSuffix(name, ".backup.json"):
		base := strings.TrimSuffix(p, ".backup.json")
		if i := strings.LastIndexByte(base, '.'); i > 0 && !strings.Contains(base[i:], "/") {
			if ms, err := strconv.ParseInt(base[i+1:], 10, 64); err == nil {
				kf := s.key(base[:i])
				kf.backups = append(kf.backups, backupRef{ms, rel})
				s.seen(ms)
				s.noteSessionFile(base[:i])
				return
			}
		}
		s.key(base).single = rel
		s.noteSessionFile(base)
	case strings.HasSuffix(name, ".tmp.json"):
		k := strings.TrimSuffix(p, ".tmp.json")
		s.key(k).tmp = rel
		s.noteSessionFile(k)
	case len(parts) == 2 && entityCollections[parts[0]] != "" && (strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".json.gz")) && isPerEntityOrIndex(p, name):
		if _, c, _ := NormalizeKey(p); c != "" {
			s.perEntity = append(s.perEntity, peFile{rel: rel, dbRel: p})
		} else if name == "index.json" {
			s.entityIndexes = append(s.entityIndexes, rel)
		} else {
			s.rep.Ignored = append(s.rep.Ignored, rel) // a .json.gz no key is stored as
		}
		// index.json is derived (§3.3). Other .json files here are keys
		// like any other (a key may hold "/", §2): the last case.
	case len(parts) > 2 && entityCollections[parts[0]] != "" && parts[1] == "indexes":
		// derived search indexes
	case parts[0] == "attachments-ca" && isCASKey(strings.TrimSuffix(strings.TrimPrefix(p, "attachments-ca/"), ".json")) && strings.HasSuffix(name, ".json"):
		s.casFiles = append(s.casFiles, rel)
	case parts[0] == "rollback-points" && len(parts) == 3 && name == "sessions.json":
		s.rollbacks = append(s.rollbacks, rel)
	case strings.HasSuffix(name, ".json"):
		k := strings.TrimSuffix(p, ".json")
		if base, ok := strings.CutSuffix(k, ".compressed"); ok {
			s.key(base).compressed = rel // duplicate written by compressSession (§3.4)
			return
		}
		s.key(k).main = rel
		s.noteSessionFile(k)
	default:
		s.rep.Ignored = append(s.rep.Ignored, rel)
	}
}

// isPerEntityOrIndex reports whether p (relative to db/), a file named
// name in a per-entity directory, is a per-entity file or its index.
func isPerEntityOrIndex(p, name string) bool {
	if name == "index.json" {
		return true
	}
	_, c, _ := NormalizeKey(p)
	return c != "" || strings.HasSuffix(name, ".json.gz")
}

// noteSessionFile notes the chunked session a key of other files than
// its canonical main one belongs to (see classifyChunked).
func (s *scanner) noteSessionFile(k string) {
	parts := strings.Split(k, "/")
	if len(parts) < 3 || parts[0] != "sessions" || parts[1] == "indexes" {
		return
	}
	s.session(parts[1])
}

// readFile reads a file inside the root.
func (s *scanner) readFile(rel string) ([]byte, error) {
	if p := s.pf.take(rel, fetchRaw); p != nil {
		return p.b, p.err
	}
	return os.ReadFile(s.abs(rel))
}

// readEnvelope reads and decodes one collection file, recording checksum
// mismatches. keep puts the raw bytes of an unreadable file into Extras.
// lazy leaves an array payload undecoded (a *lazyArray).
func (s *scanner) readEnvelope(rel string, keep, lazy bool) (*Envelope, error) {
	mode := fetchEnvelope
	if lazy {
		mode = fetchLazy
	}
	p := s.pf.take(rel, mode)
	if p == nil {
		r := readAhead(s.abs(rel), mode, s.spill)
		p = &r
	}
	if p.err != nil {
		s.unreadable(rel, nil, p.err, false)
		return nil, p.err
	}
	if p.envErr != nil {
		s.unreadable(rel, p.b, p.envErr, keep)
		return nil, p.envErr
	}
	env := p.env
	if a, ok := env.Data.(*lazyArray); ok {
		s.lazies = append(s.lazies, a) // released when the walk ends, if not before
	}
	s.keepContainerRaw(rel, env.repeated)
	if env.ChecksumMismatch() {
		s.rep.ChecksumMismatches = append(s.rep.ChecksumMismatches, ChecksumMismatch{Path: rel, Kind: "envelope"})
	}
	s.seen(env.Timestamp)
	return env, nil
}

// rereadEnvelope reads a file that was read before (and reported then)
// again: nothing is reported.
func (s *scanner) rereadEnvelope(rel string) (*Envelope, error) {
	p := s.pf.take(rel, fetchEnvelope)
	if p == nil {
		r := readAhead(s.abs(rel), fetchEnvelope, s.spill)
		p = &r
	}
	if p.err != nil {
		return nil, p.err
	}
	return p.env, p.envErr
}

// changed is the error for a file that no longer holds what was read
// from it earlier in the scan.
func changed(rel string, err error) error {
	const hint = " (is the old app still running? quit it and start again)"
	if err != nil {
		return fmt.Errorf("%w: %s: %v%s", ErrChanged, rel, err, hint)
	}
	return fmt.Errorf("%w: %s%s", ErrChanged, rel, hint)
}

// noteDenied notes a file or directory the scan needs that could not be
// opened for lack of permission (see deniedErr).
func (s *scanner) noteDenied(rel string, err error) {
	if errors.Is(err, fs.ErrPermission) {
		s.denied = append(s.denied, rel)
	}
}

// deniedErr is the error that stops the scan once a file or directory it
// needs could not be opened for lack of permission: an older copy would
// otherwise stand in for it, bringing back old or deleted entities, and
// a later run with the permissions fixed could not undo that. Files the
// scan never opens (copies the choice does not need) are not checked.
func (s *scanner) deniedErr() error {
	if len(s.denied) == 0 {
		return nil
	}
	d := slices.Compact(slices.Sorted(slices.Values(s.denied)))
	more := ""
	if len(d) > 1 {
		n := min(len(d)-1, 5)
		more = " (and " + strings.Join(d[1:1+n], ", ")
		if len(d)-1 > n {
			more += fmt.Sprintf(" and %d more", len(d)-1-n)
		}
		more += ")"
	}
	return fmt.Errorf("%w: %s%s in %s cannot be opened; give the user running this read permission on it (for example chmod -R u+rX on the directory, or run as its owner) and run again: its older copies are not used in its place, since they could bring back old or deleted data", ErrDenied, d[0], more, s.rep.Root)
}

func (s *scanner) unreadable(rel string, b []byte, err error, keep bool) {
	s.noteDenied(rel, err)
	s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: rel, Error: err.Error()})
	if !keep {
		return
	}
	x := map[string]any{"path": rel, "error": err.Error()}
	if b == nil {
		// Too large to hold (mapped, see readLazy): the file is kept whole
		// as the content of an attachment, streamed.
		sum := sha256.Sum256([]byte(rel))
		id := "legacy-unreadable-" + hex.EncodeToString(sum[:8])
		x["attachment"] = id
		s.ds.Extras["unreadable:"+rel] = x
		s.bigUnreadable = append(s.bigUnreadable, bigFile{rel, id})
		return
	}
	if utf8.Valid(b) {
		x["text"] = string(b)
	} else {
		x["base64"] = base64.StdEncoding.EncodeToString(b)
	}
	s.ds.Extras["unreadable:"+rel] = x
}

// bigFile is a file kept whole as the content of attachment id.
type bigFile struct{ rel, id string }

// fileTime is a file's mtime in ms, or 0 when it is later than every
// timestamp recorded inside the directory (a copy or checkout time).
func (s *scanner) fileTime(rel string) int64 {
	mt, ok := s.mtimes[rel]
	if !ok { // a chunked session's file (see classifyChunked)
		if fi, err := os.Stat(s.abs(rel)); err == nil {
			mt = fi.ModTime().UnixMilli()
		}
	}
	if s.maxTS == 0 || mt > s.maxTS+copyTimeSlack {
		return 0
	}
	return mt
}

// finish fills counts and puts report lists in a stable order: the
// order of a sequential scan is not kept (Walk reads chunked sessions'
// files when it emits them), so lists are sorted by what they are about.
func (s *scanner) finish() {
	for _, c := range Collections {
		s.rep.Counts[c] = len(s.imported[c])
	}
	r := s.rep
	sort.SliceStable(r.WAL.Skipped, func(i, j int) bool { return r.WAL.Skipped[i].Line < r.WAL.Skipped[j].Line })
	sort.SliceStable(r.KeyChoices, func(i, j int) bool { return r.KeyChoices[i].Key < r.KeyChoices[j].Key })
	sort.SliceStable(r.Conflicts, func(i, j int) bool {
		a, b := r.Conflicts[i], r.Conflicts[j]
		return cmpColl(a.Collection, b.Collection, a.ID, b.ID) < 0
	})
	sort.SliceStable(r.ChecksumMismatches, func(i, j int) bool {
		a, b := r.ChecksumMismatches[i], r.ChecksumMismatches[j]
		return a.Path < b.Path || a.Path == b.Path && a.Kind < b.Kind
	})
	r.ChecksumMismatches = dedup(r.ChecksumMismatches)
	sort.SliceStable(r.Fallbacks, func(i, j int) bool { return r.Fallbacks[i].Key < r.Fallbacks[j].Key })
	sort.SliceStable(r.Restored, func(i, j int) bool {
		a, b := r.Restored[i], r.Restored[j]
		return cmpColl(a.Collection, b.Collection, a.ID, b.ID) < 0
	})
	sort.SliceStable(r.RollbackPoints, func(i, j int) bool { return r.RollbackPoints[i].Path < r.RollbackPoints[j].Path })
	sort.SliceStable(r.ManifestShortfalls, func(i, j int) bool {
		return r.ManifestShortfalls[i].SessionID < r.ManifestShortfalls[j].SessionID
	})
	sort.SliceStable(r.StaleChunks, func(i, j int) bool { return r.StaleChunks[i].SessionID < r.StaleChunks[j].SessionID })
	sort.SliceStable(r.Unreadable, func(i, j int) bool { return r.Unreadable[i].Path < r.Unreadable[j].Path })
	r.Unreadable = dedup(r.Unreadable)
	for _, l := range [][]Dropped{r.NotResurrected, r.Deleted} {
		sort.SliceStable(l, func(i, j int) bool {
			a, b := l[i], l[j]
			if c := cmpColl(a.Collection, b.Collection, a.ID, b.ID); c != 0 {
				return c < 0
			}
			return a.Source < b.Source
		})
	}
	sort.SliceStable(r.InvalidIDs, func(i, j int) bool {
		a, b := r.InvalidIDs[i], r.InvalidIDs[j]
		if c := cmpColl(a.Collection, b.Collection, a.Source, b.Source); c != 0 {
			return c < 0
		}
		return a.Index < b.Index
	})
	sort.Strings(r.ChaptersRecovered)
	sort.Strings(r.EnrichmentRecovered)
	sort.Strings(r.LostRecovered)
	sort.SliceStable(r.RawValues, func(i, j int) bool {
		a, b := r.RawValues[i], r.RawValues[j]
		if c := cmpColl(a.Collection, b.Collection, a.ID, b.ID); c != 0 {
			return c < 0
		}
		return a.Path < b.Path
	})
	sort.Strings(r.OrphanAttachments)
	sort.Strings(r.OutsideDir)
	sort.SliceStable(r.Skipped, func(i, j int) bool { return r.Skipped[i].Path < r.Skipped[j].Path })
	sort.Strings(r.JunkSkipped)
	sort.Strings(r.Ignored)
}

// cmpColl orders by collection (in the order of Collections, others after
// by name), then by x.
func cmpColl(ca, cb, xa, xb string) int {
	ia, ib := slices.Index(Collections, ca), slices.Index(Collections, cb)
	if ia < 0 {
		ia = len(Collections)
	}
	if ib < 0 {
		ib = len(Collections)
	}
	if c := cmp.Compare(ia, ib); c != 0 {
		return c
	}
	if c := strings.Compare(ca, cb); c != 0 {
		return c
	}
	return strings.Compare(xa, xb)
}

// dedup drops repeated entries, keeping the first.
func dedup[T comparable](xs []T) []T {
	seen := map[T]bool{}
	out := xs[:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
