package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cairnkv/cairn/internal/gen"
	"github.com/cairnkv/cairn/legacy"
)

// The era-G layout of docs/FORMAT.md §3.4: chunk sizes and the session fields
// that live in their own files rather than in metadata.json.
const (
	legacyScreenshotChunk = 20
	legacyAudioChunk      = 100
)

// legacyParts maps a session field to the key suffix of its own file.
var legacyParts = map[string]string{
	"summary":           "summary",
	"audioInsights":     "audio-insights",
	"canvasSpec":        "canvas-spec",
	"fullTranscription": "transcription",
	"contextItems":      "context-items",
}

// legacyLayoutVersion names what WriteLegacyDir writes, so that a cached
// directory of an older layout is not reused.
const legacyLayoutVersion = "v4"

// ensureLegacy returns a generated old-app directory (era G chunked
// sessions and collection files, plus the older layouts WriteLegacyDir
// adds) holding the same entities as the store, built once into the cache.
func ensureLegacy(ctx context.Context, cfg Config, g *gen.Generator, fp string) (string, error) {
	dir := filepath.Join(cfg.CacheDir, fmt.Sprintf("legacy-%s-%s-%s", legacyLayoutVersion, cfg.Scale, fp))
	marker := filepath.Join(dir, "complete")
	if _, err := os.Stat(marker); err == nil {
		return filepath.Join(dir, "appdata"), nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	start := time.Now()
	fmt.Fprintf(cfg.Stderr, "legacy: writing an app-data directory (era G plus older layouts) for %d sessions ...\n", cfg.Sessions)
	root := filepath.Join(dir, "appdata")
	if err := WriteLegacyDir(ctx, root, g); err != nil {
		return "", fmt.Errorf("bench: writing the legacy directory: %w", err)
	}
	fmt.Fprintf(cfg.Stderr, "legacy: written in %v\n", time.Since(start).Round(time.Millisecond))
	return root, os.WriteFile(marker, nil, 0o600)
}

// WriteLegacyDir writes the generated dataset g into root in the old
// app's era-G layout (docs/FORMAT.md §3.4 and §3.1): db/session-index.json,
// db/sessions/<id>/metadata.json with its chunk manifest, the part files
// (summary, transcription, ...) and screenshots/ and audio-segments/
// chunk-NNN.json files, and db/<collection>.json arrays for notes, tasks,
// topics, companies and contacts, plus db/settings.json.
//
// Older layouts lie on top, as a directory that lived through the eras
// has them: a day-old timestamped backup of notes.json and tasks.json
// (era D, §3.2: fallbacks only, never imported over the main files);
// every 10th task edited later in a per-entity file with its .checksum
// (eras E–F, §3.3); every 50th note edited later in a committed WAL
// transaction, after a checkpoint (eras E+, §5). Those edits carry a later
// lastUpdated, so they must win over the collection files; the bench
// checks that they do.
//
// Two kinds of damage lie on top as well. Every 10th session
// (legacySession) is not in the chunked store but in the legacy
// db/sessions.json, which the WAL replay clobbered with one of them,
// enriched (§5.3): the others survive in a backups/ snapshot and an
// older timestamped backup, which also holds one session at a higher
// version than the snapshot and one deleted since (legacyTruth says what
// must come through). Every 100th attachment is stored by id (§3.7.2):
// attachments/<id>.dat with its bytes and <id>.meta.json with every field
// of its document; nothing refers to them. (Not more: the store makes
// each attachment's bytes durable on their own, two fsyncs each, about
// 7 ms on the bench machine, which would dominate the measurement.)
func WriteLegacyDir(ctx context.Context, root string, g *gen.Generator) error {
	_, end := gen.TimeSpan()
	ts := end.UnixMilli()
	write := func(key string, v any) error {
		b, err := legacy.EncodeEnvelope(v, legacy.EncodingGzip, ts, false)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		p := filepath.Join(root, "db", filepath.FromSlash(key)+".json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, b, 0o644)
	}
	n := g.Count("sessions")
	var ids []any
	for i := range n {
		if !legacySession(i) {
			ids = append(ids, g.ID("sessions", i))
		}
	}
	if err := write("session-index", ids); err != nil {
		return err
	}
	// Sessions in parallel: gzip at level 9 is the cost.
	workers := 4
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				if legacySession(i) {
					continue
				}
				if err := writeLegacySession(write, g.Session(i)); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	for _, coll := range []string{"topics", "companies", "contacts", "notes", "tasks"} {
		var arr []any
		if err := g.Each(coll, func(d map[string]any) error { arr = append(arr, d); return nil }); err != nil {
			return err
		}
		if arr == nil {
			arr = []any{}
		}
		if err := write(coll, arr); err != nil {
			return err
		}
	}
	if err := write("settings", g.Settings()); err != nil {
		return err
	}
	if err := writeClobberedSessions(root, g, ts); err != nil {
		return err
	}
	if err := writePerIDAttachments(root, g); err != nil {
		return err
	}
	return writeOlderLayouts(root, g, ts)
}

// legacySession says which generated sessions live in the legacy
// db/sessions.json rather than in the chunked store: every 10th.
func legacySession(i int) bool { return i%10 == 9 }

// perIDAttachment says which generated attachments are stored by id:
// every 100th.
func perIDAttachment(i int) bool { return i%100 == 0 }

// legacySessionEdits are the versions of the legacy sessions that differ
// from the generated ones: the first, enriched by the WAL entry whose
// replay clobbered db/sessions.json; the second, at a higher version in
// an older copy than the newest; and one deleted since (not generated).
func legacySessionEdits(g *gen.Generator) (enriched, higher, deleted map[string]any, ok bool) {
	var l []int
	for i := range g.Count("sessions") {
		if legacySession(i) {
			l = append(l, i)
			if len(l) == 3 {
				break
			}
		}
	}
	if len(l) < 3 {
		return nil, nil, nil, false
	}
	bump := func(i int, by float64, note string) map[string]any {
		d := g.Session(i)
		v, _ := d["version"].(float64)
		d["version"] = v + by
		d["name"] = fmt.Sprint(d["name"]) + note
		return d
	}
	deleted = g.Session(l[2])
	deleted["id"] = fmt.Sprint(deleted["id"]) + "-deleted"
	return bump(l[0], 1, " (enriched)"), bump(l[1], 5, " (a newer version only an older copy holds)"), deleted, true
}

// legacyTruth returns what the migration of WriteLegacyDir's directory
// must give for an entity: the generated document, or its later edit
// (WAL, per-entity file, the clobbering or older copy of a legacy
// session).
func legacyTruth(g *gen.Generator, coll string, i int) map[string]any {
	doc, err := g.Doc(coll, i)
	if err != nil {
		panic(err)
	}
	switch {
	case coll == "notes" && legacyEdited(coll, i):
		return legacyEdit(doc, "content")
	case coll == "tasks" && legacyEdited(coll, i):
		return legacyEdit(doc, "title")
	case coll == "sessions" && legacySession(i):
		if enriched, higher, _, ok := legacySessionEdits(g); ok {
			for _, e := range []map[string]any{enriched, higher} {
				if e["id"] == doc["id"] {
					return e
				}
			}
		}
	}
	return doc
}

// writeClobberedSessions writes the legacy sessions (legacySession) as
// docs/FORMAT.md §5.3 leaves them after the WAL replay clobbered
// db/sessions.json: the raw clobbering session there, the rest in a
// backups/ snapshot of a day before and a timestamped backup of two days
// before (without the last of them, added since; with one deleted since
// and one at a higher version).
func writeClobberedSessions(root string, g *gen.Generator, ts int64) error {
	enriched, higher, deleted, ok := legacySessionEdits(g)
	if !ok {
		return nil
	}
	var snap, older []any
	for i := range g.Count("sessions") {
		if !legacySession(i) {
			continue
		}
		d := g.Session(i)
		snap = append(snap, d)
		if d["id"] == higher["id"] {
			d = higher
		}
		older = append(older, d)
	}
	older = append(older[:len(older)-1], deleted)
	day := int64(24 * 3600 * 1000)
	b, err := json.Marshal(map[string]any{"version": 1, "timestamp": ts - day, "collections": map[string]any{"sessions": snap}})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(root, "backups"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "backups", fmt.Sprintf("backup-%d.json", ts-day)), b, 0o644); err != nil {
		return err
	}
	if b, err = legacy.EncodeEnvelope(older, legacy.EncodingGzip, ts-2*day, false); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "db", fmt.Sprintf("sessions.%d.backup.json", ts-2*day+1000)), b, 0o644); err != nil {
		return err
	}
	if b, err = json.Marshal(enriched); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, "db", "sessions.json"), b, 0o644)
}

// writePerIDAttachments writes every perIDAttachment as attachmentStorage
// did (docs/FORMAT.md §3.7.2): its bytes in base64 and its whole document.
func writePerIDAttachments(root string, g *gen.Generator) error {
	dir := filepath.Join(root, "attachments")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range g.Count("attachments") {
		if !perIDAttachment(i) {
			continue
		}
		d := g.Attachment(i)
		meta, err := json.Marshal(d)
		if err != nil {
			return err
		}
		id := fmt.Sprint(d["id"])
		if err := os.WriteFile(filepath.Join(dir, id+".meta.json"), meta, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, id+".dat"), []byte(base64.StdEncoding.EncodeToString(g.AttachmentContent(i))), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// legacyEdit returns a copy of doc edited an hour after its lastUpdated.
func legacyEdit(doc map[string]any, field string) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		out[k] = v
	}
	if t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(doc["lastUpdated"])); err == nil {
		out["lastUpdated"] = t.Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	out[field] = fmt.Sprint(doc[field]) + " (edited later)"
	return out
}

// legacyEdited says which generated entities writeOlderLayouts edits: every
// 10th task (a per-entity file) and every 50th note (the WAL).
func legacyEdited(coll string, i int) bool {
	switch coll {
	case "tasks":
		return i%10 == 0
	case "notes":
		return i%50 == 0
	}
	return false
}

// writeOlderLayouts adds the era D–F files described at WriteLegacyDir.
func writeOlderLayouts(root string, g *gen.Generator, ts int64) error {
	db := filepath.Join(root, "db")
	for _, coll := range []string{"notes", "tasks"} {
		b, err := os.ReadFile(filepath.Join(db, coll+".json"))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(db, fmt.Sprintf("%s.%d.backup.json", coll, ts-24*3600*1000)), b, 0o644); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(db, "tasks"), 0o755); err != nil {
		return err
	}
	i := 0
	err := g.Each("tasks", func(d map[string]any) error {
		defer func() { i++ }()
		if !legacyEdited("tasks", i) {
			return nil
		}
		text, err := json.Marshal(legacyEdit(d, "title"))
		if err != nil {
			return err
		}
		p := filepath.Join(db, "tasks", fmt.Sprintf("task-%s.json", d["id"]))
		sum := sha256.Sum256(text)
		if err := os.WriteFile(p, text, 0o644); err != nil {
			return err
		}
		// Tasks carry no modification time of their own: the file's
		// mtime, an hour after the collection file, dates the edit.
		mt := time.UnixMilli(ts + 3600*1000 + int64(i))
		if err := os.Chtimes(p, mt, mt); err != nil {
			return err
		}
		return os.WriteFile(p+".checksum", []byte(hex.EncodeToString(sum[:])), 0o644)
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(db, "wal.checkpoint"), []byte(fmt.Sprint(ts)), 0o644); err != nil {
		return err
	}
	var wal bytes.Buffer
	enc := json.NewEncoder(&wal)
	line := func(m map[string]any) error { return enc.Encode(m) }
	i, n := 0, 0
	err = g.Each("notes", func(d map[string]any) error {
		defer func() { i++ }()
		if !legacyEdited("notes", i) {
			return nil
		}
		n++
		at := ts + int64(n)*10
		tx := fmt.Sprintf("tx-%d-%d", at, n)
		for _, e := range []map[string]any{
			{"id": fmt.Sprintf("%d-s%d", at, n), "timestamp": at, "operation": "transaction-start", "collection": "", "transactionId": tx},
			{"id": fmt.Sprintf("%d-w%d", at, n), "timestamp": at + 1, "operation": "write", "collection": fmt.Sprintf("db/notes/note-%s.json", d["id"]),
				"data": legacyEdit(d, "content"), "transactionId": tx},
			{"id": fmt.Sprintf("%d-c%d", at, n), "timestamp": at + 2, "operation": "transaction-commit", "collection": "", "transactionId": tx},
		} {
			if err := line(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(db, "wal.log"), wal.Bytes(), 0o644)
}

// writeLegacySession writes one session as chunked files.
func writeLegacySession(write func(string, any) error, s map[string]any) error {
	id, _ := s["id"].(string)
	base := "sessions/" + id + "/"
	meta := make(map[string]any, len(s)+6)
	for k, v := range s {
		meta[k] = v
	}
	shots, _ := s["screenshots"].([]any)
	segs, _ := s["audioSegments"].([]any)
	delete(meta, "screenshots")
	delete(meta, "audioSegments")
	for field, suffix := range legacyParts {
		v, ok := s[field]
		delete(meta, field)
		if !ok || v == nil {
			continue
		}
		if err := write(base+suffix, v); err != nil {
			return err
		}
	}
	has := func(f string) bool { v, ok := s[f]; return ok && v != nil }
	meta["storageVersion"] = 1
	meta["hasSummary"] = has("summary")
	meta["hasTranscription"] = has("fullTranscription")
	meta["hasAudioInsights"] = has("audioInsights")
	meta["hasCanvasSpec"] = has("canvasSpec")
	chunks := func(count, size int) map[string]any {
		return map[string]any{"count": count, "chunkCount": (count + size - 1) / size, "chunkSize": size}
	}
	meta["chunks"] = map[string]any{
		"screenshots":   chunks(len(shots), legacyScreenshotChunk),
		"audioSegments": chunks(len(segs), legacyAudioChunk),
		"videoChunks":   chunks(0, 100),
	}
	if err := write(base+"metadata", meta); err != nil {
		return err
	}
	for c := 0; c*legacyScreenshotChunk < len(shots); c++ {
		part := shots[c*legacyScreenshotChunk : min((c+1)*legacyScreenshotChunk, len(shots))]
		if err := write(fmt.Sprintf("%sscreenshots/chunk-%03d", base, c), map[string]any{"sessionId": id, "chunkIndex": c, "screenshots": part}); err != nil {
			return err
		}
	}
	for c := 0; c*legacyAudioChunk < len(segs); c++ {
		part := segs[c*legacyAudioChunk : min((c+1)*legacyAudioChunk, len(segs))]
		if err := write(fmt.Sprintf("%saudio-segments/chunk-%03d", base, c), map[string]any{"sessionId": id, "chunkIndex": c, "segments": part}); err != nil {
			return err
		}
	}
	return nil
}
