package legacy

import (
	"bytes"
	"slices"
	"strings"
)

// olderInline gathers the inline base64 the older copies of collection
// files hold, for the attachments the imported entities refer to: the
// timestamped backups (the newest ScanOptions.RecoveryCopies of each
// key), the single-slot backup, a .tmp.json and staged copies, the WAL's
// whole-key writes and the newest RecoveryCopies backups/ snapshots, of
// the collections that hold attachment records or screenshots, chunked
// sessions' chunks included. A newer save may have lost those bytes (the
// chunked store strips screenshots' base64, docs/FORMAT.md §11.7; a note
// edited after its attachment's file went missing): they are the
// attachment's content when nothing else holds any, else kept apart as
// an orphan attachment and reported (keepLoserInline, §7.6). Ids no
// imported entity refers to are not looked for: what only an older copy
// refers to was deleted since (§11.15).
//
// Only the elements whose text holds "base64" are decoded.
func (s *scanner) olderInline() error {
	refs := s.referencedAttachments()
	if len(refs) == 0 {
		return nil
	}
	keys := make([]string, 0, len(s.keys))
	for k := range s.keys {
		if keyCollection(k) != "" {
			keys = append(keys, k)
		}
	}
	for k, ws := range s.walKeys {
		if keyCollection(k) != "" && s.keys[k] == nil && len(ws) > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		coll := keyCollection(k)
		note := func(data any, source string) {
			s.noteOlderInline(coll, source, data, refs)
		}
		if kf := s.keys[k]; kf != nil {
			for i, b := range s.sortedBackups(k) {
				if i >= s.opts.RecoveryCopies {
					break
				}
				s.readOlder(b.path, note)
			}
			for _, rel := range []string{kf.single, kf.tmp} {
				if rel != "" {
					s.readOlder(rel, note)
				}
			}
			for _, st := range kf.staged {
				s.readOlder(st.path, note)
			}
		}
		for _, w := range s.walKeys[k] {
			if w.data != nil && !w.deleted {
				note(w.data, w.source)
			}
		}
	}
	want := func(name string) bool { return slices.Contains(factColls, name) }
	for i, snap := range s.sortedSnapshots() {
		if i >= s.opts.RecoveryCopies {
			break
		}
		// Unreadable snapshots were reported by reportSnapshotOnly.
		_ = s.snapshotCollections(snap.path, want, func(coll string, data any) error {
			s.noteOlderInline(coll, snap.path, data, refs)
			return nil
		})
	}
	return nil
}

// keyCollection is the collection whose attachment references key k's
// files hold: one of factColls, or "" for any other key.
func keyCollection(k string) string {
	if slices.Contains(factColls, k) {
		return k
	}
	if strings.HasPrefix(k, "sessions/") {
		return "sessions" // a chunked session's metadata, parts and chunks
	}
	if _, c, _ := NormalizeKey(k); slices.Contains(factColls, c) {
		return c // a per-entity file's backups
	}
	return ""
}

// readOlder reads an older copy at rel, quietly (a file that does not
// read was reported, or is not needed: it is only searched for bytes),
// and hands its payload to fn unless its text holds no base64 at all.
func (s *scanner) readOlder(rel string, fn func(data any, source string)) {
	r := readAhead(s.abs(rel), fetchLazy, s.spill)
	if r.err != nil || r.envErr != nil || r.env == nil {
		return
	}
	data := r.env.Data
	defer closeLazy(data)
	if a, ok := data.(*lazyArray); ok && !bytes.Contains(a.text, base64Member) {
		return
	}
	fn(data, rel)
}

var base64Member = []byte(`"base64"`)

// noteOlderInline notes, as texts of losing versions, the inline base64
// that data, a payload of coll read from source, gives of the attachment
// ids in refs.
func (s *scanner) noteOlderInline(coll, source string, data any, refs map[string]bool) {
	f := s.facts[coll]
	if f == nil {
		f = newFacts(s.blobKeys)
		s.facts[coll] = f
	}
	// add notes what e, an element of an array payload or a whole
	// payload (a chunk, a per-entity file), gives.
	add := func(e any) {
		src := source + "#" + coll
		if m, ok := e.(map[string]any); ok {
			if id, ok := idOf(m["id"]); ok {
				src += "/" + id
			}
		}
		inlineTexts([]any{e}, coll == "attachments", func(aid, b64 string) {
			if refs[aid] {
				f.addLoserInline(aid, src, b64)
			}
		})
	}
	switch d := data.(type) {
	case *lazyArray:
		for i := 0; i < d.Len(); i++ {
			if !bytes.Contains(d.text[d.offs[2*i]:d.offs[2*i+1]], base64Member) {
				continue
			}
			if e, err := d.At(i); err == nil {
				add(e)
			}
		}
	case []any:
		for _, e := range d {
			add(e)
		}
	default:
		add(data)
	}
}

// referencedAttachments are the attachment ids the imported entities
// refer to: their attachment records, and the references whose files
// the walk found or did not.
func (s *scanner) referencedAttachments() map[string]bool {
	out := map[string]bool{}
	for _, f := range s.facts {
		for id := range f.records {
			out[id] = true
		}
		for id := range f.refIDs {
			out[id] = true
		}
		for _, w := range f.wanted {
			if w.id != "" {
				out[w.id] = true
			}
		}
	}
	return out
}
