package replica_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// openGroupDevice is openDevice with a group and a passphrase; it returns
// New's error instead of failing, with the store open (closed and checked
// at the end of the test).
func openGroupDevice(t *testing.T, url, name, group, pass string) (*device, error) {
	t.Helper()
	db, err := kv.Open(t.TempDir(), &kv.Options{NoAutoBackup: true, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nc.Close()
		if rep, err := db.Check(context.Background()); err != nil || !rep.OK {
			t.Errorf("%s: check: %v %v", name, err, rep)
		}
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	r, err := replica.New(context.Background(), db, nc, &replica.Options{Device: name, Group: group, Passphrase: pass})
	return &device{db: db, nc: nc, r: r}, err
}

// secrets are the plaintext a synced group carries in this test: field
// values, a field name, a document id and attachment bytes.
var secrets = []string{"Quarterly-merger-with-Initech", "confidentialFieldName", "doc-id-Zanzibar", "ATTACHMENT-BYTES-7f3a"}

// fillGroup writes the secrets on a and syncs a then b.
func fillGroup(t *testing.T, a, b *device) []byte {
	t.Helper()
	ctx := context.Background()
	a.put(t, "notes", kv.Document{"id": secrets[2], "title": secrets[0], secrets[1]: "x"})
	// A document larger than one NATS message: its body goes through the
	// object store.
	big := strings.Repeat(secrets[0]+" ", 1<<16)
	a.put(t, "notes", kv.Document{"id": "big", "body": big})
	content := bytes.Repeat([]byte(secrets[3]+" "), 20000)
	if _, err := a.db.AddAttachment(ctx, bytes.NewReader(content), kv.Document{"id": "att1", "name": secrets[0]}); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	if res := b.sync(t); res.Pulled != 3 {
		t.Fatalf("b pulled %d, want 3", res.Pulled)
	}
	if got := b.get(t, "notes", secrets[2]); got["title"] != secrets[0] {
		t.Fatalf("b: %v", got)
	}
	if got := b.get(t, "notes", "big"); got["body"] != big {
		t.Fatal("b: the large body differs")
	}
	rc, _, err := b.db.OpenAttachment(ctx, "att1")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("b: attachment %d bytes, %v", len(got), err)
	}
	return content
}

// serverSees returns every byte the server holds for group: the stream's
// messages (subjects, headers, data) and the blob store's objects (names
// and bytes), read through the server's API, and the files of its
// streams on disk.
func serverSees(t *testing.T, url, storeDir, group string) []byte {
	t.Helper()
	ctx := context.Background()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	st, err := js.Stream(ctx, "CAIRN_"+group)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		all.WriteString(m.Subject)
		for k, vs := range m.Header {
			all.WriteString(k + ":" + strings.Join(vs, ",") + "\n")
		}
		all.Write(m.Data)
	}
	obs, err := js.ObjectStore(ctx, "CAIRN_"+group+"_blobs")
	if err != nil {
		t.Fatal(err)
	}
	infos, err := obs.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		all.WriteString(in.Name + in.Description)
		b, err := obs.GetBytes(ctx, in.Name)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	err = filepath.WalkDir(storeDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(p, "CAIRN_"+group) {
			return err
		}
		b, err := os.ReadFile(p)
		all.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return all.Bytes()
}

// TestSync_encryptedEndToEnd: with a passphrase, changes (a large one
// too) and attachment contents reach the other device, and nothing the
// server holds contains the values, field names, ids or attachment bytes,
// nor the attachment's SHA-256; the same data synced without one shows
// them (the test can see plaintext when it is there).
func TestSync_encryptedEndToEnd(t *testing.T) {
	replica.CheapKDF(t)
	storeDir := t.TempDir()
	s := startServer(t, storeDir, -1)
	url := s.ClientURL()
	for _, g := range []struct {
		group, pass string
	}{{"sealed", "correct horse battery"}, {"plain", ""}} {
		a, err := openGroupDevice(t, url, "a", g.group, g.pass)
		if err != nil {
			t.Fatal(err)
		}
		b, err := openGroupDevice(t, url, "b", g.group, g.pass)
		if err != nil {
			t.Fatal(err)
		}
		content := fillGroup(t, a, b)
		sum := sha256.Sum256(content)
		seen := serverSees(t, url, storeDir, g.group)
		leaks := []string{}
		for _, sec := range append(secrets, hex.EncodeToString(sum[:])) {
			if bytes.Contains(seen, []byte(sec)) {
				leaks = append(leaks, sec)
			}
		}
		if g.pass != "" && len(leaks) > 0 {
			t.Errorf("the server holds plaintext of the encrypted group: %q", leaks)
		}
		if g.pass == "" && len(leaks) != len(secrets)+1 {
			t.Errorf("the unencrypted group shows only %q: the test would miss a leak", leaks)
		}
	}
}

// TestSync_encryptionRefusals: a wrong or missing passphrase is
// ErrDecrypt, a passphrase in an unencrypted group ErrEncryptionMismatch;
// none of them applies anything.
func TestSync_encryptionRefusals(t *testing.T) {
	replica.CheapKDF(t)
	s := startServer(t, "", -1)
	url := s.ClientURL()
	a, err := openGroupDevice(t, url, "a", "sealed", "right")
	if err != nil {
		t.Fatal(err)
	}
	a.put(t, "notes", kv.Document{"id": "n1", "title": "x"})
	a.sync(t)
	p, err := openGroupDevice(t, url, "a", "plain", "")
	if err != nil {
		t.Fatal(err)
	}
	p.put(t, "notes", kv.Document{"id": "n1", "title": "x"})
	p.sync(t)

	for _, c := range []struct {
		name, group, pass string
		want              error
	}{
		{"wrong passphrase", "sealed", "wrong", replica.ErrDecrypt},
		{"no passphrase", "sealed", "", replica.ErrDecrypt},
		{"passphrase in a plain group", "plain", "right", replica.ErrEncryptionMismatch},
	} {
		d, err := openGroupDevice(t, url, "b", c.group, c.pass)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
			continue
		}
		t.Logf("%s: %v", c.name, err)
		if _, _, err := d.db.Get(context.Background(), "notes", "n1"); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("%s: the note arrived anyway (%v)", c.name, err)
		}
	}

	// An encrypted group is decided by its first device, whoever joins
	// first afterwards: a second device with the passphrase syncs.
	b, err := openGroupDevice(t, url, "b", "sealed", "right")
	if err != nil {
		t.Fatal(err)
	}
	if res := b.sync(t); res.Pulled != 1 {
		t.Errorf("b pulled %d", res.Pulled)
	}
}

// TestSync_reusedDeviceNameRefused: a store without sync state (new, or
// rebuilt from an export) cannot take the name of a device that already
// published: its message numbers would restart and JetStream would drop
// them as duplicates.
func TestSync_reusedDeviceNameRefused(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "a")
	a.put(t, "notes", kv.Document{"id": "n1", "title": "x"})
	a.sync(t)
	d, err := openGroupDevice(t, s.ClientURL(), "a", "default", "")
	if !errors.Is(err, replica.ErrInvalidName) || !strings.Contains(err.Error(), "new device") {
		t.Fatalf("a second store as device a: %v, want ErrInvalidName", err)
	}
	if _, _, err := d.db.Get(context.Background(), "notes", "n1"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("the refused store received the note (%v)", err)
	}
	if _, err := openGroupDevice(t, s.ClientURL(), "a2", "default", ""); err != nil {
		t.Errorf("a new name: %v", err)
	}
}

// TestSync_pullLeavesNothingToCapture: what a pull applies is already in
// the clocks, so the capture cursor moves past it and the next push
// compares no pulled document again (a fresh device's first sync would
// otherwise read and hash the whole store twice); a local edit made
// afterwards is still captured and pushed.
func TestSync_pullLeavesNothingToCapture(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "a")
	b := openDevice(t, s.ClientURL(), "b")
	for _, id := range []string{"n1", "n2", "n3"} {
		a.put(t, "notes", kv.Document{"id": id, "title": id})
	}
	a.sync(t)
	if res := b.sync(t); res.Pulled != 3 || res.Pushed != 0 {
		t.Fatalf("b: %+v", res)
	}
	last, err := b.db.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := replica.Pushed(t, b.db); got != last {
		t.Errorf("b's capture cursor %d, its log ends at %d", got, last)
	}
	b.patch(t, "notes", "n2", kv.Document{"title": "edited on b"})
	if res := b.sync(t); res.Pushed != 1 {
		t.Errorf("b's edit after the pull: %+v", res)
	}
	a.sync(t)
	if got := a.get(t, "notes", "n2")["title"]; got != "edited on b" {
		t.Errorf("a: %v", got)
	}
}
