package legacy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

type opener struct {
	source string
	open   func() (io.ReadCloser, error)
	id     string // the attachment whose record holds this copy ("" for a file)
}

type blobEntry struct {
	hash       string
	ids        map[string]bool
	mime       string
	opens      []opener
	referenced bool
}

type blobIndex struct {
	byID   map[string]*blobEntry // first entry with bytes claiming an id
	byHash map[string]*blobEntry
	byPath map[string]*blobEntry // entries from files, by relative path
	all    []*blobEntry
}

func (x *blobIndex) forHash(h string) *blobEntry {
	if e := x.byHash[h]; e != nil {
		return e
	}
	e := &blobEntry{hash: h, ids: map[string]bool{}}
	x.byHash[h] = e
	x.all = append(x.all, e)
	return e
}

func (x *blobIndex) newUnhashed() *blobEntry {
	e := &blobEntry{ids: map[string]bool{}}
	x.all = append(x.all, e)
	return e
}

func isHexHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

var mimeByExt = map[string]string{
	"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
	"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm", "pdf": "application/pdf",
	"txt": "text/plain", "json": "application/json", "mp3": "audio/mpeg", "wav": "audio/wav",
	"m4a": "audio/mp4", "bin": "application/octet-stream",
}

func mimeOf(name string) string {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	return mimeByExt[ext]
}

// attachmentFacts are what entities say about attachments, gathered as
// they are emitted. Only what can concern a file of the directory is
// kept (see blobKeys): a 100,000-session directory refers to millions of
// screenshots by id and hash, most of whose bytes are not there.
type attachmentFacts struct {
	keys       *blobKeys
	idHash     map[string]recordedHash // attachment id → the hash recorded with it
	refIDs     map[string]bool
	refHashes  map[recordedHash]bool
	records    map[string]*attachmentRecord // attachment records by id
	recordSrc  map[string]string
	videoNames map[string]videoName // video file base name → the session video naming it
	// otherInline are, by attachment id, inline base64 texts records give
	// beside the first one (records[id]'s), differing from it.
	otherInline map[string][]inlineCopy
	// loserInline are, by attachment id, inline base64 texts the losing
	// versions of entities give (an older copy of a session whose newer
	// chunked copy had its base64 stripped, docs/FORMAT.md §11.7): the
	// id's content when nothing else holds it, else kept apart.
	loserInline map[string][]inlineCopy
	// wanted are references (an attachment id, a recorded hash, or both)
	// no file of the directory is named after: each is checked, once the
	// bytes are gathered, against what records and inline base64 gave.
	wanted map[string]wantedRef
}

// wantedRef is one reference to attachment bytes, by id and/or hash, and
// the entity that makes it.
type wantedRef struct {
	id     string
	hash   recordedHash
	hashed bool
	src    string
}

// want notes a reference whose bytes no file is named after.
func (f *attachmentFacts) want(id string, h recordedHash, hashed bool, src string) {
	if f.keys.ids[id] || (hashed && f.keys.hashes[h]) || (id == "" && !hashed) {
		return
	}
	k := id
	if k == "" {
		k = "#" + h.String()
	}
	if _, ok := f.wanted[k]; !ok {
		f.wanted[k] = wantedRef{id: id, hash: h, hashed: hashed, src: src}
	}
}

// inlineCopy is one record's inline base64 text and where it is.
type inlineCopy struct{ src, b64 string }

// addInline notes an inline base64 text b64 a record of attachment id
// gives at src, when the first record's differs.
func (f *attachmentFacts) addInline(id, src, b64 string) {
	first := f.records[id]
	if first == nil || !first.fields[0].set || !first.fields[0].ok || first.fields[0].s == b64 || b64 == "" {
		return
	}
	if slices.ContainsFunc(f.otherInline[id], func(c inlineCopy) bool { return c.b64 == b64 }) {
		return
	}
	if f.otherInline == nil {
		f.otherInline = map[string][]inlineCopy{}
	}
	f.otherInline[id] = append(f.otherInline[id], inlineCopy{src, b64})
}

// attachmentRecord is what blobs use of an attachment record: the first
// value each copy of it gives for these fields (a field set to a
// non-string counts as set, and unusable).
type attachmentRecord struct {
	fields [4]recordField
	meta   map[string]any // the first value each copy gives of recordMeta
}

// recordMeta are the fields of an inline attachment record kept as the
// attachment's metadata (Blob.Meta).
var recordMeta = []string{"name", "type", "createdAt"}

// setMeta keeps the first value a copy of the record gives of each of
// recordMeta.
func (r *attachmentRecord) setMeta(x map[string]any) {
	for _, k := range recordMeta {
		if v, ok := x[k]; ok {
			if _, has := r.meta[k]; !has {
				if r.meta == nil {
					r.meta = map[string]any{}
				}
				r.meta[k] = v
			}
		}
	}
}

var recordFields = [4]string{"base64", "mimeType", "path", "size"}

type recordField struct {
	set  bool
	s    string
	ok   bool // s is the value (it was a string)
	zero bool // the value is the number 0
}

func (r *attachmentRecord) setFirst(i int, v any) {
	if f := &r.fields[i]; !f.set {
		f.set = true
		f.s, f.ok = v.(string)
		if n, ok := numFloat(v); ok && n == 0 {
			f.zero = true
		}
	}
}

// emptyContent reports whether the record says its content is empty: an
// inline base64 of "" with a size of 0.
func (r *attachmentRecord) emptyContent() bool {
	b64, ok := r.str("base64")
	return ok && b64 == "" && r.fields[3].zero
}

func (r *attachmentRecord) str(name string) (string, bool) {
	for i, n := range recordFields {
		if n == name {
			return r.fields[i].s, r.fields[i].ok
		}
	}
	return "", false
}

func newFacts(keys *blobKeys) *attachmentFacts {
	return &attachmentFacts{keys: keys, idHash: map[string]recordedHash{}, refIDs: map[string]bool{}, refHashes: map[recordedHash]bool{},
		records: map[string]*attachmentRecord{}, recordSrc: map[string]string{}, videoNames: map[string]videoName{}, wanted: map[string]wantedRef{}}
}

// blobKeys are the ids, hashes and video names the directory has files
// for, known from the walk before any entity is emitted: the facts that
// matter are about them.
type blobKeys struct {
	ids    map[string]bool       // per-id files (attachments/<id>.dat, .meta.json, <subdir>/<id>.<ext>)
	hashes map[recordedHash]bool // content-addressed and dedup files
	videos map[string]bool       // base names of videos/ files
}

// refID notes a reference to an attachment id.
func (f *attachmentFacts) refID(id string) {
	if f.keys.ids[id] {
		f.refIDs[id] = true
	}
}

// link notes that an attachment id refers to bytes with hash h.
func (f *attachmentFacts) link(id string, h recordedHash) {
	if f.keys.ids[id] || f.keys.hashes[h] || f.records[id] != nil {
		f.idHash[id] = h
	}
}

// factColls are the collections whose documents speak of attachments, in
// the order their facts combine (later idHash and video names win, the
// first record fields win).
var factColls = []string{"sessions", "notes", "tasks", "attachments"}

// noteFacts gathers what an emitted document says about attachments.
func (s *scanner) noteFacts(coll, id string, doc map[string]any) {
	if !slices.Contains(factColls, coll) {
		return
	}
	f := s.facts[coll]
	if f == nil {
		f = newFacts(s.blobKeys)
		s.facts[coll] = f
	}
	if coll == "attachments" {
		f.visit([]any{doc}, true, coll+"/"+id)
	} else {
		f.visit(doc, false, coll+"/"+id)
	}
}

// noteLoserFacts notes the inline base64 texts doc, a losing version
// of entity id of coll read from source, gives: its other fields are the
// conflict's, but these bytes may be nowhere else.
func (s *scanner) noteLoserFacts(coll, id, source string, doc map[string]any) {
	if !slices.Contains(factColls, coll) {
		return
	}
	f := s.facts[coll]
	if f == nil {
		f = newFacts(s.blobKeys)
		s.facts[coll] = f
	}
	src := fmt.Sprintf("%s#%s/%s", source, coll, id)
	inlineTexts(doc, coll == "attachments", func(aid, b64 string) { f.addLoserInline(aid, src, b64) })
}

// addLoserInline notes an inline base64 text b64 a losing version gives
// of attachment id at src, once per text.
func (f *attachmentFacts) addLoserInline(id, src, b64 string) {
	if b64 == "" || slices.ContainsFunc(f.loserInline[id], func(c inlineCopy) bool { return c.b64 == b64 }) {
		return
	}
	if f.loserInline == nil {
		f.loserInline = map[string][]inlineCopy{}
	}
	f.loserInline[id] = append(f.loserInline[id], inlineCopy{src, b64})
}

// inlineTexts calls fn for each inline base64 text v gives, with the
// attachment id it is of: a screenshot's attachmentId beside its base64,
// an attachment record (in an attachments array) with its base64.
func inlineTexts(v any, inAttachments bool, fn func(id, b64 string)) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			inlineTexts(e, inAttachments, fn)
		}
	case map[string]any:
		if b, ok := x["base64"].(string); ok && b != "" {
			if id, ok := idOf(x["attachmentId"]); ok {
				fn(id, b)
			} else if id, ok := idOf(x["id"]); ok && inAttachments {
				fn(id, b)
			}
		}
		for k, e := range x {
			if k != "base64" && k != "thumbnail" {
				inlineTexts(e, k == "attachments", fn)
			}
		}
	}
}

func (f *attachmentFacts) record(id, src string) *attachmentRecord {
	rec := f.records[id]
	if rec == nil {
		rec = &attachmentRecord{}
		f.records[id] = rec
		f.recordSrc[id] = src
	}
	return rec
}

// recordedHash is a SHA-256 the old app recorded (a lowercase hex string), kept
// in its 32 bytes: a chunked store records one per screenshot.
type recordedHash [32]byte

func shaOf(v any) (recordedHash, bool) {
	var h recordedHash
	s, ok := v.(string)
	if !ok || !isHexHash(s) {
		return h, false
	}
	hex.Decode(h[:], []byte(s))
	return h, true
}

func (h recordedHash) String() string { return hex.EncodeToString(h[:]) }

// idOf is CheckID without building an error for the usual absent field.
func idOf(v any) (string, bool) {
	if _, ok := v.(string); !ok {
		return "", false
	}
	id, err := CheckID(v)
	return id, err == nil
}

func (f *attachmentFacts) visit(v any, inAttachments bool, src string) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			f.visit(e, inAttachments, src)
		}
	case map[string]any:
		h, hashed := shaOf(x["hash"])
		if hashed && f.keys.hashes[h] {
			f.refHashes[h] = true
		}
		for _, k := range []string{"attachmentId", "fullAudioAttachmentId"} {
			if id, ok := idOf(x[k]); ok {
				f.refID(id)
				if b, ok := x["base64"].(string); ok && b != "" && k == "attachmentId" {
					f.addInline(id, src, b)
					f.record(id, src).setFirst(0, b)
				}
				if k == "attachmentId" && hashed {
					f.link(id, h)
				}
				f.want(id, h, hashed && k == "attachmentId", src)
			}
		}
		if inAttachments {
			if id, ok := idOf(x["id"]); ok {
				f.refID(id)
				if expectsContent(x) {
					f.want(id, h, hashed, src)
				}
				if b, ok := x["base64"].(string); ok {
					f.addInline(id, src, b)
				}
				rec := f.record(id, src)
				rec.setMeta(x)
				if hashed {
					f.link(id, h)
				}
				for i, k := range recordFields { // merge what every copy knows
					if v, ok := x[k]; ok {
						rec.setFirst(i, v)
					}
				}
			}
		}
		if video, ok := x["video"].(map[string]any); ok {
			vid, _ := video["id"].(string)
			for _, k := range []string{"path", "optimizedPath"} {
				if p, ok := video[k].(string); ok && p != "" {
					if name := path.Base(strings.ReplaceAll(p, "\\", "/")); f.keys.videos[name] {
						f.videoNames[name] = videoName{id: vid, optimized: k == "optimizedPath"}
					}
				}
			}
		}
		for k, e := range x {
			if k == "base64" || k == "thumbnail" {
				continue
			}
			f.visit(e, k == "attachments", src)
		}
	}
}

// gatherFacts combines the facts noted per collection, in the order of
// factColls (into the first one's), and adds the hashes of
// Extras["attachment_refs"].
func (s *scanner) gatherFacts() *attachmentFacts {
	var f *attachmentFacts
	for _, coll := range factColls {
		c := s.facts[coll]
		if c == nil {
			continue
		}
		if f == nil {
			f = c
			continue
		}
		maps.Copy(f.idHash, c.idHash)
		maps.Copy(f.refIDs, c.refIDs)
		maps.Copy(f.refHashes, c.refHashes)
		maps.Copy(f.videoNames, c.videoNames)
		for k, w := range c.wanted {
			if _, ok := f.wanted[k]; !ok {
				f.wanted[k] = w
			}
		}
		for _, id := range slices.Sorted(maps.Keys(c.loserInline)) {
			for _, o := range c.loserInline[id] {
				f.addLoserInline(id, o.src, o.b64)
			}
		}
		ids := slices.Sorted(maps.Keys(c.records))
		for _, id := range ids {
			if fl := c.records[id].fields[0]; fl.set && fl.ok {
				f.addInline(id, c.recordSrc[id], fl.s)
			}
			for _, o := range c.otherInline[id] {
				f.addInline(id, o.src, o.b64)
			}
			rec := f.record(id, c.recordSrc[id])
			rec.setMeta(c.records[id].meta)
			for i, fl := range c.records[id].fields {
				if fl.set && !rec.fields[i].set {
					rec.fields[i] = fl
				}
			}
		}
	}
	s.facts = nil
	if f == nil {
		f = newFacts(s.blobKeys)
	}
	if refs, ok := s.ds.Extras["attachment_refs"].([]any); ok {
		for _, r := range refs {
			m, _ := r.(map[string]any)
			h, ok := shaOf(m["hash"])
			if !ok {
				continue
			}
			ids, _ := m["attachmentIds"].([]any)
			for _, x := range ids {
				if id, err := CheckID(x); err == nil {
					if _, ok := f.idHash[id]; !ok {
						f.idHash[id] = h
					}
				}
			}
		}
	}
	return f
}

// buildBlobs collects attachment bytes from every layout (docs/FORMAT.md §3.5,
// §3.7, inline base64), deduplicated by hash, in this order: the
// content-addressed store, the attachments/ directory's hash-named dedup
// files and then its per-id files, attachment records (path field, inline
// base64), ids linked to hashes the entities recorded, unreadable files
// too large for extras, videos; then each gathered entry becomes a Blob.
func (s *scanner) buildBlobs() error {
	facts := s.gatherFacts()
	rd := rootDir(s.root)
	x := &blobIndex{byID: map[string]*blobEntry{}, byHash: map[string]*blobEntry{}, byPath: map[string]*blobEntry{}}
	for _, step := range []func(*blobIndex, *attachmentFacts, rootDir){
		s.blobsFromCAS, s.blobsFromDedup, s.blobsFromPerID, s.blobsFromRecords,
		s.blobsFromRecordedHashes, s.blobsFromBigUnreadable, s.blobsFromVideos, s.blobsFromBadNames,
	} {
		step(x, facts, rd)
	}
	s.missingReferences(x, facts)
	s.emitBlobs(x, facts)
	sort.Slice(s.ds.Blobs, func(i, j int) bool { return s.ds.Blobs[i].Source < s.ds.Blobs[j].Source })
	sort.Strings(s.rep.OrphanFiles)
	return nil
}

// missingReferences reports the references of entities (a note's or a
// task's attachment record, a screenshot's attachmentId and hash, a
// session's fullAudioAttachmentId) whose bytes no gathered copy holds.
// Records of the attachments collection are not among them: their
// documents are marked contentMissing when stored.
func (s *scanner) missingReferences(x *blobIndex, facts *attachmentFacts) {
	haveID, haveHash := map[string]bool{}, map[string]bool{}
	for _, e := range x.all {
		if len(e.opens) == 0 {
			continue
		}
		for id := range e.ids {
			haveID[id] = true
		}
		if e.hash != "" {
			haveHash[e.hash] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(facts.wanted)) {
		w := facts.wanted[k]
		if w.id != "" && (haveID[w.id] || strings.HasPrefix(facts.recordSrc[w.id], "attachments/")) {
			continue
		}
		if w.hashed && haveHash[w.hash.String()] {
			continue
		}
		if h, ok := facts.idHash[w.id]; ok && w.id != "" && haveHash[h.String()] {
			continue
		}
		if rec := facts.records[w.id]; w.id != "" && rec != nil && rec.emptyContent() {
			continue
		}
		m := MissingReference{ID: w.id, From: w.src}
		if w.hashed {
			m.Hash = w.hash.String()
		}
		s.rep.MissingReferences = append(s.rep.MissingReferences, m)
	}
}

// blobsFromCAS gathers the content-addressed store,
// db/attachments-ca/<hh>/<hash>/{data,metadata}.json.
func (s *scanner) blobsFromCAS(x *blobIndex, facts *attachmentFacts, rd rootDir) {
	casMeta := map[string]string{}
	var casData []string
	for _, rel := range s.casFiles {
		parts := strings.Split(strings.TrimPrefix(rel, s.dbRel), "/")
		if len(parts) != 4 || !isHexHash(parts[2]) || parts[1] != parts[2][:2] {
			continue
		}
		switch parts[3] {
		case "data.json":
			casData = append(casData, rel)
		case "metadata.json":
			casMeta[parts[2]] = rel
		}
	}
	sort.Strings(casData)
	for _, rel := range casData {
		h := strings.Split(strings.TrimPrefix(rel, s.dbRel), "/")[2]
		e := x.forHash(h)
		if mrel, ok := casMeta[h]; ok {
			if env, err := s.readEnvelope(mrel, false, false); err == nil {
				if m, ok := env.Data.(map[string]any); ok {
					// Every field the content-addressed store recorded.
					s.ds.Extras[strings.TrimSuffix(strings.TrimPrefix(mrel, s.dbRel), ".json")] = m
					if mt, ok := m["mimeType"].(string); ok && e.mime == "" {
						e.mime = mt
					}
					refs, _ := m["references"].([]any)
					for _, r := range refs {
						rm, _ := r.(map[string]any)
						if id, err := CheckID(rm["attachmentId"]); err == nil {
							e.ids[id] = true
							e.referenced = true
						}
					}
				}
			}
		}
		rel := rel
		e.opens = append(e.opens, opener{rel, func() (io.ReadCloser, error) { return rd.openCAS(rel) }, ""})
		x.byPath[rel] = e
	}
}

// blobsFromDedup gathers attachments/'s hash-named dedup files, before
// the per-id files, so that a per-id file of an attachment whose bytes
// are already known by hash joins that blob.
func (s *scanner) blobsFromDedup(x *blobIndex, facts *attachmentFacts, rd rootDir) {
	for _, h := range slices.Sorted(maps.Keys(s.dedupFiles)) {
		df := s.dedupFiles[h]
		e := x.forHash(h)
		if df.meta != "" {
			if m := s.readMeta(df.meta); m != nil {
				if mt, ok := m["mimeType"].(string); ok && e.mime == "" {
					e.mime = mt
				}
				s.ds.Extras[df.meta] = m // every field the dedup store recorded
			}
		}
		if df.dat != "" {
			rel := df.dat
			e.opens = append(e.opens, opener{rel, func() (io.ReadCloser, error) { return rd.openBase64File(rel) }, ""})
			x.byPath[rel] = e
		}
	}
}

// blobsFromPerID gathers attachments/<id>.dat and <id>/ files. The
// first file in §7.6's order holds the id's content; a further file of
// the same id holding other bytes is not a copy of it: it is kept as an
// entry of its own (see keepDifferingFile).
func (s *scanner) blobsFromPerID(x *blobIndex, facts *attachmentFacts, rd rootDir) {
	for _, id := range slices.Sorted(maps.Keys(s.perID)) {
		pf := s.perID[id]
		for _, rel := range append([]string{pf.dat}, pf.subdir...) {
			if rel == "" {
				continue
			}
			e := s.entryForID(x, facts, id)
			if len(e.opens) > 0 && s.keepDifferingFile(x, e, id, rel, rd) {
				continue
			}
			e.ids[id] = true
			if x.byID[id] == nil {
				x.byID[id] = e
			}
			if rel == pf.dat {
				e.opens = append(e.opens, opener{rel, func() (io.ReadCloser, error) { return rd.openBase64File(rel) }, ""})
			} else {
				if e.mime == "" {
					e.mime = mimeOf(rel)
				}
				e.opens = append(e.opens, opener{rel, func() (io.ReadCloser, error) { return rd.openFile(rel) }, ""})
			}
			if e.mime == "" && pf.mime != "" {
				e.mime = pf.mime
			}
			x.byPath[rel] = e
		}
	}
}

// keepDifferingFile keeps the file rel of attachment id apart when the
// bytes it holds differ from those of e, the entry the id's earlier files
// gave (attachments/<id>.dat and attachments/images/<id>.png with two
// contents): rel becomes an entry of its own, stored as an orphan
// attachment unless another attachment has those bytes, and the report
// lists a conflict and a note. It reports false when rel joins e as one
// more copy: the same bytes, or bytes that cannot be compared because
// one of the two does not read (then rel is what a damaged first file
// falls back to).
func (s *scanner) keepDifferingFile(x *blobIndex, e *blobEntry, id, rel string, rd rootDir) bool {
	fh := e.hash
	if fh == "" {
		rc, err := e.opens[0].open()
		if err != nil {
			return false
		}
		fh, _, err = hashReader(rc)
		_ = rc.Close() // read only
		if err != nil {
			return false
		}
	}
	open := func() (io.ReadCloser, error) { return rd.openFile(rel) }
	if path.Ext(rel) == ".dat" {
		open = func() (io.ReadCloser, error) { return rd.openBase64File(rel) }
	}
	rc, err := open()
	if err != nil {
		return false
	}
	ih, _, err := hashReader(rc)
	_ = rc.Close() // read only
	if err != nil || ih == fh {
		return false
	}
	ie := x.forHash(ih)
	if ie == e {
		return false
	}
	ie.opens = append(ie.opens, opener{rel, open, ""})
	if ie.mime == "" {
		ie.mime = mimeOf(rel)
	}
	x.byPath[rel] = ie
	winner := e.opens[0].source
	s.rep.Conflicts = append(s.rep.Conflicts, Conflict{Collection: "attachments", ID: id, Winner: Version{Source: winner, Kind: "file"},
		Losers: []Version{{Source: rel, Kind: "file"}}, Reason: "precedence"})
	s.rep.note(fmt.Sprintf("attachment %q: %s holds other bytes (sha256 %s) than %s (sha256 %s), whose bytes are its content (docs/FORMAT.md §7.6 order); they are kept as attachment legacy-orphan-%s unless another attachment has them", id, rel, ih, winner, fh, ih[:16]))
	return true
}

// blobsFromRecords gathers what attachment records name: their path
// field (with the <hash>.<ext> → <hash>.dat bug) and inline base64.
func (s *scanner) blobsFromRecords(x *blobIndex, facts *attachmentFacts, rd rootDir) {
	ids := make([]string, 0, len(facts.records))
	for id := range facts.records {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s.blobFromRecord(x, facts, id)
		s.keepOtherInline(x, facts, id)
	}
	if len(facts.loserInline) == 0 {
		return
	}
	have := map[string]*blobEntry{} // attachment id → the first entry with its bytes
	for _, e := range x.all {
		if len(e.opens) > 0 {
			for id := range e.ids {
				if have[id] == nil {
					have[id] = e
				}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(facts.loserInline)) {
		s.keepLoserInline(x, facts, id, have)
	}
}

// keepLoserInline uses the inline base64 texts losing versions of
// entities give of attachment id (facts.loserInline): the first one is
// the id's content when no gathered entry holds any; the same bytes as
// its content are one more copy of them; other bytes become an entry of
// their own (stored as an orphan attachment unless another attachment has
// those bytes). The report says which. entries maps each id to the first
// entry holding its bytes, and is kept up to date.
func (s *scanner) keepLoserInline(x *blobIndex, facts *attachmentFacts, id string, entries map[string]*blobEntry) {
	have := entries[id]
	for _, o := range facts.loserInline[id] {
		data, _, err := decodeBase64String(o.b64)
		if err != nil {
			s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: o.src + "#base64", Error: err.Error()})
			continue
		}
		sum := sha256.Sum256(data)
		ih := hex.EncodeToString(sum[:])
		src, b64 := o.src+"#base64", o.b64
		op := opener{src, func() (io.ReadCloser, error) {
			d, _, err := decodeBase64String(b64)
			return io.NopCloser(bytes.NewReader(d)), err
		}, ""}
		ie := x.forHash(ih)
		switch {
		case have == nil:
			op.id = id
			ie.ids[id] = true
			if rec := facts.records[id]; rec != nil && ie.mime == "" {
				if mt, ok := rec.str("mimeType"); ok && mt != "" {
					ie.mime = mt
				}
			}
			have, entries[id] = ie, ie
			s.rep.note(fmt.Sprintf("attachment %q: its bytes are only in the inline base64 of an older version, %s (the newer one lost them, docs/FORMAT.md §11.7); they are its content", id, src))
		case have == ie:
		case have.hash == "" && s.entryHashIs(have, ih):
			ie = have
		default:
			winner := have.opens[0].source
			s.rep.Conflicts = append(s.rep.Conflicts, Conflict{Collection: "attachments", ID: id, Winner: Version{Source: winner, Kind: "inline"},
				Losers: []Version{{Source: src, Kind: "inline"}}, Reason: "precedence"})
			s.rep.note(fmt.Sprintf("attachment %q: the older version %s gives other inline bytes (sha256 %s) than %s, whose bytes are its content; they are kept as attachment legacy-orphan-%s unless another attachment has them", id, src, ih, winner, ih[:16]))
		}
		if !slices.ContainsFunc(ie.opens, func(c opener) bool { return c.source == src }) {
			ie.opens = append(ie.opens, op)
		}
	}
}

// entryHashIs reports whether the bytes of e, an entry without a
// recorded hash, hash to h (false when they do not read).
func (s *scanner) entryHashIs(e *blobEntry, h string) bool {
	rc, err := e.opens[0].open()
	if err != nil {
		return false
	}
	fh, _, err := hashReader(rc)
	_ = rc.Close() // read only
	return err == nil && fh == h
}

// blobFromRecord gathers what the record of attachment id names.
func (s *scanner) blobFromRecord(x *blobIndex, facts *attachmentFacts, id string) {
	rec := facts.records[id]
	if e := s.linkedEntry(x, facts, id); e != nil {
		e.ids[id] = true
		if mt, ok := rec.str("mimeType"); ok && e.mime == "" {
			e.mime = mt
		}
		s.keepDifferingInline(x, facts, id, rec, e)
		return
	}
	if p, ok := rec.str("path"); ok {
		if e := x.byPath[s.attachmentPath(p)]; e != nil {
			e.ids[id] = true
			return
		}
	}
	b64, ok := rec.str("base64")
	if rec.emptyContent() {
		// Empty content, not missing content: stored as the empty
		// blob.
		sum := sha256.Sum256(nil)
		e := x.forHash(hex.EncodeToString(sum[:]))
		e.ids[id] = true
		if m, ok := rec.str("mimeType"); ok && m != "" && e.mime == "" {
			e.mime = m
		}
		src := facts.recordSrc[id] + "#base64"
		e.opens = append(e.opens, opener{src, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(nil)), nil }, ""})
		return
	}
	if !ok || b64 == "" {
		return
	}
	data, mt, err := decodeBase64String(b64)
	if err != nil {
		s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: facts.recordSrc[id] + "#base64", Error: err.Error()})
		return
	}
	sum := sha256.Sum256(data)
	e := x.forHash(hex.EncodeToString(sum[:]))
	e.ids[id] = true
	if m, ok := rec.str("mimeType"); ok && m != "" {
		mt = m
	}
	if e.mime == "" {
		e.mime = mt
	}
	src := facts.recordSrc[id] + "#base64"
	e.opens = append(e.opens, opener{src, func() (io.ReadCloser, error) {
		d, _, err := decodeBase64String(b64)
		return io.NopCloser(bytes.NewReader(d)), err
	}, id})
}

// keepOtherInline keeps the inline base64 texts other records of
// attachment id give (facts.otherInline) whose bytes are not its content:
// two records (a note's and a task's, say) giving one id different
// bytes. The first record's are its content; each other's become an entry
// of their own (stored as an orphan attachment unless another attachment
// has those bytes), reported as a conflict and in a note.
func (s *scanner) keepOtherInline(x *blobIndex, facts *attachmentFacts, id string) {
	for _, o := range facts.otherInline[id] {
		data, _, err := decodeBase64String(o.b64)
		if err != nil {
			continue // unusable, and not used
		}
		sum := sha256.Sum256(data)
		ih := hex.EncodeToString(sum[:])
		if e := x.byHash[ih]; e != nil && e.ids[id] {
			continue // the same bytes as its content
		}
		src, b64 := o.src+"#base64", o.b64
		ie := x.forHash(ih)
		ie.opens = append(ie.opens, opener{src, func() (io.ReadCloser, error) {
			d, _, err := decodeBase64String(b64)
			return io.NopCloser(bytes.NewReader(d)), err
		}, ""})
		winner := facts.recordSrc[id] + "#base64"
		s.rep.Conflicts = append(s.rep.Conflicts, Conflict{Collection: "attachments", ID: id, Winner: Version{Source: winner, Kind: "inline"},
			Losers: []Version{{Source: src, Kind: "inline"}}, Reason: "precedence"})
		s.rep.note(fmt.Sprintf("attachment %q: %s gives other inline bytes (sha256 %s) than %s, whose bytes are its content; they are kept as attachment legacy-orphan-%s unless another attachment has them", id, src, ih, winner, ih[:16]))
	}
}

// keepDifferingInline keeps the inline base64 of attachment id when a
// file holds its bytes (e, which wins) and the two differ: the inline
// bytes become an entry of their own, nothing refers to them, so they are
// stored as an orphan attachment, and the report notes the disagreement.
func (s *scanner) keepDifferingInline(x *blobIndex, facts *attachmentFacts, id string, rec *attachmentRecord, e *blobEntry) {
	b64, ok := rec.str("base64")
	if !ok || b64 == "" {
		return
	}
	data, _, err := decodeBase64String(b64)
	if err != nil {
		return // unusable, and not used
	}
	sum := sha256.Sum256(data)
	ih := hex.EncodeToString(sum[:])
	src := facts.recordSrc[id] + "#base64"
	if e.hash != "" && e.hash == ih {
		// The same bytes as the entry claims: one more copy of them, the
		// one used when the files' bytes turn out damaged (§7.6's
		// resolution order ends with the inline base64).
		if !slices.ContainsFunc(e.opens, func(o opener) bool { return o.source == src }) {
			e.opens = append(e.opens, opener{src, func() (io.ReadCloser, error) {
				d, _, err := decodeBase64String(b64)
				return io.NopCloser(bytes.NewReader(d)), err
			}, ""})
		}
		return
	}
	fh := e.hash
	if fh == "" {
		rc, err := e.opens[0].open()
		if err != nil {
			return // reported when its bytes are stored
		}
		fh, _, err = hashReader(rc)
		_ = rc.Close() // read only
		if err != nil {
			return
		}
	}
	if fh == ih {
		return
	}
	ie := x.forHash(ih)
	if ie == e {
		return
	}
	ie.opens = append(ie.opens, opener{src, func() (io.ReadCloser, error) {
		d, _, err := decodeBase64String(b64)
		return io.NopCloser(bytes.NewReader(d)), err
	}, ""})
	s.rep.note(fmt.Sprintf("attachment %q: its inline base64 (%s, sha256 %s) differs from %s (sha256 %s); the file's bytes are its content, the inline ones are kept as an orphan attachment", id, src, ih, e.opens[0].source, fh))
}

// blobsFromRecordedHashes links ids to the hashes entities and
// attachment_refs recorded for them.
func (s *scanner) blobsFromRecordedHashes(x *blobIndex, facts *attachmentFacts, rd rootDir) {
	for id, h := range facts.idHash {
		if e := x.byHash[h.String()]; e != nil {
			e.ids[id] = true
		}
	}
}

// blobsFromBadNames gathers the attachment files whose names are no
// usable id (bytes that are not UTF-8, say): no entity can refer to them,
// and their bytes are kept, as an orphan attachment (Report.InvalidIDs
// names each file).
func (s *scanner) blobsFromBadNames(x *blobIndex, facts *attachmentFacts, rd rootDir) {
	for _, f := range s.badNameFiles {
		e := x.newUnhashed()
		e.mime = mimeOf(f.rel)
		rel := f.rel
		// The source names the file in documents, which must be UTF-8:
		// its bytes escaped as Go writes them (\xfe).
		label := rel
		if !utf8.ValidString(rel) {
			label = strings.Trim(strconv.Quote(rel), `"`)
		}
		if f.base64 {
			e.opens = append(e.opens, opener{label, func() (io.ReadCloser, error) { return rd.openBase64File(rel) }, ""})
		} else {
			e.opens = append(e.opens, opener{label, func() (io.ReadCloser, error) { return rd.openFile(rel) }, ""})
		}
	}
}

// blobsFromBigUnreadable gathers unreadable files too large to keep in
// their extras entry.
func (s *scanner) blobsFromBigUnreadable(x *blobIndex, facts *attachmentFacts, rd rootDir) {
	for _, f := range s.bigUnreadable {
		e := x.newUnhashed()
		e.ids[f.id], e.referenced = true, true
		rel := f.rel
		e.opens = append(e.opens, opener{rel, func() (io.ReadCloser, error) { return rd.openFile(rel) }, ""})
	}
}

// videoName is what a session's video object says of a videos/ file:
// its video id ("" if none), and whether it is the optimizedPath.
type videoName struct {
	id        string
	optimized bool
}

// blobsFromVideos gathers videos/, referenced by name or session id.
// Each file is an attachment of its own, never two files one id (the
// second's bytes would be lost, the first's called damaged): the video
// id goes to the file its path names (docs/FORMAT.md §3.7.4, the raw
// recording); the file its optimizedPath names is attachment
// "<video id>-optimized"; a file whose id another file took already
// (two sessions whose videos share an id) is "<id>-<file name>". Notes
// in the report say which.
func (s *scanner) blobsFromVideos(x *blobIndex, facts *attachmentFacts, rd rootDir) {
	vids := append([]string(nil), s.videoFiles...)
	sort.Strings(vids)
	// The raw recordings first, so that each takes its video's id.
	sort.SliceStable(vids, func(i, j int) bool {
		return !facts.videoNames[path.Base(vids[i])].optimized && facts.videoNames[path.Base(vids[j])].optimized
	})
	taken := map[string]string{} // attachment id → the video file that has it
	for _, rel := range vids {
		e := x.newUnhashed()
		e.mime = mimeOf(rel)
		rel := rel
		e.opens = append(e.opens, opener{rel, func() (io.ReadCloser, error) { return rd.openFile(rel) }, ""})
		name := path.Base(rel)
		if vn, ok := facts.videoNames[name]; ok {
			e.referenced = true
			if vn.id == "" {
				continue
			}
			id := vn.id
			if vn.optimized {
				id += "-optimized"
			}
			if other, ok := taken[id]; ok {
				alt := id + "-" + strings.TrimSuffix(name, path.Ext(name))
				s.rep.note(fmt.Sprintf("video %s: attachment id %q is %s's already (two session videos share the id %q); imported as attachment %q", rel, id, other, vn.id, alt))
				id = alt
			} else if vn.optimized {
				s.rep.note(fmt.Sprintf("video %s: the optimised copy of session video %q, imported as attachment %q beside the recording", rel, vn.id, id))
			}
			if _, err := CheckID(id); err != nil || taken[id] != "" {
				continue // kept, as a legacy-orphan-<hash> attachment
			}
			taken[id] = rel
			e.ids[id] = true
		} else {
			for sid := range s.imported["sessions"] {
				if len(sid) >= 8 && strings.Contains(name, sid) { // videos/<sessionId>-optimized.mp4 etc.
					e.referenced = true
					break
				}
			}
		}
	}
}

// emitBlobs turns every gathered entry with bytes into a Blob of the
// dataset, referenced or orphan, its Open trying each copy in turn and
// verifying the hash when one is known.
func (s *scanner) emitBlobs(x *blobIndex, facts *attachmentFacts) {
	for _, e := range x.all {
		if len(e.opens) == 0 {
			continue
		}
		for id := range e.ids {
			// An attachment record is an entity; a per-id attachment's own
			// document is not a reference to it.
			if (facts.refIDs[id] || facts.records[id] != nil) && !slices.Contains(s.rep.OrphanAttachments, id) {
				e.referenced = true
			}
		}
		if h, ok := shaOf(e.hash); ok && facts.refHashes[h] {
			e.referenced = true
		}
		b := Blob{Hash: e.hash, MIME: e.mime, Source: e.opens[0].source, Orphan: !e.referenced}
		for id := range e.ids {
			b.AttachmentIDs = append(b.AttachmentIDs, id)
			if rec := facts.records[id]; rec != nil && len(rec.meta) > 0 {
				if b.Meta == nil {
					b.Meta = map[string]map[string]any{}
				}
				b.Meta[id] = rec.meta
			}
		}
		sort.Strings(b.AttachmentIDs)
		opens := e.opens
		h := e.hash
		for _, o := range opens {
			bc := BlobCopy{Source: o.source, Open: o.open}
			if rel := o.source; path.Ext(rel) == ".dat" && !strings.Contains(rel, "#") {
				bc.Raw = func() (io.ReadCloser, error) { return rootDir(s.root).openFile(rel) }
			}
			b.Copies = append(b.Copies, bc)
			if o.id != "" && o.source != b.Source && e.ids[o.id] {
				if b.SourceOf == nil {
					b.SourceOf = map[string]string{}
				}
				if _, ok := b.SourceOf[o.id]; !ok {
					b.SourceOf[o.id] = o.source
				}
			}
		}
		b.Open = func() (io.ReadCloser, error) {
			var firstErr error
			for _, o := range opens {
				rc, err := o.open()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				if h != "" {
					return &verifyReader{rc: rc, h: sha256.New(), want: h, source: o.source}, nil
				}
				return rc, nil
			}
			return nil, firstErr
		}
		if b.Orphan && len(b.AttachmentIDs) == 0 {
			s.rep.OrphanFiles = append(s.rep.OrphanFiles, b.Source)
		}
		s.ds.Blobs = append(s.ds.Blobs, b)
	}
}

// entryForID returns the entry for an attachment id whose bytes come from
// a per-id file: the blob already holding the id's recorded hash, else the
// id's own unhashed entry.
func (s *scanner) entryForID(x *blobIndex, f *attachmentFacts, id string) *blobEntry {
	// Join a blob whose bytes are already known under the hash recorded
	// for this id; never claim a hash for bytes nobody hashed.
	if h, ok := f.idHash[id]; ok {
		if e := x.byHash[h.String()]; e != nil && len(e.opens) > 0 {
			return e
		}
	}
	if e := x.byID[id]; e != nil && e.hash == "" {
		return e
	}
	e := x.newUnhashed()
	x.byID[id] = e
	return e
}

func (s *scanner) linkedEntry(x *blobIndex, f *attachmentFacts, id string) *blobEntry {
	if h, ok := f.idHash[id]; ok {
		if e := x.byHash[h.String()]; e != nil && len(e.opens) > 0 {
			return e
		}
	}
	if e := x.byID[id]; e != nil && len(e.opens) > 0 {
		return e
	}
	return nil
}

// attachmentPath maps an Attachment.path to a file relative to the root:
// relative paths only (never outside the root), an era-A "taskerino/"
// prefix tolerated, and the dedup bug attachments/<hh>/<hash>.<ext> →
// <hash>.dat (docs/FORMAT.md §3.7.3, §11.9). "" if unusable.
func (s *scanner) attachmentPath(p string) string { return attachmentRelPath(p) }

// attachmentRelPath is the file an attachment record's path names,
// relative to the app-data directory ("" for one outside it), with the
// dedup store's <hash>.<ext> → <hash>.dat bug mapped (docs/FORMAT.md §3.7.3).
func attachmentRelPath(p string) string {
	p = strings.ReplaceAll(p, "\\", "/")
	if strings.HasPrefix(p, "/") || strings.Contains(p, ":") {
		return ""
	}
	p = path.Clean(p)
	if p == ".." || strings.HasPrefix(p, "../") {
		return ""
	}
	dir, file := path.Split(p)
	stem := strings.TrimSuffix(file, path.Ext(file))
	if isHexHash(stem) && path.Ext(file) != ".dat" {
		return dir + stem + ".dat"
	}
	return p
}

// rootDir opens blob sources; Blob.Open closures capture only it, not
// the scanner, so a Dataset does not keep Scan's working state alive.
type rootDir string

func (rd rootDir) abs(rel string) string { return filepath.Join(string(rd), filepath.FromSlash(rel)) }

func (rd rootDir) openFile(rel string) (io.ReadCloser, error) {
	return os.Open(rd.abs(rel))
}

func (rd rootDir) openBase64File(rel string) (io.ReadCloser, error) {
	f, err := os.Open(rd.abs(rel))
	if err != nil {
		return nil, err
	}
	return newBase64Reader(f), nil
}

func (rd rootDir) openCAS(rel string) (io.ReadCloser, error) {
	b, err := os.ReadFile(rd.abs(rel))
	if err != nil {
		return nil, err
	}
	env, err := DecodeEnvelope(b)
	if err != nil {
		return nil, &FileError{Path: rel, Err: err}
	}
	str, ok := env.Data.(string)
	if !ok {
		return nil, &FileError{Path: rel, Err: fmt.Errorf("payload is %s, not a base64 string", kindOf(env.Data))}
	}
	d, _, err := decodeBase64String(str)
	if err != nil {
		return nil, &FileError{Path: rel, Err: err}
	}
	return io.NopCloser(bytes.NewReader(d)), nil
}

// decodeBase64String strips a data: URL prefix and whitespace and decodes
// standard base64 (padding optional). It returns the data: URL media type.
func decodeBase64String(s string) ([]byte, string, error) {
	mt := ""
	if strings.HasPrefix(s, "data:") {
		head, rest, ok := strings.Cut(s, ",")
		if !ok {
			return nil, "", corruptf("data: URL without a comma")
		}
		mt, _, _ = strings.Cut(strings.TrimPrefix(head, "data:"), ";")
		s = rest
	}
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	d, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		d, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return nil, "", corruptf("bad base64: %v", err)
		}
	}
	return d, mt, nil
}

// newBase64Reader streams the decoded bytes of a base64 text file,
// skipping a data: URL prefix and whitespace.
func newBase64Reader(f io.ReadCloser) io.ReadCloser {
	br := bufio.NewReaderSize(f, 64<<10)
	if head, _ := br.Peek(5); string(head) == "data:" {
		if _, err := br.ReadString(','); err != nil {
			return &errReadCloser{f, corruptf("data: URL without a comma")}
		}
	}
	return &readCloser{base64.NewDecoder(base64.StdEncoding, &spaceSkipper{r: br}), f}
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReadCloser struct {
	io.Closer
	err error
}

func (e *errReadCloser) Read([]byte) (int, error) { return 0, e.err }

type spaceSkipper struct{ r io.Reader }

func (s *spaceSkipper) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// verifyReader checks the SHA-256 of everything read at EOF.
type verifyReader struct {
	rc     io.ReadCloser
	h      hash.Hash
	want   string
	source string
}

func (v *verifyReader) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF && hex.EncodeToString(v.h.Sum(nil)) != v.want {
		return n, fmt.Errorf("%w: %s does not hash to %s", ErrChecksum, v.source, v.want)
	}
	return n, err
}

func (v *verifyReader) Close() error { return v.rc.Close() }

// expectsContent reports whether an attachment record should have bytes
// in the old directory: every type but a link (a URL, docs/FORMAT.md §7.6).
func expectsContent(doc map[string]any) bool {
	if t, _ := doc["type"].(string); t == "link" {
		return false
	}
	if u, _ := doc["url"].(string); u != "" {
		_, p := doc["path"]
		_, b := doc["base64"]
		return p || b
	}
	return true
}

// contentPlaces lists, for the report, where the bytes of an attachment
// record were looked for (docs/FORMAT.md §7.6's resolution order): the
// content-addressed and dedup stores by its recorded hash, the per-id
// files, the file its path names and its inline base64.
func contentPlaces(id string, doc map[string]any) []string {
	var out []string
	h, _ := doc["legacyHash"].(string)
	if h == "" {
		h, _ = doc["hash"].(string)
	}
	if isHexHash(h) {
		out = append(out, "db/attachments-ca/"+h[:2]+"/"+h+"/data.json", "attachments/"+h[:2]+"/"+h+".dat")
	}
	out = append(out, "attachments/"+id+".dat", "attachments/{images,videos,files,screenshots}/"+id+".*")
	if p, ok := doc["path"].(string); ok && p != "" {
		if rel := attachmentRelPath(p); rel == "" {
			out = append(out, "path "+strconv.Quote(p)+" (outside the directory, not read)")
		} else {
			out = append(out, rel)
		}
	}
	if b, ok := doc["base64"].(string); ok && b != "" {
		out = append(out, "its inline base64 (unreadable)")
	} else {
		out = append(out, "inline base64 (none)")
	}
	return out
}
