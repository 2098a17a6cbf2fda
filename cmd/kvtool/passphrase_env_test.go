package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSync_emptyPassphraseEnvRefused: $CAIRN_PASSPHRASE set but empty
// (export CAIRN_PASSPHRASE="$(cat missing)") is exit 1, as an empty first
// line of --passphrase-file is, never a sync without a passphrase that
// would make a new group unencrypted and publish plaintext.
func TestSync_emptyPassphraseEnvRefused(t *testing.T) {
	s := natsServer(t, nil)
	db := filepath.Join(t.TempDir(), "a")
	mustRun(t, `{"id":"n1","title":"secret"}`, "--db", db, "put", "notes")
	for _, v := range []string{"", "\r\n"} {
		t.Setenv(passphraseEnv, v)
		r := kvtool(t, "", "--db", db, "sync", "--once", "--nats", s.ClientURL(), "--group", "new")
		wantExit(t, r, exitError, "sync with an empty $"+passphraseEnv)
		if !strings.Contains(r.stderr, passphraseEnv) {
			t.Errorf("the error does not name $%s: %s", passphraseEnv, r.stderr)
		}
		r = kvtool(t, "", "--db", db, "backup", "pull", "20261207T153908.888309231Z", "--nats", s.ClientURL())
		wantExit(t, r, exitError, "backup pull with an empty $"+passphraseEnv)
		if !strings.Contains(r.stderr, passphraseEnv) {
			t.Errorf("backup pull: the error does not name $%s: %s", passphraseEnv, r.stderr)
		}
	}
}
