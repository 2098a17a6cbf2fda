package webui

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// TestMain lets the test binary stand in for an application that holds the
// store for writing (holdStore).
func TestMain(m *testing.M) {
	if dir := os.Getenv("CAIRN_UI_HOLD"); dir != "" {
		os.Exit(holder(dir))
	}
	os.Exit(m.Run())
}

// holder opens the store in dir for writing (waiting up to 10 s for it),
// says "held" on stdout, writes one document, and closes the store when
// stdin closes.
func holder(dir string) int {
	db, err := kv.Open(dir, &kv.Options{Timeout: 10 * time.Second, NoAutoBackup: true})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "from-the-app", "content": "written by the application"}); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("held")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := db.Close(); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	return 0
}

// holdStore starts a process that opens dir for writing and returns when
// it holds it; release makes it close the store and waits for it to exit.
func holdStore(t *testing.T, dir string) (pid int, release func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CAIRN_UI_HOLD="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "held" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the application process did not get the store: %q", line)
	}
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("the application process: %v", err)
		}
	}
	t.Cleanup(release)
	return cmd.Process.Pid, release
}

// Beside an application that holds the store for writing, a page fails
// fast with "locked", naming the process; once the application closes the
// store, the page reads it, the application's write included.
func TestStore_besideApplication(t *testing.T) {
	dir := newTestStore(t)
	srv := startTest(t, dir, 200*time.Millisecond)
	c := newClient(t, srv)
	pid, release := holdStore(t, dir)
	start := time.Now()
	w := c.do("GET", "/api/collections", "", nil)
	if w.Code != http.StatusLocked || !strings.Contains(w.Body.String(), `"kind":"locked"`) || !strings.Contains(w.Body.String(), fmt.Sprint(pid)) {
		t.Errorf("beside the application: %d %s; want 423, kind locked, naming process %d", w.Code, w.Body.String(), pid)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the refusal took %v", d)
	}
	// The backups page reads no store file and still works.
	c.get("/api/backups", http.StatusOK, nil)
	release()
	time.Sleep(retryOpen)
	var d document
	c.get("/api/doc?c=notes&id=from-the-app", http.StatusOK, &d)
	if !strings.Contains(d.JSON, "written by the application") {
		t.Errorf("the application's write: %s", d.JSON)
	}
}

// The inspector holds the store only while it serves, plus the linger: an
// application opening the store right after a page was served gets it.
func TestStore_releasedAfterLinger(t *testing.T) {
	dir := newTestStore(t)
	srv := startTest(t, dir, 300*time.Millisecond)
	c := newClient(t, srv)
	c.get("/api/collections", http.StatusOK, nil) // opens the read-only handle
	start := time.Now()
	_, release := holdStore(t, dir) // waits for the lock, 10 s at most
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the application waited %v for the store after a page was served", d)
	}
	release()
}

// The version the page polls changes with every commit, and results kept
// for one version are not served for the next.
func TestStore_liveVersion(t *testing.T) {
	dir := newTestStore(t)
	srv := startTest(t, dir, 50*time.Millisecond)
	c := newClient(t, srv)
	time.Sleep(settle + 100*time.Millisecond) // the creation's version settles
	v0, settled := storeVersion(dir, time.Now())
	if !settled {
		t.Fatalf("version %s not settled %v after the last write", v0, settle)
	}
	var page struct {
		Total int
		Rows  []row
	}
	c.get("/api/list?c=notes&sort=-timestamp", http.StatusOK, &page) // kept for v0
	if page.Total != 2 {
		t.Fatalf("notes: %d", page.Total)
	}
	var ver struct{ Version string }
	c.get("/api/version", http.StatusOK, &ver)
	if ver.Version != v0 {
		t.Errorf("/api/version %s, storeVersion %s", ver.Version, v0)
	}
	time.Sleep(100 * time.Millisecond) // the linger ends: the application can write
	db, err := kv.Open(dir, &kv.Options{Timeout: 5 * time.Second, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "n3", "content": "new", "timestamp": "2026-01-01T00:00:00Z"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	c.get("/api/version", http.StatusOK, &ver)
	if ver.Version == v0 {
		t.Errorf("the version did not change with a commit: %s", v0)
	}
	page.Rows = nil
	c.get("/api/list?c=notes&sort=-timestamp", http.StatusOK, &page)
	if page.Total != 3 || len(page.Rows) != 3 || page.Rows[0]["id"] != "n3" {
		t.Errorf("after a commit the sorted page is %d %v, want n3 first of 3", page.Total, ids(page.Rows))
	}
	var coll struct {
		Collections []struct {
			Name  string
			Count int
		}
	}
	c.get("/api/collections", http.StatusOK, &coll)
	for _, x := range coll.Collections {
		if x.Name == "notes" && x.Count != 3 {
			t.Errorf("notes count %d after a commit, want 3", x.Count)
		}
	}
}

// TestStore_pollingLetsWritersIn: a page that polls faster than the linger
// never leaves the read handle idle; the inspector still lets a writer in
// within about a linger.
func TestStore_pollingLetsWritersIn(t *testing.T) {
	dir := newTestStore(t)
	c := newClient(t, startTest(t, dir, 300*time.Millisecond))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			c.do("GET", "/api/list?c=notes", "", nil) // a locked store is an answer too
			time.Sleep(20 * time.Millisecond)
		}
	}()
	defer func() { close(stop); <-done }()
	time.Sleep(100 * time.Millisecond) // the poller holds the handle
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatalf("a writer beside a page polling every 20 ms: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestStore_searchDuringRebuildLetsWritersIn: after a restore, the first
// search rebuilt the whole index while holding the store, 4 to 18 s, and
// an application's write timed out (round 6, ui6 #2). A search now waits
// for the index indexWait at most, answers "indexing" (503), and the
// store is free again after the linger, the rebuild resuming at the next
// ask, until the search answers.
func TestStore_searchDuringRebuildLetsWritersIn(t *testing.T) {
	dir := newTestStore(t)
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(t.Context(), func(tx *kv.Tx) error {
		for i := range 3000 {
			if _, err := tx.Put("notes", kv.Document{"id": fmt.Sprintf("bulk-%d", i), "content": fmt.Sprintf("budget meeting notes number %d with some more words to index", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, kv.SearchDir)); err != nil { // as a restore does
		t.Fatal(err)
	}
	defer func(w time.Duration) { indexWait = w }(indexWait)
	indexWait = time.Millisecond
	c := newClient(t, startTest(t, dir, 200*time.Millisecond))
	w := c.do("GET", "/api/search?q=budget", "", nil)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"kind":"indexing"`) {
		t.Fatalf("a search while the index is rebuilt: %d %s; want 503, kind indexing", w.Code, w.Body.String())
	}
	start := time.Now()
	_, release := holdStore(t, dir) // waits for the lock, 10 s at most
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the application waited %v for the store during a rebuild", d)
	}
	release()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		w := c.do("GET", "/api/search?q=budget", "", nil)
		if w.Code == http.StatusOK {
			var res struct{ Total int }
			if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || res.Total != 3001 { // and the fixture's budget note
				t.Errorf("the search once the index is rebuilt: %d matches (%v), want 3001", res.Total, err)
			}
			break
		}
		if w.Code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("a search while the index is rebuilt: %d %s", w.Code, w.Body.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
