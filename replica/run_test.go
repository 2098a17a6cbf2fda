package replica_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// TestRun_survivesServerRestart: a device syncing continuously (Run, as
// kvtool sync does without --once) goes on through a server restart and
// an outage longer than its requests' timeout, and afterwards still pulls and pushes. Run used
// to return the first sync error, ending kvtool sync at the first
// restart of the server.
func TestRun_survivesServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a 6 s server outage")
	}
	dir := t.TempDir()
	s := startServer(t, dir, -1)
	_, portStr, _ := cut(s.Addr().String())
	port, _ := strconv.Atoi(portStr)
	a := openDevice(t, s.ClientURL(), "a")
	b := openDevice(t, s.ClientURL(), "b")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.r.Run(ctx, 50*time.Millisecond, nil) }()
	ended := false
	defer func() {
		cancel()
		if err := <-done; !ended && !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	}()
	// waitFor waits until db holds notes/id, or Run ended.
	waitFor := func(db *kv.DB, id string, syncB bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if syncB {
				sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, _ = b.r.Sync(sctx) // may fail while the server restarts
				scancel()
			}
			if _, _, err := db.Get(context.Background(), "notes", id); err == nil {
				return
			}
			select {
			case err := <-done:
				ended = true
				done <- err
				t.Fatalf("Run returned while waiting for %s: %v", id, err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not arrive in 30s", id)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	b.put(t, "notes", kv.Document{"id": "before", "title": "x"})
	waitFor(a.db, "before", true)
	for i := range 1 {
		s.Shutdown()
		s.WaitForShutdown()
		time.Sleep(6 * time.Second) // longer than JetStream's 5 s request timeout: Run's syncs fail
		s = startServer(t, dir, port)
		id := "after-" + strconv.Itoa(i)
		b.put(t, "notes", kv.Document{"id": id, "title": "x"})
		waitFor(a.db, id, true)
		a.put(t, "notes", kv.Document{"id": "from-a-" + strconv.Itoa(i), "title": "y"})
		waitFor(b.db, "from-a-"+strconv.Itoa(i), true)
	}
}
