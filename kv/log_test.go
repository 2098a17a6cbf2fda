package kv_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// syncBuffer is a bytes.Buffer safe for the store's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOptions_Logger: the store's own lines go to Options.Logger, with the
// store's directory; without one nothing is written anywhere.
func TestOptions_Logger(t *testing.T) {
	var buf syncBuffer
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := db.Put(ctx, "notes", kv.Document{"id": "n1"}); err != nil {
		t.Fatal(err)
	}
	m, err := db.Backup(ctx, "manual")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "backup taken") || !strings.Contains(out, m.Name) || !strings.Contains(out, "store="+dir) {
		t.Fatalf("log lines %q lack the backup %s and the store %s", out, m.Name, dir)
	}
}
