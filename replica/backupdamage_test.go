package replica_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
	"github.com/nats-io/nats.go"
)

// TestPullBackup_damagedOnServer: a chunk of a pushed backup damaged in
// the server's files is dropped by the server when it starts. The pull
// says the backup is damaged (ErrBlobIncomplete, which kvtool reports as
// an integrity problem) at once, instead of waiting for the chunk until a
// timeout, and leaves nothing in the backups directory.
func TestPullBackup_damagedOnServer(t *testing.T) {
	ctx := context.Background()
	storeDir := t.TempDir()
	port := freePort(t)
	s := startServer(t, storeDir, port)
	src, err := kv.Open(t.TempDir(), storeOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := range 200 {
		if _, err := src.Put(ctx, "notes", kv.Document{"id": fmt.Sprintf("n%d", i), "content": fmt.Sprintf("DAMAGEME %d %0300d", i, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := src.Backup(ctx, kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replica.PushBackup(ctx, src, nc, m.Name, nil); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	s.Shutdown()
	s.WaitForShutdown()
	blks, err := filepath.Glob(filepath.Join(storeDir, "jetstream", "*", "streams", "OBJ_"+replica.BackupBucket, "msgs", "*.blk"))
	if err != nil || len(blks) == 0 {
		t.Fatalf("the object store's files: %v %v", blks, err)
	}
	b, err := os.ReadFile(blks[0])
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("DAMAGEME 100 "))
	if i < 0 {
		t.Fatal("the backup's bytes are not in the object store's file")
	}
	b[i+3] ^= 1
	if err := os.WriteFile(blks[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, storeDir, port)

	dst, err := kv.Open(t.TempDir(), storeOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	nc, err = nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = replica.PullBackup(pctx, dst, nc, m.Name, nil)
	if !errors.Is(err, replica.ErrBlobIncomplete) && !errors.Is(err, replica.ErrBlobMismatch) {
		t.Fatalf("pull of a damaged backup: %v, want ErrBlobIncomplete or ErrBlobMismatch", err)
	}
	t.Log(err)
	left, _ := filepath.Glob(filepath.Join(dst.Dir(), kv.BackupsDir, m.Name+"*"))
	if len(left) > 0 {
		t.Errorf("the damaged backup left %v", left)
	}
}

// TestPullBackup_readFailsRetried: a download whose reading fails (a
// timeout under load) is tried again, twice, and is not reported as a
// wrong passphrase or damaged data; a third failure is the read's error.
func TestPullBackup_readFailsRetried(t *testing.T) {
	replica.CheapKDF(t)
	ctx := context.Background()
	s := startServer(t, t.TempDir(), freePort(t))
	src, err := kv.Open(t.TempDir(), storeOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Put(ctx, "notes", kv.Document{"id": "n1", "content": "pulled again"}); err != nil {
		t.Fatal(err)
	}
	m, err := src.Backup(ctx, kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	opts := &replica.BackupOptions{Passphrase: "correct horse"}
	if _, err := replica.PushBackup(ctx, src, nc, m.Name, opts); err != nil {
		t.Fatal(err)
	}
	timeout := errors.New("nats: timeout")
	dst, err := kv.Open(t.TempDir(), storeOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	replica.FailDownloads(t, 2, timeout)
	if _, err := replica.PullBackup(ctx, dst, nc, m.Name, opts); err != nil {
		t.Fatalf("pull after two failed reads: %v", err)
	}
	if _, _, err := dst.Restore(ctx, m.Name); err != nil {
		t.Fatal(err)
	}
	if _, _, err := dst.Get(ctx, "notes", "n1"); err != nil {
		t.Errorf("the pulled backup, restored: %v", err)
	}

	other, err := kv.Open(t.TempDir(), storeOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	replica.FailDownloads(t, 3, timeout)
	_, err = replica.PullBackup(ctx, other, nc, m.Name, opts)
	if !errors.Is(err, timeout) || errors.Is(err, replica.ErrDecrypt) {
		t.Errorf("pull after three failed reads: %v, want the read's error, not ErrDecrypt", err)
	}
	if left, _ := filepath.Glob(filepath.Join(other.Dir(), kv.BackupsDir, m.Name+"*")); len(left) > 0 {
		t.Errorf("the failed pull left %v", left)
	}
}
