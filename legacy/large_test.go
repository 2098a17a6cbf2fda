package legacy_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// writeLargeNote writes an era-C notes.json (a GZIP_V1 envelope) holding
// a note of mb megabytes of text between two small ones, streaming, and
// returns the huge note's JSON text's SHA-256.
func writeLargeNote(t *testing.T, dir string, mb int) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "db", "notes.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fmt.Fprint(w, `{"version":1,"checksum":"0","timestamp":1760600000000,"compressed":true,"data":"GZIP_V1:`)
	b64 := base64.NewEncoder(base64.StdEncoding, w)
	zw, _ := gzip.NewWriterLevel(b64, gzip.BestSpeed)
	sum := sha256.New()
	big := io.MultiWriter(zw, sum)
	io.WriteString(zw, `[{"id":"n1","content":"small"},`)
	io.WriteString(big, `{"id":"n2","lastUpdated":"2025-10-16T00:00:00.000Z","content":"`)
	line := []byte("meeting notes, line after line \\u00e9 \\n ")
	for n := 0; n < mb<<20; n += len(line) {
		line[0] = 'a' + byte(n%26)
		big.Write(line)
	}
	io.WriteString(big, `"}`)
	io.WriteString(zw, `,{"id":"n3","content":"small too"}]`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	b64.Close()
	fmt.Fprint(w, `"}`)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(sum.Sum(nil))
}

type largeResult struct {
	PeakAnon int64          `json:"peak_anon"`
	Counts   map[string]int `json:"counts"`
	Problems []string       `json:"problems"`
}

// TestMigrate_largeNote: a note far over the store's document limit
// (CAIRN_LARGE_NOTE_MB megabytes, default 160, 80 with -short; the
// issue's case is 600)
// is not decoded: its text is kept whole, exactly, as an attachment,
// and the migrating process (a child, its anonymous memory sampled) stays
// within a bound that does not grow with the note.
func TestMigrate_largeNote(t *testing.T) {
	if dir := os.Getenv("CAIRN_LARGE_CHILD"); dir != "" {
		largeChild(dir, os.Getenv("CAIRN_LARGE_STORE"))
		return
	}
	mb := 160
	if testing.Short() {
		mb = 80 // still over the 64 MiB limit once decoded
	}
	if s := os.Getenv("CAIRN_LARGE_NOTE_MB"); s != "" {
		mb, _ = strconv.Atoi(s)
	}
	dir, store := t.TempDir(), t.TempDir()
	want := writeLargeNote(t, dir, mb)
	cmd := exec.Command(os.Args[0], "-test.run=^TestMigrate_largeNote$")
	cmd.Env = append(os.Environ(), "CAIRN_LARGE_CHILD="+dir, "CAIRN_LARGE_STORE="+store)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var res largeResult
	line := out[:bytes.IndexByte(out, '\n')+1]
	if err := json.Unmarshal(line, &res); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	t.Logf("a %d MB note: peak anonymous memory %d MB", mb, res.PeakAnon>>20)
	// The store's own buffers, the decoded documents of one batch and
	// the runtime: about 100 MB whatever the note's size.
	if limit := int64(200 << 20); res.PeakAnon > limit {
		t.Errorf("peak anonymous memory %d MB, more than %d MB", res.PeakAnon>>20, limit>>20)
	}
	if res.Counts["notes"] != 2 || !strings.Contains(strings.Join(res.Problems, "\n"), `notes "n2" not imported as a document`) {
		t.Errorf("counts %v, problems %q", res.Counts, res.Problems)
	}
	db, err := kv.Open(store, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id string
	err = db.View(context.Background(), func(tx *kv.Tx) error {
		return tx.Each("attachments", func(aid string, doc any) error {
			if o, _ := doc.(map[string]any)["oversized"].(map[string]any); o["id"] == "n2" {
				id = aid
			}
			return nil
		})
	})
	if err != nil || id == "" {
		t.Fatalf("no attachment holds n2: %v", err)
	}
	r, _, err := db.OpenAttachment(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, r); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != want {
		t.Errorf("the attachment is not n2's text exactly: %s, want %s", got, want)
	}
}

// largeChild migrates dir into store and prints a largeResult, sampling
// its own RssAnon every 10 ms.
func largeChild(dir, store string) {
	var peak int64
	done := make(chan struct{})
	go func() {
		for {
			if n := rssAnon(); n > peak {
				peak = n
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	db, err := kv.Open(store, &kv.Options{NoSearch: true})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	res, err := legacy.Migrate(context.Background(), db, dir, nil, false)
	done <- struct{}{}
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	b, _ := json.Marshal(largeResult{PeakAnon: peak, Counts: res.Counts, Problems: res.Problems})
	fmt.Println(string(b))
	os.Exit(0)
}

// rssAnon is the process's anonymous resident memory (Linux), 0 elsewhere.
func rssAnon() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "RssAnon:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
