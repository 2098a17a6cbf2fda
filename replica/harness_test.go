package replica_test

// The fault harness shared by the cluster, SIGKILL and fault-round tests:
// a device whose store can be closed and reopened (or handed to a child
// process), a 3-node JetStream cluster, the child process that syncs a
// store until it is killed, and the audits that prove no change was lost
// or applied twice.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// storeOpts are the options every store of these tests opens with.
func storeOpts() *kv.Options { return &kv.Options{NoAutoBackup: true, NoSearch: true} }

// testSeed returns the seed of a randomised test: the environment
// variable env when set, else the clock. It logs how to replay it.
func testSeed(t testing.TB, env string) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(env); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: not a number", env, s)
		}
		seed = v
	}
	t.Logf("seed %d (replay with %s=%d)", seed, env, seed)
	return seed
}

// fdev is a device of the fault tests: its store lives in dir and can be
// closed (to hand it to a child process) and opened again.
type fdev struct {
	name     string
	dir      string
	urls     string // the servers it connects to, comma-separated, first preferred
	replicas int
	db       *kv.DB
	nc       *nats.Conn
	r        *replica.Replica
	pulled   int  // messages applied by this process's syncs
	killed   bool // SIGKILLed since the last check
}

func newFdev(t testing.TB, name, urls string, replicas int) *fdev {
	t.Helper()
	d := &fdev{name: name, dir: t.TempDir(), urls: urls, replicas: replicas}
	d.open(t)
	t.Cleanup(func() {
		if d.db != nil {
			d.close(t)
		}
	})
	return d
}

// open opens the store, checks it, connects and prepares the replica.
func (d *fdev) open(t testing.TB) {
	t.Helper()
	d.openAfter(t, false)
}

// openAfter is open, after a kill when killed is set (see check).
func (d *fdev) openAfter(t testing.TB, killed bool) {
	t.Helper()
	db, err := kv.Open(d.dir, storeOpts())
	if err != nil {
		t.Fatalf("%s: open: %v", d.name, err)
	}
	d.db = db
	d.killed = d.killed || killed
	d.check(t)
	d.nc, err = nats.Connect(d.urls, nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), nats.Timeout(2*time.Second))
	if err != nil {
		t.Fatalf("%s: connect: %v", d.name, err)
	}
	// The stream may be between leaders (a cluster node just went down):
	// New is retried like a sync.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d.r, err = replica.New(ctx, db, d.nc, &replica.Options{Device: d.name, Replicas: d.replicas})
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: replica.New: %v", d.name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// check fails the test when the store's full check finds a problem.
//
// After a kill, attachment contents written by a transaction that never
// committed are expected (blobstore's caveat: a crash between the write
// and the commit leaves an orphan for gc): check may then report them as
// blob-orphan, gc must delete exactly those, and the store must then check
// clean, as bench/crash requires. Otherwise an orphan is a problem like
// any other: a failed sync's transaction, or one whose pulled attachment
// lost its merge, deletes the content it wrote when it ends (kv's
// StoreContent).
func (d *fdev) check(t testing.TB) {
	t.Helper()
	if d.killed {
		d.killed = false
		rep, err := d.db.Check(context.Background())
		if err != nil {
			t.Fatalf("%s: check: %v", d.name, err)
		}
		orphans := 0
		for _, p := range rep.Problems {
			if p.Kind == "blob-orphan" {
				orphans++
			}
		}
		if orphans > 0 {
			gc, err := d.db.GC(context.Background(), false)
			if err != nil {
				t.Fatalf("%s: gc: %v", d.name, err)
			}
			if gc.Deleted != orphans {
				t.Fatalf("%s: check found %d orphan blobs after a kill, gc deleted %d", d.name, orphans, gc.Deleted)
			}
		}
	}
	rep, err := d.db.Check(context.Background())
	if err != nil {
		t.Fatalf("%s: check: %v", d.name, err)
	}
	for _, p := range rep.Problems {
		t.Errorf("%s: check: %v", d.name, p)
	}
	if len(rep.Problems) > 0 {
		t.FailNow()
	}
}

func (d *fdev) close(t testing.TB) {
	t.Helper()
	d.nc.Close()
	d.check(t)
	if err := d.db.Close(); err != nil {
		t.Fatalf("%s: close: %v", d.name, err)
	}
	d.db, d.nc, d.r = nil, nil, nil
}

// trySync runs one sync bounded by timeout and counts what it applied
// (a failed sync still applied the batches it committed).
func (d *fdev) trySync(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := d.r.Sync(ctx)
	d.pulled += res.Pulled
	return err
}

// settle syncs every device, again and again, until a whole pass moves
// nothing: after it every store has every change. Failures (a server
// coming back, a leader being elected) are retried for up to a minute.
func settle(t testing.TB, devs ...*fdev) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	quiet := 0
	var last error
	for quiet < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("still not settled after a minute: %v", last)
		}
		moved := false
		for _, d := range devs {
			before := d.pulled
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			res, err := d.r.Sync(ctx)
			cancel()
			d.pulled += res.Pulled
			if err != nil {
				last = fmt.Errorf("%s: %w", d.name, err)
				moved = true
				time.Sleep(100 * time.Millisecond)
				continue
			}
			if res.Pushed > 0 || d.pulled > before {
				moved = true
			}
		}
		if moved {
			quiet = 0
		} else {
			quiet++
		}
	}
}

// contents returns every document of the collections as canonical JSON
// lines, sorted, for comparing stores field for field.
func contents(t testing.TB, db *kv.DB, colls ...string) string {
	t.Helper()
	var lines []string
	err := db.View(context.Background(), func(tx *kv.Tx) error {
		for _, c := range colls {
			if err := tx.Each(c, func(id string, doc any) error {
				lines = append(lines, c+"/"+id+" "+js(doc))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// diffLines names the first lines where a and b differ.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	set := func(l []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range l {
			m[s] = true
		}
		return m
	}
	as, bs := set(al), set(bl)
	var out []string
	for _, s := range al {
		if !bs[s] && len(out) < 8 {
			out = append(out, "- "+s)
		}
	}
	for _, s := range bl {
		if !as[s] && len(out) < 16 {
			out = append(out, "+ "+s)
		}
	}
	return strings.Join(out, "\n")
}

// model is what the stores must hold: collection → id → fields.
type model map[string]map[string]map[string]any

func (m model) set(coll, id, f string, v any) {
	if m[coll] == nil {
		m[coll] = map[string]map[string]any{}
	}
	if m[coll][id] == nil {
		m[coll][id] = map[string]any{}
	}
	m[coll][id][f] = v
}

func (m model) put(coll, id string, doc map[string]any) {
	if m[coll] == nil {
		m[coll] = map[string]map[string]any{}
	}
	c := map[string]any{}
	for k, v := range doc {
		c[k] = v
	}
	m[coll][id] = c
}

// checkModel compares the store with the model field for field: every
// document of the model with exactly its fields (plus "id"), and no other
// document in the model's collections. Values compare as JSON.
func checkModel(t testing.TB, name string, db *kv.DB, m model) {
	t.Helper()
	var problems []string
	err := db.View(context.Background(), func(tx *kv.Tx) error {
		for coll, docs := range m {
			seen := map[string]bool{}
			if err := tx.Each(coll, func(id string, doc any) error {
				seen[id] = true
				want, ok := docs[id]
				if !ok {
					problems = append(problems, fmt.Sprintf("%s/%s is there, the model has no such document (resurrected or applied twice?): %s", coll, id, js(doc)))
					return nil
				}
				got, _ := doc.(map[string]any)
				for f, wv := range want {
					if js(got[f]) != js(wv) {
						problems = append(problems, fmt.Sprintf("%s/%s field %s = %s, model %s", coll, id, f, js(got[f]), js(wv)))
					}
				}
				for f, gv := range got {
					if _, ok := want[f]; !ok && f != "id" && !derived(coll, f) {
						problems = append(problems, fmt.Sprintf("%s/%s has field %s = %s, the model does not", coll, id, f, js(gv)))
					}
				}
				return nil
			}); err != nil {
				return err
			}
			for id := range docs {
				if !seen[id] {
					problems = append(problems, fmt.Sprintf("%s/%s is missing (lost)", coll, id))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(problems)
	for i, p := range problems {
		if i == 10 {
			t.Errorf("%s: ... %d more", name, len(problems)-10)
			break
		}
		t.Errorf("%s: %s", name, p)
	}
}

// derived reports the fields the store adds to a document itself.
func derived(coll, f string) bool {
	return coll == "attachments" && (f == "size" || f == "hash" || f == "createdAt")
}

// deviceState reads a store's sync state (replica_state/state).
func deviceState(t testing.TB, db *kv.DB) (outN, pulled uint64) {
	t.Helper()
	doc, _, err := db.Get(context.Background(), "replica_state", "state")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		OutN   uint64 `json:"out_n"`
		Pulled uint64 `json:"pulled"`
	}
	s, _ := doc["j"].(string)
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		t.Fatal(err)
	}
	return st.OutN, st.Pulled
}

// auditStream reads every message of the group's stream and requires, for
// each device, that its messages carry the message ids <device>-1 to
// <device>-n, each exactly once, where n is the number of messages the
// device's store says it made; and that every device's pull cursor reached
// the end of the stream. It returns the device of every stream sequence
// (bySeq[seq-1]).
func auditStream(t testing.TB, nc *nats.Conn, devs ...*fdev) (bySeq []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	j, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := j.Stream(ctx, "CAIRN_default")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	end := info.State.LastSeq
	seen := map[string]map[uint64]int{}
	if end > 0 {
		cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		var got uint64
		for got < end {
			batch, err := cons.Fetch(int(min(500, end-got)), jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			for msg := range batch.Messages() {
				md, err := msg.Metadata()
				if err != nil {
					t.Fatal(err)
				}
				got = md.Sequence.Stream
				if !strings.Contains(msg.Subject(), ".ch.") {
					continue // the group's record (cairn.<group>.meta), not a change
				}
				id := msg.Headers().Get(jetstream.MsgIDHeader)
				i := strings.LastIndexByte(id, '-')
				n, err := strconv.ParseUint(id[i+1:], 10, 64)
				if i < 0 || err != nil {
					t.Fatalf("stream sequence %d: message id %q", got, id)
				}
				dev := id[:i]
				for uint64(len(bySeq)) < got {
					bySeq = append(bySeq, "") // a sequence without a change: none is ever deleted, the group record has none
				}
				bySeq[got-1] = dev
				if msg.Subject() != "cairn.default.ch."+dev {
					t.Errorf("stream sequence %d: message %s on %s", got, id, msg.Subject())
				}
				if seen[dev] == nil {
					seen[dev] = map[uint64]int{}
				}
				seen[dev][n]++
			}
			if err := batch.Error(); err != nil && ctx.Err() != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range devs {
		outN, pulled := deviceState(t, d.db)
		for n, k := range seen[d.name] {
			if k > 1 {
				t.Errorf("%s: message %d is on the stream %d times (duplicated)", d.name, n, k)
			}
			if n < 1 || n > outN {
				t.Errorf("%s: message %d is on the stream, the device made %d", d.name, n, outN)
			}
		}
		for n := uint64(1); n <= outN; n++ {
			if seen[d.name][n] == 0 {
				t.Errorf("%s: message %d of %d is not on the stream (lost)", d.name, n, outN)
			}
		}
		if pulled != end {
			t.Errorf("%s: pulled up to stream sequence %d of %d", d.name, pulled, end)
		}
	}
	return bySeq
}

// othersAfter counts the messages of devices other than dev at stream
// sequences after from: what dev must apply when it pulls from there.
func othersAfter(bySeq []string, from uint64, dev string) int {
	n := 0
	for _, d := range bySeq[min(from, uint64(len(bySeq))):] {
		if d != "" && d != dev {
			n++
		}
	}
	return n
}

// ---- the child process that syncs a store until it is killed

const syncChildEnv = "CAIRN_SYNCFAULT_CHILD" // the store's directory

// init turns the test binary into the sync child when the environment
// says so (an init, not TestMain, as in kv's crash test).
func init() {
	if dir := os.Getenv(syncChildEnv); dir != "" {
		os.Exit(syncChild(dir, os.Getenv("CAIRN_SYNCFAULT_URL"), os.Getenv("CAIRN_SYNCFAULT_DEVICE"), os.Getenv("CAIRN_SYNCFAULT_WRITES")))
	}
}

// syncChild opens the store in dir and syncs it with Replica.Run until it
// is killed. With writes set to "from,every", it also commits the
// deterministic edits childOp(from), childOp(from+1), ... (one transaction
// each, every "every" milliseconds) and prints "ack N" once edit N is
// committed.
func syncChild(dir, urls, device, writes string) int {
	db, err := kv.Open(dir, storeOpts())
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	nc, err := nats.Connect(urls, nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		fmt.Println("connect:", err)
		return 1
	}
	ctx := context.Background()
	r, err := replica.New(ctx, db, nc, &replica.Options{Device: device})
	if err != nil {
		fmt.Println("new:", err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "ready")
	out.Flush()
	if writes != "" {
		var from, every int
		if _, err := fmt.Sscanf(writes, "%d,%d", &from, &every); err != nil {
			fmt.Println("writes:", err)
			return 1
		}
		go func() {
			for n := from; ; n++ {
				if err := db.Update(ctx, func(tx *kv.Tx) error { return childOp(tx, device, n) }); err != nil {
					fmt.Println("write:", err)
					os.Exit(1)
				}
				fmt.Fprintln(out, "ack", n)
				out.Flush()
				time.Sleep(time.Duration(every) * time.Millisecond)
			}
		}()
	}
	for {
		// Run returns on a sync error (the server went away): go on.
		_ = r.Run(ctx, 20*time.Millisecond, nil)
		time.Sleep(20 * time.Millisecond)
	}
}

// childOp is edit n of the writing child: a new note, an edit of an
// earlier one's field, a field removed, or a delete, and the counter
// document that records n, all in one transaction.
func childOp(tx *kv.Tx, device string, n int) error {
	id := func(k int) string { return fmt.Sprintf("%s-%d", device, k) }
	var err error
	switch {
	case n%7 == 3 && n >= 3: // delete an earlier note
		_, err = tx.Delete("notes", id(n-3))
	case n%5 == 2 && n >= 2: // edit a field of an earlier one, remove another
		doc, _, gerr := tx.Get("notes", id(n-2))
		if gerr != nil {
			break // deleted: nothing to edit
		}
		doc["body"] = fmt.Sprint("edited by ", n)
		delete(doc, "status")
		_, err = tx.Put("notes", doc)
	default:
		_, err = tx.Put("notes", kv.Document{"id": id(n), "title": fmt.Sprint("note ", n), "status": "open", "n": n})
	}
	if err != nil {
		return err
	}
	_, err = tx.Put("topics", kv.Document{"id": device + "-counter", "name": "counter", "last": n})
	return err
}

// childModel is what edits 0..n-1 of the writing child leave.
func childModel(device string, n int) model {
	db := model{"notes": {}, "topics": {}}
	id := func(k int) string { return fmt.Sprintf("%s-%d", device, k) }
	for k := 0; k < n; k++ {
		switch {
		case k%7 == 3 && k >= 3:
			delete(db["notes"], id(k-3))
		case k%5 == 2 && k >= 2:
			if doc := db["notes"][id(k-2)]; doc != nil {
				doc["body"] = fmt.Sprint("edited by ", k)
				delete(doc, "status")
			}
		default:
			db.put("notes", id(k), map[string]any{"title": fmt.Sprint("note ", k), "status": "open", "n": k})
		}
		db.put("topics", device+"-counter", map[string]any{"name": "counter", "last": k})
	}
	return db
}

// child is a running sync child.
type child struct {
	cmd  *exec.Cmd
	acks chan int
	done chan struct{}
	out  strings.Builder // lines that were not acks
}

// startChild starts the sync child on d's store (closed by the caller)
// and waits for it to be ready.
func startChild(t testing.TB, d *fdev, writes string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), syncChildEnv+"="+d.dir, "CAIRN_SYNCFAULT_URL="+d.urls, "CAIRN_SYNCFAULT_DEVICE="+d.name, "CAIRN_SYNCFAULT_WRITES="+writes)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, acks: make(chan int, 1<<16), done: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			var n int
			switch {
			case line == "ready":
				ready <- true
			case strings.HasPrefix(line, "ack "):
				if _, err := fmt.Sscanf(line, "ack %d", &n); err == nil {
					c.acks <- n
				}
			default:
				c.out.WriteString(line + "\n")
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			<-c.done
			t.Fatalf("sync child of %s did not start: %s", d.name, c.out.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("sync child of %s not ready after 30s", d.name)
	}
	return c
}

// kill SIGKILLs the child and returns the highest acknowledged edit (-1:
// none).
func (c *child) kill(t testing.TB) int {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait() // killed: the error says so
	<-c.done
	if strings.Contains(c.out.String(), ":") {
		t.Fatalf("the sync child failed before the kill: %s", c.out.String())
	}
	last := -1
	for {
		select {
		case n := <-c.acks:
			last = max(last, n)
		default:
			return last
		}
	}
}

// ---- a 3-node JetStream cluster in this process

// freePort returns a port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// cluster is three nats-servers with JetStream, routed to each other.
type cluster struct {
	t       testing.TB
	opts    []*server.Options
	servers []*server.Server
}

// startCluster starts three routed JetStream servers on 127.0.0.1 (random
// ports, a store directory each) and waits for a meta leader.
func startCluster(t testing.TB) *cluster {
	t.Helper()
	c := &cluster{t: t}
	cports := []int{freePort(t), freePort(t), freePort(t)}
	var routes []*url.URL
	for _, p := range cports {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	for i := range 3 {
		o := &server.Options{
			ServerName: fmt.Sprintf("n%d", i),
			Host:       "127.0.0.1", Port: freePort(t),
			JetStream: true, StoreDir: filepath.Join(t.TempDir(), fmt.Sprint("n", i)),
			Cluster: server.ClusterOpts{Name: "cairn", Host: "127.0.0.1", Port: cports[i]},
			Routes:  routes,
			NoLog:   true, NoSigs: true, DisableJetStreamBanner: true,
		}
		c.opts = append(c.opts, o)
		c.servers = append(c.servers, nil)
	}
	for i := range 3 {
		c.start(i)
	}
	t.Cleanup(func() {
		for _, s := range c.servers {
			if s != nil {
				s.Shutdown()
				s.WaitForShutdown()
			}
		}
	})
	c.waitLeader()
	return c
}

func (c *cluster) start(i int) {
	c.t.Helper()
	o := *c.opts[i]
	s, err := server.NewServer(&o)
	if err != nil {
		c.t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		c.t.Fatalf("node %d not ready", i)
	}
	c.servers[i] = s
}

func (c *cluster) stop(i int) {
	c.servers[i].Shutdown()
	c.servers[i].WaitForShutdown()
	c.servers[i] = nil
}

// waitLeader waits until one running node is the JetStream meta leader
// and every running node is current with it.
func (c *cluster) waitLeader() {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		leaders, current, running := 0, 0, 0
		for _, s := range c.servers {
			if s == nil {
				continue
			}
			running++
			if s.JetStreamIsLeader() {
				leaders++
			}
			if s.JetStreamIsCurrent() {
				current++
			}
		}
		if leaders == 1 && current == running {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatal("no JetStream meta leader after 30s")
}

// urls returns the client URLs of every node, node first.
func (c *cluster) urls(first int) string {
	var us []string
	for k := range 3 {
		i := (first + k) % 3
		us = append(us, fmt.Sprintf("nats://127.0.0.1:%d", c.opts[i].Port))
	}
	return strings.Join(us, ",")
}

// pick returns a random element of xs.
func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }
