package legacy

import (
	"io"
	"os"
	"sync"
)

// How a planned file is read ahead.
type fetchMode uint8

const (
	fetchRaw      fetchMode = iota // the bytes only
	fetchEnvelope                  // decoded (DecodeEnvelope)
	fetchLazy                      // decoded, an array payload left lazy
)

// fetched is a file read (and, for collection files, decoded) ahead of
// use.
type fetched struct {
	b      []byte
	err    error // read error
	env    *Envelope
	envErr error
}

// release frees what a result no one takes holds: a lazy array's
// mapping.
func (r *fetched) release() {
	if r.env != nil {
		closeLazy(r.env.Data)
	}
}

func readAhead(abs string, mode fetchMode, sp *spill) fetched {
	var r fetched
	switch mode {
	case fetchLazy:
		r.env, r.b, r.err, r.envErr = readLazy(abs, sp)
	case fetchEnvelope:
		r.env, r.b, r.err, r.envErr = readDecoded(abs)
	default:
		r.b, r.err = os.ReadFile(abs)
	}
	return r
}

// readDecoded reads and decodes a file; b is its bytes only when they
// could not be decoded (to be kept).
func readDecoded(abs string) (env *Envelope, b []byte, readErr, decErr error) {
	b, readErr = os.ReadFile(abs)
	if readErr != nil {
		return nil, nil, readErr, nil
	}
	env, _, decErr = decodeEnvelope(b, nil)
	if decErr == nil {
		b = nil
	}
	return env, b, nil, decErr
}

// loadFile returns the contents of the file at path: mapped read-only
// from mapMin bytes on (mapped true), else read; release unmaps them.
func loadFile(path string) (b []byte, mapped bool, release func() error, err error) {
	release = func() error { return nil }
	f, err := os.Open(path)
	if err != nil {
		return nil, false, release, err
	}
	defer f.Close() // read only; a mapping outlives it
	fi, err := f.Stat()
	if err != nil {
		return nil, false, release, err
	}
	if fi.Size() >= mapMin {
		b, release, err = mapFile(f, fi.Size())
		return b, err == nil, release, err
	}
	b, err = io.ReadAll(f)
	return b, false, release, err
}

// mapMin is the size from which a collection file is mapped rather than
// read into memory (see mapFile), and from which an unreadable file's
// bytes are kept as an attachment rather than in its extras entry.
const mapMin = 1 << 20

// readLazy reads a collection file, its array payload left lazy (see
// decodeEnvelope). b is the file's bytes only when they could not be
// decoded and are small enough to keep in memory (under mapMin).
func readLazy(abs string, sp *spill) (env *Envelope, b []byte, readErr, decErr error) {
	b, mapped, release, err := loadFile(abs)
	if err != nil {
		return nil, nil, err, nil
	}
	env, aliased, err := decodeEnvelope(b, sp)
	if err != nil {
		if mapped {
			b = nil
		}
		_ = release() // read-only mapping
		return nil, b, nil, err
	}
	if a, ok := env.Data.(*lazyArray); ok && aliased {
		a.release = release
	} else {
		_ = release()
	}
	return env, nil, nil, nil
}

// Read-ahead bounds: at most aheadFiles planned files beyond the last one
// consumed, and at most aheadWeight estimated bytes of results held. A
// file weighing more than half of that is not read ahead: decoding it is
// what takes time, and two such decodings at once would double the peak.
const (
	aheadFiles  = 64
	aheadWeight = 32 << 20
)

// typicalSessionFile is the size assumed for a chunked session's file,
// whose size the walk does not record (a GZIP_V1 chunk of 20 screenshot
// records).
const typicalSessionFile = 16 << 10

// Slot states.
const (
	slotPending = iota // not started
	slotRunning        // a worker is reading it
	slotDone           // the result waits in the slot
	slotGone           // taken, skipped or dropped
)

type slot struct {
	rel    string
	mode   fetchMode
	weight int64
	state  int
	res    fetched
}

// prefetcher reads the files the scan is about to read, in the order it
// will read them (its plan), with a few goroutines, so that a slow disk's
// latency and the decoding overlap the scan. It holds a bounded window:
// workers run at most aheadFiles files and aheadWeight bytes ahead of the
// consumer. take hands a result over once; a planned file the consumer
// passes by without taking is dropped (it is read again from disk if it
// is asked for later), so the results are the same as a sequential scan's
// whatever the plan and the timing.
type prefetcher struct {
	root   string
	spill  *spill
	size   map[string]int64 // file sizes from the directory walk
	mu     sync.Mutex
	cond   *sync.Cond
	plan   []*slot // plan[0] is the slot at absolute index base
	base   int
	cursor int // absolute index of the next slot to consume
	next   int // absolute index of the next slot for the workers
	held   int64
	closed bool
	wg     sync.WaitGroup
}

func newPrefetcher(root string, size map[string]int64, sp *spill, workers int) *prefetcher {
	p := &prefetcher{root: root, size: size, spill: sp}
	p.cond = sync.NewCond(&p.mu)
	for w := 0; w < workers; w++ {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// weight estimates the memory a result holds: decoded JSON takes several
// times its text, which is several times a GZIP_V1 file.
func (p *prefetcher) weight(rel string, mode fetchMode) int64 {
	n, ok := p.size[rel]
	if !ok {
		n = typicalSessionFile // a chunked session's file: not measured by the walk
	}
	n++
	switch mode {
	case fetchEnvelope:
		return 16 * n
	}
	return n // raw bytes, or a lazy array's mapped text
}

func (p *prefetcher) work() {
	defer p.wg.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		var sl *slot
		for !p.closed {
			if p.next < p.cursor {
				p.next = p.cursor
			}
			if i := p.next - p.base; i < len(p.plan) && p.next < p.cursor+aheadFiles {
				sl = p.plan[i]
				if sl.state != slotPending {
					p.next++
					continue
				}
				if p.held == 0 || p.held+sl.weight <= aheadWeight {
					break
				}
			}
			sl = nil
			p.cond.Wait()
		}
		if p.closed {
			return
		}
		p.next++
		sl.state = slotRunning
		p.held += sl.weight
		p.mu.Unlock()
		res := readAhead(p.abs(sl.rel), sl.mode, p.spill)
		p.mu.Lock()
		if sl.state == slotGone { // dropped while it was read
			p.held -= sl.weight
			res.release()
		} else {
			sl.res, sl.state = res, slotDone
		}
		p.cond.Broadcast()
	}
}

func (p *prefetcher) abs(rel string) string { return absPath(p.root, rel) }

// add appends files to the plan, in the order they will be consumed.
func (p *prefetcher) add(rel string, mode fetchMode) {
	if p == nil || rel == "" {
		return
	}
	w := p.weight(rel, mode)
	if w > aheadWeight/2 {
		return
	}
	p.mu.Lock()
	p.plan = append(p.plan, &slot{rel: rel, mode: mode, weight: w})
	p.mu.Unlock()
	p.cond.Broadcast()
}

// take returns the result for rel read with mode when it is within the
// window, waiting for a worker that is reading it; nil means "read it
// yourself". The slots passed over are dropped.
func (p *prefetcher) take(rel string, mode fetchMode) *fetched {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	end := min(p.cursor+aheadFiles, p.base+len(p.plan))
	j := -1
	for i := p.cursor; i < end; i++ {
		if sl := p.plan[i-p.base]; sl.rel == rel && sl.mode == mode && sl.state != slotGone {
			j = i
			break
		}
	}
	if j < 0 {
		return nil
	}
	for i := p.cursor; i < j; i++ {
		p.drop(p.plan[i-p.base])
	}
	sl := p.plan[j-p.base]
	p.cursor = j + 1
	p.trim()
	defer p.cond.Broadcast()
	for sl.state == slotRunning {
		p.cond.Wait()
	}
	if sl.state != slotDone { // not started: the caller reads it
		sl.state = slotGone
		return nil
	}
	r := sl.res
	sl.res, sl.state = fetched{}, slotGone
	p.held -= sl.weight
	return &r
}

// drop forgets a slot's result; a worker reading it drops it when done.
func (p *prefetcher) drop(sl *slot) {
	if sl.state == slotDone {
		p.held -= sl.weight
		sl.res.release()
	}
	if sl.state != slotRunning {
		sl.res = fetched{}
	}
	sl.state = slotGone
}

// trim releases the plan before the cursor.
func (p *prefetcher) trim() {
	n := p.cursor - p.base
	if n < 256 && n < len(p.plan)/2 {
		return
	}
	for _, sl := range p.plan[:n] {
		p.drop(sl)
	}
	p.plan = append([]*slot(nil), p.plan[n:]...)
	p.base = p.cursor
}

// skipAll drops whatever is planned and not yet consumed: the scan has
// moved on to another phase.
func (p *prefetcher) skipAll() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.cursor = p.base + len(p.plan)
	p.trim()
	p.mu.Unlock()
	p.cond.Broadcast()
}

// close stops the workers; results still held are dropped.
func (p *prefetcher) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cond.Broadcast()
	p.wg.Wait()
	for _, sl := range p.plan {
		p.drop(sl)
	}
}

// planIndex plans the reads of the indexing steps, in their order:
// collection files, session-index, chunked sessions' metadata, per-entity
// files and their checksums.
func (s *scanner) planIndex() error {
	if s.pf == nil {
		return nil
	}
	for _, coll := range Collections {
		s.planKey(coll, fetchLazy)
	}
	s.planKey("session-index", fetchEnvelope)
	for _, id := range s.sortedSessionDirs() {
		s.planKey("sessions/"+id+"/metadata", fetchEnvelope)
	}
	for _, pe := range s.perEntity {
		s.pf.add(pe.rel, fetchRaw)
		if cs, ok := s.checksums[pe.rel]; ok {
			s.pf.add(cs, fetchRaw)
		}
	}
	return nil
}
