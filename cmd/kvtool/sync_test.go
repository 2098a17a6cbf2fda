package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/replica"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

// natsServer runs an in-process nats-server with JetStream; opts may set
// credentials.
func natsServer(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	if opts == nil {
		opts = &server.Options{}
	}
	opts.Host, opts.Port, opts.JetStream, opts.StoreDir = "127.0.0.1", -1, true, t.TempDir()
	opts.NoLog, opts.NoSigs, opts.DisableJetStreamBanner = true, true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}

func TestSync_twoStoresOnce(t *testing.T) {
	s := natsServer(t, nil)
	url := s.ClientURL()
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	mustRun(t, `{"id":"n1","title":"from a"}`, "--db", a, "put", "notes")
	mustRun(t, `{"id":"t1","title":"from b"}`, "--db", b, "put", "tasks")
	sync := func(db, device string) map[string]int {
		t.Helper()
		r := mustRun(t, "", "--db", db, "sync", "--once", "--nats", url, "--device", device)
		var got map[string]int
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("sync output %q: %v", r.stdout, err)
		}
		return got
	}
	if got := sync(a, "a"); got["pushed"] != 1 || got["pulled"] != 0 {
		t.Errorf("a: %v", got)
	}
	if got := sync(b, "b"); got["pushed"] != 1 || got["pulled"] != 1 {
		t.Errorf("b: %v", got)
	}
	if got := sync(a, "a"); got["pulled"] != 1 {
		t.Errorf("a again: %v", got)
	}
	if r := mustRun(t, "", "--db", b, "get", "notes", "n1"); !strings.Contains(r.stdout, "from a") {
		t.Errorf("b lacks a's note: %s", r.stdout)
	}
	if r := mustRun(t, "", "--db", a, "get", "tasks", "t1"); !strings.Contains(r.stdout, "from b") {
		t.Errorf("a lacks b's task: %s", r.stdout)
	}
	// The device name is the store's: another one is refused.
	r := kvtool(t, "", "--db", a, "sync", "--once", "--nats", url, "--device", "other")
	wantExit(t, r, exitError, "sync", "--device", "other")
	mustRun(t, "", "--db", a, "check")
}

func TestSync_credentialsNeverPrinted(t *testing.T) {
	s := natsServer(t, &server.Options{Username: "alice", Password: "s3cret-pw"})
	dir := filepath.Join(t.TempDir(), "a")
	mustRun(t, `{"id":"n1"}`, "--db", dir, "put", "notes")
	addr := strings.TrimPrefix(s.ClientURL(), "nats://")
	bad := "nats://alice:wr0ng-pw@" + addr
	r := kvtool(t, "", "--db", dir, "sync", "--once", "--nats", bad)
	wantExit(t, r, exitError, "sync", "--nats", "(wrong password)")
	if strings.Contains(r.stderr+r.stdout, "wr0ng-pw") || strings.Contains(r.stderr+r.stdout, "alice") {
		t.Errorf("credentials printed: %s%s", r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "***@"+addr) {
		t.Errorf("error does not name the scrubbed server: %s", r.stderr)
	}
	good := "nats://alice:s3cret-pw@" + addr
	mustRun(t, "", "--db", dir, "sync", "--once", "--nats", good)
}

func TestBackup_pushListPull(t *testing.T) {
	s := natsServer(t, nil)
	url := s.ClientURL()
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	mustRun(t, `{"id":"n1","title":"keep me"}`, "--db", a, "put", "notes")
	var m struct {
		Name   string `json:"name"`
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "", "--db", a, "--json", "backup", "create").stdout), &m); err != nil {
		t.Fatal(err)
	}
	pushed := mustRun(t, "", "--db", a, "--json", "backup", "push", m.Name, "--nats", url)
	if !strings.Contains(pushed.stdout, m.SHA256) {
		t.Errorf("push printed %s", pushed.stdout)
	}
	list := mustRun(t, "", "--db", b, "--json", "backup", "list", "--nats", url)
	var ms []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(list.stdout), &ms); err != nil || len(ms) != 1 || ms[0].Name != m.Name {
		t.Fatalf("remote list %s (%v)", list.stdout, err)
	}
	mustRun(t, `{"id":"other"}`, "--db", b, "put", "notes")
	mustRun(t, "", "--db", b, "backup", "pull", m.Name, "--nats", url)
	mustRun(t, "", "--db", b, "backup", "restore", m.Name, "--yes")
	if r := mustRun(t, "", "--db", b, "get", "notes", "n1"); !strings.Contains(r.stdout, "keep me") {
		t.Errorf("restored store: %s", r.stdout)
	}
	r := kvtool(t, "", "--db", b, "backup", "pull", "20990101T000000.000000000Z", "--nats", url)
	wantExit(t, r, exitError, "backup", "pull", "(unknown)")
	r = kvtool(t, "", "--db", b, "backup", "pull", "../x", "--nats", url)
	wantExit(t, r, exitError, "backup", "pull", "../x")
}

func TestBackup_pushPullEncrypted(t *testing.T) {
	s := natsServer(t, nil)
	url := s.ClientURL()
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	secret := "the-plaintext-the-server-must-not-see"
	mustRun(t, `{"id":"n1","title":"`+secret+`"}`, "--db", a, "put", "notes")
	var m struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "", "--db", a, "--json", "backup", "create").stdout), &m); err != nil {
		t.Fatal(err)
	}
	t.Setenv(passphraseEnv, "correct horse battery")
	mustRun(t, "", "--db", a, "backup", "push", m.Name, "--nats", url)

	// What the server holds is ciphertext.
	nc, err := replica.Connect(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := js.ObjectStore(context.Background(), replica.BackupBucket)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := obs.GetBytes(context.Background(), m.Name+".db")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := os.ReadFile(filepath.Join(a, "backups", m.Name+".db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, plain[:64]) || bytes.Contains(stored, []byte(secret)) {
		t.Fatal("the pushed backup is readable on the server")
	}

	t.Setenv(passphraseEnv, "wrong")
	r := kvtool(t, "", "--db", b, "backup", "pull", m.Name, "--nats", url)
	wantExit(t, r, exitIntegrity, "backup", "pull", "(wrong passphrase)")
	if _, err := os.Stat(filepath.Join(b, "backups", m.Name+".db")); !os.IsNotExist(err) {
		t.Errorf("a backup that failed to decrypt was left behind: %v", err)
	}
	t.Setenv(passphraseEnv, "correct horse battery")
	mustRun(t, "", "--db", b, "backup", "pull", m.Name, "--nats", url)
	mustRun(t, "", "--db", b, "backup", "restore", m.Name, "--yes")
	if r := mustRun(t, "", "--db", b, "get", "notes", "n1"); !strings.Contains(r.stdout, secret) {
		t.Errorf("restored store: %s", r.stdout)
	}
}

// TestSync_encryptedPassphraseFile: two stores sync an encrypted group
// with --passphrase-file; a third with a wrong passphrase, or none, exits 1
// saying so and receives nothing; an empty passphrase file is refused.
func TestSync_encryptedPassphraseFile(t *testing.T) {
	s := natsServer(t, nil)
	url := s.ClientURL()
	tmp := t.TempDir()
	a, b, c := filepath.Join(tmp, "a"), filepath.Join(tmp, "b"), filepath.Join(tmp, "c")
	good, bad, empty := filepath.Join(tmp, "good"), filepath.Join(tmp, "bad"), filepath.Join(tmp, "empty")
	for f, text := range map[string]string{good: "correct horse battery\n", bad: "wrong\n", empty: "\n"} {
		if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, `{"id":"n1","title":"sealed note"}`, "--db", a, "put", "notes")
	mustRun(t, "", "--db", a, "sync", "--once", "--nats", url, "--device", "a", "--passphrase-file", good)
	mustRun(t, "", "--db", b, "sync", "--once", "--nats", url, "--device", "b", "--passphrase-file", good)
	if r := mustRun(t, "", "--db", b, "get", "notes", "n1"); !strings.Contains(r.stdout, "sealed note") {
		t.Errorf("b lacks a's note: %s", r.stdout)
	}
	mustRun(t, `{"id":"x"}`, "--db", c, "put", "tasks")
	for _, args := range [][]string{
		{"--passphrase-file", bad},
		{},
	} {
		r := kvtool(t, "", append([]string{"--db", c, "sync", "--once", "--nats", url, "--device", "c"}, args...)...)
		wantExit(t, r, exitError, args...)
		if !strings.Contains(r.stderr, "passphrase") {
			t.Errorf("%q: stderr does not say what is wrong: %s", args, r.stderr)
		}
	}
	r := kvtool(t, "", "--db", c, "sync", "--once", "--nats", url, "--passphrase-file", empty)
	wantExit(t, r, exitError, "--passphrase-file", empty)
	if !strings.Contains(r.stderr, empty) {
		t.Errorf("empty passphrase file: %s", r.stderr)
	}
	if r := kvtool(t, "", "--db", c, "get", "notes", "n1"); r.code != exitError {
		t.Errorf("c received a note without the passphrase: %s", r.stdout)
	}
	mustRun(t, "", "--db", c, "check")
}

// TestStats_syncStateApart: a synced store's stats list the bookkeeping
// of sync (replica_*) apart from the user's collections.
func TestStats_syncStateApart(t *testing.T) {
	s := natsServer(t, nil)
	a := filepath.Join(t.TempDir(), "a")
	mustRun(t, `{"id":"n1","title":"x"}`, "--db", a, "put", "notes")
	mustRun(t, "", "--db", a, "sync", "--once", "--nats", s.ClientURL())
	var st struct {
		Collections map[string]any `json:"collections"`
		SyncState   map[string]any `json:"sync_state"`
	}
	out := mustRun(t, "", "--db", a, "--json", "stats").stdout
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	for name := range st.Collections {
		if strings.HasPrefix(name, "replica_") {
			t.Errorf("stats lists %s among the collections", name)
		}
	}
	if st.Collections["notes"] == nil || st.SyncState["replica_state"] == nil {
		t.Errorf("stats: %s", out)
	}
	human := mustRun(t, "", "--db", a, "stats").stdout
	if strings.Contains(human, "replica_") || !strings.Contains(human, "(sync state)") {
		t.Errorf("stats:\n%s", human)
	}
}
