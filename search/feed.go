package search

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// FeederOptions configure a Feeder. A zero field means the documented
// default.
type FeederOptions struct {
	// Dir is the index directory (normally <store>/search). Required.
	Dir string

	// Logger receives the Feeder's rebuilds (Info) and failed catch-ups
	// (Warn). Default: discard.
	Logger *slog.Logger

	// Progress, if set, is told how far a rebuild got ("search rebuild",
	// documents done, documents in all).
	Progress func(stage string, done, total int)

	// NoTrim keeps the Feeder from ever calling Source.Trim (a read-only
	// store).
	NoTrim bool

	// CoalesceWait is how long the Feeder lets commits pile up after the
	// first one it has not applied, unless CoalesceMax entries are pending
	// or someone waits for the index (Wait, Close). Default 50 ms;
	// negative: apply at once.
	CoalesceWait time.Duration

	// CoalesceMax is how many pending change-log entries end the
	// coalescing wait early. Default 1000.
	CoalesceMax uint64

	// TrimEvery is the shortest time between two trims of the change log.
	// Default one minute.
	TrimEvery time.Duration

	// LockTimeout is how long opening the index waits for another
	// process that holds it (Options.LockTimeout).
	LockTimeout time.Duration
}

// withDefaults returns o with its zero fields filled.
func (o FeederOptions) withDefaults() FeederOptions {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.CoalesceWait == 0 {
		o.CoalesceWait = 50 * time.Millisecond
	}
	if o.CoalesceMax == 0 {
		o.CoalesceMax = 1000
	}
	if o.TrimEvery == 0 {
		o.TrimEvery = time.Minute
	}
	return o
}

// batchDocs is how many documents a catch-up or rebuild step reads from
// the Source and applies at once.
const batchDocs = 500

// A Feeder keeps an Index equal to a Source. It runs in its own
// goroutine: it opens the index (rebuilding it from the Source if it is
// missing, damaged, of another mapping version, or out of reach of the
// change log), catches up, then applies the changes of the commits that
// follow (Notify), coalesced into large batches (FeederOptions.CoalesceWait,
// CoalesceMax); a commit never waits for it. It records the last applied
// sequence inside the index, in the same Bleve batch as the documents, so
// it can never silently drift.
//
// The index is opened with Options.DeferSync: Bleve persists in the
// background, and a crash may lose the last batches it had not persisted.
// The change log is the durable record: the Feeder trims it only up to what
// the index has made durable (Index.DurableApplied), and catch-up at the
// next start re-applies the rest.
//
// A Feeder is safe for concurrent use.
type Feeder struct {
	src  Source
	opts FeederOptions

	mu struct {
		sync.Mutex
		ix       *Index
		ready    bool   // opened and caught up once
		target   uint64 // newest committed sequence known
		applied  uint64 // LastApplied
		err      error  // last failure (retried on the next commit)
		closing  bool
		rebuilt  string // why the index was rebuilt at open, if it was
		damage   string // the damage it was rebuilt for (at open, or found by the merge guard), until TakeDamage
		lastTrim time.Time
		retrim   bool // a trim waits for Bleve's persister: run the loop once more
		retrimAt bool // a retrim is scheduled
		waiters  int  // goroutines in Wait: applying now beats coalescing
	}
	cond *sync.Cond
	done chan struct{}
	// work serialises catch-up and rebuilds, which both feed the index
	// and read the Source.
	work sync.Mutex
}

// StartFeeder starts a Feeder of the index in opts.Dir from src: it opens
// (and if need be rebuilds) the index in the background. Wait tells when
// it is ready; Close stops it.
func StartFeeder(src Source, opts FeederOptions) *Feeder {
	f := &Feeder{src: src, opts: opts.withDefaults(), done: make(chan struct{})}
	f.cond = sync.NewCond(&f.mu.Mutex)
	go f.run()
	return f
}

func (f *Feeder) run() {
	defer close(f.done)
	f.work.Lock()
	ix, err := f.open()
	f.work.Unlock()
	f.mu.Lock()
	f.mu.ix = ix
	f.mu.err = err
	f.mu.Unlock()
	if err != nil {
		f.mu.Lock()
		f.mu.ready = true
		f.cond.Broadcast()
		f.mu.Unlock()
		return
	}
	for {
		f.mu.Lock()
		for f.mu.ready && f.mu.applied >= f.mu.target && !f.mu.closing && !f.mu.retrim {
			f.cond.Wait()
		}
		f.mu.retrim = false
		f.coalesceLocked()
		closing := f.mu.closing
		tried := f.mu.target // a commit notified after this one is retried
		f.mu.Unlock()
		f.work.Lock()
		err := f.catchUp(ix, !closing) // a trim would wait for Bleve's persister
		f.work.Unlock()
		if err != nil {
			f.opts.Logger.Warn("search index catch-up failed; retried after the next commit", "err", err)
		}
		f.mu.Lock()
		f.mu.err = err
		f.mu.ready = true
		f.cond.Broadcast()
		stuck := err != nil
		f.mu.Unlock()
		if closing {
			return
		}
		if stuck && afterFailedAttempt != nil {
			afterFailedAttempt()
		}
		if stuck {
			// Wait for the next commit before trying again: one notified
			// since the attempt began counts (it may have come while the
			// attempt was failing, and no other would wake the retry).
			f.mu.Lock()
			for f.mu.target == tried && !f.mu.closing {
				f.cond.Wait()
			}
			f.mu.Unlock()
		}
	}
}

// afterFailedAttempt, when set (tests), runs after a failed catch-up is
// published and before the Feeder waits for the next commit.
var afterFailedAttempt func()

// coalesceLocked lets commits pile up before the Feeder applies them: it
// returns after CoalesceWait, once CoalesceMax entries are pending, or as
// soon as someone waits for the index or Close is called. The caller holds
// f.mu.
func (f *Feeder) coalesceLocked() {
	if !f.mu.ready || !f.coalescingLocked() {
		return
	}
	expired := false
	t := time.AfterFunc(f.opts.CoalesceWait, func() {
		f.mu.Lock()
		expired = true
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer t.Stop()
	for !expired && f.coalescingLocked() && f.mu.target-f.mu.applied < f.opts.CoalesceMax {
		f.cond.Wait()
	}
}

// coalescingLocked reports whether commits may pile up before they are
// applied: not once Close is called, nor while someone waits for the
// index. The caller holds f.mu.
func (f *Feeder) coalescingLocked() bool {
	return !f.mu.closing && f.mu.waiters == 0 && f.opts.CoalesceWait > 0
}

// errInterrupted ends a rebuild that Close interrupted; its progress is
// kept in the index and the next start resumes it.
var errInterrupted = errors.New("cairn: search rebuild interrupted by Close")

// closing reports whether Close has asked the Feeder to stop.
func (f *Feeder) closing() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.closing
}

// open opens the index and decides whether the change log can bring it up
// to date; if not, it rebuilds it from the Source, or resumes the rebuild
// an earlier start left unfinished. A rebuild stops at the next batch when
// Close is called (the store is served meanwhile; searches wait), so that
// a restore, or any command after it, does not have to wait for the whole
// index: whoever opens the store next goes on from where it stopped.
func (f *Feeder) open() (*Index, error) {
	ix, res, err := Open(f.opts.Dir, &Options{DeferSync: true, LockTimeout: f.opts.LockTimeout})
	if err != nil {
		return nil, err
	}
	first, seq, err := f.src.LogBounds()
	if err != nil {
		return nil, errors.Join(err, ix.Close())
	}
	last := ix.LastApplied()
	raw, err := ix.RebuildCursor()
	if err != nil {
		return nil, errors.Join(err, ix.Close())
	}
	var colls []SourceCollection
	if raw != nil {
		// Only an interrupted rebuild needs them (Collections reads the
		// store's page graph): an index that is up to date starts at once.
		if colls, err = f.src.Collections(); err != nil {
			return nil, errors.Join(err, ix.Close())
		}
	}
	cur, resumable := parseRebuildCursor(raw, colls)
	// A rebuild resumes only while the change log still holds everything
	// committed since it started, which catch-up applies after it.
	resumable = resumable && !res.Rebuilt && last == 0 && cur.seq <= seq && (first == 0 || first <= cur.seq+1 || seq == cur.seq)
	reason := res.Reason
	switch {
	case resumable:
		reason = "resuming an interrupted rebuild"
	case res.Rebuilt:
	case raw != nil:
		reason = "an interrupted rebuild cannot be resumed"
	case last > seq:
		reason = fmt.Sprintf("index is ahead of the store (applied %d, store at %d)", last, seq)
	case last < seq && (first == 0 || first > last+1):
		reason = fmt.Sprintf("index is behind the retained change log (applied %d, log starts at %d)", last, first)
	}
	if reason != "" {
		if res.Damaged {
			f.opts.Logger.Warn("search index damaged on disk; rebuilt from the store", "reason", reason)
		} else {
			f.opts.Logger.Info("search index rebuild", "reason", reason)
		}
		if resumable {
			err = f.rebuild(ix, cur)
		} else {
			err = f.rebuildFresh(ix)
		}
		if err != nil {
			// Close waits for Bleve to persist the rebuild's progress,
			// which the next start resumes from.
			if errors.Is(err, errInterrupted) {
				return nil, errors.Join(err, ix.Close())
			}
			return nil, errors.Join(fmt.Errorf("cairn: rebuild search index (%s): %w", reason, err), ix.Close())
		}
	}
	f.mu.Lock()
	f.mu.rebuilt = reason
	if res.Damaged {
		f.mu.damage = res.Reason
	}
	f.mu.applied = ix.LastApplied()
	if seq > f.mu.target {
		f.mu.target = seq
	}
	f.mu.Unlock()
	return ix, nil
}

// rebuildCursor is a rebuild's position, kept in the index with every
// batch (Index.ApplyRebuild): the change-log sequence it started at
// (catch-up applies what came after), how many documents it has indexed,
// and the last id indexed in collection coll (collections go in the
// Source's Collections order).
type rebuildCursor struct {
	seq, done uint64
	coll      string
	after     string
}

// encode lays the cursor out as seq and done (8 bytes big-endian each), the
// collection name's length (1 byte), the name, and the id.
func (c rebuildCursor) encode() []byte {
	b := make([]byte, 0, 17+len(c.coll)+len(c.after))
	b = binary.BigEndian.AppendUint64(b, c.seq)
	b = binary.BigEndian.AppendUint64(b, c.done)
	b = append(b, byte(len(c.coll)))
	b = append(b, c.coll...)
	return append(b, c.after...)
}

// parseRebuildCursor decodes b; a cursor that is malformed or names a
// collection not among colls cannot be resumed.
func parseRebuildCursor(b []byte, colls []SourceCollection) (rebuildCursor, bool) {
	if len(b) < 17 || len(b) < 17+int(b[16]) {
		return rebuildCursor{}, false
	}
	n := int(b[16])
	c := rebuildCursor{seq: binary.BigEndian.Uint64(b), done: binary.BigEndian.Uint64(b[8:]), coll: string(b[17 : 17+n]), after: string(b[17+n:])}
	if c.coll != "" && !slices.ContainsFunc(colls, func(s SourceCollection) bool { return s.Name == c.coll }) {
		return rebuildCursor{}, false
	}
	return c, true
}

// rebuildFresh empties the index and rebuilds it from the whole Source.
func (f *Feeder) rebuildFresh(ix *Index) error {
	if err := ix.Reset(); err != nil {
		return err
	}
	_, seq, err := f.src.LogBounds()
	if err != nil {
		return err
	}
	return f.rebuild(ix, rebuildCursor{seq: seq})
}

// rebuild indexes every document of the Source, from cur on, in batches
// that each record the cursor, and then records cur.seq as LastApplied:
// the change log after it brings the index up to date. Close interrupts it
// between batches (errInterrupted).
func (f *Feeder) rebuild(ix *Index, cur rebuildCursor) error {
	if err := ix.ApplyRebuild(nil, cur.encode()); err != nil {
		return err
	}
	colls, err := f.src.Collections()
	if err != nil {
		return err
	}
	total := cur.done
	started := cur.coll == ""
	seen := started
	for _, c := range colls {
		seen = seen || c.Name == cur.coll
		if seen {
			total += c.Docs
		}
	}
	for _, c := range colls {
		if !started {
			if c.Name != cur.coll {
				continue
			}
			started = true
		} else {
			cur.coll, cur.after = c.Name, ""
		}
		for {
			if f.closing() {
				return errInterrupted
			}
			changes, err := f.src.Scan(c.Name, cur.after, batchDocs)
			if err != nil {
				return err
			}
			if len(changes) == 0 {
				break
			}
			cur.after = changes[len(changes)-1].ID
			cur.done += uint64(len(changes))
			if err := ix.ApplyRebuild(changes, cur.encode()); err != nil {
				return err
			}
			if f.opts.Progress != nil {
				f.opts.Progress("search rebuild", int(cur.done), int(max(total, cur.done)))
			}
		}
	}
	return ix.Apply(nil, cur.seq)
}

// catchUp applies every change-log entry after LastApplied, in batches,
// and then, if live, trims the change log. A live catch-up that read to
// the end of the log returns early when fewer than CoalesceMax entries
// came in while it applied that batch, so that the Feeder coalesces them
// (see coalesceLocked) rather than chase a steady stream of commits in
// batches of a few documents, each of which costs Bleve a segment to
// build and merge.
func (f *Feeder) catchUp(ix *Index, live bool) error {
	rebuilt := false
	if d := ix.mergeDamage(); d != "" && live {
		// The merge guard found a segment damaged on disk: searches may
		// fail or miss documents until the index is built again.
		f.opts.Logger.Warn("search index damaged on disk; rebuilt from the store", "reason", d)
		if err := f.rebuildFresh(ix); err != nil {
			if errors.Is(err, errInterrupted) {
				return nil // the next start resumes it
			}
			return fmt.Errorf("cairn: rebuild search index (%s): %w", d, err)
		}
		rebuilt = true
		f.mu.Lock()
		f.mu.damage = d
		f.mu.applied = ix.LastApplied()
		f.mu.target = max(f.mu.target, f.mu.applied)
		f.cond.Broadcast()
		f.mu.Unlock()
	}
	for {
		refs, upTo, err := f.src.ReadLog(ix.LastApplied(), batchDocs)
		if errors.Is(err, ErrLogGap) && !rebuilt {
			// Which document the entry changed is lost: only the
			// documents themselves can say what the index must hold.
			// The rebuild brings LastApplied to the newest sequence,
			// past the entry; once per catch-up, so that a log that
			// stays unreadable past that fails instead of looping.
			if f.closing() {
				return nil // the next start rebuilds, in its catch-up
			}
			f.opts.Logger.Warn("search index rebuild", "reason", err.Error())
			if rerr := f.rebuildFresh(ix); rerr != nil {
				if errors.Is(rerr, errInterrupted) {
					return nil // the next start resumes it
				}
				return fmt.Errorf("cairn: rebuild search index (%v): %w", err, rerr)
			}
			rebuilt = true
			f.mu.Lock()
			f.mu.applied = ix.LastApplied()
			if f.mu.applied > f.mu.target {
				f.mu.target = f.mu.applied
			}
			f.cond.Broadcast()
			f.mu.Unlock()
			continue
		}
		if err != nil {
			return err
		}
		if upTo == 0 {
			if live {
				f.trim(ix)
			}
			return nil
		}
		var changes []Change
		if len(refs) > 0 {
			if changes, err = f.src.Load(refs); err != nil {
				return err
			}
		}
		if err := ix.Apply(changes, upTo); err != nil {
			return err
		}
		f.mu.Lock()
		f.mu.applied = upTo
		if upTo > f.mu.target {
			f.mu.target = upTo
		}
		f.cond.Broadcast()
		// Yield only when this read reached the end of the log (fewer
		// documents than asked for): what is pending now came in while
		// the batch was applied, and its Notify keeps the run loop going.
		// A longer backlog (at start) is read on at once.
		yield := live && len(refs) < batchDocs && f.coalescingLocked() && f.mu.target-upTo < f.opts.CoalesceMax
		f.mu.Unlock()
		if yield {
			f.trim(ix)
			return nil
		}
	}
}

// trim hands the Source the change-log entries that the index has durably
// applied (Index.DurableApplied: entries the index holds only in memory
// must stay for catch-up after a crash), at most once every TrimEvery.
func (f *Feeder) trim(ix *Index) {
	if f.opts.NoTrim || ix.LastApplied() == 0 {
		return
	}
	f.mu.Lock()
	if time.Since(f.mu.lastTrim) < f.opts.TrimEvery {
		f.mu.Unlock()
		return
	}
	// Bleve persists in the background (at most every half second), and
	// only what it has persisted may be trimmed. When entries are still
	// pending (a rebuild or a burst just ended), the trim is retried a
	// little later: waiting here would hold up Close and every search
	// behind the Feeder, and skipping until the next commit would never
	// trim a store that stays idle after an open.
	if ix.DurableApplied() < ix.LastApplied() {
		if !f.mu.retrimAt {
			f.mu.retrimAt = true
			time.AfterFunc(time.Second, func() {
				f.mu.Lock()
				f.mu.retrimAt = false
				f.mu.retrim = true
				f.cond.Broadcast()
				f.mu.Unlock()
			})
		}
		f.mu.Unlock()
		return
	}
	f.mu.lastTrim = time.Now()
	f.mu.Unlock()
	applied := ix.DurableApplied()
	if applied == 0 {
		return
	}
	// A failed trim is retried a TrimEvery later; the entries it left are
	// kept, which loses nothing.
	_ = f.src.Trim(applied)
}

// Notify tells the Feeder that the change with sequence seq is committed.
func (f *Feeder) Notify(seq uint64) {
	f.mu.Lock()
	if seq > f.mu.target {
		f.mu.target = seq
		f.cond.Broadcast()
	}
	f.mu.Unlock()
}

// Wait blocks until the index has applied seq, and returns it; or returns
// the error that keeps the index from opening or catching up (retried
// after the next Notify: until that retry succeeds, Wait returns the
// error again), ErrFeederClosed once Close was called, or ctx's error. A waiter ends the coalescing wait: the Feeder applies
// what is pending at once.
func (f *Feeder) Wait(ctx context.Context, seq uint64) (*Index, error) {
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.waiters++
	defer func() { f.mu.waiters-- }()
	if seq > f.mu.target {
		f.mu.target = seq
	}
	f.cond.Broadcast() // ends the Feeder's coalescing wait
	for {
		if f.mu.ready && f.mu.ix != nil && f.mu.applied >= seq {
			return f.mu.ix, nil
		}
		if f.mu.closing {
			return nil, ErrFeederClosed
		}
		if f.mu.ready && f.mu.ix == nil {
			return nil, f.mu.err
		}
		if f.mu.ready && f.mu.err != nil {
			return nil, fmt.Errorf("cairn: search index: %w", f.mu.err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f.cond.Wait()
	}
}

// Rebuild empties the index and rebuilds it from the whole Source; Wait
// holds its callers until it is done. Call it once the Feeder is ready
// (after a Wait that returned the index).
func (f *Feeder) Rebuild() error {
	f.mu.Lock()
	ix := f.mu.ix
	f.mu.ready = false // hold waiters until the rebuild is done
	f.mu.Unlock()
	f.work.Lock()
	err := ErrFeederClosed
	if ix != nil {
		err = f.rebuildFresh(ix)
	}
	f.work.Unlock()
	f.mu.Lock()
	f.mu.ready = true
	f.mu.err = err
	if ix != nil {
		f.mu.applied = ix.LastApplied()
	}
	f.cond.Broadcast()
	f.mu.Unlock()
	return err
}

// Hold keeps the Feeder from reading the Source or feeding the index
// until release is called (a caller about to do something the Source's
// readers must not overlap).
func (f *Feeder) Hold() (release func()) {
	f.work.Lock()
	return f.work.Unlock
}

// Applied returns the sequence the index has applied, without waiting.
func (f *Feeder) Applied() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.applied
}

// TakeDamage returns the damage (a segment file damaged or missing) that
// the index was last rebuilt for, when the Feeder opened it or when its
// merge guard found it, once: "" after the first call, and when it was
// not rebuilt for damage.
func (f *Feeder) TakeDamage() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.mu.damage
	f.mu.damage = ""
	return d
}

// Rebuilt returns why the index was rebuilt when the Feeder opened it, or
// "" if it was not (or is not open yet).
func (f *Feeder) Rebuilt() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.rebuilt
}

// Close drains the Feeder (brings the index up to date with what was
// notified) and closes the index. An unfinished rebuild stops at its next
// batch; the next Feeder resumes it.
func (f *Feeder) Close() error {
	f.mu.Lock()
	f.mu.closing = true
	f.cond.Broadcast()
	f.mu.Unlock()
	<-f.done
	f.mu.Lock()
	ix := f.mu.ix
	f.mu.ix = nil
	f.mu.Unlock()
	if ix == nil {
		return nil
	}
	if ix.DurableApplied() >= ix.LastApplied() {
		return ix.Close()
	}
	// Bleve persists deferred batches after a pause of up to half a second
	// (Options.DeferSync), which every Close, and so every kvtool command
	// that wrote, would wait out. Instead the batches not yet on disk are
	// dropped and applied again from the change log, the durable record,
	// on the index opened without DeferSync, whose batches are on disk
	// when Apply returns: a few milliseconds for the little that was
	// pending. Nothing is lost either way: whatever is not applied here is
	// applied by the next start's catch-up.
	if err := ix.CloseUnpersisted(); err != nil {
		return err
	}
	safe, res, err := Open(ix.Dir(), &Options{LockTimeout: f.opts.LockTimeout})
	if err != nil {
		return err
	}
	if res.Rebuilt {
		return safe.Close() // the next start rebuilds it, as it would have
	}
	return errors.Join(f.catchUp(safe, false), safe.Close())
}
