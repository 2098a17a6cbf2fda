package replica_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
	"github.com/nats-io/nats.go"
)

// A sync refused before anything is applied (a passphrase in a plain
// group, a wrong passphrase) records neither group nor device: the store
// can then sync in another group, under the name it asked for.
func TestNew_refusedBindsNothing(t *testing.T) {
	replica.CheapKDF(t)
	ctx := context.Background()
	s := startServer(t, "", -1)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	openStore := func() *kv.DB {
		db, err := kv.Open(t.TempDir(), &kv.Options{NoAutoBackup: true, NoSearch: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	openDevice(t, s.ClientURL(), "plain") // the default group, not encrypted
	if _, err := replica.New(ctx, openStore(), nc, &replica.Options{Group: "enc", Passphrase: "right"}); err != nil {
		t.Fatal(err)
	}
	db := openStore()
	if _, err := replica.New(ctx, db, nc, &replica.Options{Device: "mine", Passphrase: "pass"}); !errors.Is(err, replica.ErrEncryptionMismatch) {
		t.Fatalf("a passphrase in a plain group: %v, want ErrEncryptionMismatch", err)
	}
	if _, err := replica.New(ctx, db, nc, &replica.Options{Device: "mine", Group: "enc", Passphrase: "wrong"}); !errors.Is(err, replica.ErrDecrypt) {
		t.Fatalf("a wrong passphrase: %v, want ErrDecrypt", err)
	}
	r, err := replica.New(ctx, db, nc, &replica.Options{Device: "mine", Group: "mine", Passphrase: "pass"})
	if err != nil {
		t.Fatalf("New in another group after refused ones: %v", err)
	}
	if r.Device() != "mine" {
		t.Errorf("device %q, want mine", r.Device())
	}
}
