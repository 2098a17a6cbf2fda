package replica_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
	"github.com/nats-io/nats.go/jetstream"
)

// TestSync_encryptedStoreNeedsPassphraseAfterPurge: the group's
// encryption record goes with a purge (or a server that lost its store).
// A store that has synced the group encrypted still refuses to sync
// without its passphrase (ErrDecrypt, before anything is published): it
// is not a first device that may decide the group is unencrypted, which
// would put its plaintext on the server and lock out the devices that
// have the passphrase.
func TestSync_encryptedStoreNeedsPassphraseAfterPurge(t *testing.T) {
	replica.CheapKDF(t)
	ctx := context.Background()
	storeDir := t.TempDir()
	s := startServer(t, storeDir, -1)
	url := s.ClientURL()
	const group, pass, secret = "ep1", "correct horse", "SECRETMARK2"
	a, err := openGroupDevice(t, url, "a", group, pass)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openGroupDevice(t, url, "b", group, pass)
	if err != nil {
		t.Fatal(err)
	}
	a.put(t, "notes", kv.Document{"id": "n1", "title": "x"})
	a.sync(t)
	b.sync(t)
	js, err := jetstream.New(a.nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "CAIRN_"+group)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Purge(ctx); err != nil {
		t.Fatal(err)
	}

	b.put(t, "notes", kv.Document{"id": "n2", "content": secret})
	_, err = replica.New(ctx, b.db, b.nc, &replica.Options{Device: "b", Group: group})
	if !errors.Is(err, replica.ErrDecrypt) {
		t.Fatalf("b without its passphrase after the purge: %v, want ErrDecrypt", err)
	}
	if streamFilesHold(t, storeDir, group, secret) {
		t.Fatal("the server holds b's plaintext")
	}

	// The devices with the passphrase go on, encrypted.
	ra, err := replica.New(ctx, a.db, a.nc, &replica.Options{Device: "a", Group: group, Passphrase: pass})
	if err != nil {
		t.Fatalf("a with its passphrase after the purge: %v", err)
	}
	a.r = ra
	a.sync(t)
	rb, err := replica.New(ctx, b.db, b.nc, &replica.Options{Device: "b", Group: group, Passphrase: pass})
	if err != nil {
		t.Fatalf("b with its passphrase: %v", err)
	}
	b.r = rb
	b.sync(t)
	a.sync(t)
	if got := a.get(t, "notes", "n2")["content"]; got != secret {
		t.Errorf("a: n2 %v", got)
	}
	if streamFilesHold(t, storeDir, group, secret) {
		t.Error("the server holds plaintext of the encrypted group")
	}
}

// streamFilesHold reports whether the server's files of group's stream
// hold text.
func streamFilesHold(t *testing.T, storeDir, group, text string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(storeDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(p, "CAIRN_"+group) {
			return err
		}
		b, err := os.ReadFile(p)
		found = found || bytes.Contains(b, []byte(text))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
