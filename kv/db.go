package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/search"
	"github.com/cairnkv/cairn/secondary"
	"github.com/cairnkv/cairn/snapshot"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DataFile is the name of the bbolt file inside a store directory.
const DataFile = "data.db"

// DB is an open store. It is safe for concurrent use by many goroutines;
// a Tx is not. Close it when done: it releases the file lock.
//
// Writes from concurrent goroutines are grouped into shared bbolt
// transactions (group commit): each call returns only after the
// transaction holding its change is durably committed.
type DB struct {
	dir  string
	opts *Options
	log  *slog.Logger // Options.Logger with the store's directory
	bolt *bolt.DB
	lock *storeLock // held from Open to Close, across every swap of data.db
	// scratch is a directory Close removes: the salvaged copy OpenSalvage
	// opened instead of the store ("" for a store).
	scratch string

	schemaPtr atomic.Pointer[schema.Schema] // the collections' declarations, with the store's declared indexes

	commit committer
	cache  *docCache // nil when disabled
	// metaDamagedAtOpen: a meta page of data.db was damaged (beyond a
	// one-byte repair) when the store was opened.
	metaDamagedAtOpen bool
	blobs             blobs
	idx               struct {
		sync.Mutex
		x       *search.Feeder // nil until started, and with Options.NoSearch
		stopped bool           // Close has stopped it for good
		// left, while ReindexSearch runs (nil otherwise), collects the
		// documents the indexer left out because they cannot be read.
		left map[docRef]error
		// leftColls, likewise, the collections left out whole because
		// their pages are damaged, with the first problem of each.
		leftColls map[string]string
		// rootDamage is why checkSearchRoot removed a damaged index,
		// until Check reports it (takeSearchRootDamage).
		rootDamage string
	}

	mu struct {
		sync.RWMutex
		closed bool
	}

	prefetch struct {
		sync.Mutex
		running map[*Prefetching]struct{}
	}

	// feed wakes Changes and Watch readers: ch is closed and replaced
	// after every commit that changed documents, and at Close.
	feed struct {
		sync.Mutex
		ch chan struct{}
	}

	backups struct {
		sync.Mutex
		status BackupStatus
		stop   chan struct{}
		done   chan struct{}
	}
}

// Open opens the store in dir, creating it (directory 0700, data.db 0600)
// unless opts.ReadOnly is set. Another process holding the store makes Open
// fail with ErrLocked after opts.Timeout, naming that process when it can.
func Open(dir string, opts *Options) (*DB, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, errors.New("cairn: empty store directory")
	}
	path := filepath.Join(dir, DataFile)
	if o.ReadOnly || o.MustExist {
		if err := checkStoreFile(dir, path); err != nil {
			return nil, err
		}
	} else {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("cairn: create store directory: %w", err)
		}
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("cairn: %s is a symbolic link; refusing to follow it", path)
		} else if err == nil && !fi.Mode().IsRegular() {
			// A FIFO would block the open for ever; a directory or a
			// device is no data file either.
			return nil, fmt.Errorf("%w in %s (%s is not a regular file)", ErrNoStore, dir, DataFile)
		}
	}
	start := time.Now()
	lock, err := acquireStoreLock(dir, !o.ReadOnly, o.Timeout)
	if err != nil {
		return nil, err
	}
	// A meta page damaged beyond repair at open: the commit it held may
	// be what refers to blobs that look unreferenced (GC keeps them),
	// although this open's first commit rewrites the page.
	metaLines, _ := snapshot.DamagedMeta(path)
	bdb, err := openBolt(path, o, o.Timeout-time.Since(start))
	if err != nil {
		_ = lock.release() // the open error is the one to report
		return nil, err
	}
	if !o.ReadOnly {
		kept, err := keepDamagedMeta(path, o.Now())
		if err != nil {
			_ = bdb.Close()              // the copy's error is the one to report
			_ = buckets.UngatePages(bdb) // likewise
			_ = lock.release()           // likewise
			return nil, err
		}
		if kept != "" {
			o.Logger.Warn("a meta page of data.db is damaged beyond repair: the commit it may have held is not read, and the next write overwrites the page; the file as it was is kept aside, for export --salvage to read what it can", "file", path, "kept", kept)
		}
	}
	if opts != nil && opts.Logger != nil {
		search.SetLogger(opts.Logger)
	}
	db := &DB{dir: dir, opts: o, bolt: bdb, lock: lock, log: o.Logger.With("store", dir), metaDamagedAtOpen: len(metaLines) > 0}
	if o.CacheBytes > 0 {
		db.cache = newDocCache(o.CacheBytes)
	}
	db.commit.db = db
	if err := db.init(); err != nil {
		_ = bdb.Close()              // the init error is the one to report
		_ = buckets.UngatePages(bdb) // likewise
		_ = lock.release()           // likewise
		return nil, err
	}
	if len(o.Indexes) > 0 && !o.ReadOnly {
		if err := db.declareIndexes(o.Indexes); err != nil {
			return nil, errors.Join(err, db.Close())
		}
	}
	if o.EagerSearch {
		db.searchIndexer()
	}
	if !o.ReadOnly {
		cleanDebris(db.Path())
		// A killed backup's copy is as large as the store: not left to
		// pile up until the next backup's rotation.
		_, _ = snapshot.RemoveDebris(db.backupsDir())
		if !o.NoAutoBackup {
			_ = db.autoBackup(ReasonStartup) // reported to OnBackupError and BackupStatus
			if o.BackupInterval > 0 {
				db.startBackupSchedule()
			}
		}
	}
	return db, nil
}

// missingBesideBackups returns ErrCorrupt when the data file at path,
// which does not exist, has backups beside it: the store lost it. A new
// empty file there would pass check, and the new store's backups would
// rotate out the old ones.
func missingBesideBackups(path string) error {
	ms, err := snapshot.List(filepath.Join(filepath.Dir(path), BackupsDir))
	if err != nil || len(ms) == 0 {
		return nil
	}
	return &missingDataError{fmt.Sprintf("%s is missing, beside %d backup(s) of this store: restore one (kvtool backup list; kvtool backup restore NAME --yes), or move %s away to start a new store here", path, len(ms), BackupsDir)}
}

// restoreAdvice is the way back from damage to the data file at path: a
// verified backup when the store has one, else a salvage of what still
// reads into a new store.
func restoreAdvice(path string) string {
	ms, err := snapshot.List(filepath.Join(filepath.Dir(path), BackupsDir))
	if err == nil {
		for _, m := range ms {
			if m.Verified {
				return "restore a verified backup (kvtool backup list; kvtool backup restore NAME --yes)"
			}
		}
	}
	return "this store has no verified backup: write what still reads with kvtool export --salvage -o FILE, then kvtool import FILE into a new store"
}

// missingDataError is missingBesideBackups' error: damage (ErrCorrupt)
// that the offline commands on backups (ListBackups, VerifyBackupIn,
// RestoreDamaged) go past.
type missingDataError struct{ msg string }

func (e *missingDataError) Error() string { return ErrCorrupt.Error() + ": " + e.msg }
func (e *missingDataError) Unwrap() error { return ErrCorrupt }

// interruptedCreation reports whether the data file at path is empty and
// its store has no backup: what a creating open killed before bbolt wrote
// the file's first pages leaves. Such a store never held anything, so it
// is created again rather than refused as damaged.
func interruptedCreation(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil || fi.Size() != 0 || !fi.Mode().IsRegular() {
		return false
	}
	ms, err := snapshot.List(filepath.Join(filepath.Dir(path), BackupsDir))
	return errors.Is(err, os.ErrNotExist) || (err == nil && len(ms) == 0)
}

func checkStoreFile(dir, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := missingBesideBackups(path); err != nil {
			return err
		}
		return fmt.Errorf("%w in %s (no %s)", ErrNoStore, dir, DataFile)
	}
	if err == nil && interruptedCreation(path) {
		return fmt.Errorf("%w in %s (%s is empty: its creation was interrupted before anything was written)", ErrNoStore, dir, DataFile)
	}
	if err != nil {
		return fmt.Errorf("cairn: %w", err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("cairn: %s is a symbolic link; refusing to follow it", path)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w in %s (%s is not a regular file)", ErrNoStore, dir, DataFile)
	}
	return nil
}

var formatKey = []byte("format")

// init readies the store (initStore) and loads its schema.
func (db *DB) init() error {
	if err := db.initStore(); err != nil {
		return err
	}
	return db.bolt.View(func(tx *bolt.Tx) error {
		return guard(func() error {
			s, err := readSchema(tx)
			if err == nil {
				db.schemaPtr.Store(s)
			}
			return err
		})
	})
}

// initStore checks the format version and, for a writable store, records
// it and brings the declared secondary indexes up to date.
func (db *DB) initStore() error {
	check := func(tx *bolt.Tx) error {
		b := buckets.Lookup(tx, buckets.SysBucket)
		if b == nil {
			return nil
		}
		v := b.Get(formatKey)
		if v == nil {
			return nil
		}
		if len(v) != 1 {
			return &buckets.CorruptError{Bucket: string(buckets.SysBucket), Key: "format", Detail: "bad format version"}
		}
		if int(v[0]) > buckets.FormatVersion {
			return fmt.Errorf("%w: store format %d, this Cairn reads up to %d; upgrade Cairn", ErrNewerFormat, v[0], buckets.FormatVersion)
		}
		return nil
	}
	// The pages read here are walked from the file first: on a damaged
	// page graph a cursor can loop forever (checkPages). Every other
	// bucket is walked for a cycle the first time the process reads it
	// (openBolt's page gate, checkCycles).
	if db.opts.ReadOnly {
		return db.bolt.View(func(tx *bolt.Tx) error {
			return guard(func() error {
				if err := checkPages(tx, buckets.SysBucket); err != nil {
					return err
				}
				return check(tx)
			})
		})
	}
	// Write only when something must change, so that opening a store and
	// doing nothing (or a refused write) leaves data.db byte for byte.
	needed := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return guard(func() error {
			if err := checkPages(tx, buckets.SysBucket); err != nil {
				return err
			}
			if err := needSync(tx, check, &needed); err != nil || !needed {
				return err
			}
			return checkPages(tx) // the writes may touch any bucket
		})
	})
	if err != nil || !needed {
		return err
	}
	// Guarded as a whole: bbolt's commit reads the pages it rebalances.
	return guard(func() error {
		return db.bolt.Update(func(tx *bolt.Tx) error { return db.initLocked(tx, check) })
	})
}

// needSync reports whether opening for writing must change anything.
func needSync(tx *bolt.Tx, check func(*bolt.Tx) error, needed *bool) error {
	if err := check(tx); err != nil {
		return err
	}
	if b := buckets.Lookup(tx, buckets.SysBucket); b == nil || !bytes.Equal(b.Get(formatKey), []byte{buckets.FormatVersion}) {
		*needed = true // a new store, or one of an older version to mark
		return nil
	}
	s, err := readSchema(tx)
	if err != nil {
		return err
	}
	*needed, err = secondary.SyncNeeded(tx, s)
	return err
}

// initLocked records the format version (marking a store of an older
// version, which this Cairn reads as it is, with the version it writes)
// and brings the declared secondary indexes up to date, in the open's
// write transaction.
func (db *DB) initLocked(tx *bolt.Tx, check func(*bolt.Tx) error) error {
	if err := check(tx); err != nil {
		return err
	}
	b, err := buckets.Ensure(tx, buckets.SysBucket)
	if err != nil {
		return err
	}
	if v := b.Get(formatKey); !bytes.Equal(v, []byte{buckets.FormatVersion}) {
		if err := b.Put(formatKey, []byte{buckets.FormatVersion}); err != nil {
			return err
		}
	}
	var progress func(coll, index string, done, total int)
	if db.opts.Progress != nil {
		progress = func(coll, index string, done, total int) {
			db.opts.Progress("backfill "+coll+"/"+index, done, total)
		}
	}
	s, err := readSchema(tx)
	if err != nil {
		return err
	}
	_, err = secondary.Sync(tx, s, progress)
	return err
}

// Dir returns the store directory.
func (db *DB) Dir() string { return db.dir }

// Path returns the path of the bbolt file.
func (db *DB) Path() string { return filepath.Join(db.dir, DataFile) }

// ReadOnly reports whether the store was opened read-only.
func (db *DB) ReadOnly() bool { return db.opts.ReadOnly }

// WriterWaiting reports whether, since this read-only DB was opened,
// another process has waited for the store to write to it: the store
// lock a read-only DB holds keeps writers out until Close. A reader that
// holds the store for long (a search waiting for the index to be rebuilt
// after a restore, say) can close it and open it again, and the writer
// goes first. It is always false for a writable DB, and where the
// platform has no store lock.
func (db *DB) WriterWaiting() bool {
	if err := db.enter(); err != nil {
		return false
	}
	defer db.leave()
	return db.lock.wanted()
}

// Close waits for writes in flight, then closes the store and releases its
// lock. Calls after the first return nil.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.mu.closed {
		db.mu.Unlock()
		return nil
	}
	db.mu.Unlock()
	var errs []error
	db.stopBackupSchedule()
	if !db.opts.NoAutoBackup && !db.opts.ReadOnly {
		errs = append(errs, db.autoBackup(ReasonShutdown))
	}
	db.stopPrefetches()
	db.mu.Lock()
	db.mu.closed = true
	db.mu.Unlock()
	db.wakeFeed() // Changes and Watch readers end with ErrClosed
	errs = append(errs, db.stopIndexer(false))
	db.commit.drain()
	db.blobs.async.Wait()
	if db.bolt != nil { // nil when a swap failed to reopen the file
		errs = append(errs, db.bolt.Close(), buckets.UngatePages(db.bolt))
	}
	errs = append(errs, db.lock.release())
	if db.scratch != "" {
		errs = append(errs, os.RemoveAll(db.scratch))
	}
	return errors.Join(errs...)
}

// enter guards an operation against a concurrent Close.
func (db *DB) enter() error {
	db.mu.RLock()
	if db.mu.closed {
		db.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (db *DB) leave() { db.mu.RUnlock() }

// openBolt opens data.db once the store lock is held: it checks the meta
// pages first (a damaged file is ErrCorrupt, not a crash inside bbolt),
// then opens it, waiting at most wait for bbolt's own lock (held only by a
// process that does not take the store lock). A data.db that does not
// exist is a new store, and so is an empty one beside no backup: a
// creating open killed before bbolt wrote its first four pages leaves
// that (see interruptedCreation). Any other existing file that is empty
// or shorter was truncated or emptied since, and is refused as damaged
// (bbolt would take an empty one for a new store, and the first write
// would silently start an empty store beside the backups).
func openBolt(path string, o *Options, wait time.Duration) (*bolt.DB, error) {
	_, statErr := os.Lstat(path)
	if errors.Is(statErr, fs.ErrNotExist) {
		if err := missingBesideBackups(path); err != nil {
			return nil, err
		}
	}
	if statErr == nil && !interruptedCreation(path) {
		if err := snapshot.CheckMeta(path); err != nil {
			return nil, fmt.Errorf("%w: %s: %v; %s", ErrCorrupt, path, err, restoreAdvice(path))
		}
		if err := repairMeta(path, o); err != nil {
			return nil, err
		}
	}
	bo := boltOptions(o)
	bo.Timeout = max(wait, 100*time.Millisecond)
	// The files bbolt opens, to unlock and close them if Open fails: a
	// panic inside bolt.Open (a damaged freelist page read at open) skips
	// bbolt's own cleanup and would leave the file locked (its memory map,
	// which cannot be undone from here, keeps the open file description
	// and so its flock alive even once the file is closed), so that every
	// later open in this process (a restore's, after it set the damaged
	// file aside) waits for "another DB" of this process. Unlocking and
	// closing a file bbolt already closed is harmless.
	var files []*os.File
	bo.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		if err == nil {
			files = append(files, f)
		}
		return f, err
	}
	var bdb *bolt.DB
	err := guard(func() error {
		var err error
		bdb, err = bolt.Open(path, 0o600, bo)
		return err
	})
	if err != nil {
		for _, f := range files {
			_ = unlock(f) // best effort: the open error is the one to report
			_ = f.Close() // not written: bbolt failed before any write
		}
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s%s (waited %v)", ErrLocked, path, lockHolder(path), o.Timeout)
		}
		return nil, fmt.Errorf("cairn: open %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil {
		bdb.AllocSize = allocSize(fi.Size())
	}
	if o.ReadOnly {
		loadFreelist(bdb)
	}
	gatePages(bdb)
	return bdb, nil
}

// repairMeta repairs, before bbolt reads it, a meta page one byte away
// from the sound page of the newest commit (snapshot.FindMetaFix): bbolt
// would read the commit before, and its next commit would overwrite the
// page, losing the newest commit's writes for good. The store lock is
// held, so no commit is writing a meta page. A read-only open writes
// nothing: it refuses the store, rather than serve the older commit as
// if it were the newest, and says that a writable open repairs it.
func repairMeta(path string, o *Options) error {
	readOnly, log := o.ReadOnly, o.Logger
	fix, err := snapshot.FindMetaFix(path)
	if err != nil {
		return nil // bbolt's open reports what cannot be read
	}
	if fix == nil {
		return rebuildMeta(path, o)
	}
	if readOnly {
		return fmt.Errorf("%w: %s: %s; one byte of it differs from a sound page, which a writable open restores: kvtool --db %s backup create repairs it, then backs the store up", ErrCorrupt, path, fix, shellQuote(filepath.Dir(path)))
	}
	if err := snapshot.ApplyMetaFix(path, fix); err != nil {
		return fmt.Errorf("%w: %s: %s; repairing it: %v", ErrCorrupt, path, fix, err)
	}
	// Not silent: the file changed under its owner.
	log.Warn("repaired a damaged meta page", "file", path, "what", fix.String())
	return nil
}

// rebuildMeta gives back the newest commit of a file whose newest meta
// page is damaged beyond a one-byte repair but still names its root page,
// page count and transaction (snapshot.FindMetaRebuild: a bit flip in its
// checksum or freelist id, or a page torn by a crash once the rest of the
// commit was on disk). A writable open keeps a copy of the file as it
// is (keepDamagedMeta), checks a second copy with the page rebuilt
// (bbolt's structure, every value's checksum), and only then writes the
// page into data.db. A read-only open writes nothing and refuses the
// store, as for a one-byte repair. A damaged page with nothing to
// rebuild it from (its root page id lost) leaves the commit before it
// served: a writable open keeps the copy and warns (Open), a read-only
// one warns here, so that no command answers from the older commit
// silently.
func rebuildMeta(path string, o *Options) error {
	rb, err := snapshot.FindMetaRebuild(path)
	if err != nil {
		return nil // bbolt's open reports what cannot be read
	}
	if rb == nil {
		if lines, _ := snapshot.DamagedMeta(path); len(lines) > 0 && o.ReadOnly {
			o.Logger.Warn("a meta page of data.db is damaged beyond repair: what this command reads is the store as of the commit before it (kvtool check names it; export --salvage of the file may read more)", "file", path, "problem", lines[0])
		}
		return nil
	}
	dir := shellQuote(filepath.Dir(path))
	if o.ReadOnly {
		return fmt.Errorf("%w: %s: %s; a writable open rebuilds the page from what of it reads once the file checks with it: kvtool --db %s backup create does, then backs the store up", ErrCorrupt, path, rb, dir)
	}
	if _, err := keepDamagedMeta(path, o.Now()); err != nil {
		return err
	}
	check := path + metaCheckSuffix
	defer func() { _ = os.Remove(check) }() // a scratch copy
	err = snapshot.CopyFile(context.Background(), path, check)
	if err == nil {
		err = snapshot.WriteMetaRebuild(check, rb)
	}
	if err == nil {
		err = guard(func() error { return checkRebuilt(check) })
	}
	if err != nil {
		// Not the newest commit after all, or damaged elsewhere too: the
		// commit before is served, as bbolt would; Open keeps the file.
		o.Logger.Warn("a damaged meta page names a newer commit that does not check; the commit before it is read", "file", path, "what", rb.String(), "check", err)
		return nil
	}
	if err := snapshot.WriteMetaRebuild(path, rb); err != nil {
		return fmt.Errorf("%w: %s: %s; rebuilding it: %v", ErrCorrupt, path, rb, err)
	}
	o.Logger.Warn("rebuilt a damaged meta page: the newest commit is read again", "file", path, "what", rb.String())
	return nil
}

// checkRebuilt checks the bbolt file at path, a copy with a rebuilt meta
// page: its pages walked from the file first (snapshot.CheckPages: a root
// that is not the newest commit's may lead anywhere, even round a cycle
// bbolt's own Check would recurse in for ever), then bbolt's structure
// check and every value decoded.
func checkRebuilt(path string) error {
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer func() { _ = bdb.Close() }() // read-only
	return bdb.View(func(tx *bolt.Tx) error {
		if pp, err := snapshot.CheckPages(tx); err != nil || len(pp) > 0 {
			return errors.Join(err, fmt.Errorf("%d page problem(s): %v", len(pp), pp))
		}
		_, err := checkTx(tx, buckets.VerifyTx, nil)
		return err
	})
}

// metaCheckSuffix names the scratch copy rebuildMeta checks.
const metaCheckSuffix = ".metacheck"

// loadFreelist makes a read-only bbolt handle read its freelist now.
// bbolt reads it lazily in read-only mode, on the first Tx.Check, and
// that first load races with every read transaction ending at the same
// time (bbolt's removeTx reads the field the load writes). Loading it
// before the handle is shared removes the race. A check of page 1 is
// refused at once, after the load: the cheapest way to call it.
// Whatever the load finds is reported by Check itself later.
func loadFreelist(bdb *bolt.DB) {
	_ = guard(func() error {
		return bdb.View(func(tx *bolt.Tx) error {
			for range tx.Check(bolt.WithPageId(1)) {
			}
			return nil
		})
	})
}

// allocSize is the step bbolt grows a file of size bytes by: 1/64 of it,
// between 1 and 16 MiB. bbolt's default, 16 MiB, is most of a small
// store's file (a 2 MiB store grows to 18 MiB on its first large write);
// growing a large file in steps of 1/64 keeps it from being remapped often.
func allocSize(size int64) int {
	const lo, hi = 1 << 20, 16 << 20
	return int(min(max(size/64, lo), hi))
}

// boltOptions are the bbolt options of a store opened with o.
func boltOptions(o *Options) *bolt.Options {
	return &bolt.Options{
		Timeout:  o.Timeout,
		ReadOnly: o.ReadOnly,
		// The array freelist, bbolt's default: the hashmap one sorts every
		// free page id on each commit to write the freelist page, and
		// rebuilds its maps at open. On a 100k-session store as loaded
		// (4,498 free pages) it cost 0.82-0.92 CPU ms per single-note
		// commit against 0.41-0.42, and 4.4-6.2 ms at open against
		// 2.1-2.9 (bench/README.md, "The array freelist"). A staged bulk
		// change, whose transactions allocate thousands of pages, keeps
		// the hashmap (stage.go).
		FreelistType: bolt.FreelistArrayType,
		// A large initial map: bbolt must wait for every read transaction
		// (a backup's, for instance) to end before it can grow the map, so
		// growing it rarely keeps writers from stalling behind backups.
		// Only address space: the file does not grow with it.
		InitialMmapSize: initialMmap,
	}
}
