package main

import (
	"encoding/json"
	"net"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// TestSync_onceWaitsForServer: sync --once started while the server is
// unreachable waits for it like for a lost connection (it fails only once
// the reconnects are spent), and syncs when the server comes up, as a
// sync whose push is cut by a server restart goes on once it is back.
func TestSync_onceWaitsForServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	db := filepath.Join(t.TempDir(), "a")
	mustRun(t, `{"id":"n1","title":"from a"}`, "--db", db, "put", "notes")
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	done := make(chan result, 1)
	go func() {
		done <- kvtool(t, "", "--db", db, "sync", "--once", "--nats", url, "--device", "a")
	}()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true, DisableJetStreamBanner: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(s.Shutdown)
	r := <-done
	if r.code != 0 {
		t.Fatalf("sync --once once the server came up: exit %d, %s", r.code, r.stderr)
	}
	var got map[string]int
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got["pushed"] != 1 {
		t.Errorf("sync output %q (%v), want 1 pushed", r.stdout, err)
	}
}
