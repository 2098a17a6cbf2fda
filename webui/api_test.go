package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/docmodel"
	"github.com/cairnkv/cairn/kv"
)

type row = map[string]any

func ids(rows []row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i], _ = r["id"].(string)
	}
	return out
}

// The collections page counts every collection, singletons included.
func TestAPI_collections(t *testing.T) {
	c := newClient(t, startTest(t, newTestStore(t), 0))
	var out struct {
		Collections []struct {
			Name         string
			Singleton    bool
			Count        json.Number
			LogicalBytes uint64 `json:"logical_bytes"`
		}
	}
	c.get("/api/collections", http.StatusOK, &out)
	got := map[string]string{}
	for _, x := range out.Collections {
		got[x.Name] = x.Count.String()
	}
	var st kv.Stats
	c.get("/api/stats", http.StatusOK, &st)
	for _, x := range out.Collections { // the summaries' sizes add up to what Stats reads from the records
		if want := st.Collections[x.Name]; x.LogicalBytes != want.LogicalBytes || x.Count.String() != fmt.Sprint(want.Count) {
			t.Errorf("%s: %s documents of %d bytes, stats say %d of %d", x.Name, x.Count, x.LogicalBytes, want.Count, want.LogicalBytes)
		}
	}
	want := map[string]string{"sessions": "30", "notes": "2", "tasks": "1", "attachments": "2", "settings": "1", "aiSettings": "0", "topics": "0", "extras": "0"}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("%s: count %s, want %s", name, got[name], n)
		}
	}
	if len(out.Collections) != len(testCollections) {
		t.Errorf("%d collections, want %d", len(out.Collections), len(testCollections))
	}
	if st.Collections["sessions"].Count != 30 || st.Collections["sessions"].LogicalBytes == 0 || st.FileBytes == 0 {
		t.Errorf("stats: %+v", st.Collections["sessions"])
	}
}

// A collection pages in id order, or sorted by a summary field (ties by
// id, documents without the field last), each page the matching slice;
// derived fields are refused.
func TestAPI_list(t *testing.T) {
	c := newClient(t, startTest(t, newTestStore(t), 0))
	var all []row
	for offset := 0; ; offset += 7 {
		var page struct {
			Total int
			Rows  []row
		}
		c.get(fmt.Sprintf("/api/list?c=sessions&offset=%d&limit=7", offset), http.StatusOK, &page)
		if page.Total != 30 {
			t.Fatalf("total %d, want 30", page.Total)
		}
		if len(page.Rows) == 0 {
			break
		}
		all = append(all, page.Rows...)
	}
	got := ids(all)
	if len(got) != 30 || !sort.StringsAreSorted(got) {
		t.Fatalf("id order: %v", got)
	}
	if all[0]["screenshotCount"] != json.Number("25") || all[0]["name"] == nil {
		t.Errorf("a row is not the summary: %v", all[0])
	}
	if _, ok := all[0]["screenshots"]; ok {
		t.Errorf("a row holds the document's parts: %v", all[0])
	}
	for _, sortBy := range []string{"startTime", "-startTime", "name", "-name", "status", "-id"} {
		var rows []row
		for offset := 0; offset < 30; offset += 8 {
			var page struct {
				Total int
				Rows  []row
			}
			c.get(fmt.Sprintf("/api/list?c=sessions&sort=%s&offset=%d&limit=8", sortBy, offset), http.StatusOK, &page)
			rows = append(rows, page.Rows...)
		}
		field, desc := strings.CutPrefix(sortBy, "-")
		want := append([]row(nil), all...)
		sort.SliceStable(want, func(i, j int) bool {
			a, b := fmt.Sprint(want[i][field]), fmt.Sprint(want[j][field])
			if a == b {
				return want[i]["id"].(string) < want[j]["id"].(string)
			}
			return (a < b) != desc
		})
		if fmt.Sprint(ids(rows)) != fmt.Sprint(ids(want)) {
			t.Errorf("sort %s:\n got %v\nwant %v", sortBy, ids(rows), ids(want))
		}
	}
	for _, bad := range []string{"c=notes&sort=title", "c=sessions&sort=screenshotCount", "c=sessions&sort=size", "c=nope", "c=sessions&limit=-1", "c=sessions&offset=x", "c=settings"} {
		c.get("/api/list?"+bad, http.StatusBadRequest, nil)
	}
}

// A document comes without its large parts, numbers exactly as stored;
// the parts are listed with their sizes and served on demand, arrays a
// page at a time.
func TestAPI_documentAndParts(t *testing.T) {
	c := newClient(t, startTest(t, newTestStore(t), 0))
	var d document
	c.get("/api/doc?c=sessions&id=s03", http.StatusOK, &d)
	if d.Rev == 0 || !strings.Contains(d.JSON, `"name": "Session W planning"`) {
		t.Errorf("document: %+v", d)
	}
	if strings.Contains(d.JSON, "screenshots") || strings.Contains(d.JSON, "Narrative") {
		t.Errorf("the document view holds its parts: %s", d.JSON)
	}
	c.get("/api/doc?c=tasks&id=t1", http.StatusOK, &d)
	if !strings.Contains(d.JSON, `"amount": `+bigNumber) {
		t.Errorf("a 30-digit number is not shown as stored: %s", d.JSON)
	}
	c.get("/api/doc?c=settings", http.StatusOK, &d)
	if !strings.Contains(d.JSON, `"theme": "dark"`) {
		t.Errorf("singleton: %s", d.JSON)
	}
	var parts []partInfo
	c.get("/api/parts?c=sessions&id=s03", http.StatusOK, &parts)
	if len(parts) != 2 || parts[0].Field != "screenshots" || parts[0].Len != 25 || parts[1].Field != "summary" || parts[1].Bytes == 0 {
		t.Errorf("parts: %+v", parts)
	}
	c.get("/api/parts?c=notes&id=n1", http.StatusOK, &parts)
	if len(parts) != 0 {
		t.Errorf("a note has parts: %+v", parts)
	}
	var part struct {
		Total  int
		Offset int
		JSON   string
	}
	c.get("/api/part?c=sessions&id=s03&field=screenshots&offset=20&limit=10", http.StatusOK, &part)
	var elems []row
	if err := json.Unmarshal([]byte(part.JSON), &elems); err != nil {
		t.Fatal(err)
	}
	if part.Total != 25 || part.Offset != 20 || len(elems) != 5 || elems[0]["id"] != "sc3-20" {
		t.Errorf("screenshots 20..: total %d offset %d %v", part.Total, part.Offset, ids(elems))
	}
	c.get("/api/part?c=sessions&id=s03&field=summary", http.StatusOK, &part)
	if !strings.Contains(part.JSON, "Narrative 3") {
		t.Errorf("summary part: %s", part.JSON)
	}
	c.get("/api/part?c=sessions&id=s03&field=nothing", http.StatusNotFound, nil)
	c.get("/api/doc?c=sessions&id=missing", http.StatusNotFound, nil)
	c.get("/api/doc?c=sessions&id=", http.StatusBadRequest, nil)
	c.get("/api/doc?c=no/such&id=x", http.StatusBadRequest, nil)
}

// An image attachment is served as itself, verified; anything else is not
// previewed, so a stored HTML page never runs in the inspector's origin.
func TestAPI_attachment(t *testing.T) {
	c := newClient(t, startTest(t, newTestStore(t), 0))
	w := c.do("GET", "/api/attachment?id=a-png", "", nil)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/png" || !bytes.Equal(w.Body.Bytes(), testPNG(t)) {
		t.Errorf("PNG: status %d, type %q, %d bytes", w.Code, w.Header().Get("Content-Type"), w.Body.Len())
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
		t.Errorf("attachment CSP %q lacks sandbox", csp)
	}
	c.get("/api/attachment?id=a-html", http.StatusBadRequest, nil)
	c.get("/api/attachment?id=missing", http.StatusNotFound, nil)
}

// A query answers the page of summaries and the plan, as kvtool query
// --explain would; a malformed condition is a clear 400.
func TestAPI_query(t *testing.T) {
	c := newClient(t, startTest(t, newTestStore(t), 0))
	var res queryResult
	c.get("/api/query?c=sessions&where=status%3Dcompleted&where=tags%3Dalpha&sort=-startTime&limit=3", http.StatusOK, &res)
	if len(res.Rows) != 3 || res.Explain.Plan == "" || res.Explain.Returned != 3 {
		t.Fatalf("query: %+v", res)
	}
	for i, r := range res.Rows {
		if r["status"] != "completed" || r["id"] != res.IDs[i] {
			t.Errorf("row %d: %v", i, r)
		}
		if i > 0 && fmt.Sprint(r["startTime"]) > fmt.Sprint(res.Rows[i-1]["startTime"]) {
			t.Errorf("rows not newest first: %v", ids(res.Rows))
		}
	}
	c.get("/api/query?c=sessions&where=startTime%3E%3D2025-03-20&where=summary~roadmap", http.StatusOK, &res)
	if len(res.Rows) == 0 {
		t.Errorf("a date and full-text query found nothing: %+v", res.Explain)
	}
	for _, bad := range []string{"c=sessions&where=status%3F%3Fx", "c=sessions&where=startTime%3Etomorrow", "c=settings", "c=sessions&limit=100000"} {
		c.get("/api/query?"+bad, http.StatusBadRequest, nil)
	}
}

// Search answers ranked hits with their summaries and highlighted
// excerpts as plain-text segments (markup in a document stays text).
func TestAPI_search(t *testing.T) {
	c := newClient(t, startTest(t, newTestStore(t), 0))
	var res struct {
		Total int
		Hits  []searchHit
	}
	c.get("/api/search?q=budget", http.StatusOK, &res)
	if res.Total != 1 || len(res.Hits) != 1 || res.Hits[0].ID != "n1" || res.Hits[0].Summary["title"] == nil {
		t.Fatalf("search: %+v", res)
	}
	var marked []string
	var text string
	for _, f := range res.Hits[0].Fragments {
		for _, s := range f {
			text += s.Text
			if s.Mark {
				marked = append(marked, strings.ToLower(s.Text))
			}
		}
	}
	if len(marked) == 0 || strings.ReplaceAll(strings.Join(marked, ""), "budget", "") != "" || !strings.Contains(text, "<b>Ada</b> & the team") {
		t.Errorf("fragments %+v: want Budget marked and the markup as text", res.Hits[0].Fragments)
	}
	c.get("/api/search?q=planning&c=sessions&limit=5", http.StatusOK, &res)
	if res.Total != 30 || len(res.Hits) != 5 {
		t.Errorf("sessions search: total %d, %d hits", res.Total, len(res.Hits))
	}
	c.get("/api/search?q=", http.StatusBadRequest, nil)
	c.get("/api/search?q=x&c=nope", http.StatusBadRequest, nil)
	// A query over the search limits is bad input, not a server error.
	c.get("/api/search?q="+strings.Repeat("a", 4097), http.StatusBadRequest, nil)
}

func TestHighlighted(t *testing.T) {
	for frag, want := range map[string]string{
		"plain":            "[plain]",
		"<mark>a</mark> b": "[*a][ b]",
		"x &lt;mark&gt; <mark>y</mark>&amp;z<mark>w": "[x <mark> ][*y][&z][*w]",
		"": "",
	} {
		var got string
		for _, s := range highlighted(frag) {
			if s.Mark {
				got += "[*" + s.Text + "]"
			} else {
				got += "[" + s.Text + "]"
			}
		}
		if got != want {
			t.Errorf("highlighted(%q) = %s, want %s", frag, got, want)
		}
	}
}

// Check reports a clean store as clean, and a damaged one with its
// problems and the advice kvtool gives.
func TestAPI_check(t *testing.T) {
	dir := newTestStore(t)
	c := newClient(t, startTest(t, dir, 0))
	var rep struct {
		OK       bool
		Problems []kv.Problem
		Advice   []string
	}
	c.get("/api/check", http.StatusOK, &rep)
	if !rep.OK || len(rep.Problems) != 0 || rep.Advice != nil {
		t.Errorf("clean store: %+v", rep)
	}
}

// Backups: create (verified), list, verify, and a restore that must be
// confirmed, brings the data back and names the backup of what it replaced.
func TestAPI_backups(t *testing.T) {
	dir := newTestStore(t)
	srv := startTest(t, dir, 0)
	c := newClient(t, srv)
	var m kv.Manifest
	c.post("/api/backups/create", nil, http.StatusOK, &m)
	if !m.Verified || m.Name == "" {
		t.Fatalf("backup: %+v", m)
	}
	var list struct{ Backups []kv.Manifest }
	c.get("/api/backups", http.StatusOK, &list)
	if len(list.Backups) != 1 || list.Backups[0].Name != m.Name || list.Backups[0].Size == 0 {
		t.Fatalf("list: %+v", list)
	}
	var v struct {
		OK       bool
		Problems []kv.Problem
	}
	c.post("/api/backups/verify", backupRequest{Name: m.Name}, http.StatusOK, &v)
	if !v.OK {
		t.Errorf("verify: %+v", v)
	}
	c.post("/api/backups/verify", backupRequest{Name: "20990101T000000.000000000Z"}, http.StatusNotFound, nil)

	// A change after the backup, which the restore takes back.
	var d document
	c.get("/api/doc?c=notes&id=n2", http.StatusOK, &d)
	c.post("/api/patch", patchRequest{Collection: "notes", ID: "n2", Rev: d.Rev, Patch: `{"content":"changed"}`}, http.StatusOK, nil)

	c.post("/api/backups/restore", backupRequest{Name: m.Name}, http.StatusBadRequest, nil)
	c.post("/api/backups/restore", backupRequest{Name: m.Name, Confirm: "something else"}, http.StatusBadRequest, nil)
	c.get("/api/doc?c=notes&id=n2", http.StatusOK, &d)
	if !strings.Contains(d.JSON, "changed") {
		t.Fatalf("an unconfirmed restore restored: %s", d.JSON)
	}
	var res restoreResult
	c.post("/api/backups/restore", backupRequest{Name: m.Name, Confirm: m.Name}, http.StatusOK, &res)
	if res.Restored.Name != m.Name || res.PreviousBackup == "" || res.PreviousBackup == m.Name {
		t.Errorf("restore: %+v", res)
	}
	c.get("/api/doc?c=notes&id=n2", http.StatusOK, &d)
	if strings.Contains(d.JSON, "changed") {
		t.Errorf("restored document still changed: %s", d.JSON)
	}
	var found struct{ Total int }
	c.get("/api/search?q=roadmap&c=notes", http.StatusOK, &found) // the index follows the restored data
	if found.Total != 1 {
		t.Errorf("search after the restore: %d notes about the roadmap, want 1", found.Total)
	}
	c.get("/api/backups", http.StatusOK, &list)
	listed := false
	for _, b := range list.Backups {
		listed = listed || (b.Name == res.PreviousBackup && b.Reason == kv.ReasonPreRestore && b.Verified)
	}
	if !listed {
		t.Errorf("the pre-restore backup %s is not listed as a verified pre-restore backup: %+v", res.PreviousBackup, list.Backups)
	}
}

// An edit is a merge patch applied only at the revision it was written
// against; exact JSON in, a conflict when the document moved on.
func TestAPI_patch(t *testing.T) {
	c := newClient(t, startTest(t, newTestStore(t), 0))
	var d document
	c.get("/api/doc?c=tasks&id=t1", http.StatusOK, &d)
	var out struct{ Rev uint64 }
	c.post("/api/patch", patchRequest{Collection: "tasks", ID: "t1", Rev: d.Rev, Patch: `{"status":"done","big":98765432109876543210987654321}`}, http.StatusOK, &out)
	if out.Rev <= d.Rev {
		t.Errorf("new revision %d after %d", out.Rev, d.Rev)
	}
	var after document
	c.get("/api/doc?c=tasks&id=t1", http.StatusOK, &after)
	if !strings.Contains(after.JSON, `"status": "done"`) || !strings.Contains(after.JSON, "98765432109876543210987654321") || !strings.Contains(after.JSON, bigNumber) {
		t.Errorf("patched: %s", after.JSON)
	}
	c.post("/api/patch", patchRequest{Collection: "tasks", ID: "t1", Rev: d.Rev, Patch: `{"status":"todo"}`}, http.StatusConflict, nil)
	for _, bad := range []patchRequest{
		{Collection: "tasks", ID: "t1", Rev: after.Rev, Patch: `{"a":1,"a":2}`},
		{Collection: "tasks", ID: "t1", Rev: after.Rev, Patch: `{"a":`},
		{Collection: "tasks", ID: "t1", Patch: `{}`},
		{Collection: "nope", ID: "t1", Rev: after.Rev, Patch: `{}`},
	} {
		c.post("/api/patch", bad, http.StatusBadRequest, nil)
	}
	c.get("/api/doc?c=tasks&id=t1", http.StatusOK, &d)
	if d.Rev != after.Rev {
		t.Errorf("refused patches changed the document: rev %d -> %d", after.Rev, d.Rev)
	}
	c.get("/api/doc?c=settings", http.StatusOK, &d)
	c.post("/api/patch", patchRequest{Collection: "settings", Rev: d.Rev, Patch: `{"theme":"light"}`}, http.StatusOK, nil)
	c.get("/api/doc?c=settings", http.StatusOK, &d)
	if !strings.Contains(d.JSON, `"theme": "light"`) || !strings.Contains(d.JSON, `"language": "en"`) {
		t.Errorf("patched settings: %s", d.JSON)
	}
	c.get("/api/nothing", http.StatusBadRequest, nil)
}

// A damaged store: check names the problem and the way back, and a
// damaged image is never served as if whole (the response is cut).
func TestAPI_damaged(t *testing.T) {
	dir := newTestStore(t)
	blob := ""
	png := testPNG(t)
	err := filepath.WalkDir(filepath.Join(dir, kv.BlobsDir), func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if b, _ := os.ReadFile(p); bytes.Equal(b, png) {
				blob = p
			}
		}
		return err
	})
	if err != nil || blob == "" {
		t.Fatalf("the PNG's blob file: %v", err)
	}
	damaged := append([]byte(nil), png...)
	damaged[len(damaged)/2] ^= 0x40
	if err := os.Chmod(blob, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blob, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // the teardown check wants the store whole again
		if err := os.WriteFile(blob, png, 0o600); err != nil {
			t.Error(err)
		}
	})
	srv := startTest(t, dir, 0)
	c := newClient(t, srv)
	var rep struct {
		OK       bool
		Problems []kv.Problem
		Advice   []string
	}
	c.get("/api/check", http.StatusOK, &rep)
	if rep.OK || len(rep.Problems) == 0 || rep.Problems[0].Kind != "blob-corrupt" || len(rep.Advice) == 0 {
		t.Errorf("check of a damaged blob: %+v", rep)
	}

	// Over a real connection: the status is sent before the end of the
	// content is verified, so a mismatch cuts the response.
	base := strings.TrimSuffix(srv.URL()[:strings.Index(srv.URL(), "?")], "/")
	req, err := http.NewRequest(http.MethodGet, base+"/api/attachment?id=a-png", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token())
	resp, err := http.DefaultClient.Do(req)
	if err == nil && resp.StatusCode != http.StatusOK {
		t.Errorf("a damaged image: status %d, want 200 and a cut body", resp.StatusCode)
	}
	if err == nil {
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil {
			t.Errorf("a damaged image was served whole: status %d, %d bytes", resp.StatusCode, len(b))
		}
	}
}

// Every field a page offers to sort by is a verbatim copy of a document
// field (the query engine sorts by the document's field): if the summaries
// gain a derived field, derived must name it, and this test says so.
func TestSortable_copiesOfDocumentFields(t *testing.T) {
	dir := newTestStore(t)
	c := newClient(t, startTest(t, dir, 0))
	db, err := kv.Open(dir, &kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, coll := range []string{"sessions", "notes", "tasks", "attachments"} {
		var page listPage
		c.get("/api/list?c="+coll+"&limit=500", http.StatusOK, &page)
		if len(page.Rows) == 0 || len(page.Sortable) < 2 {
			t.Fatalf("%s: %d rows, sortable %v", coll, len(page.Rows), page.Sortable)
		}
		err := db.List(context.Background(), coll, 0, 0, func(sum kv.Document) error {
			doc, _, err := db.GetHeader(context.Background(), coll, sum["id"].(string))
			if err != nil {
				return err
			}
			for k, v := range sum {
				if !sortable(coll, k) {
					continue
				}
				if dv, ok := doc[k]; !ok || !docmodel.SameValue(dv, v) {
					t.Errorf("%s %s: summary field %q = %v is not the document's (%v): add it to derived", coll, sum["id"], k, v, dv)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A store too damaged to open still starts the inspector: the pages say
// the data is damaged, the backups page lists what it can be restored
// from, and a restore keeps the damaged file aside and brings the data
// back.
func TestAPI_restoreUnopenable(t *testing.T) {
	dir := newTestStore(t)
	srv := startTest(t, dir, 0)
	c := newClient(t, srv)
	var m kv.Manifest
	c.post("/api/backups/create", nil, http.StatusOK, &m)
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kv.DataFile)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 8192), 0); err != nil { // both meta pages
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	c = newClient(t, startTest(t, dir, 0))
	w := c.do("GET", "/api/collections", "", nil)
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), `"kind":"corrupt"`) {
		t.Errorf("collections of an unopenable store: %d %s", w.Code, w.Body.String())
	}
	var list struct{ Backups []kv.Manifest }
	c.get("/api/backups", http.StatusOK, &list)
	if len(list.Backups) != 1 || list.Backups[0].Name != m.Name {
		t.Fatalf("backups of an unopenable store: %+v", list.Backups)
	}
	var res restoreResult
	c.post("/api/backups/restore", backupRequest{Name: m.Name, Confirm: m.Name}, http.StatusOK, &res)
	if res.Restored.Name != m.Name || !strings.Contains(res.Damaged, kv.DamagedPrefix) || res.PreviousBackup != "" {
		t.Errorf("restore of an unopenable store: %+v", res)
	}
	if _, err := os.Stat(res.Damaged); err != nil {
		t.Errorf("the damaged file is not kept: %v", err)
	}
	var coll struct {
		Collections []struct {
			Name  string
			Count int
		}
	}
	c.get("/api/collections", http.StatusOK, &coll)
	if coll.Collections[0].Name != "sessions" || coll.Collections[0].Count != 30 {
		t.Errorf("after the restore: %+v", coll.Collections[0])
	}
}

// TestAPI_refusesInexactAndBadInput checks the request bodies and
// parameters the inspector must refuse with 400, changing nothing,
// where it stored U+FFFD for a lone surrogate or invalid byte, let the
// last of two equal members win, answered search syntax errors and bad
// backup names with 500, and panicked on an offset near the largest int.
func TestAPI_refusesInexactAndBadInput(t *testing.T) {
	c := newClient(t, startTest(t, newTestStore(t), 0))
	var d document
	c.get("/api/doc?c=tasks&id=t1", http.StatusOK, &d)
	rev := strconv.FormatUint(d.Rev, 10)
	for name, body := range map[string]string{
		"lone surrogate":     `{"collection":"tasks","id":"t1","rev":` + rev + `,"patch":"{\"x\":\"A\ud800B\"}"}`,
		"invalid UTF-8":      "{\"collection\":\"tasks\",\"id\":\"t1\",\"rev\":" + rev + ",\"patch\":\"{\\\"x\\\":\\\"A\xffB\\\"}\"}",
		"member given twice": `{"collection":"notes","id":"t1","rev":` + rev + `,"patch":"{}","collection":"tasks"}`,
	} {
		if w := c.do(http.MethodPost, "/api/patch", body, nil); w.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", name, w.Code, w.Body.String())
		}
	}
	var after document
	c.get("/api/doc?c=tasks&id=t1", http.StatusOK, &after)
	if after.Rev != d.Rev {
		t.Errorf("refused patches changed the document: rev %d -> %d", d.Rev, after.Rev)
	}
	for _, path := range []string{
		"/api/search?q=%22unterminated",
		"/api/search?q=a+OR+-b",
		"/api/list?c=tasks&sort=title&offset=9223372036854775800&limit=50",
		"/api/query?c=tasks&sort=title&offset=9223372036854775800&limit=50",
		// Round 6, ui6 #4: a sort without a field was taken for id order,
		// and an id with a malformed escape for no id.
		"/api/list?c=tasks&sort=-",
		"/api/query?c=tasks&sort=-",
		"/api/doc?c=notes&id=ab%zz",
	} {
		if w := c.do(http.MethodGet, path, "", nil); w.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", path, w.Code, w.Body.String())
		}
	}
	big := `{"collection":"tasks","id":"t1","patch":"` + strings.Repeat("x", 64<<20) + `"}`
	if w := c.do(http.MethodPost, "/api/patch", big, nil); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "over 64 MiB") {
		t.Errorf("a body over 64 MiB: status %d: %.200s", w.Code, w.Body.String())
	}
	c.post("/api/backups/verify", backupRequest{Name: "../s"}, http.StatusBadRequest, nil)
}

// User collections (created by an application's or kvtool's put) show in
// the inspector beside the built-in ones: listed, paged and opened.
func TestAPI_userCollections(t *testing.T) {
	dir := newTestStore(t)
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r2", "r1"} {
		if _, err := db.Put(context.Background(), "recipes", kv.Document{"id": id, "name": "soup " + id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, startTest(t, dir, 0))
	var out struct {
		Collections []struct {
			Name  string
			Count int
		}
	}
	c.get("/api/collections", http.StatusOK, &out)
	found := false
	for _, col := range out.Collections {
		if col.Name == "recipes" {
			found = col.Count == 2
		}
	}
	if !found {
		t.Fatalf("collections %+v: recipes with its 2 documents missing", out.Collections)
	}
	var page struct {
		Total int
		Rows  []row
	}
	c.get("/api/list?c=recipes", http.StatusOK, &page)
	if page.Total != 2 || len(page.Rows) != 2 {
		t.Fatalf("list recipes: %+v", page)
	}
	c.get("/api/doc?c=recipes&id=r1", http.StatusOK, nil)
	c.get("/api/list?c=nosuch", http.StatusBadRequest, nil)
}
