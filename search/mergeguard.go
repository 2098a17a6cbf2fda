package search

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// The merge guard keeps Bleve's merger from reading a segment file whose
// CRC-32 this process has not checked.
//
// Open checks every live segment but those its verified list names (same
// name, size and modification time as when last checked), so that an
// Open does not read the whole index each time. A flipped bit on disk
// changes neither size nor time: such a segment would be opened unchecked,
// and the merger, which starts with the index, would read it into a new
// segment whose CRC is right. The damage would then be laundered: no
// check could find it, and the index would serve what the damage made of
// the postings for good. On some damage zap's reader also loops for ever.
//
// So before each merge (scorch's PreMergeCheck event) the guard plans the
// merge as the merger does, over the same snapshot, and checks the files
// the plan would read that came from disk unchecked. A damaged one stops
// every merge of this index until it is closed, the verified list is
// removed (the next Open then checks every segment, and recreates the
// index), and VerifySegments, which reads every live segment, reports it.
// Segments this process wrote are not checked again.

// guardCallback is the scorch event callback the guard is registered as.
const guardCallback = "cairn-merge-guard"

// mergeOptions are the merge planner's options: given to scorch
// (scorchMergePlanOptions) and used by the guard to plan the same merges.
var mergeOptions = mergeplan.DefaultMergePlanOptions

func init() {
	scorch.RegistryEventCallbacks[guardCallback] = onScorchEvent
}

// mergeOptionsConfig is mergeOptions as scorch's configuration takes them.
func mergeOptionsConfig() map[string]any {
	o := mergeOptions
	return map[string]any{
		"MaxSegmentsPerTier":   o.MaxSegmentsPerTier,
		"MaxSegmentSize":       o.MaxSegmentSize,
		"MaxSegmentFileSize":   o.MaxSegmentFileSize,
		"TierGrowth":           o.TierGrowth,
		"SegmentsPerMergeTask": o.SegmentsPerMergeTask,
		"FloorSegmentSize":     o.FloorSegmentSize,
		"FloorSegmentFileSize": o.FloorSegmentFileSize,
		"ReclaimDeletesWeight": o.ReclaimDeletesWeight,
	}
}

// guardRetries is how many times in a row the guard lets the merger take a
// newer snapshot before it checks every unchecked segment instead.
const guardRetries = 3

// mergeGuard is the guard of one writable open of one index.
type mergeGuard struct {
	mu         sync.Mutex
	sc         *scorch.Scorch        // the index it guards, bound at its first event
	unverified map[string]bool       // names of segment files opened unchecked
	prev       *scorch.IndexSnapshot // the snapshot the last check planned over, held
	retries    int
	damaged    string        // the first damaged segment found; merges stop
	stop       chan struct{} // closed when the index starts closing
	stopped    bool
}

// guards maps an index's store directory (where scorch keeps its segment
// files) to the guard of its writable open.
var guards sync.Map

// guardKey is the key of the index in dir.
func guardKey(dir string) string { return filepath.Clean(filepath.Join(dir, "store")) }

// registerGuard installs a fresh guard for the next writable open of the
// index in dir; unverified names the segment files it opens unchecked.
func registerGuard(dir string, unverified []string) {
	g := &mergeGuard{unverified: map[string]bool{}, stop: make(chan struct{})}
	for _, name := range unverified {
		g.unverified[name] = true
	}
	key := guardKey(dir)
	if cur, ok := guards.Load(key); ok {
		cg := cur.(*mergeGuard)
		cg.mu.Lock()
		live := cg.sc != nil && !cg.stopped
		cg.mu.Unlock()
		if live { // open in this process: this open finds its lock held
			return
		}
	}
	guards.Store(key, g)
}

// unregisterGuard drops the guard of the index in dir, once it is closed.
func unregisterGuard(dir string) { guards.Delete(guardKey(dir)) }

// guardOf returns the guard registered for the index in dir, or nil.
func guardOf(dir string) *mergeGuard {
	g, _ := guards.Load(guardKey(dir))
	mg, _ := g.(*mergeGuard)
	return mg
}

// mergeDamage returns the damaged segment the merge guard of ix found
// (merges have stopped), or "".
func (ix *Index) mergeDamage() string {
	if g := guardOf(ix.dir); g != nil {
		return g.Damaged()
	}
	return ""
}

// Damaged returns the damaged segment the guard found, or "".
func (g *mergeGuard) Damaged() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.damaged
}

// onScorchEvent is the callback scorch calls on each of its events; only a
// merge check may return false (the merger then tries again).
func onScorchEvent(e scorch.Event) bool {
	switch e.Kind {
	case scorch.EventKindPreMergeCheck:
		return preMerge(e.Scorch)
	case scorch.EventKindCloseStart:
		closeStart(e.Scorch)
	}
	return true
}

// liveFiles returns the snapshot's persisted segments, as the planner takes
// them, with their file names, and the directory that holds them.
func liveFiles(snap *scorch.IndexSnapshot) (segs []mergeplan.Segment, names map[uint64]string, dir string) {
	names = map[uint64]string{}
	for _, ss := range snap.Segments() {
		ps, ok := ss.Segment().(segment.PersistedSegment)
		if !ok {
			continue
		}
		segs = append(segs, ss)
		names[ss.Id()] = filepath.Base(ps.Path())
		dir = filepath.Dir(ps.Path())
	}
	return segs, names, dir
}

// preMerge decides whether the merger may merge now. It plans over the
// current snapshot as the merger does and checks the unchecked files the
// plan takes. The merger planned over a snapshot taken just before this
// call, so the answer is yes only when the snapshot is the one the
// previous call planned over (the merger's is then that one too: it is
// held, so no other can take its place); otherwise the merger is sent
// round again, and after guardRetries rounds every unchecked file is
// checked.
func preMerge(s *scorch.Scorch) bool {
	r, err := s.Reader()
	if err != nil {
		return true // closed: the merger stops on its own
	}
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		_ = r.Close()
		return true
	}
	segs, names, dir := liveFiles(snap)
	if len(segs) == 0 {
		// Nothing persisted to merge now; nor in the merger's snapshot
		// but segments whose documents are all deleted, which a merge
		// drops without reading them.
		_ = r.Close()
		return true
	}
	g, _ := guards.Load(filepath.Clean(dir))
	mg, _ := g.(*mergeGuard)
	if mg == nil {
		_ = r.Close()
		return true
	}
	return mg.check(s, snap, segs, names, dir)
}

// check is preMerge for the guard's index; it owns snap's reference.
func (g *mergeGuard) check(s *scorch.Scorch, snap *scorch.IndexSnapshot, segs []mergeplan.Segment, names map[uint64]string, dir string) bool {
	g.mu.Lock()
	if g.sc == nil {
		g.sc = s
	}
	stop := g.stop
	if g.sc != s || g.stopped || g.damaged != "" {
		g.mu.Unlock()
		_ = snap.Close()
		<-stop // no merge until the index closes
		return false
	}
	same := g.prev == snap
	if g.prev != nil {
		_ = g.prev.Close()
	}
	g.prev = snap
	if !same {
		g.retries++
	}
	ok := same || g.retries > guardRetries
	if ok {
		g.retries = 0
	}
	take := segs // the merger's snapshot is older than this one: any may be taken
	if !ok || same {
		plan, err := mergeplan.Plan(segs, &mergeOptions)
		if err != nil {
			g.mu.Unlock()
			return false
		}
		take = nil
		if plan != nil {
			for _, t := range plan.Tasks {
				take = append(take, t.Segments...)
			}
		}
	}
	var check []string
	for _, sg := range take {
		if name := names[sg.Id()]; g.unverified[name] {
			check = append(check, name)
		}
	}
	g.mu.Unlock()

	for _, name := range check {
		problem, err := verifySegmentUntil(filepath.Join(dir, name), stop)
		if errors.Is(err, errStopped) {
			return false
		}
		if err != nil {
			problem = fmt.Sprintf("unreadable: %v", err)
		}
		g.mu.Lock()
		if problem != "" {
			g.damaged = fmt.Sprintf("segment %s: %s", name, problem)
		} else {
			delete(g.unverified, name)
		}
		g.mu.Unlock()
		if problem != "" {
			// Best effort: the next Open then checks every segment.
			_ = os.Remove(filepath.Join(filepath.Dir(dir), verifiedFile))
			<-stop
			return false
		}
	}
	return ok
}

// closeStart releases the merger of an index that starts closing.
func closeStart(s *scorch.Scorch) {
	guards.Range(func(_, v any) bool {
		g := v.(*mergeGuard)
		g.mu.Lock()
		if g.sc == s && !g.stopped {
			g.stopped = true
			close(g.stop)
			if g.prev != nil {
				_ = g.prev.Close()
				g.prev = nil
			}
		}
		g.mu.Unlock()
		return true
	})
}
