package legacy

import (
	"reflect"
	"sort"
)

// cand is one candidate version of an entity.
type cand struct {
	doc     map[string]any
	v       Version
	own     int64 // the entity's own updatedAt/lastUpdated in ms, 0 if none
	seq     int
	primary bool // from the collection's own array or the chunked store
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
	if va, ok := entityVersion(a.doc); ok {
		if vb, ok := entityVersion(b.doc); ok && va != vb {
			return va > vb, "version"
		}
	}
	if ua, ok := entityUpdated(a.doc); ok {
		if ub, ok := entityUpdated(b.doc); ok && ua != ub {
			return ua > ub, "updatedAt"
		}
	}
	if a.v.Time != b.v.Time {
		return a.v.Time > b.v.Time, "time"
	}
	if ra, rb := sourceRank[a.v.Kind], sourceRank[b.v.Kind]; ra != rb {
		return ra > rb, "precedence"
	}
	return a.seq > b.seq, "precedence"
}

// addCand adds one candidate. Era-A topics typed company/person go to
// companies/contacts with the same id (FORMAT.md §7.1).
func (s *scanner) addCand(coll string, doc map[string]any, kind, source string, t int64, primary bool, index int) {
	if coll == "topics" {
		coll = TopicCollection(doc)
	}
	if isArraySpread(doc) {
		s.rep.JunkSkipped = append(s.rep.JunkSkipped, source)
		return
	}
	id, err := CheckID(doc["id"])
	if err != nil {
		s.rep.InvalidIDs = append(s.rep.InvalidIDs, InvalidEntity{Collection: coll, Source: source, Index: index, Reason: err.Error()})
		return
	}
	c := &cand{doc: doc, v: Version{Source: source, Kind: kind, Time: t}, seq: s.nextSeq(), primary: primary}
	c.own, _ = entityUpdated(doc)
	s.cands[coll][id] = append(s.cands[coll][id], c)
	if primary {
		s.primary[coll][id] = true
	}
}

func (s *scanner) addArray(coll string, data []any, kind, source string, t int64, primary bool) {
	for i, e := range data {
		m, ok := e.(map[string]any)
		if !ok {
			s.rep.InvalidIDs = append(s.rep.InvalidIDs, InvalidEntity{Collection: coll, Source: source, Index: i, Reason: "element is " + kindOf(e) + ", not an object"})
			continue
		}
		s.addCand(coll, m, kind, source, t, primary, i)
	}
}

// buildCollections adds the entities of every top-level collection file.
func (s *scanner) buildCollections() error {
	for _, coll := range Collections {
		v := s.resolveKey(coll, false)
		if v == nil {
			if kf := s.keys[coll]; kf != nil && (len(kf.backups) > 0 || kf.single != "") && kf.main == "" {
				s.rep.NotResurrected = append(s.rep.NotResurrected, Dropped{Collection: coll, Source: "db/" + coll + ".json", Reason: "collection file absent (deleted); its backups are not used"})
			}
			continue
		}
		s.baseTime[coll] = v.time
		switch d := v.data.(type) {
		case []any:
			s.addArray(coll, d, v.kind, v.source, v.time, true)
			continue
		case map[string]any:
			if _, has := d["id"]; has && !isArraySpread(d) {
				// §5.3: WAL replay replaced the array with one entity.
				s.addCand(coll, d, v.kind, v.source, v.time, true, -1)
				s.restoreFromFallback(coll, "payload is a single object, not an array (WAL replay corruption, FORMAT.md §5.3)")
				continue
			}
		}
		s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: v.source, Error: "payload is " + kindOf(v.data) + ", not an array"})
		s.ds.Extras["unreadable:"+v.source] = map[string]any{"path": v.source, "error": "payload is not an array", "value": v.data}
		s.restoreFromFallback(coll, "payload is "+kindOf(v.data)+", not an array")
	}
	return nil
}

func (s *scanner) restoreFromFallback(coll, reason string) {
	fb := s.fallback(coll)
	used := ""
	if fb != nil {
		if arr, ok := fb.data.([]any); ok {
			used = fb.source
			s.addArray(coll, arr, fb.kind, fb.source, fb.time, true)
		}
	}
	s.rep.Fallbacks = append(s.rep.Fallbacks, Fallback{Key: coll, Reason: reason, Used: used})
}

// addPerEntity adds per-entity files (and their db/db/ replay copies).
func (s *scanner) addPerEntity() error {
	for _, pe := range s.perEntity {
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
			continue
		}
		s.addCand(p.Collection, p.Doc, SourcePerEntity, pe.rel, s.fileTime(pe.rel), false, -1)
	}
	return nil
}

func (s *scanner) addWALUpserts() error {
	for _, u := range s.walUpserts {
		s.addCand(u.coll, u.doc, SourceWAL, u.source, u.ts, false, -1)
	}
	return nil
}

// addStateFiles adds era-A state dumps and export files found at the
// root: primary data when there is no db/, otherwise extra candidates.
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
				s.addArray(k, arr, SourceExport, rel, t, !s.hasDB)
				continue
			}
			switch k {
			case "aiSettings", "preferences", "settings":
				if _, done := s.stateVals[k]; !done {
					s.stateVals[k] = val
				}
			case "exportedAt", "version", "appVersion":
			default:
				s.ds.Extras[rel+"#"+k] = val
			}
		}
	}
	return nil
}

// resolveAll picks one winner per entity.
func (s *scanner) resolveAll() error {
	for _, coll := range Collections {
		ids := make([]string, 0, len(s.cands[coll]))
		for id := range s.cands[coll] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			cs := s.cands[coll][id]
			if !s.primary[coll][id] && s.baseTime[coll] > 0 {
				kept := cs[:0:0]
				for _, c := range cs {
					t := c.own
					if t == 0 {
						t = c.v.Time
					}
					if t > s.baseTime[coll] {
						kept = append(kept, c)
						continue
					}
					s.rep.NotResurrected = append(s.rep.NotResurrected, Dropped{Collection: coll, ID: id, Source: c.v.Source,
						Reason: "absent from the newer collection file and not newer than it (deleted)"})
				}
				if len(kept) == 0 {
					delete(s.cands[coll], id)
					continue
				}
				cs = kept
				s.cands[coll][id] = cs
			}
			win := cs[0]
			for _, c := range cs[1:] {
				if ok, _ := better(c, win); ok {
					win = c
				}
			}
			s.recordConflict(coll, id, win, cs)
			t := win.own
			if t == 0 {
				t = win.v.Time
			}
			s.ds.Collections[coll][id] = Entity{Doc: win.doc, Source: win.v.Source, Time: t}
			if s.rep.Sources[coll] == nil {
				s.rep.Sources[coll] = map[string]int{}
			}
			s.rep.Sources[coll][win.v.Kind]++
		}
	}
	for _, d := range s.walDeletes {
		e, ok := s.ds.Collections[d.coll][d.id]
		if !ok {
			continue
		}
		if e.Time <= d.ts {
			delete(s.ds.Collections[d.coll], d.id)
			s.rep.Deleted = append(s.rep.Deleted, Dropped{Collection: d.coll, ID: d.id, Source: d.source, Reason: "deleted by a committed WAL transaction"})
		}
	}
	return nil
}

func (s *scanner) recordConflict(coll, id string, win *cand, cs []*cand) {
	if len(cs) < 2 {
		return
	}
	var losers []Version
	reason := ""
	var runner *cand
	for _, c := range cs {
		if c == win {
			continue
		}
		if reflect.DeepEqual(c.doc, win.doc) {
			continue
		}
		losers = append(losers, c.v)
		if runner == nil {
			runner = c
		} else if ok, _ := better(c, runner); ok {
			runner = c
		}
	}
	if len(losers) == 0 {
		return
	}
	_, reason = better(win, runner)
	s.rep.Conflicts = append(s.rep.Conflicts, Conflict{Collection: coll, ID: id, Winner: win.v, Losers: losers, Reason: reason})
}

// reportDeletedInBackups reads the newest backup of each top-level
// collection whose main file was used and reports the ids it holds that
// were not imported: entities deleted since, which stay deleted.
func (s *scanner) reportDeletedInBackups() error {
	for _, coll := range Collections {
		v := s.resolved[coll]
		kf := s.keys[coll]
		if v == nil || v.kind == SourceBackup || kf == nil {
			continue
		}
		path := ""
		if bs := s.sortedBackups(coll); len(bs) > 0 {
			path = bs[0].path
		} else if kf.single != "" {
			path = kf.single
		}
		if path == "" || path == v.source {
			continue
		}
		env, err := s.readEnvelope(path, false)
		if err != nil {
			continue
		}
		arr, _ := env.Data.([]any)
		for _, e := range arr {
			m, _ := e.(map[string]any)
			id, err := CheckID(m["id"])
			if err != nil {
				continue
			}
			target := coll
			if coll == "topics" {
				target = TopicCollection(m)
			}
			if _, ok := s.ds.Collections[target][id]; !ok {
				s.rep.NotResurrected = append(s.rep.NotResurrected, Dropped{Collection: target, ID: id, Source: path,
					Reason: "only in a backup older than the collection file (deleted since); not imported"})
			}
		}
	}
	return nil
}

// NewerDoc reports whether document a is newer than b by the rules Scan
// uses for entities: the version number when both have one, else
// updatedAt/lastUpdated when both have one. Without either it returns
// false (keep b). Importers of export files use it to merge by id
// (FORMAT.md §8.2).
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
