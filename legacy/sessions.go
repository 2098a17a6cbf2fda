package legacy

import (
	"fmt"
	"sort"
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

// buildChunkedSessions assembles every chunked session (FORMAT.md §3.4)
// into one Session document: metadata plus its parts and chunks. The
// storage-only fields (chunks, has*, storageVersion) are kept verbatim.
func (s *scanner) buildChunkedSessions() error {
	inIndex := map[string]bool{}
	indexed := false
	if v := s.resolveKey("session-index", false); v != nil {
		if arr, ok := v.data.([]any); ok {
			indexed = true
			if v.time > s.baseTime["sessions"] {
				s.baseTime["sessions"] = v.time
			}
			for _, e := range arr {
				if id, ok := e.(string); ok {
					inIndex[id] = true
					s.sessionDirs[id] = true
				}
			}
		} else {
			s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: v.source, Error: "session-index is " + kindOf(v.data) + ", not an array"})
		}
	}
	ids := make([]string, 0, len(s.sessionDirs))
	for id := range s.sessionDirs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for i, id := range ids {
		if i%256 == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		if _, err := CheckID(id); err != nil {
			s.rep.InvalidIDs = append(s.rep.InvalidIDs, InvalidEntity{Collection: "sessions", Source: s.dbRel + "sessions/" + id, Index: -1, Reason: err.Error()})
			continue
		}
		s.buildSession(id, inIndex[id], indexed)
	}
	return nil
}

func (s *scanner) buildSession(id string, inIndex, indexed bool) {
	prefix := "sessions/" + id + "/"
	v := s.resolveKey(prefix+"metadata", inIndex)
	if v == nil {
		if inIndex {
			s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: "metadata", Detail: "listed in session-index but no readable metadata"})
		} else {
			s.rep.NotResurrected = append(s.rep.NotResurrected, Dropped{Collection: "sessions", ID: id, Source: s.dbRel + prefix,
				Reason: "session directory without metadata and not in session-index (deleted); backups are not used"})
		}
		return
	}
	doc, ok := v.data.(map[string]any)
	if !ok {
		s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: v.source, Error: "metadata is " + kindOf(v.data) + ", not an object"})
		return
	}
	if doc["id"] == nil {
		doc["id"] = id
	}
	if indexed && !inIndex {
		s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: "session-index", Detail: "session missing from session-index; found by scanning db/sessions/*/metadata.json"})
	}
	for _, p := range sessionParts {
		expected := p.Flag != "" && truthy(doc[p.Flag])
		pv := s.resolveKey(prefix+p.Name, expected)
		if pv != nil {
			doc[p.Field] = pv.data
		} else if expected {
			s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: p.Name, Detail: p.Flag + " is set but the file is missing or unreadable"})
		}
	}
	manifest, _ := doc["chunks"].(map[string]any)
	for _, k := range chunkKinds {
		files := s.chunkFiles[id][k.Dir]
		mf, hasManifest := manifest[k.Manifest].(map[string]any)
		count, hasCount := numInt64(mf["count"])
		size := int64(k.Size)
		if n, ok := numInt64(mf["chunkSize"]); ok && n > 0 {
			size = n
		}
		chunkCount, hasCC := numInt64(mf["chunkCount"])
		if !hasCC {
			if hasCount {
				chunkCount = (count + size - 1) / size
			} else if !hasManifest {
				for i := range files {
					if int64(i)+1 > chunkCount {
						chunkCount = int64(i) + 1
					}
				}
			}
		}
		if chunkCount < 0 || chunkCount > 1<<20 {
			s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: k.Dir, Detail: fmt.Sprintf("implausible chunkCount %d", chunkCount)})
			chunkCount = 0
		}
		items := []any{}
		for i := 0; i < int(chunkCount); i++ {
			key := prefix + k.Dir + "/" + chunkName(i)
			cv := s.resolveKey(key, true)
			which := k.Dir + "/" + chunkName(i)
			if cv == nil {
				s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: which, Detail: "chunk missing or unreadable"})
				continue
			}
			ch, err := chunkFromValue(cv.data)
			if err != nil {
				s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: which, Detail: err.Error()})
				continue
			}
			items = append(items, ch.Items...)
		}
		if hasCount && int64(len(items)) < count {
			s.rep.ManifestShortfalls = append(s.rep.ManifestShortfalls, ChunkIssue{SessionID: id, Which: k.Dir,
				Detail: fmt.Sprintf("manifest count %d, chunks hold %d", count, len(items))})
		}
		idx := make([]int, 0, len(files))
		for i := range files {
			if int64(i) >= chunkCount {
				idx = append(idx, i)
			}
		}
		sort.Ints(idx)
		for _, i := range idx {
			rel := files[i]
			which := k.Dir + "/" + chunkName(i)
			s.rep.StaleChunks = append(s.rep.StaleChunks, ChunkIssue{SessionID: id, Which: which, Detail: fmt.Sprintf("beyond chunkCount %d; quarantined, not imported", chunkCount)})
			if env, err := s.readEnvelope(rel, true); err == nil {
				s.ds.Extras["quarantine:"+prefix+which] = env.Data
			}
		}
		if len(items) > 0 || (hasManifest && k.Dir != "video-chunks") {
			doc[k.SessionField] = items
		}
	}
	if _, ok := doc["screenshots"]; !ok {
		doc["screenshots"] = []any{}
	}
	s.addCand("sessions", doc, v.kind, v.source, v.time, true, -1)
}

// recoverChapters restores video chapters that the chunked store dropped
// (FORMAT.md §11.8) from any other copy of the same session: other
// candidates first, then the newest backup copies of the sessions
// collection.
func (s *scanner) recoverChapters() error {
	var need []string
	for id, e := range s.ds.Collections["sessions"] {
		video, ok := e.Doc["video"].(map[string]any)
		if !ok || hasChapters(video) {
			continue
		}
		best, src := s.chaptersFromCands(id)
		if best != nil {
			video["chapters"] = cloneValue(best)
			s.rep.ChaptersRecovered = append(s.rep.ChaptersRecovered, id+" from "+src)
			continue
		}
		need = append(need, id)
	}
	if len(need) == 0 || s.opts.ChapterSources < 0 {
		sort.Strings(s.rep.ChaptersRecovered)
		return nil
	}
	sort.Strings(need)
	found := map[string]bool{}
	for _, src := range s.chapterSources() {
		if len(found) == len(need) {
			break
		}
		arr, ok := src.data.([]any)
		if !ok {
			continue
		}
		byID := map[string]map[string]any{}
		for _, e := range arr {
			if m, ok := e.(map[string]any); ok {
				if id, ok := m["id"].(string); ok {
					byID[id] = m
				}
			}
		}
		for _, id := range need {
			if found[id] {
				continue
			}
			m := byID[id]
			if m == nil {
				continue
			}
			if v, ok := m["video"].(map[string]any); ok && hasChapters(v) {
				s.ds.Collections["sessions"][id].Doc["video"].(map[string]any)["chapters"] = cloneValue(v["chapters"])
				s.rep.ChaptersRecovered = append(s.rep.ChaptersRecovered, id+" from "+src.source)
				found[id] = true
			}
		}
	}
	sort.Strings(s.rep.ChaptersRecovered)
	return nil
}

func hasChapters(video map[string]any) bool {
	ch, ok := video["chapters"].([]any)
	return ok && len(ch) > 0
}

func (s *scanner) chaptersFromCands(id string) (any, string) {
	var best *cand
	for _, c := range s.cands["sessions"][id] {
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

// chapterSources lists up to ChapterSources newest backup copies of the
// sessions collection, newest first, decoded one at a time on demand.
func (s *scanner) chapterSources() []*keyVersion {
	n := s.opts.ChapterSources
	var out []*keyVersion
	for _, b := range s.sortedBackups("sessions") {
		if len(out) >= n {
			break
		}
		if env, err := s.readEnvelope(b.path, false); err == nil {
			out = append(out, &keyVersion{data: env.Data, source: b.path, time: b.ms})
		}
	}
	if kf := s.keys["sessions"]; kf != nil && kf.single != "" {
		if env, err := s.readEnvelope(kf.single, false); err == nil {
			out = append(out, &keyVersion{data: env.Data, source: kf.single, time: env.Timestamp})
		}
	}
	for i, snap := range s.sortedSnapshots() {
		if i >= n {
			break
		}
		if v, ok, err := s.snapshotKey(snap.path, "sessions"); err == nil && ok {
			out = append(out, &keyVersion{data: v, source: snap.path, time: snap.ms})
		}
	}
	for i, rb := range s.rollbacks {
		if i >= n {
			break
		}
		if env, err := s.readEnvelope(rb, false); err == nil {
			out = append(out, &keyVersion{data: env.Data, source: rb, time: env.Timestamp})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].time > out[j].time })
	return out
}
