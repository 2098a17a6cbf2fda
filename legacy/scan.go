package legacy

import (
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ScanOptions tune Scan. A nil *ScanOptions or a zero field means the
// documented default.
type ScanOptions struct {
	// SettingsBackups is how many of the newest timestamped settings
	// backups are merged into Settings (FORMAT.md §7.7). Default 10;
	// negative means none.
	SettingsBackups int
	// ChapterSources is how many of the newest backup copies of the
	// sessions collection (timestamped, single-slot, backups/ snapshots,
	// rollback points) are read to recover video chapters dropped by the
	// chunked store (FORMAT.md §11.8). Default 3; negative means none.
	ChapterSources int
	// Workers is how many goroutines read and decode collection and
	// per-entity files ahead of use. Default runtime.GOMAXPROCS(0); 1
	// reads sequentially. Results are identical either way.
	Workers int
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
	dbRel  string // "db/" or "" (prefix of db files relative to root), "-" when none
	hasDB  bool
	rep    *Report
	ds     *Dataset
	seq    int
	maxTS  int64
	mtimes map[string]int64 // rel → mtime ms

	keys        map[string]*keyFiles
	perEntity   []peFile
	checksums   map[string]string // rel of data file → rel of checksum file
	sessionDirs map[string]bool   // chunked session ids with a directory
	chunkFiles  map[string]map[string]map[int]string
	snapshots   []backupRef
	rollbacks   []string
	walPath     string
	ckptPath    string
	stateFiles  []string
	attachFiles []string // under attachments/
	casFiles    []string // under db/attachments-ca/
	videoFiles  []string

	walKeys    map[string][]*keyVersion // whole-key WAL writes/deletes
	walUpserts []walUpsert
	walDeletes []walUpsert
	cache      map[string]*prefetched
	resolved   map[string]*keyVersion
	versions   map[string][]*keyVersion // every decodable non-backup version per resolved key
	cands      map[string]map[string][]*cand
	baseTime   map[string]int64
	primary    map[string]map[string]bool
	stateVals  map[string]any
}

// Scan reads a legacy Taskerino directory and resolves every entity to
// its newest correct version (see the package documentation for the
// rules). dir may be the app-data directory (holding db/), the db/
// directory itself, or an era-A directory holding attachments/ and state
// files. Scan never writes to dir and never follows a path outside it.
// The error is only for an unusable dir or a cancelled ctx; everything
// else is in the Report.
func Scan(ctx context.Context, dir string, opts *ScanOptions) (*Dataset, *Report, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, err
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, nil, err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, nil, err
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotDir, dir)
	}
	s := &scanner{
		ctx: ctx, opts: opts.withDefaults(), root: root,
		rep:    &Report{Root: dir, Counts: map[string]int{}, Sources: map[string]map[string]int{}},
		ds:     &Dataset{Collections: map[string]map[string]Entity{}, Extras: map[string]any{}},
		mtimes: map[string]int64{}, keys: map[string]*keyFiles{}, checksums: map[string]string{},
		sessionDirs: map[string]bool{}, chunkFiles: map[string]map[string]map[int]string{},
		walKeys: map[string][]*keyVersion{}, resolved: map[string]*keyVersion{}, versions: map[string][]*keyVersion{},
		cands: map[string]map[string][]*cand{}, baseTime: map[string]int64{}, primary: map[string]map[string]bool{}, stateVals: map[string]any{},
	}
	for _, c := range Collections {
		s.ds.Collections[c] = map[string]Entity{}
		s.cands[c] = map[string][]*cand{}
		s.primary[c] = map[string]bool{}
	}
	s.detectLayout()
	if err := s.walk(); err != nil {
		return nil, nil, err
	}
	if !s.hasDB && len(s.attachFiles) == 0 && len(s.stateFiles) == 0 && len(s.videoFiles) == 0 {
		return nil, nil, fmt.Errorf("%w in %s", ErrNoData, dir)
	}
	steps := []func() error{
		s.prefetch, s.readWAL, s.buildCollections, s.buildChunkedSessions, s.addPerEntity,
		s.addWALUpserts, s.addStateFiles, s.resolveAll, s.reportDeletedInBackups, s.recoverChapters,
		s.convertRelationships, s.buildSettingsAndExtras, s.buildBlobs,
	}
	for _, step := range steps {
		if err := s.ctx.Err(); err != nil {
			return nil, nil, err
		}
		if err := step(); err != nil {
			return nil, nil, err
		}
	}
	s.finish()
	return s.ds, s.rep, nil
}

func (s *scanner) detectLayout() {
	if fi, err := os.Stat(filepath.Join(s.root, "db")); err == nil && fi.IsDir() {
		s.rep.Layout, s.dbRel, s.hasDB = LayoutAppData, "db/", true
		s.rep.DBDir = "db"
		return
	}
	if filepath.Base(s.root) == "db" {
		s.rep.Layout, s.dbRel, s.hasDB = LayoutDB, "", true
	} else {
		for _, n := range []string{"wal.log", "session-index.json", "sessions.json", "notes.json", "tasks.json", "topics.json", "settings.json", "companies.json", "contacts.json"} {
			if _, err := os.Lstat(filepath.Join(s.root, n)); err == nil {
				s.rep.Layout, s.dbRel, s.hasDB = LayoutDB, "", true
				break
			}
		}
	}
	if s.hasDB {
		s.rep.DBDir = "."
		s.rep.note("pointed at db/ itself: attachments/, backups/ and videos/ beside it are not scanned (nothing outside the given directory is read)")
		return
	}
	s.rep.Layout, s.dbRel = LayoutEraA, "-"
}

// within reports whether abs (symlinks resolved) lies inside the root.
func (s *scanner) within(abs string) bool {
	rel, err := filepath.Rel(s.root, abs)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func (s *scanner) abs(rel string) string { return filepath.Join(s.root, filepath.FromSlash(rel)) }

func (s *scanner) walk() error {
	n := 0
	return filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			rel, _ := filepath.Rel(s.root, p)
			s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: filepath.ToSlash(rel), Error: err.Error()})
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
		if rel == "." || d.IsDir() {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil || !s.within(target) {
				s.rep.OutsideDir = append(s.rep.OutsideDir, rel)
				return nil
			}
			fi, err := os.Stat(target)
			if err != nil || !fi.Mode().IsRegular() {
				return nil // a link to a directory inside the root: scanned there
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			s.mtimes[rel] = fi.ModTime().UnixMilli()
		}
		s.classify(rel)
		return nil
	})
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
			}
			return
		case first == "taskerino" && strings.HasPrefix(rest, "attachments/"):
			s.attachFiles = append(s.attachFiles, rel) // era A under $HOME
			return
		}
		if !strings.Contains(rel, "/") && strings.HasSuffix(rel, ".json") && isStateFileName(rel) {
			s.stateFiles = append(s.stateFiles, rel)
		}
	}
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
			s.noteSessionFile(k, rel, false)
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
				s.noteSessionFile(base[:i], rel, false)
				return
			}
		}
		s.key(base).single = rel
		s.noteSessionFile(base, rel, false)
	case strings.HasSuffix(name, ".tmp.json"):
		k := strings.TrimSuffix(p, ".tmp.json")
		s.key(k).tmp = rel
		s.noteSessionFile(k, rel, false)
	case len(parts) == 2 && entityCollections[parts[0]] != "" && (strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".json.gz")):
		if _, c, _ := NormalizeKey(p); c != "" {
			s.perEntity = append(s.perEntity, peFile{rel: rel, dbRel: p})
		}
		// index.json and other files here are derived (§3.3).
	case len(parts) > 2 && entityCollections[parts[0]] != "" && parts[1] == "indexes":
		// derived search indexes
	case parts[0] == "attachments-ca":
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
		s.noteSessionFile(k, rel, true)
	}
}

// noteSessionFile indexes chunked-session files by session and chunk.
func (s *scanner) noteSessionFile(k, rel string, main bool) {
	parts := strings.Split(k, "/")
	if len(parts) < 3 || parts[0] != "sessions" || parts[1] == "indexes" {
		return
	}
	id := parts[1]
	s.sessionDirs[id] = true
	if len(parts) == 4 && main {
		if i, ok := parseChunkName(parts[3]); ok {
			m := s.chunkFiles[id]
			if m == nil {
				m = map[string]map[int]string{}
				s.chunkFiles[id] = m
			}
			if m[parts[2]] == nil {
				m[parts[2]] = map[int]string{}
			}
			m[parts[2]][i] = rel
		}
	}
}

// readFile reads a file inside the root.
func (s *scanner) readFile(rel string) ([]byte, error) {
	if p := s.take(rel); p != nil && !p.decode {
		return p.b, p.err
	}
	return os.ReadFile(s.abs(rel))
}

// readEnvelope reads and decodes one collection file, recording checksum
// mismatches. keep puts the raw bytes of an unreadable file into Extras.
func (s *scanner) readEnvelope(rel string, keep bool) (*Envelope, error) {
	var b []byte
	var env *Envelope
	var err error
	if p := s.take(rel); p != nil && p.decode {
		b, env, err = p.b, p.env, p.envErr
		if p.err != nil {
			s.unreadable(rel, nil, p.err, false)
			return nil, p.err
		}
	} else {
		if b, err = os.ReadFile(s.abs(rel)); err != nil {
			s.unreadable(rel, nil, err, false)
			return nil, err
		}
		env, err = DecodeEnvelope(b)
	}
	if err != nil {
		s.unreadable(rel, b, err, keep)
		return nil, err
	}
	if env.ChecksumMismatch() {
		s.rep.ChecksumMismatches = append(s.rep.ChecksumMismatches, ChecksumMismatch{Path: rel, Kind: "envelope"})
	}
	s.seen(env.Timestamp)
	return env, nil
}

func (s *scanner) unreadable(rel string, b []byte, err error, keep bool) {
	s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: rel, Error: err.Error()})
	if !keep || b == nil {
		return
	}
	x := map[string]any{"path": rel, "error": err.Error()}
	if utf8.Valid(b) {
		x["text"] = string(b)
	} else {
		x["base64"] = base64.StdEncoding.EncodeToString(b)
	}
	s.ds.Extras["unreadable:"+rel] = x
}

// fileTime is a file's mtime in ms, or 0 when it is later than every
// timestamp recorded inside the directory (a copy or checkout time).
func (s *scanner) fileTime(rel string) int64 {
	mt := s.mtimes[rel]
	if s.maxTS == 0 || mt > s.maxTS+copyTimeSlack {
		return 0
	}
	return mt
}

// finish fills counts and puts report lists in a stable order.
func (s *scanner) finish() {
	for c, m := range s.ds.Collections {
		s.rep.Counts[c] = len(m)
	}
	sort.SliceStable(s.rep.WAL.Skipped, func(i, j int) bool { return s.rep.WAL.Skipped[i].Line < s.rep.WAL.Skipped[j].Line })
	seen := map[ChecksumMismatch]bool{}
	cm := s.rep.ChecksumMismatches[:0]
	for _, m := range s.rep.ChecksumMismatches {
		if !seen[m] {
			seen[m] = true
			cm = append(cm, m)
		}
	}
	s.rep.ChecksumMismatches = cm
	useen := map[Unreadable]bool{}
	un := s.rep.Unreadable[:0]
	for _, u := range s.rep.Unreadable {
		if !useen[u] {
			useen[u] = true
			un = append(un, u)
		}
	}
	s.rep.Unreadable = un
	sort.Strings(s.rep.OutsideDir)
	sort.Strings(s.rep.JunkSkipped)
}
