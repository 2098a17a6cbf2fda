package legacy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// genChunkedDir writes n chunked sessions (era G layout) with 2 screenshot
// chunks each, plus a legacy sessions.json of n/10 sessions.
func genChunkedDir(tb testing.TB, dir string, n int) {
	write := func(rel string, v any) {
		b, err := EncodeEnvelope(v, EncodingGzip, T0, false)
		if err != nil {
			tb.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	var index, legacyArr []any
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%d-s%06d", T0+int64(i), i)
		index = append(index, id)
		write("db/sessions/"+id+"/metadata.json", metaG(id, "S", T0, obj{"chunks": obj{"screenshots": obj{"count": 25, "chunkCount": 2, "chunkSize": 20}}}))
		write("db/sessions/"+id+"/screenshots/chunk-000.json", obj{"sessionId": id, "chunkIndex": 0, "screenshots": screenshots(id, 0, 20, nil)})
		write("db/sessions/"+id+"/screenshots/chunk-001.json", obj{"sessionId": id, "chunkIndex": 1, "screenshots": screenshots(id, 20, 5, nil)})
		if i%10 == 0 {
			legacyArr = append(legacyArr, obj{"id": fmt.Sprintf("legacy-%d", i), "name": "old"})
		}
	}
	write("db/session-index.json", index)
	write("db/sessions.json", legacyArr)
}

func BenchmarkScan_chunked1000(b *testing.B) {
	dir := b.TempDir()
	genChunkedDir(b, dir, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ds, _, err := Scan(context.Background(), dir, nil)
		if err != nil || len(ds.Collections["sessions"]) != 1100 {
			b.Fatalf("%v %d", err, len(ds.Collections["sessions"]))
		}
	}
}

// TestScan_backupsNotRead: thousands of undecodable backups beside good
// main files are never opened (they would show up as unreadable).
func TestScan_backupsNotRead(t *testing.T) {
	dir := t.TempDir()
	genChunkedDir(t, dir, 20)
	for i := 0; i < 2000; i++ {
		p := filepath.Join(dir, "db", "sessions", fmt.Sprintf("%d-s%06d", T0+int64(i%20), i%20), fmt.Sprintf("metadata.%d.backup.json", T0+int64(i)))
		if err := os.WriteFile(p, []byte("garbage"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ds, rep, err := Scan(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unreadable) != 0 || len(ds.Collections["sessions"]) != 22 {
		t.Fatalf("unreadable %v, sessions %d", rep.Unreadable, len(ds.Collections["sessions"]))
	}
	if n := len(ds.Collections["sessions"]["1760600000000-s000000"].Doc["screenshots"].([]any)); n != 25 {
		t.Errorf("screenshots %d", n)
	}
}
