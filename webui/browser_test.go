package webui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/cairnkv/cairn/kv"
)

// findBrowser returns the path of a Chromium to drive, or "" if there is
// none: $CAIRN_CHROME, else the usual names on $PATH.
func findBrowser() string {
	if p := os.Getenv("CAIRN_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// The inspector in a real headless browser: the URL with its token opens
// the collections with their counts; a document opens with its large parts
// on demand and its image attachments previewed; a query shows its plan and
// results; a search its highlighted hits; a backup is created and restored
// after confirmation; the page follows a commit made by another writer; a
// browser without the token gets nothing. Screenshots are written to the
// test's temporary directory (and to $CAIRN_UI_SCREENSHOTS if set).
func TestBrowser_endToEnd(t *testing.T) {
	browser := findBrowser()
	if browser == "" {
		t.Skip("no Chromium found (Debian: apt-get install -y chromium; or set CAIRN_CHROME): skipping the browser test")
	}
	if testing.Short() {
		t.Skip("-short: skipping the browser test")
	}
	dir := newTestStore(t)
	srv := startTest(t, dir, 100*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()

	var mu sync.Mutex
	var exceptions []string
	if err := chromedp.Listen(tab, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			mu.Lock()
			exceptions = append(exceptions, e.ExceptionDetails.Text+" "+fmt.Sprint(e.ExceptionDetails.Exception))
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// until waits for a JavaScript condition to hold (the page loads its
	// data asynchronously; a loaded machine may be slow).
	until := func(what, cond string) {
		t.Helper()
		if _, err := chromedp.Run(tab, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second))); err != nil {
			text, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: %v (waiting for %s)\npage text:\n%s", what, err, cond, text)
		}
	}
	text := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(tab, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	shots := []string{t.TempDir()}
	if d := os.Getenv("CAIRN_UI_SCREENSHOTS"); d != "" {
		shots = append(shots, d)
	}
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		for _, d := range shots {
			p := filepath.Join(d, name+".png")
			if err := os.WriteFile(p, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", p)
		}
	}
	goTo := func(hash string) {
		t.Helper()
		do("go to "+hash, chromedp.Evaluate[chromedp.Void](`location.hash = `+jsString(hash)))
	}
	cell := func(coll, class string) string {
		return `(document.querySelector('#collections tr[data-name="` + coll + `"] td.` + class + `') || {}).textContent`
	}

	// The URL kvtool ui prints: the collections with their counts.
	do("open the URL", chromedp.Navigate(srv.URL()))
	if loc := text(`location.href`); strings.Contains(loc, "token") {
		t.Errorf("the token stays in the address bar: %s", loc)
	}
	do("watch for CSP violations", chromedp.Evaluate[chromedp.Void](`window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI))`))
	until("the collections with their counts", cell("sessions", "count")+` === "30" && `+cell("notes", "count")+` === "2" && `+cell("settings", "count")+` === "1"`)
	if size := text(cell("sessions", "size")); !strings.HasSuffix(size, "KiB") {
		t.Errorf("sessions size %q", size)
	}
	screenshot("collections")

	// A collection, sorted by a column, then a document with its parts.
	do("open sessions", chromedp.Click(chromedp.CSS(`#collections tr[data-name="sessions"] a`)))
	until("the session summaries", `document.querySelectorAll("table.summaries tbody tr").length === 30`)
	do("sort by startTime", chromedp.Click(chromedp.CSS(`table.summaries th.sortable a[title="sort by startTime"]`)))
	until("sorted by startTime", `location.hash.includes("sort=startTime") && document.querySelector("th.active") && document.querySelector("th.active").textContent.startsWith("startTime")`)
	first := text(`document.querySelector("table.summaries tbody tr td.id a").textContent`)
	if first != "s00" && first != "s04" && first != "s08" && first != "s12" && first != "s16" && first != "s20" && first != "s24" && first != "s28" {
		t.Errorf("first session by startTime: %s", first) // the 1st of March
	}
	do("open a session", chromedp.Click(chromedp.CSS(`table.summaries tbody tr td.id a`)))
	until("the document", `(document.querySelector("#doc-json") || {}).textContent?.includes('"id": "`+first+`"')`)
	if strings.Contains(text(`document.querySelector("#doc-json").textContent`), "screenshots") {
		t.Errorf("the document view shows the large parts up front")
	}
	until("its large parts, listed", `document.querySelector('button.part[data-field="screenshots"]') !== null`)
	do("show the screenshots", chromedp.Click(chromedp.CSS(`button.part[data-field="screenshots"]`)))
	until("a page of screenshots with their images", `document.querySelectorAll(".part-body .thumbs img").length === 20 && [...document.querySelectorAll(".part-body .thumbs img")].every(i => i.complete && i.naturalWidth === 64)`)
	screenshot("document")

	// An image attachment is previewed.
	goTo("#/d/attachments/a-png")
	until("the attachment preview", `(document.querySelector("img.preview") || {}).naturalWidth === 64`)

	// A query with its plan.
	goTo("#/query?c=sessions")
	until("the query form", `document.querySelector("form.query .where .field") !== null`)
	do("fill the query",
		chromedp.SendKeys(chromedp.CSS(`form.query .where .field`), "status"),
		chromedp.SendKeys(chromedp.CSS(`form.query .where .value`), "completed"),
		chromedp.SendKeys(chromedp.CSS(`form.query input[name=sort]`), "-startTime"),
		chromedp.Click(chromedp.ID("run-query")))
	until("the plan and the results", `document.querySelector("#plan .plan-kind") && document.querySelectorAll("#results table.summaries tbody tr").length === 10`)
	if plan := text(`document.querySelector("#plan .plan-kind").textContent`); plan == "" || plan == "–" {
		t.Errorf("no plan shown: %q", plan)
	}
	if got := text(`[...document.querySelectorAll("#results tbody tr")].map(r => r.textContent).join(" ")`); strings.Contains(got, "active") || strings.Contains(got, "paused") {
		t.Errorf("the results hold sessions that are not completed: %s", got)
	}
	screenshot("query")

	// A search, with its matches highlighted.
	goTo("#/search")
	until("the search form", `document.querySelector("form.search input[type=search]") !== null`)
	do("search", chromedp.SendKeys(chromedp.CSS(`form.search input[type=search]`), "budget"), chromedp.Click(chromedp.ID("run-search")))
	until("the highlighted hit", `[...document.querySelectorAll("ol.hits mark")].some(m => m.textContent.toLowerCase() === "budget")`)
	if hit := text(`document.querySelector("ol.hits li a").textContent`); hit != "Budget meeting with Ada & the team" {
		t.Errorf("the hit is not named by its note's title: %q", hit)
	}
	if frag := text(`document.querySelector("ol.hits .fragment").textContent`); !strings.Contains(frag, "<b>Ada</b>") {
		t.Errorf("the markup stored in the note is not shown as text: %q", frag) // never interpreted as HTML
	}
	screenshot("search")

	// Live: another writer commits; the collections page follows.
	goTo("#/")
	until("the collections", cell("notes", "count")+` === "2"`)
	writeNote(t, dir)
	until("the new count, without a reload", cell("notes", "count")+` === "3"`)

	// Recovery: a backup, a change, a restore after confirmation.
	goTo("#/backups")
	do("create a backup", chromedp.Click(chromedp.ID("create-backup")))
	until("the backup", `(document.querySelector("#backup-result") || {}).textContent?.includes("taken and verified") && document.querySelectorAll("#backups tbody tr").length === 1`)
	name := text(`document.querySelector("#backups tbody tr").dataset.name`)
	writeNote(t, dir)
	do("ask to restore", chromedp.Click(chromedp.CSS(`#backups tbody tr button.danger`)))
	until("the confirmation", `document.querySelector("#confirm-restore") !== null`)
	if q := text(`document.querySelector(".confirm").textContent`); !strings.Contains(q, name) || !strings.Contains(q, "saved as a new verified backup") {
		t.Errorf("the confirmation does not name the backup and what happens to the current data: %s", q)
	}
	screenshot("restore-confirm")
	do("confirm", chromedp.Click(chromedp.ID("confirm-restore")))
	until("the restore", `(document.querySelector("#backup-result") || {}).textContent?.includes("is kept as backup")`)
	result := text(`document.querySelector("#backup-result").textContent`)
	screenshot("restored")
	goTo("#/")
	until("the restored count", cell("notes", "count")+` === "3"`)
	t.Logf("restore: %s", result)

	mu.Lock()
	if len(exceptions) > 0 {
		t.Errorf("uncaught exceptions in the page: %v", exceptions)
	}
	mu.Unlock()
	if csp := text(`window.__csp.join("; ")`); csp != "" {
		t.Errorf("content security policy violations: %s", csp)
	}

	// A browser without the token: nothing but the refusal.
	other, cancelOther := chromedp.NewContext(tab, chromedp.WithNewBrowserContext())
	defer cancelOther()
	base := srv.URL()[:strings.Index(srv.URL(), "?")]
	if err := chromedp.Do(other, chromedp.Navigate(base)); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(other, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil || !strings.Contains(body, "access token") || strings.Contains(body, "sessions") {
		t.Errorf("without the token the browser shows %q (%v)", body, err)
	}
}

// writeNote commits a note as another writer would, once the inspector
// has let the store go.
func writeNote(t *testing.T, dir string) {
	t.Helper()
	db, err := kv.Open(dir, &kv.Options{Timeout: 10 * time.Second, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": fmt.Sprintf("live-%d", time.Now().UnixNano()), "content": "from another writer"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
