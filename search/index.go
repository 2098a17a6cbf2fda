package search

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// lockTimeout bounds how long Open waits for the index's lock (Bleve's
// root.bolt flock) before returning ErrBusy. A variable so tests can shorten it.
var lockTimeout = time.Second

// Index is the derived full-text index of one store. It is safe for
// concurrent use: searches run in parallel with each other and with Apply;
// Apply calls are serialised; Reset and Close wait for running calls.
type Index struct {
	dir  string
	opts Options

	applyMu sync.Mutex    // serialises Apply and Reset, so lastSeq only moves in call order
	last    atomic.Uint64 // LastApplied, mirrored from the index
	durable atomic.Uint64 // DurableApplied: the LastApplied Bleve has persisted
	// With DeferSync: batches counts the batches handed to Bleve (under
	// applyMu), persisted the newest of them Bleve has persisted.
	batches   uint64
	persisted atomic.Uint64

	mu struct {
		sync.RWMutex
		bi       bleve.Index // nil once closed
		analyzer analysis.Analyzer
		raw      analysis.Analyzer // unstemmed: prefixes and fuzzy words
	}
}

// OpenResult says what Open found.
type OpenResult struct {
	// Rebuilt is true when the index was missing, could not be opened, or
	// carried another MappingVersion, and was recreated empty. The caller
	// must then feed every document again (LastApplied is 0).
	Rebuilt bool
	// Reason says why the index was recreated; empty when Rebuilt is false.
	Reason string
	// Damaged is true when the reason is damage on disk (a segment file
	// damaged or missing, an index that opened but could not be read or
	// searched), not a new index, a new mapping or an interrupted creation.
	Damaged bool
}

// Open opens the index in dir (normally <store>/search), creating dir with
// mode 0700 if needed.
//
// Open never fails merely because the index is damaged: if the index is
// missing, cannot be opened (corrupt or truncated files, debris of a crash
// during creation) or carries another MappingVersion, Open deletes dir's
// contents, creates an empty index and reports Rebuilt with a Reason. It
// fails if opts are invalid, if dir cannot be created, if a fresh index
// cannot be created, with ErrBusy if another handle holds the index, and
// with ErrForeignFiles, touching nothing, if dir holds files that are not
// part of a search index (dir is not <store>/search).
//
// A nil opts means the defaults (see Options).
func Open(dir string, opts *Options) (*Index, OpenResult, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, OpenResult{}, err
	}
	if dir == "" {
		return nil, OpenResult{}, errors.New("cairn: open: empty directory name")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return nil, OpenResult{}, fmt.Errorf("cairn: open: %s is a file, not the search index's directory: move it away, and the index is built again from the store: %w", dir, err)
		}
		return nil, OpenResult{}, fmt.Errorf("cairn: open: %w", err)
	}

	var res OpenResult
	bi, last, reason, damaged, err := openExisting(dir, o)
	if err != nil {
		return nil, res, err
	}
	if reason != "" {
		bi, err = recreate(dir, o)
		if err != nil {
			return nil, res, fmt.Errorf("cairn: open %s: recreating index (%s): %w", dir, reason, err)
		}
		res = OpenResult{Rebuilt: true, Reason: reason, Damaged: damaged}
		last = 0
	}
	ix := &Index{dir: dir, opts: o}
	if err := ix.setLocked(bi); err != nil {
		return nil, OpenResult{}, errors.Join(err, bi.Close())
	}
	ix.last.Store(last)
	ix.durable.Store(last)
	return ix, res, nil
}

// setLocked installs bi as the open Bleve index. The caller holds mu or owns
// ix exclusively.
func (ix *Index) setLocked(bi bleve.Index) error {
	a := bi.Mapping().AnalyzerNamed(textAnalyzer)
	if a == nil {
		return fmt.Errorf("cairn: analyzer %q missing from the mapping", textAnalyzer)
	}
	raw := bi.Mapping().AnalyzerNamed(rawAnalyzer)
	if raw == nil {
		return fmt.Errorf("search: analyzer %q missing from the mapping", rawAnalyzer)
	}
	ix.mu.bi = bi
	ix.mu.analyzer = a
	ix.mu.raw = raw
	return nil
}

// openExisting opens the index in dir. A non-empty reason means the index
// must be recreated; err is only for a busy index.
func openExisting(dir string, o Options) (bi bleve.Index, last uint64, reason string, damaged bool, err error) {
	if _, err := os.Stat(filepath.Join(dir, "index_meta.json")); err != nil {
		entries, _ := os.ReadDir(dir)
		if len(entries) == 0 {
			return nil, 0, "no index", false, nil
		}
		return nil, 0, fmt.Sprintf("no index metadata (%d stray entries)", len(entries)), false, nil
	}

	root := filepath.Join(dir, "store", "root.bolt")
	if f, err := os.OpenFile(root, os.O_RDWR, 0); err == nil {
		_ = f.Close() // only a probe
	} else if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		// Not damage: recreating it would delete what another user, or a
		// writable mount, still has.
		return nil, 0, "", false, fmt.Errorf("%w: %s: %v (a store on read-only media, or another user's: the search index can be used where the store is writable)", ErrNotWritable, dir, err)
	}
	trusted, reason, damaged := verifyLive(dir)
	if reason != "" {
		return nil, 0, reason, damaged, nil
	}
	registerGuard(dir, trusted)
	func() {
		defer func() {
			if r := recover(); r != nil {
				reason = fmt.Sprintf("index unopenable: bleve panicked: %v", r)
			}
		}()
		bi, err = bleve.OpenUsing(dir, o.config())
	}()
	if reason != "" {
		return nil, 0, reason, true, nil
	}
	if err != nil {
		if strings.Contains(err.Error(), "timeout") {
			return nil, 0, "", false, fmt.Errorf("%w: %s: another process holds it (a search, or the rebuild that follows a restore or reindex); waited %v", ErrBusy, dir, o.LockTimeout)
		}
		return nil, 0, fmt.Sprintf("index unopenable: %v", err), false, nil
	}

	reason = checkOpened(dir, bi, &last)
	if reason != "" {
		if cerr := closeBounded(dir, bi); cerr != nil {
			reason += fmt.Sprintf(" (and closing it: %v)", cerr)
		}
		return nil, 0, reason, strings.HasPrefix(reason, reasonDamaged), nil
	}
	return bi, last, "", false, nil
}

// reasonDamaged begins checkOpened's reasons that are damage: an index
// that opened but cannot be read or searched.
const reasonDamaged = "index damaged: "

// checkOpened looks at an index that opened and returns a reason to recreate
// it, or "" with *last set.
func checkOpened(dir string, bi bleve.Index, last *uint64) (reason string) {
	defer func() {
		if r := recover(); r != nil {
			reason = fmt.Sprintf("%sbleve panicked: %v", reasonDamaged, r)
		}
	}()
	adv, err := bi.Advanced()
	if err != nil {
		return fmt.Sprintf("index unusable: %v", err)
	}
	if _, ok := adv.(*scorch.Scorch); !ok {
		return fmt.Sprintf("index is %T, not scorch", adv)
	}
	v, err := bi.GetInternal(keyMappingVersion)
	if err != nil {
		return fmt.Sprintf("%sunreadable: %v", reasonDamaged, err)
	}
	if v == nil {
		return "index has no mapping version (creation interrupted?)"
	}
	if string(v) != strconv.Itoa(MappingVersion) {
		return fmt.Sprintf("index has mapping version %q, want %d", v, MappingVersion)
	}
	b, err := bi.GetInternal(keyLastApplied)
	if err != nil {
		return fmt.Sprintf("%sunreadable: %v", reasonDamaged, err)
	}
	switch len(b) {
	case 0:
		*last = 0
	case 8:
		*last = binary.BigEndian.Uint64(b)
	default:
		return fmt.Sprintf("%sa malformed last-applied mark (%d bytes)", reasonDamaged, len(b))
	}
	if hint, ok := readHint(dir); ok && hint > *last {
		return fmt.Sprintf("index fell back to an older snapshot (last applied %d, acknowledged %d)", *last, hint)
	}
	if _, err := bi.DocCount(); err != nil {
		return fmt.Sprintf("%sunreadable: %v", reasonDamaged, err)
	}
	// One tiny search exercises the search path once.
	req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), 1, 0, false)
	req.Fields = []string{fieldRev}
	if _, err := bi.Search(req); err != nil {
		return fmt.Sprintf("%sunsearchable: %v", reasonDamaged, err)
	}
	return ""
}

// hintFile is a small file beside Bleve's, holding the lastSeq of the last
// acknowledged Apply in decimal. It is written after each Apply without
// fsync: a hint, not a record. When Bleve opens with a LastApplied below it,
// scorch has fallen back to an older snapshot (one of its segment files is
// missing or damaged); that state is consistent but older than what Apply
// acknowledged, so Open treats it as damage and rebuilds. A missing or
// unreadable hint is ignored; a stale hint can only cause a needless rebuild.
const hintFile = "cairn-applied"

// readHint returns the hint in dir and whether there is a usable one.
func readHint(dir string) (uint64, bool) {
	b, err := os.ReadFile(filepath.Join(dir, hintFile))
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v, err == nil
}

// writeHint records seq as the last acknowledged lastSeq.
func writeHint(dir string, seq uint64) error {
	return os.WriteFile(filepath.Join(dir, hintFile), []byte(strconv.FormatUint(seq, 10)+"\n"), 0o600)
}

// ownEntries are the only names recreate deletes at the top of dir: Bleve's
// metadata file and store directory, the hint file and the verified list.
var ownEntries = map[string]bool{"index_meta.json": true, "store": true, hintFile: true, verifiedFile: true}

// recreate deletes the index in dir and creates an empty one there. It
// refuses, with ErrForeignFiles, if dir holds anything else.
func recreate(dir string, o Options) (bleve.Index, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		if !ownEntries[e.Name()] {
			return nil, fmt.Errorf("%w: %s holds %q", ErrForeignFiles, dir, e.Name())
		}
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	// Created in the safe mode even with DeferSync: Bleve writes the
	// mapping as a batch, and a deferred one would leave an index without
	// a mapping, which no one can open, to a crash (or a CloseUnpersisted)
	// in the next half second.
	safe := o
	safe.DeferSync = false
	registerGuard(dir, nil) // every segment is this process's
	bi, err := bleve.NewUsing(dir, m, scorch.Name, scorch.Name, safe.config())
	if err != nil {
		return nil, err
	}
	// The version goes in with the first batch; an index whose creation
	// was interrupted before it was persisted has no version and is
	// recreated.
	b := bi.NewBatch()
	b.SetInternal(keyMappingVersion, []byte(strconv.Itoa(MappingVersion)))
	b.SetInternal(keyLastApplied, encodeSeq(0))
	if err := bi.Batch(b); err != nil {
		return nil, errors.Join(err, bi.Close())
	}
	if !o.DeferSync {
		return bi, nil
	}
	if err := bi.Close(); err != nil {
		return nil, err
	}
	registerGuard(dir, nil)
	return bleve.OpenUsing(dir, o.config())
}

func encodeSeq(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}

// closeGuarded closes bi, turning a panic into an error.
func closeGuarded(bi bleve.Index) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cairn: close: bleve panicked: %v: %w", r, ErrCorrupt)
		}
	}()
	return bi.Close()
}

// guard turns a panic inside Bleve into an error marked ErrCorrupt. Use as
// `defer guard("op", &err)`.
func guard(op string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("cairn: %s: bleve panicked (index damaged?): %v: %w", op, r, ErrCorrupt)
	}
}

// LastApplied returns the change-log sequence recorded by the last
// successful Apply (0 for a new or reset index), written in the same Bleve
// batch as the documents. It is durable unless Options.DeferSync, where
// DurableApplied is.
func (ix *Index) LastApplied() uint64 { return ix.last.Load() }

// DurableApplied returns the newest LastApplied that Bleve has persisted
// and fsynced: what LastApplied would be after a crash. Without
// Options.DeferSync it equals LastApplied.
func (ix *Index) DurableApplied() uint64 { return ix.durable.Load() }

// durableTimeout bounds how long Durable waits for Bleve's persister.
var durableTimeout = time.Minute

// Durable waits until everything applied so far is persisted and fsynced,
// so that DurableApplied equals LastApplied. Without Options.DeferSync it
// returns at once. It fails if the index is closed, or if Bleve could not
// persist within a minute (its persister retries failed writes).
func (ix *Index) Durable() (err error) {
	if !ix.opts.DeferSync {
		return nil
	}
	ix.applyMu.Lock()
	defer ix.applyMu.Unlock()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	bi := ix.mu.bi
	if bi == nil {
		return ErrClosed
	}
	return ix.durableLocked(bi)
}

// durableLocked is Durable for a caller holding applyMu and mu. It puts
// one more batch in, re-recording LastApplied, and waits for Bleve to
// persist it: the persister writes snapshots in order, so everything
// before it is then on disk too.
func (ix *Index) durableLocked(bi bleve.Index) (err error) {
	defer guard("durable", &err)
	if ix.persisted.Load() == ix.batches {
		return nil
	}
	seq := ix.last.Load()
	done := make(chan error, 1)
	b := bi.NewBatch()
	b.SetInternal(keyLastApplied, encodeSeq(seq))
	ix.onPersisted(b, seq, done)
	if err := bi.Batch(b); err != nil {
		return fmt.Errorf("cairn: search durable: %w", err)
	}
	t := time.NewTimer(durableTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("cairn: search durable: Bleve did not persist %s within %v", ix.dir, durableTimeout)
	}
}

// onPersisted arranges for DurableApplied to become seq, and the hint to
// record it, once Bleve has persisted b; done, if not nil, is told then.
// Bleve calls persisted callbacks in the order of their batches.
// The caller holds applyMu.
func (ix *Index) onPersisted(b *bleve.Batch, seq uint64, done chan<- error) {
	ix.batches++
	n := ix.batches
	b.SetPersistedCallback(func(err error) {
		if err == nil {
			ix.persisted.Store(n)
			ix.durable.Store(seq)
			if herr := writeHint(ix.dir, seq); herr != nil {
				err = fmt.Errorf("cairn: search persisted, but recording the hint failed: %w", herr)
			}
		}
		if done != nil {
			done <- err
		}
	})
}

// Dir returns the directory of the index.
func (ix *Index) Dir() string { return ix.dir }

// Count returns the number of indexed documents.
func (ix *Index) Count() (n uint64, err error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.mu.bi == nil {
		return 0, ErrClosed
	}
	defer guard("count", &err)
	n, err = ix.mu.bi.DocCount()
	if err != nil {
		return 0, fmt.Errorf("cairn: count: %w", err)
	}
	return n, nil
}

// Reset deletes every document and the last-applied mark: the index is
// recreated empty and LastApplied returns 0. It waits for running calls.
// If closing the old index fails, Reset still recreates it, and returns the
// close error with a usable index. If recreating fails, the Index is closed.
func (ix *Index) Reset() error {
	ix.applyMu.Lock()
	defer ix.applyMu.Unlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.mu.bi == nil {
		return ErrClosed
	}
	closeErr := closeBounded(ix.dir, ix.mu.bi)
	if errors.Is(closeErr, errCloseStuck) {
		// Abandoned: recreate wipes what it left, which is what Reset is for.
		closeErr = nil
	}
	ix.mu.bi = nil
	bi, err := recreate(ix.dir, ix.opts)
	if err != nil {
		return fmt.Errorf("cairn: reset %s: %w", ix.dir, errors.Join(err, closeErr))
	}
	if err := ix.setLocked(bi); err != nil {
		ix.mu.bi = nil
		return errors.Join(err, bi.Close(), closeErr)
	}
	ix.last.Store(0)
	ix.durable.Store(0)
	if closeErr != nil {
		return fmt.Errorf("cairn: reset %s: closing old index: %w", ix.dir, closeErr)
	}
	return nil
}

// CloseUnpersisted closes the index without waiting for Bleve to persist
// the batches applied with Options.DeferSync: they are dropped, and the
// next Open's LastApplied is DurableApplied, as after a crash. Use it when
// the changes can be fed again, as Close's faster alternative; without
// DeferSync it is Close.
func (ix *Index) CloseUnpersisted() error {
	if !ix.opts.DeferSync {
		return ix.Close()
	}
	ix.applyMu.Lock()
	defer ix.applyMu.Unlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.mu.bi == nil {
		return nil
	}
	err := closeBounded(ix.dir, ix.mu.bi)
	ix.mu.bi = nil
	if err != nil {
		return fmt.Errorf("cairn: close %s: %w", ix.dir, err)
	}
	return nil
}

// Close closes the index, waiting for running calls. Every applied batch is
// durable when it returns nil (with Options.DeferSync, Close waits for
// Bleve to persist first). Closing twice returns nil.
func (ix *Index) Close() error {
	ix.applyMu.Lock()
	defer ix.applyMu.Unlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.mu.bi == nil {
		return nil
	}
	var derr error
	if ix.opts.DeferSync {
		derr = ix.durableLocked(ix.mu.bi)
	}
	err := closeBounded(ix.dir, ix.mu.bi)
	ix.mu.bi = nil
	if err = errors.Join(derr, err); err != nil {
		return fmt.Errorf("cairn: close %s: %w", ix.dir, err)
	}
	return nil
}
