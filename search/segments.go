package search

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// verifiedFile lists, one "name size mtime" line each, the segment files
// whose CRC-32 Open has already checked. Segments are never rewritten, so a
// file still listed with the same size and modification time is not read
// again; anything else (a new segment, a rewritten or replaced one) is. Like
// the hint it is written without fsync: a lost or garbled list only costs
// one more read of every segment.
const verifiedFile = "cairn-verified"

// verifyLive checks, before the index is opened for writing, the CRC of
// every live segment not checked before, and returns a reason to recreate
// the index if one is damaged or missing, or if the index cannot be opened
// at all; "" otherwise, and when its lock is held (the writable open then
// reports ErrBusy). trusted names the segment files it did not read, for
// the merge guard; damaged is true when the reason is a segment file
// damaged or missing.
//
// Bleve's merger starts as soon as the index is opened for writing and
// reads whole segments; on some damage (a flipped location count) zap's
// reader loops forever, appending, and the index can then never be closed.
// So the segments are checked from a read-only open, which starts no
// merger, before the writable one. And the newest snapshot's segment
// files not checked before are checked before even that open: zap reads a
// segment's section index as it opens it, and on some damage there asks
// for terabytes, a fatal out of memory no recover catches. That first pass
// reads the names from root.bolt and holds its shared lock meanwhile, so
// that no writer adds or removes a segment while it reads them.
func verifyLive(dir string) (trusted []string, reason string, damaged bool) {
	seen := readVerified(dir)
	checked := map[string]bool{}
	err := rootSegments(dir, lockTimeout, func(names []string) error {
		for _, name := range names {
			p := filepath.Join(dir, "store", name)
			fi, err := os.Stat(p)
			if err != nil {
				reason, damaged = fmt.Sprintf("segment %s missing: %v", name, err), true
				return nil
			}
			key := fmt.Sprintf("%s %d %d", name, fi.Size(), fi.ModTime().UnixNano())
			check := verifySegment
			if seen[key] {
				check = footerProblem // checked before: only what zap trusts at open
			}
			problem, err := check(p)
			if err != nil {
				problem = fmt.Sprintf("unreadable: %v", err)
			}
			if problem != "" {
				reason, damaged = fmt.Sprintf("segment %s: %s", name, problem), true
				return nil
			}
			if !seen[key] {
				checked[key] = true
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errRootBusy):
		return nil, "", false // the writable open reports ErrBusy
	case err != nil:
		return nil, fmt.Sprintf("index unopenable: %v", err), false
	case reason != "":
		return nil, reason, damaged
	}
	paths, err := liveSegments(dir)
	if err != nil {
		if strings.Contains(err.Error(), "timeout") {
			return nil, "", false
		}
		// Not retried writable: a scorch that fails to load its snapshot
		// panics in its own Close and keeps root.bolt, and its lock, open.
		return nil, fmt.Sprintf("index unopenable: %v", err), false
	}
	var keep []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Sprintf("segment %s missing: %v", filepath.Base(p), err), true
		}
		key := fmt.Sprintf("%s %d %d", filepath.Base(p), fi.Size(), fi.ModTime().UnixNano())
		switch {
		case seen[key]:
			trusted = append(trusted, filepath.Base(p))
		case checked[key]:
		default:
			problem, err := verifySegment(p)
			if err != nil {
				return nil, fmt.Sprintf("segment %s unreadable: %v", filepath.Base(p), err), true
			}
			if problem != "" {
				return nil, fmt.Sprintf("segment %s: %s", filepath.Base(p), problem), true
			}
		}
		keep = append(keep, key)
	}
	// Best effort, as the hint: a list that was not written only means the
	// segments are read again at the next Open.
	_ = os.WriteFile(filepath.Join(dir, verifiedFile), []byte(strings.Join(keep, "\n")+"\n"), 0o600)
	return trusted, "", false
}

// liveSegments opens the index in dir read-only and returns the paths of
// the segment files of the snapshot it serves.
func liveSegments(dir string) (paths []string, err error) {
	defer guard("list segments", &err)
	c := map[string]any{"read_only": true, "bolt_timeout": lockTimeout.String()}
	bi, err := bleve.OpenUsing(dir, c)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, closeGuarded(bi)) }()
	adv, err := bi.Advanced()
	if err != nil {
		return nil, err
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil, fmt.Errorf("index is %T, not scorch", adv)
	}
	r, err := sc.Reader()
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, r.Close()) }()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, fmt.Errorf("index reader is %T", r)
	}
	for _, ss := range snap.Segments() {
		if ps, ok := ss.Segment().(segment.PersistedSegment); ok {
			paths = append(paths, ps.Path())
		}
	}
	return paths, nil
}

// readVerified returns the lines of dir's verified list.
func readVerified(dir string) map[string]bool {
	b, err := os.ReadFile(filepath.Join(dir, verifiedFile))
	if err != nil {
		return nil
	}
	m := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			if _, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				m[line] = true
			}
		}
	}
	return m
}

// closeTimeout bounds how long closing a Bleve index may take. A variable
// so tests can shorten it.
var closeTimeout = 10 * time.Second

// errCloseStuck is closeBounded's error when Bleve did not close in time.
var errCloseStuck = errors.New("bleve did not close")

// closeBounded closes bi, turning a panic into an error, and gives up
// after closeTimeout: Close waits for Bleve's merger, which aborts a healthy
// merge at once but never returns from one stuck on a damaged segment (zap
// then loops forever). Such an index is abandoned, its goroutines left
// running, and the error wraps errCloseStuck and ErrCorrupt; the verified
// list is removed so that the next Open reads every segment again.
func closeBounded(dir string, bi bleve.Index) error {
	done := make(chan error, 1)
	go func() { done <- closeGuarded(bi) }()
	t := time.NewTimer(closeTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		unregisterGuard(dir)
		return err
	case <-t.C:
		_ = os.Remove(filepath.Join(dir, verifiedFile)) // best effort: the next Open then checks every segment
		return fmt.Errorf("cairn: %w within %v, abandoned (a segment damaged?): %w", errCloseStuck, closeTimeout, ErrCorrupt)
	}
}
