package replica

import (
	"context"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// CheapKDF lowers the Argon2id cost new groups and backups record, for the
// tests of package replica_test (the cost is read back from each record,
// so every device follows).
func CheapKDF(t testing.TB) {
	old := kdf
	kdf.memKiB, kdf.passes, kdf.threads = 64, 1, 1
	t.Cleanup(func() { kdf = old })
}

// Pushed returns the capture cursor recorded in db (state.Pushed).
func Pushed(t testing.TB, db *kv.DB) uint64 {
	var st *state
	err := db.View(context.Background(), func(tx *kv.Tx) (err error) {
		st, err = loadState(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return st.Pushed
}

// HLC returns the latest clock made or seen recorded in db (state.HLC).
func HLC(t testing.TB, db *kv.DB) uint64 {
	var st *state
	err := db.View(context.Background(), func(tx *kv.Tx) (err error) {
		st, err = loadState(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return st.HLC
}
