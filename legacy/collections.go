package legacy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"
)

// cand is one candidate version of an entity: what the choice needs
// and how to read the document. Only WAL upserts keep their document
// from the start; the others are loaded when the entity is emitted.
type cand struct {
	doc      map[string]any // the document, once loaded
	ld       loader
	v        Version
	own      int64 // the entity's own updatedAt/lastUpdated in ms, 0 if none
	hasOwn   bool
	ver      float64 // the entity's version, if hasVer
	hasVer   bool
	seq      int
	primary  bool // from the collection's own array or the chunked store
	chapters int8 // sessions: noVideo, videoNoChapters or videoChapters
	big      bool // its text is over ScanOptions.MaxDocumentBytes: not decoded
}

// Chapter states of a session document (docs/FORMAT.md §11.8).
const (
	noVideo         = 0
	videoNoChapters = 1
	videoChapters   = 2
)

func chapterState(doc map[string]any) int8 {
	video, ok := doc["video"].(map[string]any)
	switch {
	case !ok:
		return noVideo
	case hasChapters(video):
		return videoChapters
	}
	return videoNoChapters
}

// loader says where a candidate's document is read from: an element of
// an array payload (index -1: the payload itself), a per-entity file or a
// chunked session.
type loader struct {
	arr   *arraySrc
	index int
	pe    *peFile
	chunk *chunkRef
}

// arraySrc is an array payload (or a single-object one) candidates come
// from: a collection key's version, or a state file's key. Its data is
// held only while its group of collections is emitted.
type arraySrc struct {
	v        *keyVersion
	state    string // state file, when v is nil
	key      string
	data     any
	recovery string // the newest copy, when v is one of a bad collection file's older copies
}

// entityVersion is the entity's optimistic-lock counter, if any.
func entityVersion(doc map[string]any) (float64, bool) {
	return numFloat(doc["version"])
}

// entityUpdated is updatedAt, else lastUpdated, in ms.
func entityUpdated(doc map[string]any) (int64, bool) {
	if t, ok := isoMillis(doc["updatedAt"]); ok {
		return t, true
	}
	return isoMillis(doc["lastUpdated"])
}

// better reports whether a beats b and why: the entity's own version
// (when both have one), then updatedAt/lastUpdated (when both have one),
// then the source time, then source precedence, then scan order.
func better(a, b *cand) (bool, string) {
	if a.hasVer && b.hasVer && a.ver != b.ver {
		return a.ver > b.ver, "version"
	}
	if a.hasOwn && b.hasOwn && a.own != b.own {
		return a.own > b.own, "updatedAt"
	}
	if a.v.Time != b.v.Time {
		return a.v.Time > b.v.Time, "time"
	}
	if ra, rb := sourceRank[a.v.Kind], sourceRank[b.v.Kind]; ra != rb {
		return ra > rb, "precedence"
	}
	return a.seq > b.seq, "precedence"
}

// addCand adds one candidate of the entity whose head is h, keeping doc
// (its document) only when ld is zero (it cannot be read again). Era-A
// topics typed company/person go to companies/contacts with the same id
// (docs/FORMAT.md §7.1). It returns nil for a document that is not an entity
// (reported).
func (s *scanner) addCand(coll string, h head, doc map[string]any, kind, source string, t int64, primary bool, index int, ld loader) *cand {
	if coll == "topics" {
		coll = h.topicCollection()
	}
	if h.kind != "an object" {
		reason := "element is " + h.kind + ", not an object"
		s.rep.InvalidIDs = append(s.rep.InvalidIDs, InvalidEntity{Collection: coll, Source: source, Index: index, Reason: reason})
		s.keepNonEntity("invalid:", source, index, reason, h, doc, ld)
		return nil
	}
	if h.spread {
		where := source
		if index >= 0 {
			where = fmt.Sprintf("%s[%d]", source, index)
		}
		s.rep.JunkSkipped = append(s.rep.JunkSkipped, where)
		s.keepNonEntity("junk:", source, index, "an array spread into an object (docs/FORMAT.md §3.3), not an entity", h, doc, ld)
		return nil
	}
	id, err := CheckID(h.id)
	if err != nil {
		s.rep.InvalidIDs = append(s.rep.InvalidIDs, InvalidEntity{Collection: coll, Source: source, Index: index, Reason: err.Error()})
		s.keepNonEntity("invalid:", source, index, err.Error(), h, doc, ld)
		return nil
	}
	c := &cand{ld: ld, v: Version{Source: source, Kind: kind, Time: t}, seq: s.nextSeq(), primary: primary,
		own: h.updated, hasOwn: h.hasUpd, ver: h.ver, hasVer: h.hasVer}
	if limit := s.opts.MaxDocumentBytes; limit > 0 && int64(len(h.text)) > limit/3 {
		// Decoded, it could be over the limit (a character's text can
		// triple): measure it.
		c.big = decodedSize(h.text) > limit
	}
	if coll == "sessions" {
		c.chapters = h.chapters
	}
	if ld == (loader{}) {
		c.doc = doc
	}
	s.cands[coll][id] = append(s.cands[coll][id], c)
	if primary {
		s.primary[coll][id] = true
	}
	return c
}

// matches reports whether a document read again is the candidate indexed
// earlier: same id and the same fields the choice used.
func (c *cand) matches(id string, doc map[string]any) bool {
	got, err := CheckID(doc["id"])
	if err != nil || got != id || isArraySpread(doc) {
		return false
	}
	own, hasOwn := entityUpdated(doc)
	ver, hasVer := entityVersion(doc)
	return own == c.own && hasOwn == c.hasOwn && hasVer == c.hasVer && (ver == c.ver || !hasVer)
}

// keepNonEntity keeps in Extras, under prefix+source (+"[index]" for an
// element of an array), the text of something that was to be an entity
// and is not one (no usable id, not an object, an array spread into an
// object), so that the only copy of an entity the old app wrote badly is
// not lost: the report lists it (InvalidIDs, JunkSkipped) and the
// problems say where its bytes are.
func (s *scanner) keepNonEntity(prefix, source string, index int, reason string, h head, doc map[string]any, ld loader) {
	key := prefix + source
	x := map[string]any{"path": source, "reason": reason}
	if index >= 0 {
		key += fmt.Sprintf("[%d]", index)
		x["index"] = index
	}
	if _, dup := s.ds.Extras[key]; dup {
		return
	}
	var text []byte
	switch {
	case h.text != nil:
		text = bytes.Clone(h.text) // mapped: copied
	case doc != nil:
		text, _ = json.Marshal(doc)
	case ld.pe != nil:
		text, _ = s.readFile(ld.pe.rel)
	case ld.arr != nil:
		switch d := ld.arr.data.(type) {
		case []any:
			if index >= 0 && index < len(d) {
				text, _ = json.Marshal(d[index])
			}
		case map[string]any:
			if index < 0 {
				text, _ = json.Marshal(d)
			}
		}
	}
	if text == nil {
		return
	}
	s.keepBytes(key, x, text)
}

// setExtra puts v, read from source, into Extras under key, or, when an
// entry the scan made has that name already (a storage key named like
// "unreadable:<path>"), under key~2 (key~3, ...), reported in
// Report.ExtrasRenamed: neither is lost. It returns the name used.
func (s *scanner) setExtra(key string, v any, source string) string {
	as := key
	for n := 2; ; n++ {
		if _, taken := s.ds.Extras[as]; !taken {
			break
		}
		as = fmt.Sprintf("%s~%d", key, n)
	}
	if as != key {
		s.rep.ExtrasRenamed = append(s.rep.ExtrasRenamed, ExtraRenamed{Key: key, As: as, Source: source})
	}
	s.ds.Extras[as] = v
	return as
}

// keepBytes puts x, with b as its text (or base64 when b is not UTF-8),
// into Extras under key.
func (s *scanner) keepBytes(key string, x map[string]any, b []byte) {
	if utf8.Valid(b) {
		x["text"] = string(b)
	} else {
		x["base64"] = base64.StdEncoding.EncodeToString(b)
	}
	s.ds.Extras[key] = x
}

// addArray adds the elements of an array payload read from src.
func (s *scanner) addArray(coll string, data any, kind, source string, t int64, primary bool, src *arraySrc) error {
	return eachHead(data, func(i int, h head) error {
		s.addCand(coll, h, nil, kind, source, t, primary, i, loader{arr: src, index: i})
		return nil
	})
}

// newSrc registers an array payload for the group of coll.
func (s *scanner) newSrc(coll string, src *arraySrc) *arraySrc {
	g := groupOf(coll)
	s.srcs[g] = append(s.srcs[g], src)
	return src
}

// isEntityObject reports whether a payload is one entity (an object with
// an id) rather than a collection.
func isEntityObject(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || isArraySpread(m) {
		return false
	}
	_, has := m["id"]
	return has
}

// buildCollections indexes the entities of every top-level collection
// file. A collection whose file is bad (unreadable, holding one entity
// instead of the array, or something else) is recovered from its older
// copies (recoverCollection); the entity object is one candidate.
func (s *scanner) buildCollections() error {
	for _, coll := range Collections {
		v := s.resolveKey(coll, false)
		reason := s.badMain[coll]
		clobber := ""
		for _, one := range s.single[coll] {
			d := one.data.(map[string]any)
			id, _ := d["id"].(string)
			if one.time == 0 && one.kind == SourceMain {
				// A raw main file holding one entity is the WAL replay's
				// write of that entity (§5.3): no save of the collection
				// came after it (it would have written the array back),
				// so it is newer than every backup of the collection. Its
				// mtime says when, even where a copied directory's
				// fresh mtimes are otherwise not trusted (fileTime).
				one.time = s.mtimes[one.source]
			}
			clobber = fmt.Sprintf("%s holds one entity (%q) instead of the array: the WAL replay clobbered it (docs/FORMAT.md §5.3); that entity is a copy of its own, time %d (the newest unless another copy has a higher version or updatedAt)", one.source, id, one.time)
			s.rep.Clobbered = append(s.rep.Clobbered, clobber)
			s.addCand(coll, headOf(d), nil, one.kind, one.source, one.time, true, -1, loader{arr: s.newSrc(coll, &arraySrc{v: one}), index: -1})
			one.drop()
		}
		var stale *keyVersion
		switch {
		case v != nil && isArrayData(v.data):
			if b := s.newerBackup(coll, v); b != nil {
				if kf := s.keys[coll]; kf != nil && kf.main == "" && (v.kind == SourceTmp || v.kind == SourceStaged) {
					// No main file, and the temporary file is older
					// than a backup: a leftover of an earlier crash that
					// delete(key) does not remove (docs/FORMAT.md §4.4,
					// §11.15). The collection was deleted; neither is
					// resurrected.
					s.rep.NotResurrected = append(s.rep.NotResurrected, Dropped{Collection: coll, Source: s.dbRel + coll + ".json",
						Reason: fmt.Sprintf("collection file absent (deleted); its backups are not used, nor %s (timestamp %d), older than backup %s (timestamp %d): a leftover of an earlier crash", v.source, v.time, b.source, b.time)})
					closeLazy(v.data)
					continue
				}
				// §11.1: the era D+ loader copied the old single-slot
				// .backup.json over the main file. A timestamped backup
				// is the previous main file, taken before each
				// overwrite (§4.1), so it is never newer than the file
				// unless the file was replaced by an older one.
				stale = v
				reason = fmt.Sprintf("%s (timestamp %d) is older than its timestamped backup %s (timestamp %d): a stale copy, such as the old app's loader restores from .backup.json (docs/FORMAT.md §11.1)",
					v.source, v.time, b.source, b.time)
				break
			}
			if snap := s.newerSnapshot(coll, v); snap != nil {
				// §11.1 names the backups/ snapshots among the places
				// the newest good copy is: a snapshot holds the main
				// file as it was when taken (§3.6), and every save after
				// it gives the main file a later timestamp. A main file
				// older than a snapshot holding the collection was put
				// back by the loader, as above.
				stale = v
				reason = fmt.Sprintf("%s (timestamp %d) is older than the backups/ snapshot %s (timestamp %d) holding the collection: a stale copy, such as the old app's loader restores from .backup.json (docs/FORMAT.md §11.1)",
					v.source, v.time, snap.path, snap.ms)
				break
			}
			s.baseTime[coll] = v.time
			if err := s.addArray(coll, v.data, v.kind, v.source, v.time, true, s.newSrc(coll, &arraySrc{v: v})); err != nil {
				return err
			}
			added := map[string]bool{}
			if s.uncompressedBackup(coll) {
				if err := s.recoverChecksumLosses(coll, v, added); err != nil {
					return err
				}
			}
			if err := s.recoverPutBack(coll, added); err != nil {
				return err
			}
			continue
		case v != nil:
			s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: v.source, Error: "payload is " + kindOf(v.data) + ", not an array"})
			s.ds.Extras["unreadable:"+v.source] = map[string]any{"path": v.source, "error": "payload is not an array", "value": v.data}
			reason = "payload is " + kindOf(v.data) + ", not an array"
		case clobber != "":
			if reason == "" {
				reason = clobber
			}
		case reason == "":
			if kf := s.keys[coll]; kf != nil && (len(kf.backups) > 0 || kf.single != "") && kf.main == "" {
				s.rep.NotResurrected = append(s.rep.NotResurrected, Dropped{Collection: coll, Source: s.dbRel + coll + ".json", Reason: "collection file absent (deleted); its backups are not used"})
			}
			continue
		}
		if err := s.recoverCollection(coll, reason, stale); err != nil {
			return err
		}
	}
	return nil
}

// recoverChecksumLosses imports, beside the main file v's entities, those
// of coll's recent timestamped backups (newest first, RecoveryCopies at
// most) that the old app lost to its own checksum check (docs/FORMAT.md
// §11.2). Each timestamped backup is the main file as the next save found
// it; one the app's loader refused (compressed:false, hashed over compact
// JSON, §2.3) made the app load the collection as empty, and the next save
// (the next newer backup, or v) was written without its entities: lost,
// not deleted, each a candidate of its own (a newer copy wins where there
// is one). The app goes on saving after such a loss, so the refused copy
// is found anywhere in the chain, not only as the newest backup. When the
// next save holds some of its entities, the app had them in memory (that
// save was not of a failed load), and those it lacks were deleted
// (§11.15).
func (s *scanner) recoverChecksumLosses(coll string, v *keyVersion, added map[string]bool) error {
	next := v // the save after the copy looked at
	newest := s.newestBak[coll]
	for i, ref := range s.sortedBackups(coll) {
		if i >= s.opts.RecoveryCopies {
			break
		}
		var b *keyVersion
		switch {
		case newest != nil && ref.path == newest.source:
			b = newest
		case s.readBak[ref.path]:
			continue // read before: unreadable, reported once
		default:
			s.readBak[ref.path] = true
			env, err := s.readEnvelope(ref.path, false, true)
			if err != nil {
				continue
			}
			t := env.Timestamp
			if !env.Wrapped {
				t = 0
			}
			b = &keyVersion{data: env.Data, kind: SourceBackup, source: ref.path, time: t, seq: s.nextSeq(), file: true, appRejected: env.AppRejected}
		}
		if !isArrayData(b.data) || b.source == v.source {
			continue
		}
		lost := b.appRejected && b.time > 0 && b.time <= next.time
		if lost {
			shared, err := sharedIDs(b.data, next.data)
			if err != nil {
				return err
			}
			if shared > 0 {
				s.rep.note(fmt.Sprintf("%s: %s would have failed the old app's own checksum check (docs/FORMAT.md §2.3), but %s holds %d of its entities, so the app had not loaded the collection as empty (§11.2): the entities only in that backup were deleted, and are not restored (§11.15)", coll, b.source, next.source, shared))
				lost = false
			}
		}
		if lost {
			s.rep.ChecksumBugRecovered = append(s.rep.ChecksumBugRecovered, fmt.Sprintf("%s from %s", coll, b.source))
			if err := s.addArray(coll, b.data, b.kind, b.source, b.time, true, s.newSrc(coll, &arraySrc{v: b})); err != nil {
				return err
			}
			added[b.source] = true
		}
		next = b
	}
	return nil
}

// timestampRE finds an envelope's timestamp in its first bytes.
var timestampRE = regexp.MustCompile(`"timestamp"\s*:\s*(\d{1,16})`)

// headTimestamp returns the envelope timestamp the first bytes of the file
// at rel say, or 0.
func (s *scanner) headTimestamp(rel string) int64 {
	f, err := os.Open(s.abs(rel))
	if err != nil {
		return 0
	}
	buf := make([]byte, 1024)
	n, _ := io.ReadFull(f, buf)
	_ = f.Close() // read only
	m := timestampRE.FindSubmatch(buf[:n])
	if m == nil {
		return 0
	}
	t, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return t
}

// recoverPutBack imports, beside the main file's entities, those of the
// last good copy of coll before the old app's loader put the single-slot
// .backup.json back over the main file (docs/FORMAT.md §11.1) and the app
// saved again: the timestamped backup taken at that save is the stale
// copy (its envelope timestamp is the single-slot backup's, older than
// the backup before it), and the main file descends from it, without
// what the copy before held. When the main file is that stale copy
// itself, buildCollections already recovers the collection; this is for
// a save after it. Each entity is a candidate of its own (the newest
// version wins), so that an edit made after the put-back stays.
func (s *scanner) recoverPutBack(coll string, added map[string]bool) error {
	kf := s.keys[coll]
	if kf == nil || kf.single == "" {
		return nil
	}
	single := s.headTimestamp(kf.single)
	if single <= 0 {
		return nil
	}
	refs := s.sortedBackups(coll)
	for i := 0; i+1 < len(refs) && i+1 < s.opts.RecoveryCopies; i++ {
		ts, prev := s.headTimestamp(refs[i].path), s.headTimestamp(refs[i+1].path)
		if ts != single || prev <= ts {
			continue
		}
		good := refs[i+1].path
		if added[good] {
			return nil
		}
		env, err := s.readEnvelope(good, false, true)
		if err != nil || !isArrayData(env.Data) {
			return nil
		}
		b := &keyVersion{data: env.Data, kind: SourceBackup, source: good, time: env.Timestamp, seq: s.nextSeq(), file: true}
		s.rep.note(fmt.Sprintf("%s: %s is a copy of %s (timestamp %d), older than the backup before it, %s (timestamp %d): the old app's loader put the stale single-slot backup back over the main file, and its next save kept it (docs/FORMAT.md §11.1); the entities of %s are imported beside the main file's, the newest version of each winning", coll, refs[i].path, kf.single, ts, good, prev, good))
		return s.addArray(coll, b.data, b.kind, b.source, b.time, true, s.newSrc(coll, &arraySrc{v: b}))
	}
	return nil
}

// uncompressedRE finds an envelope's compressed:false in its first bytes:
// the old app wrote the member before data.
var uncompressedRE = regexp.MustCompile(`"compressed"\s*:\s*false`)

// uncompressedBackup reports whether one of key coll's recent timestamped
// backups (RecoveryCopies at most) says compressed:false in its first
// bytes: the only copies the old app's checksum check refused (§2.3),
// written where compression failed or was off. It reads no payload, so
// that a store of large collections is not decoded ten times over to
// find none.
func (s *scanner) uncompressedBackup(coll string) bool {
	buf := make([]byte, 1024)
	for i, ref := range s.sortedBackups(coll) {
		if i >= s.opts.RecoveryCopies {
			break
		}
		f, err := os.Open(s.abs(ref.path))
		if err != nil {
			continue
		}
		n, _ := io.ReadFull(f, buf)
		_ = f.Close() // read only
		if uncompressedRE.Match(buf[:n]) {
			return true
		}
	}
	return false
}

// sharedIDs counts the entity ids of the array collection payload a that
// b holds too.
func sharedIDs(a, b any) (int, error) {
	ids := map[string]bool{}
	err := eachHead(a, func(_ int, h head) error {
		if id, err := CheckID(h.id); err == nil {
			ids[id] = true
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	err = eachHead(b, func(_ int, h head) error {
		if id, err := CheckID(h.id); err == nil && ids[id] {
			n++
			delete(ids, id)
		}
		return nil
	})
	return n, err
}

// newestBackup returns the newest decodable timestamped backup of an
// array collection (by the time in its name), read once and remembered:
// the check for a stale main file and the report of entities deleted
// since both use it.
func (s *scanner) newestBackup(coll string) *keyVersion {
	if v, ok := s.newestBak[coll]; ok {
		return v
	}
	var out *keyVersion
	for i, b := range s.sortedBackups(coll) {
		if i >= s.opts.RecoveryCopies {
			break
		}
		env, err := s.readEnvelope(b.path, false, true)
		s.readBak[b.path] = true
		if err != nil {
			continue
		}
		t := env.Timestamp
		if !env.Wrapped {
			t = 0 // a raw copy has no time of its own; its name's is the overwrite's
		}
		out = &keyVersion{data: env.Data, kind: SourceBackup, source: b.path, time: t, seq: s.nextSeq(), file: true, appRejected: env.AppRejected}
		break
	}
	s.newestBak[coll] = out
	return out
}

// newerBackup returns the newest timestamped backup of coll when its
// content (envelope timestamp) is newer than v, the collection's chosen
// version: then v is a stale copy (docs/FORMAT.md §11.1). A version or
// backup without a known time is never called stale, and neither is a
// raw main file: the loader's stale copies are envelopes (.backup.json
// was written in eras B–C only), while a raw file is the WAL replay's
// newest state (§5.3), whose mtime a zip or a FAT copy may have shifted.
func (s *scanner) newerBackup(coll string, v *keyVersion) *keyVersion {
	if v.time <= 0 || v.raw {
		return nil
	}
	b := s.newestBackup(coll)
	if b == nil || b.time <= v.time || !isArrayData(b.data) {
		return nil
	}
	// The time in the backup's name is that of the save that overwrote
	// it, the main file's own save (§4.1): a loader's stale copy is older
	// than it too. A main file saved after it is the newest state even
	// when its timestamp is lower than the backup's content (a clock
	// stepped back between two saves).
	for _, ref := range s.sortedBackups(coll) {
		if ref.path == b.source && ref.ms > 0 && ref.ms <= v.time {
			return nil
		}
	}
	return b
}

// newerSnapshot returns the newest backups/ snapshot (by the time in its
// name) that holds array collection coll and is newer than v, the
// collection's chosen version, when the collection has a main file: then
// v is a stale copy (docs/FORMAT.md §11.1). As for newerBackup, a
// version without a known time and a raw main file are never called
// stale; without a main file the collection was deleted, and snapshots
// never bring it back (§11.15). Only snapshots newer than v are read.
func (s *scanner) newerSnapshot(coll string, v *keyVersion) *backupRef {
	if kf := s.keys[coll]; v.time <= 0 || v.raw || kf == nil || kf.main == "" {
		return nil
	}
	for _, snap := range s.sortedSnapshots() {
		if snap.ms <= v.time {
			return nil
		}
		data, ok, err := s.snapshotKey(snap.path, coll)
		if err != nil || !ok {
			continue // an unreadable one is reported where it is read again
		}
		isArray := isArrayData(data)
		closeLazy(data)
		if isArray {
			return &snap
		}
	}
	return nil
}

// copyOf is one older copy of a collection recoverCollection reads.
type copyOf struct {
	v   *keyVersion
	ids map[string]bool // the newest copy's: collection (era-A topics: theirs), NUL, id
}

// recoverCollection restores a collection whose file is bad from all its
// older copies: the newest decodable timestamped backups, the single-slot
// backup and the newest backups/ snapshots holding it (ScanOptions.
// RecoveryCopies of each) (docs/FORMAT.md §5.3, §11.1, §11.3); a stale
// main file (older than a timestamped backup, §11.1) is one more copy.
// Rollback points' sessions are candidates of their own
// (addRollbackPoints). The newest copy says which entities the
// collection held: an entity only in older copies was deleted since and
// stays deleted (§11.15, reported in NotResurrected). Every copy of an
// entity it holds is a candidate, so the highest version wins
// (Report.Restored names the copy each one came from).
func (s *scanner) recoverCollection(coll, reason string, stale *keyVersion) error {
	copies, err := s.collectionCopies(coll, stale)
	if err != nil {
		return err
	}
	if len(copies) == 0 {
		s.rep.Fallbacks = append(s.rep.Fallbacks, Fallback{Key: coll, Reason: reason})
		return nil
	}
	newest := copies[0]
	s.baseTime[coll] = newest.v.time
	s.recovered[coll] = newest.v.source
	gone := map[string]bool{}
	for _, c := range copies {
		src := s.newSrc(coll, &arraySrc{v: c.v, recovery: newest.v.source})
		err := eachHead(c.v.data, func(i int, h head) error {
			target := coll
			if coll == "topics" {
				target = h.topicCollection()
			}
			if id, err := CheckID(h.id); err == nil && h.kind == "an object" && !newest.ids[target+"\x00"+id] {
				if k := target + "\x00" + id; !gone[k] {
					gone[k] = true
					s.rep.NotResurrected = append(s.rep.NotResurrected, Dropped{Collection: target, ID: id, Source: c.v.source,
						Reason: "only in copies older than " + newest.v.source + ", the newest copy of the bad collection file (deleted since); not restored"})
				}
				return nil
			}
			s.addCand(coll, h, nil, c.v.kind, c.v.source, c.v.time, true, i, loader{arr: src, index: i})
			return nil
		})
		if err != nil {
			return err
		}
	}
	s.rep.Fallbacks = append(s.rep.Fallbacks, Fallback{Key: coll, Reason: reason, Used: newest.v.source})
	return nil
}

// collectionCopies reads the older copies of an array collection that
// recoverCollection uses, newest first by the time of their content (an
// envelope's timestamp, else the time in the file name).
func (s *scanner) collectionCopies(coll string, stale *keyVersion) ([]*copyOf, error) {
	var out []*copyOf
	add := func(data any, source string, t int64) error {
		if !isArrayData(data) {
			closeLazy(data)
			return nil
		}
		out = append(out, &copyOf{v: &keyVersion{data: data, kind: SourceBackup, source: source, time: t, seq: s.nextSeq(), file: true}})
		return nil
	}
	if stale != nil {
		out = append(out, &copyOf{v: stale})
	}
	n := s.opts.RecoveryCopies
	found := 0
	first := s.newestBak[coll]
	for _, b := range s.sortedBackups(coll) {
		if found >= n {
			break
		}
		if first != nil && b.path == first.source {
			found++
			t := first.time
			if t == 0 {
				t = b.ms
			}
			if err := add(first.data, b.path, t); err != nil {
				return nil, err
			}
			continue
		}
		if s.readBak[b.path] {
			continue // unreadable, reported once
		}
		env, err := s.readEnvelope(b.path, false, true)
		if err != nil {
			continue
		}
		if isArrayData(env.Data) {
			found++
		}
		t := env.Timestamp
		if t == 0 {
			t = b.ms
		}
		if err := add(env.Data, b.path, t); err != nil {
			return nil, err
		}
	}
	if kf := s.keys[coll]; kf != nil && kf.single != "" {
		if env, err := s.readEnvelope(kf.single, false, true); err == nil {
			if err := add(env.Data, kf.single, env.Timestamp); err != nil {
				return nil, err
			}
		}
	}
	found = 0
	for _, snap := range s.sortedSnapshots() {
		if found >= n {
			break
		}
		v, ok, err := s.snapshotKey(snap.path, coll)
		if err != nil {
			s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: snap.path, Error: err.Error()})
			continue
		}
		if ok && isArrayData(v) {
			found++
			if err := add(v, snap.path, snap.ms); err != nil {
				return nil, err
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].v.time > out[j].v.time })
	if len(out) == 0 {
		return nil, nil
	}
	newest := out[0] // the ids it holds: the collection's entities
	newest.ids = map[string]bool{}
	err := eachHead(newest.v.data, func(_ int, h head) error {
		if id, err := CheckID(h.id); err == nil && h.kind == "an object" {
			target := coll
			if coll == "topics" {
				target = h.topicCollection()
			}
			newest.ids[target+"\x00"+id] = true
		}
		return nil
	})
	return out, err
}

// addPerEntity indexes per-entity files (and their db/db/ replay
// copies).
func (s *scanner) addPerEntity() error {
	for i := range s.perEntity {
		if i%256 == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		pe := &s.perEntity[i]
		b, err := s.readFile(pe.rel)
		if err != nil {
			s.unreadable(pe.rel, nil, err, false)
			continue
		}
		p, err := DecodePerEntity(pe.dbRel, b)
		if err != nil {
			s.unreadable(pe.rel, b, err, true)
			continue
		}
		if cs, ok := s.checksums[pe.rel]; ok {
			if cb, err := s.readFile(cs); err == nil && !VerifySHA256(p.Text, cb) {
				s.rep.ChecksumMismatches = append(s.rep.ChecksumMismatches, ChecksumMismatch{Path: pe.rel, Kind: "sha256"})
			}
		}
		if p.Junk {
			s.rep.JunkSkipped = append(s.rep.JunkSkipped, pe.rel)
			s.keepBytes("junk:"+pe.rel, map[string]any{"path": pe.rel, "reason": "an array spread into an object (docs/FORMAT.md §3.3), not an entity"}, b)
			// It is a snapshot of the whole collection, the relationship
			// just added included (§3.3): each of its entities is a
			// per-entity copy of its own, of the file's time, so a newer
			// one (the only copy of a relationship whose context save
			// failed, §10) wins, and an older one resurrects nothing
			// (decide).
			idx, docs := spreadEntities(p.Spread)
			for i, d := range docs {
				s.addCand(p.Collection, headOf(d), d, SourcePerEntity, fmt.Sprintf("%s[%d]", pe.rel, idx[i]), s.fileTime(pe.rel), false, -1, loader{})
			}
			continue
		}
		s.addCand(p.Collection, headOf(p.Doc), nil, SourcePerEntity, pe.rel, s.fileTime(pe.rel), false, -1, loader{pe: pe})
	}
	return nil
}

// checkEntityIndexes reports the rows of the per-entity folders'
// index.json files whose entity no file holds (Report.IndexOnly): an
// index row is a derived summary (docs/FORMAT.md §3.3), not an entity, so
// it is not imported, but it may be the only trace of one, so it is
// reported and kept in extras. An unreadable index is ignored (derived).
func (s *scanner) checkEntityIndexes() error {
	for _, rel := range s.entityIndexes {
		coll := path.Base(path.Dir(rel))
		b, err := s.readFile(rel)
		if err != nil {
			continue
		}
		v, err := decodeJSON(b)
		if err != nil {
			continue
		}
		rows, _ := v.([]any)
		for _, r := range rows {
			row, _ := r.(map[string]any)
			id, err := CheckID(row["id"])
			if err != nil || s.cands[coll][id] != nil || coll == "topics" && (s.cands["companies"][id] != nil || s.cands["contacts"][id] != nil) {
				continue
			}
			key := "index-only:" + rel + "#" + id
			if _, dup := s.ds.Extras[key]; dup {
				continue // a later row of the same id (§3.3)
			}
			s.ds.Extras[key] = map[string]any{"path": rel, "row": row}
			s.rep.IndexOnly = append(s.rep.IndexOnly, Dropped{Collection: coll, ID: id, Source: rel,
				Reason: "listed in the index but held by no file (deleted, or its file lost); an index row is a derived summary (docs/FORMAT.md §3.3), not imported"})
		}
	}
	return nil
}

// stateTime is a state or export file's time: its exportedAt (t), else
// the epoch ms its name carries (taskerino-export-<ms>.json,
// taskerino-backup-<ms>.json), else 0.
func stateTime(rel string, t int64) int64 {
	if t != 0 {
		return t
	}
	for _, p := range []string{"taskerino-export-", "taskerino-backup-"} {
		if ms, ok := parseMsName(rel, p, ".json"); ok {
			return ms
		}
	}
	return 0
}

// addStateVal offers the settings, aiSettings or preferences (k) of a
// state or export file: the newest file's (by stateTime; on a tie the
// later name) is used, as its entities' newer versions are; every other
// file's value is kept in Extras as <file>#<k>, and the report notes
// which was used.
func (s *scanner) addStateVal(k string, val any, rel string, t int64) {
	if s.stateFrom == nil {
		s.stateFrom = map[string]stateSrc{}
	}
	old, has := s.stateFrom[k]
	if !has {
		s.stateVals[k], s.stateFrom[k] = val, stateSrc{rel, t}
		return
	}
	keep, kept := rel, val // the one put in Extras
	if t > old.t || t == old.t && rel > old.rel {
		keep, kept = old.rel, s.stateVals[k]
		s.stateVals[k], s.stateFrom[k] = val, stateSrc{rel, t}
	}
	as := s.setExtra(keep+"#"+k, kept, keep)
	s.rep.note(fmt.Sprintf("%s taken from %s, the newest of the state and export files holding it; the one of %s is kept in extras %s", k, s.stateFrom[k].rel, keep, as))
}

// stateSrc is the state or export file a settings value was taken from.
type stateSrc struct {
	rel string
	t   int64
}

// addRollbackPoints adds the sessions of every rollback point's snapshot
// (rollback-points/<id>/sessions.json, "must import" in docs/FORMAT.md
// §6) as candidates: sessions are unioned by id across stores (§11.5,
// importer step 4), so one found only there is imported, and one found
// elsewhere too is compared as any other copy.
func (s *scanner) addRollbackPoints() error {
	for _, rb := range s.rollbacks {
		env, err := s.readEnvelope(rb, true, true)
		if err != nil {
			continue
		}
		s.rep.RollbackPoints = append(s.rep.RollbackPoints, RollbackPoint{Path: rb, Time: env.Timestamp})
		rp := &s.rep.RollbackPoints[len(s.rep.RollbackPoints)-1]
		if !isArrayData(env.Data) {
			closeLazy(env.Data)
			s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: rb, Error: "payload is " + kindOf(env.Data) + ", not an array"})
			continue
		}
		v := &keyVersion{data: env.Data, kind: SourceRollback, source: rb, time: env.Timestamp, seq: s.nextSeq(), file: true}
		err = eachHead(env.Data, func(int, head) error { rp.Sessions++; return nil })
		if err != nil {
			return err
		}
		if err := s.addArray("sessions", v.data, SourceRollback, rb, v.time, true, s.newSrc("sessions", &arraySrc{v: v})); err != nil {
			return err
		}
	}
	return nil
}

func (s *scanner) addWALUpserts() error {
	for _, u := range s.walUpserts {
		s.addCand(u.coll, headOf(u.doc), u.doc, SourceWAL, u.source, u.ts, false, -1, loader{})
	}
	s.walUpserts = nil // the candidates hold the documents
	return nil
}

// addStateFiles indexes era-A state dumps and export files found at the
// root: primary data when there is no db/, otherwise extra candidates.
// Each is decoded whole (here, and again when its arrays are emitted).
func (s *scanner) addStateFiles() error {
	for _, rel := range s.stateFiles {
		b, err := s.readFile(rel)
		if err != nil {
			s.unreadable(rel, nil, err, false)
			continue
		}
		v, err := decodeJSON(b)
		if err != nil {
			s.unreadable(rel, b, err, true)
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			s.unreadable(rel, b, corruptf("state file is %s", kindOf(v)), true)
			continue
		}
		t, _ := isoMillis(m["exportedAt"])
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			val := m[k]
			if arr, ok := val.([]any); ok && arrayCollections[k] {
				if err := s.addArray(k, arr, SourceExport, rel, t, !s.hasDB, s.newSrc(k, &arraySrc{state: rel, key: k})); err != nil {
					return err
				}
				continue
			}
			switch k {
			case "aiSettings", "preferences", "settings":
				s.addStateVal(k, val, rel, stateTime(rel, t))
			case "exportedAt", "version", "appVersion":
			default:
				s.setExtra(rel+"#"+k, val, rel)
			}
		}
	}
	return nil
}

// reportDeletedInBackups reads the newest backup of each top-level
// collection whose main file was used and reports the ids it holds that
// were not imported: entities deleted since, which stay deleted.
func (s *scanner) reportDeletedInBackups() error {
	for _, coll := range Collections {
		v := s.resolved[coll]
		kf := s.keys[coll]
		if v == nil || v.kind == SourceBackup || kf == nil || s.recovered[coll] != "" {
			continue
		}
		path := ""
		var data any
		if bs := s.sortedBackups(coll); len(bs) > 0 {
			b := s.newestBackup(coll)
			if b == nil || b.source != bs[0].path {
				continue // the newest is unreadable (reported)
			}
			path, data = b.source, b.data
		} else if kf.single != "" {
			path = kf.single
		}
		if path == "" || path == v.source {
			continue
		}
		if data == nil {
			env, err := s.readEnvelope(path, false, true)
			if err != nil {
				continue
			}
			data = env.Data
		}
		err := eachHead(data, func(_ int, h head) error {
			id, err := CheckID(h.id)
			if err != nil || h.kind != "an object" {
				return nil
			}
			target := coll
			if coll == "topics" {
				target = h.topicCollection()
			}
			if !s.imported[target][id] {
				s.rep.NotResurrected = append(s.rep.NotResurrected, Dropped{Collection: target, ID: id, Source: path,
					Reason: "only in a backup older than the collection file (deleted since); not imported"})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// reportSnapshotOnly reports the entities found in backups/ snapshots
// (the newest ScanOptions.RecoveryCopies) that were not imported: a
// snapshot is a backup, read only to recover a bad collection file, never
// to add records (docs/FORMAT.md §11.15), so what only it holds was
// deleted since, or belongs to a deleted collection. A recovered
// collection's snapshots were among its copies and are reported there.
// Each snapshot is read once, for all its collections.
func (s *scanner) reportSnapshotOnly() error {
	want := func(coll string) bool { return arrayCollections[coll] && s.recovered[coll] == "" }
	seen := map[string]bool{}
	for i, snap := range s.sortedSnapshots() {
		if i >= s.opts.RecoveryCopies {
			break
		}
		err := s.snapshotCollections(snap.path, want, func(coll string, data any) error {
			return eachHead(data, func(_ int, h head) error {
				id, err := CheckID(h.id)
				if err != nil || h.kind != "an object" {
					return nil
				}
				target := coll
				if coll == "topics" {
					target = h.topicCollection()
				}
				if k := target + "\x00" + id; !s.imported[target][id] && !seen[k] {
					seen[k] = true
					s.rep.NotResurrected = append(s.rep.NotResurrected, Dropped{Collection: target, ID: id, Source: snap.path,
						Reason: "only in a backups/ snapshot, not in the collection file or any other store: snapshots only recover a bad collection file and never add records (docs/FORMAT.md §11.15); deleted since, not imported"})
				}
				return nil
			})
		})
		if err != nil && !slices.ContainsFunc(s.rep.Unreadable, func(u Unreadable) bool { return u.Path == snap.path }) {
			// Reported once, here or where it was read to recover a file.
			s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: snap.path, Error: err.Error()})
		}
	}
	return nil
}

// NewerDoc reports whether document a is newer than b by the rules Scan
// uses for entities: the version number when both have one, else
// updatedAt/lastUpdated when both have one. Without either it returns
// false (keep b). Importers of export files use it to merge by id
// (docs/FORMAT.md §8.2).
func NewerDoc(a, b map[string]any) bool {
	if va, ok := entityVersion(a); ok {
		if vb, ok := entityVersion(b); ok && va != vb {
			return va > vb
		}
	}
	if ua, ok := entityUpdated(a); ok {
		if ub, ok := entityUpdated(b); ok && ua != ub {
			return ua > ub
		}
	}
	return false
}
