package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// The JSON API. Reads are GET; changes are POST with a JSON body (and the
// access checks of auth.go). Errors are {"error": message, "kind": kind}
// with the status errorStatus gives.

// pageMax is the most rows one list, query or search page returns.
const pageMax = 500

func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/version", s.apiVersion)
	mux.HandleFunc("GET /api/collections", s.apiCollections)
	mux.HandleFunc("GET /api/stats", s.apiStats)
	mux.HandleFunc("GET /api/list", s.apiList)
	mux.HandleFunc("GET /api/doc", s.apiDoc)
	mux.HandleFunc("GET /api/parts", s.apiParts)
	mux.HandleFunc("GET /api/part", s.apiPart)
	mux.HandleFunc("GET /api/attachment", s.apiAttachment)
	mux.HandleFunc("GET /api/query", s.apiQuery)
	mux.HandleFunc("GET /api/search", s.apiSearch)
	mux.HandleFunc("GET /api/check", s.apiCheck)
	mux.HandleFunc("GET /api/backups", s.apiBackups)
	mux.HandleFunc("POST /api/backups/create", s.apiBackupCreate)
	mux.HandleFunc("POST /api/backups/verify", s.apiBackupVerify)
	mux.HandleFunc("POST /api/backups/restore", s.apiBackupRestore)
	mux.HandleFunc("POST /api/patch", s.apiPatch)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("%w: no API %s %s", errUsage, r.Method, r.URL.Path))
	})
}

// errUsage marks a request the API does not understand.
var errUsage = errors.New("bad request")

// errorStatus maps an error to an HTTP status and a kind the page acts on.
func errorStatus(err error) (int, string) {
	switch {
	case errors.Is(err, kv.ErrLocked):
		return http.StatusLocked, "locked"
	case errors.Is(err, kv.ErrNoStore):
		return http.StatusNotFound, "no-store"
	case errors.Is(err, kv.ErrBackupNotFound):
		return http.StatusNotFound, "no-backup"
	case errors.Is(err, kv.ErrNotFound):
		return http.StatusNotFound, "not-found"
	case errors.Is(err, kv.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, kv.ErrBackupInvalid):
		return http.StatusUnprocessableEntity, "backup-invalid"
	case errors.Is(err, kv.ErrCorrupt):
		return http.StatusInternalServerError, "corrupt"
	case errors.Is(err, errUsage), errors.Is(err, kv.ErrBadQuery), errors.Is(err, kv.ErrInvalid),
		errors.Is(err, kv.ErrSyntax), errors.Is(err, kv.ErrInvalidID), errors.Is(err, kv.ErrUnknownCollection),
		errors.Is(err, kv.ErrTooLarge), errors.Is(err, kv.ErrSearchSyntax), errors.Is(err, kv.ErrBackupName),
		errors.Is(err, kv.ErrQueryTooLong), errors.Is(err, kv.ErrEmptyQuery):
		return http.StatusBadRequest, "bad-request"
	case errors.Is(err, errIndexing):
		return http.StatusServiceUnavailable, "indexing"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "cancelled"
	}
	return http.StatusInternalServerError, "error"
}

func writeError(w http.ResponseWriter, err error) {
	status, kind := errorStatus(err)
	writeJSON(w, status, map[string]string{"error": err.Error(), "kind": kind})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		fmt.Fprintf(&b, `{"error":%q,"kind":"error"}`, "encode the answer: "+err.Error())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes()) // the client went away: nobody to tell
}

// reply writes v, or the error.
func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// indentJSON renders a stored value as indented JSON, numbers exactly as
// stored (big ones are json.Number literals).
func indentJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// collection returns the named collection, or a usage error.
func (s *Server) collection(name string) (Collection, error) {
	colls, err := s.collections()
	if err != nil {
		return Collection{}, err
	}
	for _, c := range colls {
		if c.Name == name {
			return c, nil
		}
	}
	return Collection{}, fmt.Errorf("%w: %w: %q", errUsage, kv.ErrUnknownCollection, name)
}

// collections returns Config.Collections, then the user collections the
// store holds (those an application or kvtool put created), by name.
func (s *Server) collections() ([]Collection, error) {
	user, err := cached(s, "collections", s.store.userCollections)
	if err != nil {
		return nil, err
	}
	out := append([]Collection(nil), s.colls...)
	for _, name := range user {
		if !slices.ContainsFunc(out, func(c Collection) bool { return c.Name == name }) {
			out = append(out, Collection{Name: name})
		}
	}
	return out, nil
}

// offsetMax bounds an offset parameter: far past any store, and far from
// where offset+limit would overflow.
const offsetMax = 1 << 40

// intParam reads a non-negative integer parameter, def when absent.
func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s must be a non-negative integer, not %q", errUsage, name, v)
	}
	if max > 0 && n > max {
		return 0, fmt.Errorf("%w: %s must be at most %d, not %d", errUsage, name, max, n)
	}
	return n, nil
}

func (s *Server) apiVersion(w http.ResponseWriter, r *http.Request) {
	v, _ := storeVersion(s.dir, time.Now())
	writeJSON(w, http.StatusOK, map[string]string{"version": v, "store": s.dir})
}

// apiCollections answers the first page: every collection with its count
// and logical size, from the metadata summaries (no document decoded).
// The stored (compressed) sizes are the stats page's: they read every
// record.
func (s *Server) apiCollections(w http.ResponseWriter, r *http.Request) {
	out, err := s.tallies()
	reply(w, map[string]any{"store": s.dir, "collections": out}, err)
}

// tallies counts every collection, two at a time (the large ones take a
// walk of their summaries each).
func (s *Server) tallies() ([]collectionInfo, error) {
	colls, err := s.collections()
	if err != nil {
		return nil, err
	}
	out := make([]collectionInfo, len(colls))
	errs := make([]error, len(colls))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, c := range colls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i].Collection = c
			out[i].tally, errs[i] = s.tally(c)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the same for every collection, as a rule (the store is locked)
		}
	}
	return out, nil
}

// tally is c's count and logical size for the current version of the store.
func (s *Server) tally(c Collection) (tally, error) {
	return cached(s, "tally/"+c.Name, func() (tally, error) { return s.store.tally(c) })
}

func (s *Server) apiStats(w http.ResponseWriter, r *http.Request) {
	st, err := cached(s, "stats", s.store.stats)
	reply(w, st, err)
}

// apiList pages through a collection's summaries, in id order (either
// way) straight from the metadata bucket, or sorted by a summary field
// (sortedPage).
func (s *Server) apiList(w http.ResponseWriter, r *http.Request) {
	page, err := s.list(r)
	if err != nil {
		writeError(w, err)
		return
	}
	seen := map[string]bool{}
	for _, row := range page.Rows {
		for k := range row {
			if !seen[k] && sortable(page.Collection, k) {
				seen[k] = true
				page.Sortable = append(page.Sortable, k)
			}
		}
	}
	sort.Strings(page.Sortable)
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) list(r *http.Request) (*listPage, error) {
	c, err := s.collection(r.URL.Query().Get("c"))
	if err != nil {
		return nil, err
	}
	if c.Singleton {
		return nil, fmt.Errorf("%w: %s is a singleton: open its document", errUsage, c.Name)
	}
	offset, err := intParam(r, "offset", 0, offsetMax)
	if err != nil {
		return nil, err
	}
	limit, err := intParam(r, "limit", 50, pageMax)
	if err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = 50
	}
	page := &listPage{Collection: c.Name, Sort: r.URL.Query().Get("sort"), Offset: offset, Sortable: []string{"id"}}
	field, desc := strings.CutPrefix(page.Sort, "-")
	if desc && field == "" {
		return nil, fmt.Errorf("%w: sort needs a field name after -", errUsage)
	}
	if field != "" && field != "id" {
		if !sortable(c.Name, field) {
			return nil, fmt.Errorf("%w: %s cannot be sorted by %s: it is not a document field kept in the summary", errUsage, c.Name, field)
		}
		page.Rows, page.Total, err = s.sortedPage(c, page.Sort, offset, limit)
		return page, err
	}
	t, err := s.tally(c)
	if err != nil {
		return nil, err
	}
	page.Total = t.Count
	if !desc {
		page.Rows, err = s.store.list(c.Name, offset, limit)
		return page, err
	}
	// Descending ids: the same walk, counted from the end, reversed.
	page.Rows = []kv.Document{}
	if n := min(limit, t.Count-offset); n > 0 {
		page.Rows, err = s.store.list(c.Name, t.Count-offset-n, n)
		slices.Reverse(page.Rows)
	}
	return page, err
}

// shallow is how deep a sorted page is still read by a query of its own
// (below, the sorted ids of the whole collection are kept instead).
const shallow = 500

// sortedPage returns one page of c sorted by sortSpec ([-]field) and the
// number of documents. A shallow page is a query of its own, which an
// index serving the field answers at once (index-order); a deeper one,
// or one of a field no index orders (the query then reads every summary
// anyway), is a slice of the collection's sorted ids, sorted once per
// version of the store.
func (s *Server) sortedPage(c Collection, sortSpec string, offset, limit int) ([]kv.Document, int, error) {
	key := c.Name + "/" + sortSpec
	t, err := s.tally(c)
	if err != nil {
		return nil, 0, err
	}
	if _, scan := s.scans.Load(key); offset+limit <= shallow && !scan {
		res, err := s.store.query(context.Background(), queryRequest{Collection: c.Name, Sort: sortSpec, Offset: offset, Limit: limit})
		if err != nil {
			return nil, 0, err
		}
		if res.Explain.Plan != "index-order" {
			s.scans.Store(key, true) // a plan hint, never a result: the next page takes the sorted ids
		}
		return res.Rows, t.Count, nil
	}
	field, desc := strings.CutPrefix(sortSpec, "-")
	ids, err := cached(s, "sorted/"+key, func() ([]string, error) {
		return s.store.sortedIDs(context.Background(), c.Name, field, desc)
	})
	if err != nil {
		return nil, 0, err
	}
	rows, err := s.store.summaries(c.Name, ids[min(offset, len(ids)):min(offset+limit, len(ids))])
	return rows, len(ids), err
}

// derived lists the summary fields that are not copies of a document
// field (see secondary.Summary): the query engine cannot sort by them.
var derived = map[string]map[string]bool{
	"":            {"rev": true, "size": true},
	"sessions":    {"screenshotCount": true, "audioSegmentCount": true},
	"notes":       {"title": true},
	"attachments": {"fileSize": true},
}

// sortable reports whether coll's pages can be sorted by field.
func sortable(coll, field string) bool {
	return field != "" && field != "id" && !derived[""][field] && !derived[coll][field]
}

func (s *Server) apiDoc(w http.ResponseWriter, r *http.Request) {
	c, err := s.collection(r.URL.Query().Get("c"))
	if err != nil {
		writeError(w, err)
		return
	}
	d, err := s.store.document(c, r.URL.Query().Get("id"))
	reply(w, d, err)
}

// apiParts lists the fields a document has beyond its header (a session's
// screenshots, audio segments, transcription, summary, ...), with their
// sizes, so the page can offer them without sending them.
func (s *Server) apiParts(w http.ResponseWriter, r *http.Request) {
	c, err := s.collection(r.URL.Query().Get("c"))
	if err != nil {
		writeError(w, err)
		return
	}
	parts, err := s.store.parts(c, r.URL.Query().Get("id"))
	reply(w, parts, err)
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	return "number"
}

// apiPart returns one large part of a document; an array is paged
// (offset, limit), so a two-hour session's screenshots come a page at a
// time.
func (s *Server) apiPart(w http.ResponseWriter, r *http.Request) {
	c, err := s.collection(r.URL.Query().Get("c"))
	if err != nil {
		writeError(w, err)
		return
	}
	offset, err := intParam(r, "offset", 0, offsetMax)
	if err != nil {
		writeError(w, err)
		return
	}
	limit, err := intParam(r, "limit", 20, pageMax)
	if err != nil {
		writeError(w, err)
		return
	}
	field := r.URL.Query().Get("field")
	full, _, err := s.store.whole(c, r.URL.Query().Get("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	v, ok := full[field]
	if !ok {
		writeError(w, fmt.Errorf("%w: %s %q has no field %q", kv.ErrNotFound, c.Name, r.URL.Query().Get("id"), field))
		return
	}
	out := map[string]any{"field": field, "offset": 0}
	if arr, ok := v.([]any); ok {
		out["total"] = len(arr)
		out["offset"] = min(offset, len(arr))
		v = arr[min(offset, len(arr)):min(offset+max(limit, 1), len(arr))]
	}
	out["json"], err = indentJSON(v)
	reply(w, out, err)
}

// previewable are the image types the page previews: raster formats only
// (an SVG can carry script).
var previewable = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/avif": true, "image/bmp": true,
}

// apiAttachment serves an image attachment's content for its preview. The
// content is verified against its hash as it streams: a mismatch found at
// the end aborts the response, so the browser shows a broken image rather
// than wrong bytes.
func (s *Server) apiAttachment(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	sent := false
	err := s.store.attachment(id, func(content io.Reader, doc kv.Document) error {
		mime, _ := doc["mimeType"].(string)
		mime = strings.ToLower(strings.TrimSpace(mime))
		if !previewable[mime] {
			return fmt.Errorf("%w: attachment %q is %q, not an image the inspector previews", errUsage, id, mime)
		}
		w.Header().Set("Content-Type", mime)
		w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
		w.Header().Set("Content-Disposition", "inline")
		sent = true
		_, err := io.Copy(w, content)
		return err
	})
	switch {
	case err != nil && sent:
		panic(http.ErrAbortHandler) // the status is sent: only a cut connection tells the browser
	case err != nil:
		writeError(w, err)
	}
}

func (s *Server) apiQuery(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, err := s.collection(q.Get("c"))
	if err != nil {
		writeError(w, err)
		return
	}
	if c.Singleton {
		writeError(w, fmt.Errorf("%w: %s is a singleton: it has no documents to query", errUsage, c.Name))
		return
	}
	req := queryRequest{Collection: c.Name, Where: q["where"], Sort: q.Get("sort")}
	if req.Sort == "-" {
		writeError(w, fmt.Errorf("%w: sort needs a field name after -", errUsage))
		return
	}
	if req.Offset, err = intParam(r, "offset", 0, offsetMax); err == nil {
		req.Limit, err = intParam(r, "limit", 50, pageMax)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	if req.Limit == 0 {
		req.Limit = 50
	}
	res, err := s.store.query(r.Context(), req)
	reply(w, res, err)
}

// highlighted splits an excerpt of the search index's HTML highlighter
// (text escaped, matches in <mark></mark>) into plain-text segments, so
// that the page renders them as text, never as HTML.
func highlighted(frag string) []segment {
	var out []segment
	for frag != "" {
		i := strings.Index(frag, "<mark>")
		if i < 0 {
			out = append(out, segment{Text: html.UnescapeString(frag)})
			break
		}
		if i > 0 {
			out = append(out, segment{Text: html.UnescapeString(frag[:i])})
		}
		frag = frag[i+len("<mark>"):]
		j := strings.Index(frag, "</mark>")
		if j < 0 {
			j = len(frag)
		}
		out = append(out, segment{Text: html.UnescapeString(frag[:j]), Mark: true})
		frag = strings.TrimPrefix(frag[j:], "</mark>")
	}
	return out
}

func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	text := strings.TrimSpace(q.Get("q"))
	if text == "" {
		writeError(w, fmt.Errorf("%w: empty search text", errUsage))
		return
	}
	var colls []string
	for _, name := range q["c"] {
		if name == "" {
			continue
		}
		c, err := s.collection(name)
		if err != nil {
			writeError(w, err)
			return
		}
		colls = append(colls, c.Name)
	}
	offset, err := intParam(r, "offset", 0, offsetMax)
	if err != nil {
		writeError(w, err)
		return
	}
	limit, err := intParam(r, "limit", 20, pageMax)
	if err != nil {
		writeError(w, err)
		return
	}
	total, hits, err := s.store.search(r.Context(), text, colls, offset, limit)
	reply(w, map[string]any{"total": total, "offset": offset, "hits": hits}, err)
}

// apiCheck runs the full integrity check (it reads everything, so it holds
// the store for as long as that takes), with advice on the problems found.
func (s *Server) apiCheck(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rep, err := s.store.check(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	out := map[string]any{"ok": rep.OK, "problems": rep.Problems, "ms": time.Since(start).Milliseconds()}
	if rep.Problems == nil {
		out["problems"] = []kv.Problem{}
	}
	if !rep.OK && s.advice != nil {
		out["advice"] = s.advice(rep.Problems)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiBackups(w http.ResponseWriter, r *http.Request) {
	ms, err := s.store.backups()
	if ms == nil {
		ms = []kv.Manifest{}
	}
	reply(w, map[string]any{"now": time.Now().UTC(), "backups": ms}, err)
}

// readBody decodes a POST's JSON body into v (at most 64 MiB). The body is
// held to the rules of every input (kv.ParseJSON): invalid UTF-8, an
// escaped lone surrogate or a member given twice is refused, never
// replaced or picked, as encoding/json alone would.
func readBody(r *http.Request, v any) error {
	const limit = 64 << 20
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return fmt.Errorf("%w: request body: %v", errUsage, err)
	}
	if len(b) > limit {
		return fmt.Errorf("%w: request body: over %d MiB, the most a request may send", errUsage, limit>>20)
	}
	if _, err := kv.ParseJSON(b); err != nil {
		return fmt.Errorf("%w: request body: %w", errUsage, err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: request body: %v", errUsage, err)
	}
	return nil
}

// detached keeps a change the user confirmed going if the page that asked
// for it is closed: a backup, a restore or a patch runs to its end.
func detached(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }

func (s *Server) apiBackupCreate(w http.ResponseWriter, r *http.Request) {
	// The body ({}) is read whole first: a request cut off or garbled
	// takes no backup (each one may rotate an older one out).
	var req struct{}
	if err := readBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	m, err := s.store.createBackup(detached(r))
	reply(w, m, err)
}

func (s *Server) apiBackupVerify(w http.ResponseWriter, r *http.Request) {
	var req backupRequest
	if err := readBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	m, problems, err := s.store.verifyBackup(r.Context(), req.Name)
	if problems == nil {
		problems = []kv.Problem{}
	}
	reply(w, map[string]any{"ok": len(problems) == 0, "name": req.Name, "problems": problems, "manifest": m}, err)
}

func (s *Server) apiBackupRestore(w http.ResponseWriter, r *http.Request) {
	var req backupRequest
	if err := readBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Name == "" || req.Confirm != req.Name {
		writeError(w, fmt.Errorf("%w: a restore must be confirmed: confirm must repeat the backup's name", errUsage))
		return
	}
	res, err := s.store.restore(detached(r), req.Name)
	reply(w, res, err)
}

func (s *Server) apiPatch(w http.ResponseWriter, r *http.Request) {
	var req patchRequest
	if err := readBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	c, err := s.collection(req.Collection)
	if err != nil {
		writeError(w, err)
		return
	}
	if req.Rev == 0 {
		writeError(w, fmt.Errorf("%w: a patch needs the revision it was written against", errUsage))
		return
	}
	rev, err := s.store.patch(c, req.ID, req.Rev, []byte(req.Patch))
	reply(w, map[string]any{"id": req.ID, "rev": rev}, err)
}
