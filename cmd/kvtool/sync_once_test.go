package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// sync --once whose server dies mid-sync gives up after a few reconnects
// and fails with an error saying so, instead of waiting forever (holding
// the store).
func TestSync_onceServerDies(t *testing.T) {
	s := natsServer(t, nil)
	url := s.ClientURL()
	a := filepath.Join(t.TempDir(), "a")
	var docs bytes.Buffer
	docs.WriteString("[")
	for i := range 3000 {
		if i > 0 {
			docs.WriteString(",")
		}
		fmt.Fprintf(&docs, `{"id":"n%d","title":"note %d"}`, i, i)
	}
	docs.WriteString("]")
	mustRun(t, docs.String(), "--db", a, "put", "notes")

	done := make(chan result, 1)
	go func() { done <- kvtool(t, "", "--db", a, "sync", "--once", "--nats", url, "--device", "a") }()
	// Once the first changes are on the stream (after the group's
	// encryption record), the server goes away.
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := js.Stream(ctx, "CAIRN_default")
		if err == nil {
			var info *jetstream.StreamInfo
			if info, err = st.Info(ctx); err == nil && info.State.Msgs > 1 {
				cancel()
				break
			}
		}
		cancel()
		if time.Now().After(deadline) {
			t.Fatal("sync published nothing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	nc.Close()
	s.Shutdown()
	select {
	case r := <-done:
		if r.code == exitOK {
			var res map[string]int
			if json.Unmarshal([]byte(r.stdout), &res) == nil && res["pushed"] == 3000 {
				t.Skip("the sync ended before the server went away")
			}
			t.Fatalf("sync --once exit 0 though the server died: %s", r.stdout)
		}
		// Where it was when the server went decides the words
		// (disconnected, connection lost, a deadline), not the exit.
		if r.code != exitError || strings.TrimSpace(r.stderr) == "" {
			t.Errorf("exit %d, stderr %q: want exit %d and the error", r.code, r.stderr, exitError)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("sync --once still running a minute after the server died")
	}
}
