package replica_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// envInt returns the integer in environment variable env, or def.
func envInt(t testing.TB, env string, def int) int {
	s := os.Getenv(env)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", env, s)
	}
	return n
}

// TestSync_sigkill runs `sync` continuously in a child process (this test
// binary re-executed: Replica.Run on store A) while the child commits
// edits to A and this process writes to store B and syncs it; the child
// is SIGKILLed at a random moment, several rounds. After each kill A
// checks clean, holds every edit the child acknowledged (and at most the
// one in flight), the next sync completes, and both stores equal the
// model of everything written, field for field, with every message on
// the stream exactly once and both pull cursors at its end.
func TestSync_sigkill(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t, "CAIRN_SIGKILL_SEED"), 5))
	rounds := envInt(t, "CAIRN_SIGKILL_ROUNDS", 4)
	if testing.Short() {
		rounds = 2
	}
	s := startServer(t, "", -1)
	a := newFdev(t, "ka", s.ClientURL(), 1)
	b := newFdev(t, "kb", s.ClientURL(), 1)
	bm := model{"notes": {}}
	next, bn := 0, 0
	for round := range rounds {
		a.close(t)
		c := startChild(t, a, fmt.Sprintf("%d,%d", next, 1+rng.IntN(4)))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				// A burst of writes on B, for the child to pull.
				err := b.db.Update(context.Background(), func(tx *kv.Tx) error {
					for range 20 {
						id := fmt.Sprint("kb-", bn%60)
						doc := kv.Document{"id": id, "title": fmt.Sprint("b ", bn), "n": bn}
						if _, err := tx.Put("notes", doc); err != nil {
							return err
						}
						bm.put("notes", id, map[string]any{"title": fmt.Sprint("b ", bn), "n": bn})
						bn++
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				_ = b.trySync(2 * time.Second) // settled below
			}
		})
		time.Sleep(time.Duration(30+rng.IntN(400)) * time.Millisecond)
		acked := c.kill(t)
		close(stop)
		wg.Wait()
		a.openAfter(t, true) // checks the store
		doc, _, err := a.db.Get(context.Background(), "topics", "ka-counter")
		last := -1
		if err == nil {
			last, _ = strconv.Atoi(fmt.Sprint(doc["last"]))
		}
		if last < acked || last > acked+1 {
			t.Fatalf("round %d: A's last edit is %d, the child acknowledged up to %d", round, last, acked)
		}
		next = last + 1
		t.Logf("round %d: killed after %d edits (%d acknowledged)", round, next, acked+1)
		settle(t, a, b)
		m := childModel("ka", next)
		for id, d := range bm["notes"] {
			m.put("notes", id, d)
		}
		for _, d := range []*fdev{a, b} {
			checkModel(t, d.name, d.db, m)
		}
		if got, want := contents(t, a.db, "notes", "topics"), contents(t, b.db, "notes", "topics"); got != want {
			t.Errorf("round %d: A and B differ:\n%s", round, diffLines(want, got))
		}
		auditStream(t, b.nc, a, b)
		if t.Failed() {
			t.FailNow()
		}
	}
}
