package webui

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// settle is how long data.db must have gone unmodified for its version to
// be settled (see storeVersion).
const settle = time.Second

// storeVersion names the state of data.db without opening the store (no
// lock taken, nothing read): its device, inode, size and modification
// time. Every commit writes the file, so its modification time moves; a
// restore, compaction, import or migration renames another file over it,
// so its inode changes. This is what the page polls (the one place a
// change feed would replace), and what cached results are keyed by.
//
// The kernel stamps modification times from a coarse clock (a few
// milliseconds), so two commits within one tick may leave the same
// version. A version is therefore settled only once the file has gone
// unmodified for settle: any later write gets a later time. An unsettled
// version carries the current time, so a poller keeps seeing changes until
// it settles, and nothing computed under it is cached.
func storeVersion(dir string, now time.Time) (version string, settled bool) {
	fi, err := os.Stat(filepath.Join(dir, kv.DataFile))
	if err != nil {
		return "none", false
	}
	version = fmt.Sprintf("%s.%x.%x", fileID(fi), fi.Size(), fi.ModTime().UnixNano())
	if now.Sub(fi.ModTime()) < settle {
		return fmt.Sprintf("%s~%x", version, now.UnixNano()), false
	}
	return version, true
}

// memo keeps results computed from one settled version of the store
// (collection counts, the sorted ids of a collection, stats), so that
// paging through a sorted collection sorts it once, and computes each once
// however many requests ask for it at the same time. A new version drops
// everything.
type memo struct {
	mu      sync.Mutex
	version string
	vals    map[string]*entry
}

// entry is one value of the memo, being computed until done is closed.
type entry struct {
	done chan struct{}
	val  any
	err  error
}

// memoMax bounds the entries kept for one version; past it, the memo
// starts over.
const memoMax = 32

// claim returns the entry of key for version, and whether the caller is
// to compute it (a new entry) rather than wait for it.
func (m *memo) claim(version, key string) (*entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version != version || len(m.vals) >= memoMax {
		m.version, m.vals = version, map[string]*entry{}
	}
	if e, ok := m.vals[key]; ok {
		return e, false
	}
	e := &entry{done: make(chan struct{})}
	m.vals[key] = e
	return e, true
}

// drop forgets a failed entry, so that the next request computes it again.
func (m *memo) drop(version, key string, e *entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version == version && m.vals[key] == e {
		delete(m.vals, key)
	}
}

// cached returns the value of key for the current version of the store,
// computing it (and keeping it, if the version is settled) when needed;
// concurrent requests for it wait for one computation. The version is read
// before compute reads the store, so a kept value is never older than the
// version it is kept under: a commit in between makes it newer, and the
// next request, seeing a newer version, computes again. compute must not
// depend on one request's context: others may wait for it.
func cached[T any](s *Server, key string, compute func() (T, error)) (T, error) {
	version, settled := storeVersion(s.dir, time.Now())
	if !settled {
		return compute()
	}
	e, mine := s.memo.claim(version, key)
	if mine {
		e.val, e.err = compute()
		if e.err != nil {
			s.memo.drop(version, key, e)
		}
		close(e.done)
	} else {
		<-e.done
	}
	if e.err != nil {
		var zero T
		return zero, e.err
	}
	return e.val.(T), nil
}
