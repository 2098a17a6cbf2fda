package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// uiRun is a kvtool ui serving in-process.
type uiRun struct {
	first  string // the first line of stdout
	stop   func() result
	client *http.Client
	base   string // http://host:port
	token  string // once set, sent to the API as the page sends it
}

// bearer adds the inspector's token to the API requests of its run, as the
// inspector's page does.
type bearer struct{ r *uiRun }

func (b bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	if b.r.token != "" && strings.HasPrefix(req.URL.Path, "/api/") {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+b.r.token)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// startUI runs kvtool with args (a ui command) until stop, and returns once
// it printed its first line.
func startUI(t *testing.T, args ...string) *uiRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb lockedBuffer
	var rest bytes.Buffer
	code := make(chan int, 1)
	go func() {
		c := runContext(ctx, args, strings.NewReader(""), pw, &errb)
		_ = pw.Close() // the reader sees the end
		code <- c
	}()
	first, err := bufio.NewReader(pr).ReadString('\n')
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&rest, pr); close(copied) }()
	r := &uiRun{first: strings.TrimSpace(first)}
	stopped := false
	var res result
	r.stop = func() result {
		if !stopped {
			stopped = true
			cancel()
			res.code = <-code
			<-copied
			res.stdout, res.stderr = first+rest.String(), errb.String()
		}
		return res
	}
	t.Cleanup(func() { r.stop() })
	if err != nil {
		res := r.stop()
		t.Fatalf("kvtool %q printed no line: %v; exit %d\nstderr: %s", args, err, res.code, res.stderr)
	}
	jar, _ := cookiejar.New(nil)
	r.client = &http.Client{Jar: jar, Timeout: time.Minute, Transport: bearer{r}}
	if u, err := url.Parse(r.first); err == nil {
		r.base = u.Scheme + "://" + u.Host
	}
	return r
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// get fetches path, requiring status, and returns the body.
func (r *uiRun) get(t *testing.T, path string, status int) string {
	t.Helper()
	resp, err := r.client.Get(r.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != status {
		t.Fatalf("GET %s: status %d, want %d: %s", path, resp.StatusCode, status, b)
	}
	return string(b)
}

// kvtool ui prints its URL with a token as the first line of stdout, serves
// the pages with it and nothing without it, and reading every page leaves
// data.db byte for byte as it was; it stops with exit 0 when interrupted.
func TestUI_readOnly(t *testing.T) {
	dir := newStore(t)
	before := dbHash(t, dir)
	fi, err := os.Stat(filepath.Join(dir, "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	ui := startUI(t, "--db", dir, "ui", "--addr", "127.0.0.1:0")
	u, err := url.Parse(ui.first)
	if err != nil || u.Scheme != "http" || len(u.Query().Get("token")) != 64 || u.Path != "/" {
		t.Fatalf("first line %q: want http://127.0.0.1:PORT/?token=<64 hex digits>", ui.first)
	}
	if host, _, _ := net.SplitHostPort(u.Host); host != "127.0.0.1" {
		t.Errorf("URL host %s, want 127.0.0.1", host)
	}
	ui.get(t, "/api/collections", http.StatusUnauthorized) // no token yet
	if page := ui.get(t, "/?token="+u.Query().Get("token"), http.StatusOK); !strings.Contains(page, "app.js") {
		t.Fatalf("the page: %s", page)
	}
	ui.get(t, "/api/collections", http.StatusUnauthorized) // the page's cookie does not open the API
	ui.token = u.Query().Get("token")
	reads := []string{
		"/", "/app.js", "/app.css", "/api/version", "/api/collections", "/api/stats",
		"/api/list?c=sessions", "/api/list?c=notes&sort=-timestamp", "/api/list?c=sessions&sort=-id&offset=1",
		"/api/doc?c=sessions&id=s1", "/api/doc?c=settings", "/api/parts?c=sessions&id=s1",
		"/api/part?c=sessions&id=s1&field=screenshots", "/api/query?c=sessions&where=status%3Dcompleted&sort=-startTime",
		"/api/search?q=parser", "/api/check", "/api/backups",
	}
	for _, p := range reads {
		ui.get(t, p, http.StatusOK)
		if h := dbHash(t, dir); h != before {
			t.Fatalf("GET %s changed data.db", p)
		}
	}
	for _, p := range []string{"/api/doc?c=notes&id=missing", "/api/list?c=bogus", "/api/attachment?id=none"} {
		resp, err := ui.client.Get(ui.base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("GET %s: status %d", p, resp.StatusCode)
		}
	}
	var coll struct {
		Collections []struct {
			Name  string
			Count int
		}
	}
	if err := json.Unmarshal([]byte(ui.get(t, "/api/collections", http.StatusOK)), &coll); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, c := range coll.Collections {
		counts[c.Name] = c.Count
	}
	if counts["sessions"] != 1 || counts["notes"] != 3 || counts["settings"] != 1 {
		t.Errorf("counts: %v", counts)
	}
	res := ui.stop()
	wantExit(t, res, exitOK, "ui")
	if lines := strings.Split(strings.TrimSpace(res.stdout), "\n"); len(lines) != 1 {
		t.Errorf("stdout holds more than the URL: %q", res.stdout)
	}
	if strings.Contains(res.stderr, "warning") {
		t.Errorf("a loopback address warned: %s", res.stderr)
	}
	if h := dbHash(t, dir); h != before {
		t.Fatal("kvtool ui changed data.db")
	}
	fi2, err := os.Stat(filepath.Join(dir, "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	if !fi2.ModTime().Equal(fi.ModTime()) {
		t.Errorf("kvtool ui touched data.db: mtime %v -> %v", fi.ModTime(), fi2.ModTime())
	}
}

// By default kvtool ui listens on loopback only; nothing answers on the
// machine's other addresses.
func TestUI_loopbackOnly(t *testing.T) {
	root, _ := newRoot(strings.NewReader(""), io.Discard, io.Discard)
	ui, _, err := root.Find([]string{"ui"})
	if err != nil {
		t.Fatal(err)
	}
	def := ui.Flag("addr").DefValue
	if def != "127.0.0.1:8765" {
		t.Errorf("--addr defaults to %q, want 127.0.0.1:8765", def)
	}
	r := startUI(t, "--db", newStore(t), "ui", "--addr", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(r.base, "http://"))
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		tried++
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), port), 2*time.Second); err == nil {
			c.Close()
			t.Errorf("kvtool ui answers on %s, not only on loopback", ipn.IP)
		}
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), 2*time.Second); err != nil {
		t.Errorf("kvtool ui does not answer on loopback: %v", err)
	} else {
		c.Close()
	}
	t.Logf("%d non-loopback address(es) tried", tried)
}

// Any other address is served with a warning on stderr, and the URL still
// names an address a browser on this machine opens; --json prints the URL
// as one JSON line.
func TestUI_otherAddress(t *testing.T) {
	r := startUI(t, "--db", newStore(t), "--json", "ui", "--addr", "0.0.0.0:0")
	var first struct{ URL, Addr string }
	if err := json.Unmarshal([]byte(r.first), &first); err != nil || !strings.HasPrefix(first.URL, "http://127.0.0.1:") || first.Addr == "" {
		t.Errorf("--json first line %q: %v", r.first, err)
	}
	res := r.stop()
	wantExit(t, res, exitOK, "ui")
	if !strings.Contains(res.stderr, "warning") || !strings.Contains(res.stderr, "not loopback") {
		t.Errorf("no warning for 0.0.0.0: %q", res.stderr)
	}
}

// Without a store, or with an address it cannot listen on, kvtool ui exits 1
// saying why, and creates nothing.
func TestUI_refused(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none")
	r := kvtool(t, "", "--db", missing, "ui", "--addr", "127.0.0.1:0")
	wantExit(t, r, exitError, "ui")
	if !strings.Contains(r.stderr, "no store") || r.stdout != "" {
		t.Errorf("no store: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("kvtool ui created %s", missing)
	}
	dir := newStore(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r = kvtool(t, "", "--db", dir, "ui", "--addr", ln.Addr().String())
	wantExit(t, r, exitError, "ui")
	if !strings.Contains(r.stderr, ln.Addr().String()) || r.stdout != "" {
		t.Errorf("address in use: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	r = kvtool(t, "", "--db", dir, "ui", "extra")
	wantExit(t, r, exitUsage, "ui", "extra")
}
