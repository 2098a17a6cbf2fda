package replica_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestSync_clusterNodeDown syncs three stores through a 3-node JetStream
// cluster (stream and blob store with 3 replicas), each store connected
// to a different node, and shuts a node down in the middle of their
// syncs: first the node leading the stream, then, with it back, another.
// After the survivors' syncs are retried every store equals the model,
// every device's messages are on the stream once each, and each device
// applied every other device's message exactly once.
func TestSync_clusterNodeDown(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-node cluster takes a few seconds to elect its leaders")
	}
	rng := rand.New(rand.NewPCG(testSeed(t, "CAIRN_CLUSTER_SEED"), 3))
	c := startCluster(t)
	var devs []*fdev
	for i, name := range []string{"c0", "c1", "c2"} {
		devs = append(devs, newFdev(t, name, c.urls(i), 3))
	}
	js := clusterJS(t, c)
	for _, name := range []string{"CAIRN_default", "OBJ_CAIRN_default_blobs"} {
		info, err := js.Stream(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if n := info.CachedInfo().Config.Replicas; n != 3 {
			t.Errorf("%s has %d replicas, want 3", name, n)
		}
	}
	w := newWorkload(rng)
	w.seed(t, devs[0])
	settle(t, devs...)

	for round := range 2 {
		w.deal(len(devs))
		for k, d := range devs {
			w.edit(t, k, d, 40)
		}
		// The node to take down: the stream's leader, then another one.
		st, err := js.Stream(context.Background(), "CAIRN_default")
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		down := -1
		for i, o := range c.opts {
			if o.ServerName == info.Cluster.Leader && (round == 0 || c.servers[i] != nil) {
				down = i
			}
		}
		if down < 0 || round == 1 {
			down = (down + 1 + rng.IntN(2)) % 3
		}
		var wg sync.WaitGroup
		for _, d := range devs {
			wg.Go(func() { _ = d.trySync(5 * time.Second) }) // may fail: settled below
		}
		time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
		t.Logf("round %d: node n%d (stream leader %s) shut down mid-sync", round, down, info.Cluster.Leader)
		c.stop(down)
		wg.Wait()
		w.edit(t, 0, devs[0], 5) // changes made while the node is down
		settle(t, devs...)
		w.verify(t, devs...)
		bySeq := auditStream(t, devs[(down+1)%3].nc, devs...)
		for _, d := range devs {
			if want := othersAfter(bySeq, 0, d.name); d.pulled != want {
				t.Errorf("round %d: %s applied %d messages, the others published %d", round, d.name, d.pulled, want)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		c.start(down) // back for the next round, with the stream's data
		c.waitLeader()
		js = clusterJS(t, c)
	}
}

// clusterJS connects to every node of the cluster for inspection.
func clusterJS(t testing.TB, c *cluster) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(c.urls(0), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}
