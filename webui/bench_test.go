package webui

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// The inspector's targets (issue 22): the first page under 200 ms at
// 10,000 sessions, any list page under 50 ms, usable at 100,000. These
// benchmarks serve the API through the handler (httptest, no network) from
// an existing store, read-only:
//
//	go run ./cmd/kvtool --db /tmp/ui10k demo
//	CAIRN_UI_BENCH_DB=/tmp/ui10k go test -run '^$' -bench . -benchtime 20x ./webui/
//
// "cold" starts a new server for each iteration: a new handle on the store,
// nothing cached (the operating system's page cache aside) but the counts
// the server computes as it starts (counts-unwarmed measures those alone).

func benchStore(b *testing.B) string {
	dir := os.Getenv("CAIRN_UI_BENCH_DB")
	if dir == "" {
		b.Skip("set CAIRN_UI_BENCH_DB to a store (kvtool --db DIR demo builds one)")
	}
	return dir
}

// benchClient starts a server of dir; the previous one, if any, is closed
// first, so that one handle at a time holds the store.
func benchClient(b *testing.B, dir string, prev *client) *client {
	if prev != nil {
		if err := prev.srv.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	srv, err := Start("127.0.0.1:0", Config{Dir: dir, Collections: testCollections, Linger: time.Minute, ErrorLog: log.New(io.Discard, "", 0)})
	if err != nil {
		b.Fatal(err)
	}
	c := newClient(b, srv)
	b.Cleanup(func() { _ = srv.Close(context.Background()) }) // a second Close does nothing
	return c
}

// serve runs GETs of paths and fails on any answer but 200.
func serve(b *testing.B, c *client, paths ...string) {
	for _, p := range paths {
		if w := c.do(http.MethodGet, p, "", nil); w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", p, w.Code, w.Body.String())
		}
	}
}

// firstPage is what the first view needs to show the collections with
// their counts and sizes.
var firstPage = []string{"/", "/app.js", "/app.css", "/api/version", "/api/collections"}

func BenchmarkFirstPage(b *testing.B) {
	dir := benchStore(b)
	b.Run("cold", func(b *testing.B) {
		var c *client
		for b.Loop() {
			b.StopTimer()
			c = benchClient(b, dir, c)
			<-c.srv.warm // as when a person opens the URL kvtool printed
			b.StartTimer()
			serve(b, c, firstPage...)
		}
	})
	b.Run("counts-unwarmed", func(b *testing.B) {
		for b.Loop() { // what the warm-up computes: a new handle, every collection's summaries
			st := &store{dir: dir, opts: func(bool) *kv.Options { return &kv.Options{ReadOnly: true} }, linger: time.Minute}
			for _, c := range testCollections {
				if _, err := st.tally(c); err != nil {
					b.Fatal(err)
				}
			}
			if err := st.close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("warm", func(b *testing.B) {
		c := benchClient(b, dir, nil)
		serve(b, c, firstPage...)
		for b.Loop() {
			serve(b, c, firstPage...)
		}
	})
	b.Run("stats-cold", func(b *testing.B) {
		var c *client
		for b.Loop() {
			b.StopTimer()
			c = benchClient(b, dir, c)
			b.StartTimer()
			serve(b, c, "/api/stats")
		}
	})
}

func BenchmarkListPage(b *testing.B) {
	dir := benchStore(b)
	pages := []struct{ name, path string }{
		{"id-first", "/api/list?c=sessions&limit=50"},
		{"id-middle", "/api/list?c=sessions&offset=5000&limit=50"},
		{"id-desc", "/api/list?c=sessions&sort=-id&offset=50&limit=50"},
		{"startTime-desc-first", "/api/list?c=sessions&sort=-startTime&limit=50"},
		{"startTime-desc-middle", "/api/list?c=sessions&sort=-startTime&offset=5000&limit=50"},
		{"name-first", "/api/list?c=sessions&sort=name&limit=50"},
		{"name-middle", "/api/list?c=sessions&sort=name&offset=5000&limit=50"},
		{"notes-timestamp", "/api/list?c=notes&sort=-timestamp&offset=100&limit=50"},
		{"query", "/api/query?c=sessions&where=status%3Dcompleted&where=tags%3Dplanning&sort=-startTime&limit=50"},
		{"document", ""},
	}
	for _, p := range pages {
		for _, mode := range []string{"cold", "warm"} {
			b.Run(fmt.Sprintf("%s/%s", p.name, mode), func(b *testing.B) {
				path := p.path
				c := benchClient(b, dir, nil)
				if path == "" { // a document: the first session's header
					var page struct{ Rows []row }
					c.get("/api/list?c=sessions&offset=100&limit=1", http.StatusOK, &page)
					path = "/api/doc?c=sessions&id=" + page.Rows[0]["id"].(string)
				}
				if mode == "warm" {
					serve(b, c, path)
				}
				for b.Loop() {
					if mode == "cold" {
						b.StopTimer()
						c = benchClient(b, dir, c)
						<-c.srv.warm
						b.StartTimer()
					}
					serve(b, c, path)
				}
			})
		}
	}
}
