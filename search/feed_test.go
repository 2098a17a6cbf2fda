package search

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// logSource is a Source in memory: documents by collection and id, and a
// change log that every put and delete appends to, as a store's is. It
// implements the whole contract (each call reads one state under its
// lock, ReadLog deduplicates and skips collections not searched, Trim
// deletes), and records the trims it was asked for.
type logSource struct {
	mu       sync.Mutex
	searched map[string]bool
	docs     map[string]map[string]Change // collection → id → current state
	log      []DocRef                     // log[i] has sequence first+i
	first    uint64                       // sequence of log[0]
	newest   uint64
	trims    []uint64
	onTrim   func(seq uint64) // called (without the lock) before each trim
	trimmed  func(seq uint64) // called (without the lock) after each trim
	onLoad   func()           // called (without the lock) before each Load
	loadErr  error            // fails Load while set
}

func newLogSource(searched ...string) *logSource {
	s := &logSource{searched: map[string]bool{}, docs: map[string]map[string]Change{}, first: 1}
	for _, c := range searched {
		s.searched[c] = true
	}
	return s
}

// put stores a document whose text is text and returns its sequence.
func (s *logSource) put(coll, id, text string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.newest++
	if s.docs[coll] == nil {
		s.docs[coll] = map[string]Change{}
	}
	s.docs[coll][id] = Change{Collection: coll, ID: id, Rev: s.newest, Body: map[string]any{"name": text}}
	s.log = append(s.log, DocRef{coll, id})
	return s.newest
}

func (s *logSource) del(coll, id string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.newest++
	delete(s.docs[coll], id)
	s.log = append(s.log, DocRef{coll, id})
	return s.newest
}

// dropLog deletes every entry up to seq, as a trim by the store's own
// retention would.
func (s *logSource) dropLog(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trimLocked(seq)
}

func (s *logSource) trimLocked(seq uint64) {
	for len(s.log) > 0 && s.first <= seq {
		s.log = s.log[1:]
		s.first++
	}
}

func (s *logSource) LogBounds() (oldest, newest uint64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) > 0 {
		oldest = s.first
	}
	return oldest, s.newest, nil
}

func (s *logSource) ReadLog(after uint64, max int) (refs []DocRef, upTo uint64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[DocRef]bool{}
	for i := range s.log {
		seq := s.first + uint64(i)
		if seq <= after {
			continue
		}
		if len(refs) >= max {
			break
		}
		upTo = seq
		r := s.log[i]
		if !s.searched[r.Collection] || seen[r] {
			continue
		}
		seen[r] = true
		refs = append(refs, r)
	}
	return refs, upTo, nil
}

func (s *logSource) Load(refs []DocRef) ([]Change, error) {
	s.mu.Lock()
	onLoad := s.onLoad
	s.mu.Unlock()
	if onLoad != nil {
		onLoad()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loadErr != nil {
		return nil, s.loadErr
	}
	out := make([]Change, 0, len(refs))
	for _, r := range refs {
		out = append(out, s.currentLocked(r.Collection, r.ID))
	}
	return out, nil
}

func (s *logSource) currentLocked(coll, id string) Change {
	if ch, ok := s.docs[coll][id]; ok {
		return ch
	}
	return Change{Collection: coll, ID: id, Deleted: true}
}

func (s *logSource) Collections() ([]SourceCollection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SourceCollection
	for c := range s.searched {
		out = append(out, SourceCollection{Name: c, Docs: uint64(len(s.docs[c]))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *logSource) Scan(coll, after string, max int) ([]Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id := range s.docs[coll] {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []Change
	for _, id := range ids[:min(max, len(ids))] {
		out = append(out, s.currentLocked(coll, id))
	}
	return out, nil
}

func (s *logSource) Trim(seq uint64) error {
	if s.onTrim != nil {
		s.onTrim(seq)
	}
	s.mu.Lock()
	s.trims = append(s.trims, seq)
	s.trimLocked(seq)
	s.mu.Unlock()
	if s.trimmed != nil {
		s.trimmed(seq)
	}
	return nil
}

// startFeeder starts a Feeder of dir from src and closes it when the test
// ends (unless the test did).
func startFeeder(t *testing.T, src Source, dir string, opts FeederOptions) *Feeder {
	t.Helper()
	opts.Dir = dir
	f := StartFeeder(src, opts)
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	return f
}

// waitAll waits for f to apply everything src committed.
func waitAll(t *testing.T, f *Feeder, src *logSource) *Index {
	t.Helper()
	_, newest, _ := src.LogBounds()
	ix, err := f.Wait(context.Background(), newest)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// requireEqual fails t unless ix holds exactly src's documents of the
// searched collections, each at its current revision.
func requireEqual(t *testing.T, ix *Index, src *logSource) {
	t.Helper()
	got := map[string]uint64{}
	if err := ix.Walk(func(c, id string, rev uint64) error { got[c+"/"+id] = rev; return nil }); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	want := map[string]uint64{}
	for c, docs := range src.docs {
		if !src.searched[c] {
			continue
		}
		for id, d := range docs {
			want[c+"/"+id] = d.Rev
		}
	}
	src.mu.Unlock()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: indexed at revision %d (present %v), stored at %d", k, g, ok, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: indexed but not stored", k)
		}
	}
}

func hitIDs(t *testing.T, ix *Index, text string) []string {
	t.Helper()
	res, err := ix.Search(context.Background(), text, SearchOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := ids(res)
	slices.Sort(out)
	return out
}

// A new index is built from what the store holds, then follows its
// commits: puts, overwrites, deletes, collections not searched left out.
func TestFeeder_followsTheStore(t *testing.T) {
	src := newLogSource("memos", "todos")
	src.put("memos", "n1", "alpha beta")
	src.put("memos", "n2", "alpha")
	src.put("private", "p1", "alpha") // not searched
	dir := filepath.Join(t.TempDir(), "search")
	f := startFeeder(t, src, dir, FeederOptions{})
	ix := waitAll(t, f, src)
	if f.Rebuilt() == "" {
		t.Error("a new index: want Rebuilt to say why it was built")
	}
	if got, want := hitIDs(t, ix, "alpha"), []string{"memos/n1", "memos/n2"}; !slices.Equal(got, want) {
		t.Fatalf("alpha: %v, want %v", got, want)
	}
	f.Notify(src.put("todos", "t1", "gamma alpha"))
	f.Notify(src.put("memos", "n1", "delta"))
	f.Notify(src.del("memos", "n2"))
	ix = waitAll(t, f, src)
	if got, want := hitIDs(t, ix, "alpha"), []string{"todos/t1"}; !slices.Equal(got, want) {
		t.Fatalf("alpha after changes: %v, want %v", got, want)
	}
	requireEqual(t, ix, src)
	if _, newest, _ := src.LogBounds(); f.Applied() != newest || ix.LastApplied() != newest {
		t.Errorf("Applied %d, LastApplied %d, want %d", f.Applied(), ix.LastApplied(), newest)
	}
}

// A waiter ends the coalescing wait: read-your-writes does not wait it
// out (an hour here: the test would time out).
func TestFeeder_waitEndsCoalescing(t *testing.T) {
	src := newLogSource("memos")
	dir := filepath.Join(t.TempDir(), "search")
	f := startFeeder(t, src, dir, FeederOptions{CoalesceWait: time.Hour, CoalesceMax: 1 << 40})
	waitAll(t, f, src)
	for i := range 5 {
		f.Notify(src.put("memos", fmt.Sprint("n", i), "coalesced words"))
	}
	ix := waitAll(t, f, src)
	if got := hitIDs(t, ix, "coalesced"); len(got) != 5 {
		t.Fatalf("coalesced: %v, want 5 hits", got)
	}
}

// Commits that come in while the Feeder applies a batch are coalesced
// again, not chased in batches of a few: after applying the five that
// ended the first wait, the Feeder leaves the three that arrived
// meanwhile for the next (an hour away here) until someone waits.
func TestFeeder_coalescesDuringApply(t *testing.T) {
	src := newLogSource("memos")
	dir := filepath.Join(t.TempDir(), "search")
	f := startFeeder(t, src, dir, FeederOptions{CoalesceWait: time.Hour, CoalesceMax: 5})
	waitAll(t, f, src)
	var once sync.Once
	src.mu.Lock()
	src.onLoad = func() {
		once.Do(func() {
			for i := range 3 {
				f.Notify(src.put("memos", fmt.Sprint("late", i), "late words"))
			}
		})
	}
	src.mu.Unlock()
	var fifth uint64
	for i := range 5 {
		fifth = src.put("memos", fmt.Sprint("n", i), "coalesced words")
		f.Notify(fifth)
	}
	for f.Applied() < fifth {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the old Feeder applied the late ones at once
	if got := f.Applied(); got != fifth {
		t.Fatalf("Applied %d, want %d: the late commits were not coalesced", got, fifth)
	}
	ix := waitAll(t, f, src) // a waiter ends the wait
	requireEqual(t, ix, src)
}

// A backlog longer than one read of the log, which no Notify announced,
// is applied whole at start without anyone waiting for it: the catch-up
// leaves to coalescing only commits notified beyond what it applied.
func TestFeeder_backlogAtStartWithoutWaiter(t *testing.T) {
	src := newLogSource("memos")
	dir := filepath.Join(t.TempDir(), "search")
	src.put("memos", "a", "first")
	f := StartFeeder(src, FeederOptions{Dir: dir, CoalesceWait: time.Hour})
	waitAll(t, f, src)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 3*batchDocs + 7 {
		src.put("memos", fmt.Sprint("n", i), "backlog words")
	}
	_, newest, _ := src.LogBounds()
	f = startFeeder(t, src, dir, FeederOptions{CoalesceWait: time.Hour})
	deadline := time.Now().Add(time.Minute) // a liveness bound, not a speed target
	for f.Applied() < newest {
		if time.Now().After(deadline) {
			t.Fatalf("Applied %d after a minute, want %d: the backlog stalled", f.Applied(), newest)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if f.Rebuilt() != "" {
		t.Errorf("rebuilt (%s), want a catch-up", f.Rebuilt())
	}
}

// What was committed while no Feeder ran is applied from the change log
// at the next start, without a rebuild; an index whose position the log
// no longer reaches, or that is ahead of the store, is rebuilt.
func TestFeeder_catchUpOrRebuildAtStart(t *testing.T) {
	src := newLogSource("memos")
	dir := filepath.Join(t.TempDir(), "search")
	src.put("memos", "a", "first")
	f := StartFeeder(src, FeederOptions{Dir: dir})
	waitAll(t, f, src)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	src.put("memos", "b", "second")
	src.del("memos", "a")
	f = StartFeeder(src, FeederOptions{Dir: dir})
	ix := waitAll(t, f, src)
	if r := f.Rebuilt(); r != "" {
		t.Errorf("catch-up from a retained log rebuilt the index: %s", r)
	}
	requireEqual(t, ix, src)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	seq := src.put("memos", "c", "third")
	src.put("memos", "d", "fourth")
	src.dropLog(seq) // the entry after the index's position is gone
	f = StartFeeder(src, FeederOptions{Dir: dir})
	ix = waitAll(t, f, src)
	if r := f.Rebuilt(); !strings.Contains(r, "behind the retained change log") {
		t.Errorf("index behind the log: Rebuilt %q", r)
	}
	requireEqual(t, ix, src)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	// A store restored from an older copy: the index has applied more
	// than the store ever committed.
	older := newLogSource("memos")
	older.put("memos", "a", "restored")
	f = startFeeder(t, older, dir, FeederOptions{})
	ix = waitAll(t, f, older)
	if r := f.Rebuilt(); !strings.Contains(r, "ahead of the store") {
		t.Errorf("index ahead of the store: Rebuilt %q", r)
	}
	requireEqual(t, ix, older)
}

// A rebuild that Close interrupts keeps its progress in the index; the
// next Feeder resumes it where it stopped, and what was committed in
// between is applied after it.
func TestFeeder_interruptedRebuildResumes(t *testing.T) {
	src := newLogSource("memos", "todos")
	for i := range 3 * batchDocs {
		src.put("memos", fmt.Sprintf("n%04d", i), "note text")
	}
	for i := range batchDocs / 2 {
		src.put("todos", fmt.Sprintf("t%04d", i), "task text")
	}
	_, newest, _ := src.LogBounds()
	src.dropLog(newest) // a store whose log was trimmed: only a rebuild builds the index
	dir := filepath.Join(t.TempDir(), "search")

	var f atomic.Pointer[Feeder]
	started := make(chan struct{})
	closed := make(chan error, 1)
	var first []int
	progress := func(_ string, done, total int) {
		first = append(first, done)
		if len(first) == 1 {
			// Close while the rebuild runs, and let it see the request
			// before its next batch.
			<-started
			go func() { closed <- f.Load().Close() }()
			for !f.Load().closing() {
				runtime.Gosched()
			}
		}
	}
	f.Store(StartFeeder(src, FeederOptions{Dir: dir, Progress: progress}))
	close(started)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || first[0] != batchDocs {
		t.Fatalf("interrupted rebuild's progress: %v, want one batch of %d", first, batchDocs)
	}
	ix, res, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ix.Count()
	if err != nil || n != batchDocs || res.Rebuilt || ix.LastApplied() != 0 {
		t.Fatalf("after the interruption: %d documents (%v), rebuilt %v, LastApplied %d; want %d, not rebuilt, 0", n, err, res.Rebuilt, ix.LastApplied(), batchDocs)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	src.put("todos", "new", "committed in between")
	var second []int
	g := startFeeder(t, src, dir, FeederOptions{Progress: func(_ string, done, total int) { second = append(second, done) }})
	ix = waitAll(t, g, src)
	if r := g.Rebuilt(); r != "resuming an interrupted rebuild" {
		t.Errorf("Rebuilt %q, want a resumed rebuild", r)
	}
	if len(second) == 0 || second[0] != 2*batchDocs {
		t.Errorf("resumed rebuild's progress: %v, want it to start after the first batch (%d)", second, 2*batchDocs)
	}
	requireEqual(t, ix, src)
}

// The change log is trimmed only up to what the index holds durably, and
// the trim of a store that stays idle happens once Bleve has persisted;
// with NoTrim it never is.
func TestFeeder_trimsOnlyDurable(t *testing.T) {
	for _, noTrim := range []bool{false, true} {
		t.Run(fmt.Sprint("noTrim=", noTrim), func(t *testing.T) {
			src := newLogSource("memos")
			dir := filepath.Join(t.TempDir(), "search")
			var f atomic.Pointer[Feeder]
			trimmed := make(chan uint64, 100)
			src.onTrim = func(seq uint64) {
				f.Load().mu.Lock()
				ix := f.Load().mu.ix
				f.Load().mu.Unlock()
				if d := ix.DurableApplied(); seq > d {
					t.Errorf("trim up to %d, but only %d is durable", seq, d)
				}
			}
			src.trimmed = func(seq uint64) { trimmed <- seq }
			f.Store(startFeeder(t, src, dir, FeederOptions{TrimEvery: time.Nanosecond, NoTrim: noTrim}))
			waitAll(t, f.Load(), src)
			var last uint64
			for i := range 20 {
				last = src.put("memos", fmt.Sprint("n", i), "words")
				f.Load().Notify(last)
			}
			ix := waitAll(t, f.Load(), src)
			if noTrim {
				if err := ix.Durable(); err != nil {
					t.Fatal(err)
				}
				f.Load().Notify(src.put("memos", "after", "durable"))
				waitAll(t, f.Load(), src)
				src.mu.Lock()
				defer src.mu.Unlock()
				if len(src.trims) > 0 {
					t.Fatalf("NoTrim: trimmed %v", src.trims)
				}
				return
			}
			for {
				select {
				case seq := <-trimmed:
					if seq == last {
						if oldest, _, _ := src.LogBounds(); oldest != 0 {
							t.Errorf("after the trim up to %d the log starts at %d", seq, oldest)
						}
						return
					}
				case <-time.After(time.Minute):
					t.Fatalf("no trim up to %d within a minute", last)
				}
			}
		})
	}
}

// Close drops the batches Bleve has not persisted and applies them again
// in the safe mode: the closed index holds every change that was applied.
func TestFeeder_closeKeepsEveryApplied(t *testing.T) {
	src := newLogSource("memos")
	dir := filepath.Join(t.TempDir(), "search")
	f := StartFeeder(src, FeederOptions{Dir: dir})
	for i := range 50 {
		f.Notify(src.put("memos", fmt.Sprint("n", i), "closing words"))
	}
	waitAll(t, f, src)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ix, res, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, newest, _ := src.LogBounds(); res.Rebuilt || ix.LastApplied() != newest {
		t.Errorf("reopened: rebuilt %v, LastApplied %d, want %d", res.Rebuilt, ix.LastApplied(), newest)
	}
	requireEqual(t, ix, src)
	if _, err := f.Wait(context.Background(), 1); !errors.Is(err, ErrFeederClosed) {
		t.Errorf("Wait after Close: %v, want ErrFeederClosed", err)
	}
}

// A failed catch-up is reported to waiters and retried after the next
// commit; Rebuild builds the index again from the whole store.
// failingFeeder starts a Feeder caught up with a source whose loads now
// fail with the error it returns.
func failingFeeder(t *testing.T) (*logSource, *Feeder, error) {
	src := newLogSource("memos")
	dir := filepath.Join(t.TempDir(), "search")
	f := startFeeder(t, src, dir, FeederOptions{})
	waitAll(t, f, src)
	bad := errors.New("disk says no")
	src.mu.Lock()
	src.loadErr = bad
	src.mu.Unlock()
	return src, f, bad
}

func TestFeeder_failureRetriedAndRebuild(t *testing.T) {
	src, f, bad := failingFeeder(t)
	f.Notify(src.put("memos", "a", "retried"))
	_, newest, _ := src.LogBounds()
	if _, err := f.Wait(context.Background(), newest); !errors.Is(err, bad) {
		t.Fatalf("Wait during failures: %v, want %v", err, bad)
	}
	src.mu.Lock()
	src.loadErr = nil
	src.mu.Unlock()
	f.Notify(src.put("memos", "b", "retried"))
	_, newest, _ = src.LogBounds()
	var ix *Index
	for deadline := time.Now().Add(time.Minute); ix == nil; {
		// Until the retry has run, Wait reports the last failure.
		var err error
		if ix, err = f.Wait(context.Background(), newest); err != nil && (!errors.Is(err, bad) || time.Now().After(deadline)) {
			t.Fatalf("Wait after the failure ended: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	requireEqual(t, ix, src)

	// Rebuild reads the store again: a document the index lost comes back.
	if err := ix.Apply([]Change{{Collection: "memos", ID: "a", Deleted: true}}, ix.LastApplied()); err != nil {
		t.Fatal(err)
	}
	if err := f.Rebuild(); err != nil {
		t.Fatal(err)
	}
	requireEqual(t, waitAll(t, f, src), src)
}

// A commit notified while a failing catch-up is being given up on is not
// lost: the Feeder retries for it, even though no later commit comes.
func TestFeeder_notifyDuringFailedAttempt(t *testing.T) {
	src, f, bad := failingFeeder(t)
	var once sync.Once
	afterFailedAttempt = func() {
		once.Do(func() {
			src.mu.Lock()
			src.loadErr = nil
			src.mu.Unlock()
			f.Notify(src.put("memos", "b", "notified while failing"))
		})
	}
	defer func() { afterFailedAttempt = nil }()
	f.Notify(src.put("memos", "a", "fails first"))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		_, newest, _ := src.LogBounds()
		ix, err := f.Wait(context.Background(), newest)
		if err == nil {
			requireEqual(t, ix, src)
			return
		}
		if !errors.Is(err, bad) || time.Now().After(deadline) {
			t.Fatalf("Wait: %v (the commit notified during the failure was never retried)", err)
		}
	}
}
