package replica

import "testing"

// CheapKDF lowers the Argon2id cost new groups and backups record, for the
// tests of package replica_test (the cost is read back from each record,
// so every device follows).
func CheapKDF(t testing.TB) {
	old := kdf
	kdf.memKiB, kdf.passes, kdf.threads = 64, 1, 1
	t.Cleanup(func() { kdf = old })
}
