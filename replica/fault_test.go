package replica_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
	"github.com/nats-io/nats.go/jetstream"
)

var faultSeed = flag.Uint64("fault.seed", 0, "seed of TestSync_serverRestart (0: CAIRN_FAULT_SEED or the clock)")

// TestSync_serverRestart restarts the nats-server at a random moment while
// one device pushes and another pulls, a few rounds, and requires that
// after the syncs are retried every change arrived exactly once: the other
// store equals the writer's, the stream holds one message per change, and
// the puller applied each message once.
func TestSync_serverRestart(t *testing.T) {
	seed := *faultSeed
	if s := os.Getenv("CAIRN_FAULT_SEED"); seed == 0 && s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -fault.seed=%d or CAIRN_FAULT_SEED)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	rounds, perRound := 3, 150
	if testing.Short() {
		rounds, perRound = 2, 80
	}

	storeDir := t.TempDir()
	s := startServer(t, storeDir, -1)
	port := s.Addr().(interface{ String() string }).String()
	_, portStr, _ := cut(port)
	portN, _ := strconv.Atoi(portStr)
	a := openDevice(t, s.ClientURL(), "writer")
	b := openDevice(t, s.ClientURL(), "reader")

	written, pulled := 0, 0
	for round := range rounds {
		if err := a.db.Update(context.Background(), func(tx *kv.Tx) error {
			for i := range perRound {
				if _, err := tx.Put("notes", kv.Document{"id": fmt.Sprintf("r%d-%d", round, i), "title": "x"}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		written += perRound
		// Sync both while the server goes down and comes back.
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, d := range []*device{a, b} {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				res, _ := d.r.Sync(ctx) // may fail: retried below
				mu.Lock()
				if d == b {
					pulled += res.Pulled
				}
				mu.Unlock()
			})
		}
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		s.Shutdown()
		s.WaitForShutdown()
		s = startServer(t, storeDir, portN)
		wg.Wait()
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, errA := a.r.Sync(ctx)
			res, errB := b.r.Sync(ctx)
			cancel()
			pulled += res.Pulled
			if errA == nil && errB == nil {
				break
			}
			if attempt == 20 {
				t.Fatalf("round %d: syncs still failing after the restart: %v, %v", round, errA, errB)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if got, want := snapshotOf(t, b, "notes"), snapshotOf(t, a, "notes"); got != want {
		t.Fatalf("the reader's notes differ from the writer's")
	}
	js, err := jetstream.New(a.nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(context.Background(), "CAIRN_default")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter("cairn.default.ch.writer"))
	if err != nil {
		t.Fatal(err)
	}
	if n := info.State.Subjects["cairn.default.ch.writer"]; n != uint64(written) {
		t.Errorf("the stream holds %d messages of the writer for %d changes (lost or duplicated)", n, written)
	}
	if pulled != written {
		t.Errorf("the reader applied %d messages for %d changes", pulled, written)
	}
	if cs, _ := replica.Conflicts(context.Background(), b.db); len(cs) != 0 {
		t.Errorf("conflicts without concurrent edits: %v", cs)
	}
}

func cut(hostport string) (string, string, bool) {
	for i := len(hostport) - 1; i >= 0; i-- {
		if hostport[i] == ':' {
			return hostport[:i], hostport[i+1:], true
		}
	}
	return hostport, "", false
}
