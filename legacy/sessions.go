package legacy

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// sessionParts are the optional whole-value files of a chunked session:
// the key element, the Session field they fill and the metadata flag
// saying they should exist.
var sessionParts = []struct{ Name, Field, Flag string }{
	{"summary", "summary", "hasSummary"},
	{"audio-insights", "audioInsights", "hasAudioInsights"},
	{"canvas-spec", "canvasSpec", "hasCanvasSpec"},
	{"transcription", "fullTranscription", "hasTranscription"},
	{"context-items", "contextItems", ""},
}

// chunkRef is a chunked session candidate: its directory and the chosen
// version of its metadata (released until the session is assembled).
type chunkRef struct {
	dir  string
	meta *keyVersion
}

// buildChunkedSessions indexes every chunked session (docs/FORMAT.md §3.4) by
// its metadata. The sessions are assembled from their files one at a
// time when emitted (loadSession).
func (s *scanner) buildChunkedSessions() error {
	inIndex := map[string]bool{}
	indexed := false
	if v := s.resolveKey("session-index", false); v != nil {
		if arr, ok := v.data.([]any); ok {
			// The index lists chunked sessions only (docs/FORMAT.md
			// §3.4): it is no evidence that a session of db/sessions.json,
			// of a per-entity file or of an export file was deleted, so
			// it does not set the collection's time (§11.5: union by id).
			indexed = true
			for _, e := range arr {
				if id, ok := e.(string); ok {
					inIndex[id] = true
					s.session(id)
				}
			}
		} else {
			s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: v.source, Error: "session-index is " + kindOf(v.data) + ", not an array"})
		}
		v.drop()
	}
	dirs := s.sortedSessionDirs()
	for i, id := range dirs {
		if i%256 == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
			if p := s.opts.Progress; p != nil && i > 0 {
				p("sessions indexed", i, len(dirs))
			}
		}
		if _, err := CheckID(id); err != nil && !s.ownSessionID(id) {
			s.rep.InvalidIDs = append(s.rep.InvalidIDs, InvalidEntity{Collection: "sessions", Source: s.dbRel + "sessions/" + id, Index: -1, Reason: err.Error()})
			continue
		}
		s.indexSession(id, inIndex[id], indexed)
	}
	if p := s.opts.Progress; p != nil && len(dirs) > 256 {
		p("sessions indexed", len(dirs), len(dirs))
	}
	return nil
}

// ownSessionID reports whether the metadata of the session directory dir,
// whose name is not a usable id (bytes that are not UTF-8, say), names a
// usable id of its own: the session is then imported under that id.
func (s *scanner) ownSessionID(dir string) bool {
	v := s.resolveKey("sessions/"+dir+"/metadata", false)
	if v == nil {
		return false
	}
	doc, _ := v.data.(map[string]any)
	id, ok := doc["id"].(string)
	if !ok {
		return false
	}
	_, err := CheckID(id)
	return err == nil
}

func (s *scanner) sortedSessionDirs() []string {
	ids := make([]string, 0, len(s.sessions))
	for id := range s.sessions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (s *scanner) indexSession(id string, inIndex, indexed bool) {
	prefix := "sessions/" + id + "/"
	v := s.resolveKey(prefix+"metadata", inIndex)
	if v == nil {
		// A metadata file that is there but does not read (truncated by
		// a crash mid-write) is no sign of a delete.
		damaged := s.sessions[id] != nil && s.sessions[id].plain&1 != 0
		switch {
		case (inIndex || damaged) && s.skeletonSession(id):
		case inIndex:
			s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: "metadata", Detail: "listed in session-index but no readable metadata"})
		default:
			s.rep.NotResurrected = append(s.rep.NotResurrected, Dropped{Collection: "sessions", ID: id, Source: s.dbRel + prefix,
				Reason: "session directory without metadata and not in session-index (deleted); backups and older copies are not used"})
			// Deleted from the chunked store, the last the old app kept
			// sessions in: its copies in db/sessions.json, per-entity
			// files, rollback points and export files are all older, and
			// stay out too (§11.15).
			if s.deletedSessions == nil {
				s.deletedSessions = map[string]bool{}
			}
			s.deletedSessions[id] = true
		}
		return
	}
	doc, ok := v.data.(map[string]any)
	if !ok {
		why := "metadata is " + kindOf(v.data) + ", not an object"
		s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: v.source, Error: why})
		s.setExtra("unreadable:"+v.source, map[string]any{"path": v.source, "error": why, "value": v.data}, v.source)
		s.skeletonSession(id)
		return
	}
	if doc["id"] == nil {
		doc["id"] = id
	}
	if indexed && !inIndex {
		s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: "session-index", Detail: "session missing from session-index; found by scanning db/sessions/*/metadata.json"})
	}
	// The candidate needs only the metadata's version, timestamps and
	// video (parts and chunks never set them).
	if s.addCand("sessions", headOf(doc), nil, v.kind, v.source, v.time, true, -1, loader{chunk: &chunkRef{dir: id, meta: v}}) == nil {
		// Not an entity, but its files are checked and reported all the same.
		full := s.assembleSession(id, doc, v.source)
		s.keepNonEntitySession(v.source, full)
		return
	}
	v.drop()
}

// skeletonSession makes a candidate of a chunked session whose metadata
// cannot be read (truncated by a crash mid-write, with no backup copy),
// when its directory still holds parts or chunks: they are the user's
// screenshots, audio, summary and transcript. The session is assembled
// from them with its id alone (its name, times and status were in the
// metadata), at time 0, so that any other copy of the session wins.
// It reports whether it made one.
func (s *scanner) skeletonSession(id string) bool {
	sd := s.sessions[id]
	if sd == nil || sd.plain&^1 == 0 && len(sd.chunks[0])+len(sd.chunks[1])+len(sd.chunks[2]) == 0 {
		return false // nothing but the metadata: nothing to keep as a session
	}
	doc := map[string]any{"id": id}
	if s.addCand("sessions", headOf(doc), nil, SourceMain, s.dbRel+"sessions/"+id+"/", 0, true, -1, loader{chunk: &chunkRef{dir: id}}) == nil {
		return false
	}
	s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: "metadata",
		Detail: "no readable metadata: the session is imported from its parts and chunks, with its id only (its name, times and status were in the metadata)"})
	return true
}

// loadSession assembles a chunked session candidate: its metadata read
// again, plus its parts and chunks.
func (s *scanner) loadSession(id string, c *cand) (map[string]any, error) {
	ref := c.ld.chunk
	if ref.meta == nil { // skeletonSession's: no metadata to read
		return s.assembleSession(ref.dir, map[string]any{"id": ref.dir}, ""), nil
	}
	data, err := s.reload(ref.meta)
	if err != nil {
		return nil, err
	}
	doc, _ := data.(map[string]any)
	if doc == nil {
		return nil, changed(ref.meta.source, nil)
	}
	if !ref.meta.dropped {
		doc = cloneDoc(doc) // a WAL write's data: keep that small
	}
	if doc["id"] == nil {
		doc["id"] = ref.dir
	}
	if !c.matches(id, doc) {
		return nil, changed(ref.meta.source, nil)
	}
	return s.assembleSession(ref.dir, doc, ref.meta.source), nil
}

// planSession adds the files loadSession reads to the read-ahead plan, in
// its order: metadata, parts, then each kind's chunk files by index.
func (s *scanner) planSession(ref *chunkRef) {
	if ref.meta != nil {
		s.planReload(ref.meta)
	}
	prefix := "sessions/" + ref.dir + "/"
	for _, p := range sessionParts {
		s.planKey(prefix+p.Name, fetchEnvelope)
	}
	sd := s.session(ref.dir)
	for k, kind := range chunkKinds {
		for _, i := range sd.sortedChunks(k) {
			s.planKey(prefix+kind.Dir+"/"+chunkName(i), fetchEnvelope)
		}
	}
}

// assembleSession completes a chunked session's metadata doc (read from
// metaSrc) into one Session document: its parts and chunks. The
// storage-only fields (chunks, has*, storageVersion) are kept verbatim.
// A member of the metadata a part or the chunks replace (the app's
// sessionToMetadata strips them, so only some other writer left one) is
// kept, where it differs, in Extras "replaced:<metaSrc>" (see
// keepReplaced).
func (s *scanner) assembleSession(id string, doc map[string]any, metaSrc string) map[string]any {
	prefix := "sessions/" + id + "/"
	sd := s.session(id)
	sd.lost = nil
	replaced := map[string]any{}
	replace := func(field string, v any) {
		if old, ok := doc[field]; ok && old != nil && !reflect.DeepEqual(old, v) {
			replaced[field] = old
		}
		doc[field] = v
	}
	defer func() { s.keepReplaced(id, metaSrc, replaced) }()
	for _, p := range sessionParts {
		expected := p.Flag != "" && truthy(doc[p.Flag])
		pv := s.resolveKey(prefix+p.Name, expected)
		if pv != nil {
			data := pv.data
			if a, ok := data.([]any); ok {
				if lost := s.keyChecksumLosses(prefix+p.Name, pv, arrayItems); len(lost) > 0 {
					data = append(lost, a...)
				}
			}
			replace(p.Field, data)
			attachLoose(doc, p.Field, pv.loose)
		} else if expected {
			s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: p.Name, Detail: p.Flag + " is set but the file is missing or unreadable"})
			sd.lost = append(sd.lost, p.Field)
		}
	}
	manifest, _ := doc["chunks"].(map[string]any)
	for ki, k := range chunkKinds {
		files := sd.sortedChunks(ki)
		mf, hasManifest := manifest[k.Manifest].(map[string]any)
		count, hasCount := numInt64(mf["count"])
		size := int64(k.Size)
		if n, ok := numInt64(mf["chunkSize"]); ok && n > 0 {
			size = n
		}
		chunkCount, hasCC := numInt64(mf["chunkCount"])
		if !hasCC && hasCount {
			chunkCount, hasCC = (count+size-1)/size, true
		}
		if hasCC && (chunkCount < 0 || chunkCount > 1<<20) {
			s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: k.Dir, Detail: fmt.Sprintf("implausible chunkCount %d; the chunk files found are loaded", chunkCount)})
			hasCC = false
		}
		if !hasCC {
			// No usable number (none, a string, null, implausible): the
			// chunk files found say, as with no manifest at all.
			chunkCount = 0
			if len(files) > 0 {
				chunkCount = int64(files[len(files)-1]) + 1
			}
		}
		items := []any{}
		short := false
		for i := 0; i < int(chunkCount); i++ {
			key := prefix + k.Dir + "/" + chunkName(i)
			cv := s.resolveKey(key, true)
			which := k.Dir + "/" + chunkName(i)
			if cv == nil {
				s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: which, Detail: "chunk missing or unreadable"})
				short = true
				continue
			}
			if m, ok := cv.data.(map[string]any); ok {
				s.keepContainerRaw(cv.source, objectNotes(m)) // a chunk repeating a member name
			}
			ch, err := chunkFromValue(cv.data)
			if err != nil {
				// Readable, of a shape the app never wrote: kept whole.
				as := s.setExtra("invalid:"+cv.source, map[string]any{"path": cv.source, "reason": err.Error(), "value": cv.data}, cv.source)
				s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: which, Detail: err.Error() + "; kept in extras " + as})
				short = true
				continue
			}
			items = append(items, s.keyChecksumLosses(key, cv, chunkItems)...)
			items = append(items, ch.Items...)
		}
		if hasCount && int64(len(items)) < count {
			s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: k.Dir,
				Detail: fmt.Sprintf("manifest count %d, chunks hold %d", count, len(items))})
			short = true
		}
		if short {
			sd.lost = append(sd.lost, k.SessionField)
		}
		for _, i := range files {
			if int64(i) < chunkCount {
				continue
			}
			which := k.Dir + "/" + chunkName(i)
			rel := s.dbRel + prefix + which + ".json"
			s.rep.StaleChunks = append(s.rep.StaleChunks, ChunkIssue{SessionID: id, Which: which, Detail: fmt.Sprintf("beyond chunkCount %d; quarantined, not imported", chunkCount)})
			if env, err := s.readEnvelope(rel, true, false); err == nil {
				s.ds.Extras["quarantine:"+prefix+which] = env.Data
			}
		}
		if len(items) > 0 || (hasManifest && k.Dir != "video-chunks") {
			replace(k.SessionField, items)
		}
	}
	if _, ok := doc["screenshots"]; !ok {
		doc["screenshots"] = []any{}
	}
	return doc
}

// keepReplaced keeps the members of chunked session id's metadata
// (metaSrc) that its parts or chunks replaced with other values, in
// Extras "replaced:<metaSrc>" as {path, reason, members}, and notes it in
// the report: the parts and chunks are where the app keeps these
// (docs/FORMAT.md §3.4) and win, but the metadata's values are not lost. The
// session is assembled again each time it is loaded: the same key, the
// same value, one note.
func (s *scanner) keepReplaced(id, metaSrc string, replaced map[string]any) {
	if len(replaced) == 0 || metaSrc == "" {
		return
	}
	key := "replaced:" + metaSrc
	_, again := s.ds.Extras[key]
	s.ds.Extras[key] = map[string]any{"path": metaSrc, "reason": "members of the session metadata its parts or chunks replace with other values", "members": cloneValue(replaced)}
	if !again {
		s.rep.note(fmt.Sprintf("session %q: %s has members %s of its own, other than its parts' and chunks' (which win, docs/FORMAT.md §3.4); the metadata's values are kept in extras %s", id, metaSrc, strings.Join(slices.Sorted(maps.Keys(replaced)), ", "), key))
	}
}

// keepNonEntitySession keeps in Extras a chunked session whose metadata
// (metaSrc) is not an entity (an id that is not a string, say), assembled
// with its parts and chunks: the report names the key addCand chose, but
// addCand had no text of it to keep.
func (s *scanner) keepNonEntitySession(metaSrc string, full map[string]any) {
	var key, reason string
	if n := len(s.rep.InvalidIDs); n > 0 && s.rep.InvalidIDs[n-1].Source == metaSrc {
		key, reason = "invalid:"+metaSrc, s.rep.InvalidIDs[n-1].Reason
	} else if n := len(s.rep.JunkSkipped); n > 0 && s.rep.JunkSkipped[n-1] == metaSrc {
		key, reason = "junk:"+metaSrc, "an array spread into an object (docs/FORMAT.md §3.3), not an entity"
	}
	if key == "" {
		return
	}
	if _, done := s.ds.Extras[key]; done {
		return
	}
	text, err := json.Marshal(full)
	if err != nil {
		return
	}
	s.keepBytes(key, map[string]any{"path": metaSrc, "reason": reason + "; the session with its parts and chunks"}, text)
}

// sortedChunks returns the chunk indices found for chunkKinds[k], sorted.
func (sd *sessionDir) sortedChunks(k int) []int {
	slices.Sort(sd.chunks[k])
	return sd.chunks[k]
}

// chapterFind is a session's chapters found in a backup copy of the
// sessions collection.
type chapterFind struct {
	chapters any
	source   string
	time     int64
}

// findChapters looks, before the sessions are emitted, for the video
// chapters the chunked store dropped (docs/FORMAT.md §11.8) that no other
// candidate of the same session has: in the newest backup copies of the
// sessions collection, read one at a time.
func (s *scanner) findChapters(ds []decision) error {
	need := map[string]bool{}
	for _, d := range ds {
		if d.del != nil || d.win.chapters != videoNoChapters {
			continue
		}
		fromCand := false
		for _, c := range d.cs {
			fromCand = fromCand || c.chapters == videoChapters
		}
		if !fromCand {
			need[d.id] = true
		}
	}
	if len(need) == 0 || s.opts.ChapterSources < 0 {
		return nil
	}
	s.chapterFinds = map[string]*chapterFind{}
	// Of the sources newest first (stably), the first whose last copy of
	// a session has chapters gives them.
	return s.chapterSources(func(data any, source string, t int64) error {
		last := map[string]map[string]any{}
		_, err := eachElem(data, func(_ int, e any) error {
			if m, ok := e.(map[string]any); ok {
				if id, ok := m["id"].(string); ok && need[id] {
					last[id] = m
				}
			}
			return nil
		})
		for id, m := range last {
			if v, ok := m["video"].(map[string]any); ok && hasChapters(v) {
				if f := s.chapterFinds[id]; f == nil || t > f.time {
					s.chapterFinds[id] = &chapterFind{chapters: v["chapters"], source: source, time: t}
				}
			}
		}
		return err
	})
}

// recoverChapters restores a session's video chapters that the chunked
// store dropped (docs/FORMAT.md §11.8) from another copy of it: other
// candidates first, then the backup copies findChapters found.
func (s *scanner) recoverChapters(d *decision, doc map[string]any) {
	video, ok := doc["video"].(map[string]any)
	if !ok || hasChapters(video) {
		return
	}
	if best, src := chaptersFromCands(d.cs); best != nil {
		video["chapters"] = cloneValue(best)
		s.rep.ChaptersRecovered = append(s.rep.ChaptersRecovered, d.id+" from "+src)
		return
	}
	if f := s.chapterFinds[d.id]; f != nil {
		video["chapters"] = cloneValue(f.chapters)
		s.rep.ChaptersRecovered = append(s.rep.ChaptersRecovered, d.id+" from "+f.source)
	}
}

// recoverLost fills what a chunked session lost on disk (a part whose
// has* flag is set but whose file is gone, chunks the manifest counts but
// that are missing or unreadable: queued writes lost in a crash,
// docs/FORMAT.md §3.4, §11.6) from the other copies of the same session
// (db/sessions.json, rollback points, per-entity files, §11.5), best
// first: a missing part is taken whole, and items (screenshots, audio
// segments, video chunks) whose id the chunks do not hold are added after
// the chunks' own. What the chunks hold is never replaced.
func (s *scanner) recoverLost(d *decision, doc map[string]any) {
	ref := d.win.ld.chunk
	if ref == nil || len(d.cs) < 2 {
		return
	}
	sd := s.sessions[ref.dir]
	if sd == nil || len(sd.lost) == 0 {
		return
	}
	others := make([]*cand, 0, len(d.cs)-1)
	for _, c := range d.cs {
		if c != d.win && c.doc != nil && c.ld.chunk == nil {
			others = append(others, c)
		}
	}
	sort.SliceStable(others, func(i, j int) bool { ok, _ := better(others[i], others[j]); return ok })
	took := map[string][]string{} // source → what it gave
	var order []string
	add := func(src, what string) {
		if took[src] == nil {
			order = append(order, src)
		}
		took[src] = append(took[src], what)
	}
	for _, f := range sd.lost {
		items, isItems := doc[f].([]any)
		if !isItems && doc[f] != nil {
			continue // a part: another copy of the key was found after all
		}
		have := map[string]bool{}
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				if id, ok := m["id"].(string); ok {
					have[id] = true
				}
			}
		}
		for _, c := range others {
			v, ok := c.doc[f]
			if !ok || v == nil {
				continue
			}
			if !isItemsField(f) {
				doc[f] = cloneValue(v)
				add(c.v.Source, f)
				break
			}
			more, _ := v.([]any)
			n := 0
			for _, it := range more {
				m, _ := it.(map[string]any)
				id, ok := m["id"].(string)
				if !ok || have[id] {
					continue
				}
				have[id] = true
				items = append(items, cloneValue(it))
				n++
			}
			if n > 0 {
				doc[f] = items
				add(c.v.Source, fmt.Sprintf("%s %d", f, n))
			}
		}
	}
	for _, src := range order {
		s.rep.LostRecovered = append(s.rep.LostRecovered, fmt.Sprintf("%s from %s (%s)", d.id, src, strings.Join(took[src], ", ")))
	}
}

// isItemsField reports whether f is the Session field of a chunk kind.
func isItemsField(f string) bool {
	for _, k := range chunkKinds {
		if k.SessionField == f {
			return true
		}
	}
	return false
}

// enrichmentFields are the members of a Session that enrichment writes
// (docs/FORMAT.md §7.2): its results, not the user's edits.
var enrichmentFields = []string{"summary", "audioInsights", "canvasSpec", "fullTranscription", "audioKeyMoments", "transcriptUpgradeCompleted", "enrichmentStatus"}

// recoverEnrichment fills the enrichment results a session's chosen copy
// lacks from its per-entity copy with the highest version. In eras E–F
// enrichment updates were written only to db/sessions/session-<id>.json,
// with version bumped (§3.3), while the UI went on saving db/sessions.json,
// whose sessions never carry a version (E2 added it to per-entity files
// only). So an unversioned, later copy wins by time and holds the user's
// newer edits, and the per-entity copy holds the only enrichment (§11.4):
// both are kept, the winner's members never overwritten. A copy with a
// version of its own is compared by version first (better) and needs
// none of this.
func (s *scanner) recoverEnrichment(d *decision, doc map[string]any) {
	if d.win.hasVer {
		return
	}
	var from *cand
	for _, c := range d.cs {
		if c != d.win && c.v.Kind == SourcePerEntity && c.hasVer && c.doc != nil && (from == nil || c.ver > from.ver) {
			from = c
		}
	}
	if from == nil {
		return
	}
	var took []string
	for _, f := range enrichmentFields {
		if v, ok := from.doc[f]; ok && v != nil {
			if _, has := doc[f]; !has {
				doc[f] = cloneValue(v)
				took = append(took, f)
			}
		}
	}
	if len(took) > 0 {
		s.rep.EnrichmentRecovered = append(s.rep.EnrichmentRecovered, fmt.Sprintf("%s from %s (%s)", d.id, from.v.Source, strings.Join(took, ", ")))
	}
}

func hasChapters(video map[string]any) bool {
	ch, ok := video["chapters"].([]any)
	return ok && len(ch) > 0
}

func chaptersFromCands(cs []*cand) (any, string) {
	var best *cand
	for _, c := range cs {
		if v, ok := c.doc["video"].(map[string]any); ok && hasChapters(v) {
			if best == nil {
				best = c
			} else if ok, _ := better(c, best); ok {
				best = c
			}
		}
	}
	if best == nil {
		return nil, ""
	}
	return best.doc["video"].(map[string]any)["chapters"], best.v.Source
}

// chapterSources calls fn with up to ChapterSources newest backup copies
// of the sessions collection of each kind (timestamped, single-slot,
// backups/ snapshots, rollback points), one at a time.
func (s *scanner) chapterSources(fn func(data any, source string, t int64) error) error {
	n := s.opts.ChapterSources
	found := 0
	for _, b := range s.sortedBackups("sessions") {
		if found >= n {
			break
		}
		if env, err := s.readEnvelope(b.path, false, true); err == nil {
			found++
			if err := fn(env.Data, b.path, b.ms); err != nil {
				return err
			}
		}
	}
	if kf := s.keys["sessions"]; kf != nil && kf.single != "" {
		if env, err := s.readEnvelope(kf.single, false, true); err == nil {
			if err := fn(env.Data, kf.single, env.Timestamp); err != nil {
				return err
			}
		}
	}
	for i, snap := range s.sortedSnapshots() {
		if i >= n {
			break
		}
		if v, ok, err := s.snapshotKey(snap.path, "sessions"); err == nil && ok {
			if err := fn(v, snap.path, snap.ms); err != nil {
				return err
			}
		}
	}
	for i, rb := range s.rollbacks {
		if i >= n {
			break
		}
		if env, err := s.readEnvelope(rb, false, true); err == nil {
			if err := fn(env.Data, rb, env.Timestamp); err != nil {
				return err
			}
		}
	}
	return nil
}

// keyChecksumLosses returns the items of chunked-session key k (a chunk,
// or a part that is an array, context-items) that the old app lost to its
// own checksum check, as recoverChecksumLosses does for a collection
// (docs/FORMAT.md §2.3, §11.2): each of k's recent timestamped backups
// (newest first, RecoveryCopies at most) is the file as the next save
// found it, and one the app's loader refused (compressed:false, hashed
// over compact JSON) made the app start that chunk empty, so that the
// next save held only what came after. Its items are lost, not deleted,
// unless the next save holds one of them (the app had loaded them). v is
// the version read; itemsOf reads a version's items. The items returned
// are those no newer version holds (by id, else by value), oldest save
// first; the report names each backup they come from.
func (s *scanner) keyChecksumLosses(k string, v *keyVersion, itemsOf func(any) []any) []any {
	bs := s.sortedBackups(k)
	if len(bs) == 0 || v == nil || !s.uncompressedBackup(k) {
		// None bears the bug's mark in its first bytes: no backup is
		// decoded (the app keeps thousands of them under db/sessions/).
		return nil
	}
	have := map[string]bool{}
	var seen []any
	note := func(items []any) {
		for _, it := range items {
			if id, ok := idOf(mapOf(it)["id"]); ok {
				have[id] = true
			} else {
				seen = append(seen, it)
			}
		}
	}
	held := func(it any) bool {
		if id, ok := idOf(mapOf(it)["id"]); ok {
			return have[id]
		}
		return slices.ContainsFunc(seen, func(x any) bool { return reflect.DeepEqual(x, it) })
	}
	next, nextItems := v, itemsOf(v.data)
	note(nextItems)
	var out [][]any
	for i, ref := range bs {
		if i >= s.opts.RecoveryCopies {
			break
		}
		env, err := s.readEnvelope(ref.path, false, false)
		if err != nil {
			continue
		}
		t := env.Timestamp
		if !env.Wrapped {
			t = 0
		}
		items := itemsOf(env.Data)
		inNext := func(it any) bool { return sameItem(nextItems, it) }
		if env.AppRejected && t > 0 && t <= next.time && !slices.ContainsFunc(items, inNext) {
			var lost []any
			for _, it := range items {
				if !held(it) {
					lost = append(lost, it)
				}
			}
			if len(lost) > 0 {
				if line := fmt.Sprintf("%s from %s", k, ref.path); !slices.Contains(s.rep.ChecksumBugRecovered, line) {
					s.rep.ChecksumBugRecovered = append(s.rep.ChecksumBugRecovered, line)
				}
				out = append(out, lost)
			}
		}
		next, nextItems = &keyVersion{source: ref.path, time: t}, items
		note(items)
	}
	var all []any
	for i := len(out) - 1; i >= 0; i-- {
		all = append(all, out[i]...)
	}
	return all
}

// sameItem reports whether items hold it: an item with its id, or one
// equal to it when it has none.
func sameItem(items []any, it any) bool {
	id, ok := idOf(mapOf(it)["id"])
	return slices.ContainsFunc(items, func(x any) bool {
		if ok {
			xid, _ := idOf(mapOf(x)["id"])
			return xid == id
		}
		return reflect.DeepEqual(x, it)
	})
}

// mapOf is v as an object, or nil.
func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// chunkItems are a chunk payload's items (none when it is not a chunk).
func chunkItems(v any) []any {
	if c, err := chunkFromValue(v); err == nil {
		return c.Items
	}
	return nil
}

// arrayItems are an array payload's elements.
func arrayItems(v any) []any {
	a, _ := v.([]any)
	return a
}
