package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// TestSync_wrongToken: a wrong or missing token is exit 1 with an error
// that says the server refused the credentials and names the server
// without the token; the right token syncs.
func TestSync_wrongToken(t *testing.T) {
	s := natsServer(t, &server.Options{Authorization: "t0ken-right"})
	dir := filepath.Join(t.TempDir(), "a")
	mustRun(t, `{"id":"n1"}`, "--db", dir, "put", "notes")
	addr := strings.TrimPrefix(s.ClientURL(), "nats://")
	for _, url := range []string{"nats://t0ken-wrong@" + addr, "nats://" + addr} {
		r := kvtool(t, "", "--db", dir, "sync", "--once", "--nats", url)
		wantExit(t, r, exitError, "sync", "--nats", "(wrong token)")
		if strings.Contains(r.stderr+r.stdout, "t0ken") {
			t.Errorf("token printed: %s%s", r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "refused the credentials") || !strings.Contains(r.stderr, addr) {
			t.Errorf("the error does not say the server %s refused the credentials: %s", addr, r.stderr)
		}
	}
	mustRun(t, "", "--db", dir, "sync", "--once", "--nats", "nats://t0ken-right@"+addr)
	mustRun(t, "", "--db", dir, "check")
}
