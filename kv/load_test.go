package kv_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// TestLoad_manyWriters runs 1,000 goroutines writing, patching and reading
// at once for a bounded time (3 s; CAIRN_LOAD_SECONDS for longer), then
// checks the store against what each goroutine knows it wrote:
//
//   - each goroutine owns a task it puts and patches (with IfRev of the
//     revision it last got back, which must never conflict);
//   - each patches its own field of a shared session and increments its
//     own counter field of it with Modify (distinct fields of one document:
//     no update may be lost);
//   - all of them increment one hot counter with compare-and-swap (IfRev):
//     the only error allowed anywhere is ErrConflict there, and the final
//     count must equal the number of successful swaps;
//   - reads must see the reader's own last write.
func TestLoad_manyWriters(t *testing.T) {
	const goroutines = 1000
	const shared = 20
	seconds := 3.0
	if testing.Short() {
		seconds = 1.5
	}
	if v := os.Getenv("CAIRN_LOAD_SECONDS"); v != "" {
		seconds, _ = strconv.ParseFloat(v, 64)
	}
	db := openTest(t)
	err := db.Update(context.Background(), func(tx *kv.Tx) error {
		for s := 0; s < shared; s++ {
			if _, err := tx.Put("sessions", kv.Document{"id": fmt.Sprint("shared-", s), "name": "shared", "status": "active"}); err != nil {
				return err
			}
		}
		_, err := tx.Put("topics", kv.Document{"id": "hot", "name": "hot", "n": int64(0)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	type local struct {
		ownN      int64  // last n put or patched into the own task
		ownRev    uint64 // its revision
		field     int64  // last value patched into the session's f<g>
		modified  int64  // increments of the session's m<g>
		casOK     int64  // successful hot swaps
		conflicts int64  // expected conflicts seen
		reads     int64
		writes    int64
	}
	locals := make([]local, goroutines)
	var (
		errMu    sync.Mutex
		failures []string
		failN    atomic.Int64
	)
	fail := func(format string, args ...any) {
		if failN.Add(1) <= 20 {
			errMu.Lock()
			failures = append(failures, fmt.Sprintf(format, args...))
			errMu.Unlock()
		}
	}
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	start := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			l := &locals[g]
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			own := fmt.Sprint("own-", g)
			sess := fmt.Sprint("shared-", g%shared)
			field := fmt.Sprint("f", g)
			counter := fmt.Sprint("m", g)
			for time.Now().Before(deadline) {
				switch r := rng.IntN(100); {
				case r < 25 || l.ownRev == 0: // put the own task
					l.ownN++
					rev, err := db.Put(context.Background(), "tasks", kv.Document{"id": own, "title": "load", "status": "todo", "n": l.ownN})
					if err != nil {
						fail("g%d put: %v", g, err)
						return
					}
					l.ownRev = rev
					l.writes++
				case r < 35: // patch the own task with the revision last seen
					l.ownN++
					rev, err := db.Patch(context.Background(), "tasks", own, kv.Document{"n": l.ownN}, kv.IfRev(l.ownRev))
					if err != nil {
						fail("g%d patch own with IfRev(%d): %v", g, l.ownRev, err)
						return
					}
					l.ownRev = rev
					l.writes++
				case r < 40: // a stale revision must conflict
					_, err := db.Patch(context.Background(), "tasks", own, kv.Document{"n": int64(-1)}, kv.IfRev(l.ownRev-1))
					if !errors.Is(err, kv.ErrConflict) {
						fail("g%d stale IfRev(%d): %v, want ErrConflict", g, l.ownRev-1, err)
						return
					}
					l.conflicts++
				case r < 60: // patch my field of the shared session
					l.field++
					if _, err := db.Patch(context.Background(), "sessions", sess, kv.Document{field: l.field}); err != nil {
						fail("g%d patch shared: %v", g, err)
						return
					}
					l.writes++
				case r < 67: // increment my counter of the shared session
					_, err := db.Modify(context.Background(), "sessions", sess, func(doc kv.Document) error {
						n, _ := doc[counter].(int64)
						doc[counter] = n + 1
						return nil
					})
					if err != nil {
						fail("g%d modify shared: %v", g, err)
						return
					}
					l.modified++
					l.writes++
				case r < 75: // compare-and-swap the hot counter
					doc, rev, err := db.Get(context.Background(), "topics", "hot")
					if err != nil {
						fail("g%d get hot: %v", g, err)
						return
					}
					n, _ := doc["n"].(int64)
					doc["n"] = n + 1
					_, err = db.Put(context.Background(), "topics", doc, kv.IfRev(rev))
					switch {
					case err == nil:
						l.casOK++
						l.writes++
					case errors.Is(err, kv.ErrConflict):
						l.conflicts++
					default:
						fail("g%d swap hot: %v", g, err)
						return
					}
				default: // read my own writes
					l.reads++
					doc, rev, err := db.Get(context.Background(), "tasks", own)
					if err != nil {
						fail("g%d get own: %v", g, err)
						return
					}
					if n, _ := doc["n"].(int64); n != l.ownN || rev != l.ownRev {
						fail("g%d read own task n=%d rev=%d, wrote n=%d rev=%d", g, n, rev, l.ownN, l.ownRev)
						return
					}
					l.reads++
					doc, _, err = db.Get(context.Background(), "sessions", sess)
					if err != nil {
						fail("g%d get shared: %v", g, err)
						return
					}
					if v, _ := doc[field].(int64); v != l.field {
						fail("g%d read shared %s=%d, wrote %d", g, field, v, l.field)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, f := range failures {
		t.Error(f)
	}
	if n := failN.Load(); n > int64(len(failures)) {
		t.Errorf("... %d failures in all", n)
	}
	// The model check.
	var writes, reads, conflicts, swaps int64
	fields := map[string]map[string]int64{}
	for g := range locals {
		l := &locals[g]
		writes += l.writes
		reads += l.reads
		conflicts += l.conflicts
		swaps += l.casOK
		if l.ownRev > 0 {
			doc, rev, err := db.Get(context.Background(), "tasks", fmt.Sprint("own-", g))
			if err != nil {
				t.Fatalf("own-%d: %v", g, err)
			}
			if n, _ := doc["n"].(int64); n != l.ownN || rev != l.ownRev {
				t.Errorf("own-%d: n=%d rev=%d, last written n=%d rev=%d", g, n, rev, l.ownN, l.ownRev)
			}
		}
		sess := fmt.Sprint("shared-", g%shared)
		if fields[sess] == nil {
			doc, _, err := db.Get(context.Background(), "sessions", sess)
			if err != nil {
				t.Fatal(err)
			}
			fields[sess] = map[string]int64{}
			for k, v := range doc {
				if n, ok := v.(int64); ok {
					fields[sess][k] = n
				}
			}
		}
		if got := fields[sess][fmt.Sprint("f", g)]; got != l.field {
			t.Errorf("%s.f%d = %d, last patched %d: lost update", sess, g, got, l.field)
		}
		if got := fields[sess][fmt.Sprint("m", g)]; got != l.modified {
			t.Errorf("%s.m%d = %d after %d increments: lost update", sess, g, got, l.modified)
		}
	}
	hot, _, err := db.Get(context.Background(), "topics", "hot")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := hot["n"].(int64); n != swaps {
		t.Errorf("hot counter %d after %d successful swaps: lost update", n, swaps)
	}
	t.Logf("%d goroutines, %.1fs: %d writes (%.0f/s), %d reads (%.0f/s), %d hot swaps, %d expected conflicts",
		goroutines, elapsed.Seconds(), writes, float64(writes)/elapsed.Seconds(), reads, float64(reads)/elapsed.Seconds(), swaps, conflicts)
}
