package replica_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/replica"
	"github.com/nats-io/nats-server/v2/server"
)

// authServer runs a JetStream server that requires the credentials opts
// set.
func authServer(t *testing.T, opts *server.Options) string {
	t.Helper()
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
	return strings.TrimPrefix(s.ClientURL(), "nats://")
}

// TestConnect_wrongCredentials: a wrong user or password, a wrong or
// missing token and an unreadable credentials file each fail Connect with
// ErrAuth (or a clear file error), naming the server with its credentials
// scrubbed and never the secrets; the right ones connect.
func TestConnect_wrongCredentials(t *testing.T) {
	userAddr := authServer(t, &server.Options{Username: "alice", Password: "s3cret-pw"})
	tokenAddr := authServer(t, &server.Options{Authorization: "t0ken-right"})
	secrets := []string{"alice", "s3cret-pw", "wr0ng-pw", "mall0ry", "t0ken-right", "t0ken-wrong"}
	for _, c := range []struct {
		name, url string
	}{
		{"wrong password", "nats://alice:wr0ng-pw@" + userAddr},
		{"wrong user", "nats://mall0ry:s3cret-pw@" + userAddr},
		{"no credentials", "nats://" + userAddr},
		{"wrong token", "nats://t0ken-wrong@" + tokenAddr},
		{"no token", "nats://" + tokenAddr},
	} {
		t.Run(c.name, func(t *testing.T) {
			nc, err := replica.Connect(c.url, &replica.ConnectOptions{Timeout: 5 * time.Second})
			if err == nil {
				nc.Close()
				t.Fatal("connected")
			}
			if !errors.Is(err, replica.ErrAuth) {
				t.Errorf("error %q is not ErrAuth", err)
			}
			msg := err.Error()
			for _, s := range secrets {
				if strings.Contains(msg, s) {
					t.Errorf("error %q shows %q", msg, s)
				}
			}
			addr := c.url[strings.LastIndex(c.url, "@")+1:]
			addr = strings.TrimPrefix(addr, "nats://")
			if !strings.Contains(msg, addr) {
				t.Errorf("error %q does not name the server %s", msg, addr)
			}
		})
	}
	t.Run("unreadable creds file", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope.creds")
		_, err := replica.Connect("nats://"+userAddr, &replica.ConnectOptions{CredsFile: missing, Timeout: 5 * time.Second})
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("a missing credentials file: %v, want an error naming %s", err, missing)
		}
		bad := filepath.Join(t.TempDir(), "bad.creds")
		if err := os.WriteFile(bad, []byte("not a creds file"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = replica.Connect("nats://"+userAddr, &replica.ConnectOptions{CredsFile: bad, Timeout: 5 * time.Second})
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("a malformed credentials file: %v, want an error naming %s", err, bad)
		}
	})
	for _, good := range []string{"nats://alice:s3cret-pw@" + userAddr, "nats://t0ken-right@" + tokenAddr} {
		nc, err := replica.Connect(good, nil)
		if err != nil {
			t.Fatalf("%s: %v", replica.Scrub(good), err)
		}
		nc.Close()
	}
}
