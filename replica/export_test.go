package replica

import (
	"context"
	"io"
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

// FailDownloads makes the next n pulled data files fail with err after
// their first 100 bytes, as a read that times out does.
func FailDownloads(t testing.TB, n int, err error) {
	old := downloadReader
	downloadReader = func(r io.Reader) io.Reader {
		if n == 0 {
			return r
		}
		n--
		return io.MultiReader(io.LimitReader(r, 100), errReader{err})
	}
	t.Cleanup(func() { downloadReader = old })
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
