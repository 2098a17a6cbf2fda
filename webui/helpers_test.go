package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// testCollections are the built-in collections (kvtool passes the same
// list, from buckets).
var testCollections = []Collection{
	{Name: "sessions"}, {Name: "notes"}, {Name: "tasks"}, {Name: "topics"}, {Name: "companies"},
	{Name: "contacts"}, {Name: "attachments"}, {Name: "extras"},
	{Name: "settings", Singleton: true}, {Name: "aiSettings", Singleton: true}, {Name: "preferences", Singleton: true},
}

// bigNumber is kept exactly by the store and must reach the page so.
const bigNumber = "123456789012345678901234567890"

// newTestStore builds a store in t.TempDir(): 30 sessions (each with
// screenshots and a summary, stored as parts), notes, tasks, settings, a
// PNG attachment and a text one. When the test ends the store must pass
// the full integrity check (STYLE rule 13).
func newTestStore(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := db.AddAttachment(ctx, bytes.NewReader(testPNG(t)), kv.Document{"id": "a-png", "name": "chart.png", "mimeType": "image/png", "type": "image"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddAttachment(ctx, strings.NewReader("<script>alert(1)</script>"), kv.Document{"id": "a-html", "name": "page.html", "mimeType": "text/html"}); err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, func(tx *kv.Tx) error {
		for i := range 30 {
			shots := make([]any, 25)
			for k := range shots {
				shots[k] = kv.Document{"id": fmt.Sprintf("sc%d-%d", i, k), "timestamp": fmt.Sprintf("2025-03-%02dT09:%02d:00Z", i%28+1, k), "attachmentId": "a-png"}
			}
			status := []string{"completed", "active", "paused"}[i%3]
			doc := kv.Document{
				"id":          fmt.Sprintf("s%02d", i),
				"name":        fmt.Sprintf("Session %c planning", 'Z'-rune(i%26)),
				"status":      status,
				"startTime":   fmt.Sprintf("2025-03-%02dT09:00:00Z", (i*7)%28+1),
				"tags":        []any{"work", []string{"alpha", "beta", "gamma"}[i%3]},
				"screenshots": shots,
				"summary":     kv.Document{"narrative": fmt.Sprintf("Narrative %d about the roadmap.", i)},
			}
			if _, err := tx.Put("sessions", doc); err != nil {
				return err
			}
		}
		notes := []kv.Document{
			{"id": "n1", "content": "Budget meeting with <b>Ada</b> & the team", "timestamp": "2025-01-05T10:00:00Z", "tags": []any{"budget"}},
			{"id": "n2", "content": "Roadmap review", "timestamp": "2025-01-06T10:00:00Z"},
		}
		for _, n := range notes {
			if _, err := tx.Put("notes", n); err != nil {
				return err
			}
		}
		big, err := kv.ParseJSON([]byte(`{"id":"t1","title":"Pay the invoice","status":"todo","priority":"high","amount":` + bigNumber + `}`))
		if err != nil {
			return err
		}
		if _, err := tx.Put("tasks", big); err != nil {
			return err
		}
		_, err = tx.Put("settings", kv.Document{"theme": "dark", "language": "en"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { checkStore(t, dir) })
	return dir
}

// checkStore runs the full integrity check on dir.
func checkStore(t testing.TB, dir string) {
	t.Helper()
	db, err := kv.Open(dir, &kv.Options{ReadOnly: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Errorf("teardown check: %v", err)
		return
	}
	defer db.Close()
	rep, err := db.Check(context.Background())
	if err != nil {
		t.Errorf("teardown check: %v", err)
		return
	}
	for _, p := range rep.Problems {
		t.Errorf("teardown check: %s", p)
	}
}

// testPNG is a small real PNG: four colour bands.
func testPNG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 40))
	bands := []color.RGBA{{200, 60, 60, 255}, {60, 160, 80, 255}, {60, 90, 200, 255}, {230, 190, 50, 255}}
	for x := range 64 {
		for y := range 40 {
			img.Set(x, y, bands[x/16])
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// startTest starts an inspector of dir on a free loopback port, closed
// when the test ends.
func startTest(t testing.TB, dir string, linger time.Duration) *Server {
	t.Helper()
	srv, err := Start("127.0.0.1:0", Config{
		Dir:         dir,
		Collections: testCollections,
		Linger:      linger,
		Advice:      func(ps []kv.Problem) []string { return []string{fmt.Sprintf("advice for %d problem(s)", len(ps))} },
		ErrorLog:    log.New(io.Discard, "", 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return srv
}

// client sends requests straight to a server's handler (httptest), as the
// inspector's page in a browser would (the page's cookie, and the token in
// an Authorization header), unless told otherwise.
type client struct {
	t   testing.TB
	srv *Server
	h   http.Handler
}

func newClient(t testing.TB, srv *Server) *client {
	return &client{t: t, srv: srv, h: srv.Handler()}
}

func (c *client) host() string { return c.srv.Addr().String() }

func (c *client) token() string {
	u, err := url.Parse(c.srv.URL())
	if err != nil {
		c.t.Fatal(err)
	}
	return u.Query().Get("token")
}

// do serves one request; mod may change it before it is served.
func (c *client) do(method, path string, body string, mod func(r *http.Request)) *httptest.ResponseRecorder {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	r.Host = c.host()
	r.AddCookie(&http.Cookie{Name: c.srv.access.cookie, Value: c.srv.access.shell})
	r.Header.Set("Authorization", "Bearer "+c.token())
	if method == http.MethodPost {
		r.Header.Set("Origin", "http://"+c.host())
		r.Header.Set("Content-Type", "application/json")
	}
	if mod != nil {
		mod(r)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	return w
}

// get serves a GET and decodes its JSON answer into v, requiring status.
func (c *client) get(path string, status int, v any) {
	c.t.Helper()
	c.decode(c.do(http.MethodGet, path, "", nil), status, v)
}

// post serves a POST of body and decodes its answer into v.
func (c *client) post(path string, body any, status int, v any) {
	c.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		c.t.Fatal(err)
	}
	c.decode(c.do(http.MethodPost, path, string(b), nil), status, v)
}

func (c *client) decode(w *httptest.ResponseRecorder, status int, v any) {
	c.t.Helper()
	if w.Code != status {
		c.t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Fatalf("Content-Type %q, want JSON: %s", ct, w.Body.String())
	}
	if v == nil {
		return
	}
	d := json.NewDecoder(w.Body)
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		c.t.Fatalf("answer is not JSON: %v", err)
	}
}
