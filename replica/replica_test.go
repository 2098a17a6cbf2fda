package replica_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// startServer runs an in-process nats-server with JetStream, storing in
// dir (a t.TempDir() when empty), on port (-1: any free port).
func startServer(t testing.TB, dir string, port int) *server.Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir,
		NoLog: true, NoSigs: true, DisableJetStreamBanner: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

type device struct {
	db *kv.DB
	nc *nats.Conn
	r  *replica.Replica
}

func openDevice(t testing.TB, url, name string) *device {
	t.Helper()
	db, err := kv.Open(t.TempDir(), &kv.Options{NoAutoBackup: true, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r, err := replica.New(context.Background(), db, nc, &replica.Options{Device: name})
	if err != nil {
		t.Fatal(err)
	}
	d := &device{db: db, nc: nc, r: r}
	t.Cleanup(func() {
		nc.Close()
		rep, err := db.Check(context.Background())
		if err != nil {
			t.Errorf("%s: check: %v", name, err)
		} else {
			for _, p := range rep.Problems {
				t.Errorf("%s: check: %s", name, p)
			}
		}
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

func (d *device) sync(t testing.TB) replica.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := d.r.Sync(ctx)
	if err != nil {
		t.Fatalf("%s: sync: %v", d.r.Device(), err)
	}
	return res
}

func (d *device) put(t testing.TB, coll string, doc kv.Document) {
	t.Helper()
	if _, err := d.db.Put(context.Background(), coll, doc); err != nil {
		t.Fatal(err)
	}
}

func (d *device) patch(t testing.TB, coll, id string, p kv.Document) {
	t.Helper()
	if _, err := d.db.Patch(context.Background(), coll, id, p); err != nil {
		t.Fatal(err)
	}
}

func (d *device) get(t testing.TB, coll, id string) kv.Document {
	t.Helper()
	doc, _, err := d.db.Get(context.Background(), coll, id)
	if err != nil {
		t.Fatalf("%s: get %s/%s: %v", d.r.Device(), coll, id, err)
	}
	return doc
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// snapshotOf returns every synced document of the collections given, as
// canonical JSON, for comparing stores.
func snapshotOf(t testing.TB, d *device, colls ...string) string {
	t.Helper()
	var buf bytes.Buffer
	err := d.db.View(context.Background(), func(tx *kv.Tx) error {
		for _, c := range colls {
			if err := tx.Each(c, func(id string, doc any) error {
				fmt.Fprintf(&buf, "%s/%s %s\n", c, id, js(doc))
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
	return buf.String()
}

func TestSync_bothDirectionsMergeAndConflicts(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "laptop")
	b := openDevice(t, s.ClientURL(), "desktop")

	a.put(t, "notes", kv.Document{"id": "n1", "title": "plan", "body": "draft", "tags": []any{"x"}})
	b.put(t, "tasks", kv.Document{"id": "t1", "title": "call", "status": "open"})
	if res := a.sync(t); res.Pushed != 1 {
		t.Errorf("a pushed %d, want 1", res.Pushed)
	}
	if res := b.sync(t); res.Pulled != 1 || res.Pushed != 1 {
		t.Errorf("b: %+v, want 1 pushed and 1 pulled", res)
	}
	if res := a.sync(t); res.Pulled != 1 {
		t.Errorf("a pulled %d, want 1", res.Pulled)
	}
	if got := a.get(t, "tasks", "t1")["status"]; got != "open" {
		t.Errorf("a: task status %v", got)
	}
	if got := b.get(t, "notes", "n1")["body"]; got != "draft" {
		t.Errorf("b: note body %v", got)
	}

	// Concurrent edits of different fields both survive.
	a.patch(t, "notes", "n1", kv.Document{"title": "plan v2"})
	b.patch(t, "notes", "n1", kv.Document{"body": "final"})
	a.sync(t)
	b.sync(t)
	a.sync(t)
	for _, d := range []*device{a, b} {
		doc := d.get(t, "notes", "n1")
		if doc["title"] != "plan v2" || doc["body"] != "final" {
			t.Errorf("%s: different fields merged into %v", d.r.Device(), doc)
		}
	}

	// The same field: the later clock wins everywhere, the loser is kept.
	a.patch(t, "notes", "n1", kv.Document{"title": "from a"})
	time.Sleep(5 * time.Millisecond) // b's edit is later by the wall clock
	b.patch(t, "notes", "n1", kv.Document{"title": "from b"})
	a.sync(t)
	resB := b.sync(t)
	resA := a.sync(t)
	for _, d := range []*device{a, b} {
		if got := d.get(t, "notes", "n1")["title"]; got != "from b" {
			t.Errorf("%s: title %v, want the later edit", d.r.Device(), got)
		}
	}
	if resA.Conflicts+resB.Conflicts == 0 {
		t.Errorf("no conflict recorded: a %+v, b %+v", resA, resB)
	}
	cs, err := replica.Conflicts(context.Background(), a.db)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range cs {
		if c.Collection == "notes" && c.ID == "n1" && c.Field == "title" && c.Lost == "from a" && c.Kept == "from b" {
			found = true
		}
	}
	if !found {
		t.Errorf("a's conflicts %s lack the lost title", js(cs))
	}
	if snapshotOf(t, a, "notes", "tasks") != snapshotOf(t, b, "notes", "tasks") {
		t.Errorf("stores differ:\n%s\n%s", snapshotOf(t, a, "notes", "tasks"), snapshotOf(t, b, "notes", "tasks"))
	}

	// A sequential edit (b saw a's value) is no conflict.
	before := len(cs)
	b.patch(t, "notes", "n1", kv.Document{"title": "agreed"})
	b.sync(t)
	a.sync(t)
	cs, _ = replica.Conflicts(context.Background(), a.db)
	if len(cs) != before {
		t.Errorf("a sequential edit recorded a conflict: %s", js(cs[before:]))
	}
	if got := a.get(t, "notes", "n1")["title"]; got != "agreed" {
		t.Errorf("a: title %v", got)
	}
}

func TestSync_deletesAreNotResurrected(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "a")
	b := openDevice(t, s.ClientURL(), "b")
	a.put(t, "notes", kv.Document{"id": "n1", "title": "x"})
	a.sync(t)
	b.sync(t)
	// a deletes; b, offline, edits the same note; b syncs late.
	if _, err := a.db.Delete(context.Background(), "notes", "n1"); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.patch(t, "notes", "n1", kv.Document{"title": "edited offline"})
	b.sync(t)
	a.sync(t)
	for _, d := range []*device{a, b} {
		if _, _, err := d.db.Get(context.Background(), "notes", "n1"); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("%s: deleted note is back: %v", d.r.Device(), err)
		}
	}
	// The lost edit is kept as a conflict on a (where it arrived after
	// the delete) or on b (where the delete arrived after it).
	ca, _ := replica.Conflicts(context.Background(), a.db)
	cb, _ := replica.Conflicts(context.Background(), b.db)
	if len(ca)+len(cb) == 0 {
		t.Error("the offline edit lost to the delete was not recorded")
	}
	// Created again by a device that saw the delete: it comes back.
	a.put(t, "notes", kv.Document{"id": "n1", "title": "new life"})
	a.sync(t)
	b.sync(t)
	if got := b.get(t, "notes", "n1")["title"]; got != "new life" {
		t.Errorf("b: re-created note title %v", got)
	}
}

func TestSync_attachments(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "a")
	b := openDevice(t, s.ClientURL(), "b")
	content := bytes.Repeat([]byte("screenshot bytes "), 10000)
	doc, err := a.db.AddAttachment(context.Background(), bytes.NewReader(content), kv.Document{"id": "att1", "mimeType": "image/png"})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)
	rc, got, err := b.db.OpenAttachment(context.Background(), "att1")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, content) || got["hash"] != doc["hash"] {
		t.Errorf("b's attachment: %d bytes, hash %v; want %d bytes, hash %v", len(data), got["hash"], len(content), doc["hash"])
	}
}

// TestSync_restartResumes syncs, closes a device's store and reopens it:
// the cursor in the store resumes where it stopped, without pushing or
// pulling anything twice.
func TestSync_restartResumes(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "a")
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r, err := replica.New(context.Background(), db, nc, &replica.Options{Device: "b"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		a.put(t, "notes", kv.Document{"id": fmt.Sprint("n", i), "title": "t"})
	}
	a.sync(t)
	if res, err := r.Sync(context.Background()); err != nil || res.Pulled != 5 {
		t.Fatalf("first sync %+v, %v", res, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	a.put(t, "notes", kv.Document{"id": "n9", "title": "t"})
	a.sync(t)
	db, err = kv.Open(dir, &kv.Options{NoAutoBackup: true, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err = replica.New(context.Background(), db, nc, nil) // the device name is in the store
	if err != nil {
		t.Fatal(err)
	}
	if r.Device() != "b" {
		t.Errorf("device after restart %q", r.Device())
	}
	res, err := r.Sync(context.Background())
	if err != nil || res.Pulled != 1 || res.Pushed != 0 {
		t.Errorf("sync after restart %+v, %v; want 1 pulled, 0 pushed", res, err)
	}
	if _, err := replica.New(context.Background(), db, nc, &replica.Options{Device: "other"}); err == nil {
		t.Error("a store that syncs as b accepted another device name")
	}
}

// TestSync_largeDocument syncs a document larger than a NATS message
// (1 MB by default): its message body travels through the object store.
func TestSync_largeDocument(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "a")
	b := openDevice(t, s.ClientURL(), "b")
	body := string(bytes.Repeat([]byte("0123456789abcdef"), 1<<17)) // 2 MiB
	a.put(t, "notes", kv.Document{"id": "big", "title": "big", "body": body})
	a.sync(t)
	if res := b.sync(t); res.Pulled != 1 {
		t.Fatalf("pulled %d", res.Pulled)
	}
	if got := b.get(t, "notes", "big")["body"]; got != body {
		t.Errorf("the large body arrived as %d bytes", len(fmt.Sprint(got)))
	}
}
