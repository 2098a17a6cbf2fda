package legacy

import (
	"fmt"
	"reflect"
	"sort"
)

// groups are the collections emitted together, in the order of
// Collections: era-A topics become companies and contacts (docs/FORMAT.md
// §7.1), so the three share their candidates' sources.
var groups = [...][]string{{"topics", "companies", "contacts"}, {"notes"}, {"tasks"}, {"sessions"}, {"attachments"}}

func groupOf(coll string) int {
	for g, cs := range groups {
		for _, c := range cs {
			if c == coll {
				return g
			}
		}
	}
	return len(groups) - 1
}

// decision is the chosen version of one entity, made from what the
// candidates' index holds; the documents are read when it is emitted.
type decision struct {
	id   string
	cs   []*cand // its candidates, not-resurrected ones removed
	win  *cand
	time int64      // Entity.Time
	del  *walUpsert // the committed WAL delete that removes it, if any
}

// emitGroup reads the array payloads of a group of collections, then
// decides, loads and emits their entities one at a time, and lets them go.
func (s *scanner) emitGroup(g int, fn func(coll, id string, e Entity) error) error {
	s.pf.skipAll()
	srcs := s.srcs[g]
	for _, src := range srcs {
		if src.v != nil {
			s.planReload(src.v)
		} else {
			s.pf.add(src.state, fetchRaw)
		}
	}
	for _, src := range srcs {
		if err := s.loadSrc(src); err != nil {
			return err
		}
	}
	s.stateCache = nil
	for _, coll := range groups[g] {
		ds := s.decide(coll)
		if coll == "attachments" {
			ds = s.withPerID(ds)
		}
		if coll == "sessions" {
			if err := s.findChapters(ds); err != nil {
				return err
			}
		}
		s.pf.skipAll()
		for _, d := range ds {
			s.planLoads(d)
		}
		for i := range ds {
			if err := s.ctx.Err(); err != nil {
				return err
			}
			if err := s.emit(coll, &ds[i], fn); err != nil {
				return err
			}
			ds[i] = decision{}
		}
	}
	for _, src := range srcs {
		src.data = nil
		if src.v != nil {
			closeLazy(src.v.data) // a collection's text: nothing reads it again
			if !src.v.file {
				src.v.data = nil // decoded in memory (a WAL write, a snapshot): nothing reads it again
			}
		}
	}
	s.srcs[g] = nil
	s.chapterFinds = nil
	return nil
}

// loadSrc reads an array payload again for its group's emission.
func (s *scanner) loadSrc(src *arraySrc) error {
	if src.v != nil {
		d, err := s.reload(src.v)
		src.data = d
		return err
	}
	m := s.stateCache[src.state]
	if m == nil {
		b, err := s.readFile(src.state)
		if err != nil {
			return changed(src.state, err)
		}
		v, err := decodeJSON(b)
		if err != nil {
			return changed(src.state, err)
		}
		if m, _ = v.(map[string]any); m == nil {
			return changed(src.state, nil)
		}
		if s.stateCache == nil {
			s.stateCache = map[string]map[string]any{}
		}
		s.stateCache[src.state] = m
	}
	src.data = m[src.key]
	return nil
}

// decide picks one winner per entity of coll from the candidates' index
// and reports the candidates that must not resurrect a deleted entity.
func (s *scanner) decide(coll string) []decision {
	ids := make([]string, 0, len(s.cands[coll]))
	for id := range s.cands[coll] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]decision, 0, len(ids))
	for _, id := range ids {
		cs := s.cands[coll][id]
		if !s.primary[coll][id] && s.baseTime[coll] > 0 {
			kept := cs[:0:0]
			for _, c := range cs {
				t := c.own
				if t == 0 || c.v.Kind == SourceWAL {
					// A WAL entry's timestamp is when the app wrote the
					// entity (§5.4), whatever time the entity carries.
					t = max(t, c.v.Time)
				}
				if t > s.baseTime[coll] {
					kept = append(kept, c)
					continue
				}
				s.rep.NotResurrected = append(s.rep.NotResurrected, Dropped{Collection: coll, ID: id, Source: c.v.Source,
					Reason: "absent from the newer collection file and not newer than it (deleted)"})
			}
			if len(kept) == 0 {
				continue
			}
			cs = kept
		}
		win := cs[0]
		for _, c := range cs[1:] {
			if ok, _ := better(c, win); ok {
				win = c
			}
		}
		t := win.own
		if t == 0 {
			t = win.v.Time
		}
		if s.rep.Sources[coll] == nil {
			s.rep.Sources[coll] = map[string]int{}
		}
		s.rep.Sources[coll][win.v.Kind]++
		d := decision{id: id, cs: cs, win: win, time: t}
		for i, del := range s.walDeletes[coll][id] {
			if t <= del.ts {
				d.del = &s.walDeletes[coll][id][i]
				break
			}
		}
		out = append(out, d)
	}
	delete(s.cands, coll)
	delete(s.primary, coll)
	return out
}

// loaded reports whether emit reads c's document: every candidate of an
// entity with several (they are compared), else the winner.
func (d *decision) loaded(c *cand) bool { return len(d.cs) > 1 || c == d.win }

// planLoads adds the files emit will read for d to the read-ahead plan.
func (s *scanner) planLoads(d decision) {
	if s.pf == nil || d.win == nil {
		return
	}
	for _, c := range d.cs {
		if c.doc != nil || !d.loaded(c) {
			continue
		}
		switch {
		case c.ld.pe != nil:
			s.pf.add(c.ld.pe.rel, fetchRaw)
		case c.ld.chunk != nil:
			s.planSession(c.ld.chunk)
		}
	}
}

// emitText hands over an entity whose text is over the size limit
// without decoding it (see Entity.Text).
func (s *scanner) emitText(coll string, d *decision, fn func(coll, id string, e Entity) error) error {
	a, _ := d.win.ld.arr.data.(*lazyArray)
	if a == nil {
		return changed(d.win.v.Source, nil)
	}
	if d.del != nil {
		s.rep.Deleted = append(s.rep.Deleted, Dropped{Collection: coll, ID: d.id, Source: d.del.source, Reason: "deleted by a committed WAL transaction"})
		return nil
	}
	s.imported[coll][d.id] = true
	text := a.text[a.offs[2*d.win.ld.index]:a.offs[2*d.win.ld.index+1]]
	return fn(coll, d.id, Entity{Doc: map[string]any{"id": d.id}, Text: text, Source: d.win.v.Source, Time: d.time})
}

// withPerID adds to the decisions of the attachments collection the ids
// only attachments stored by id have (docs/FORMAT.md §3.7.1–2), in id order.
func (s *scanner) withPerID(ds []decision) []decision {
	have := make(map[string]bool, len(ds))
	for _, d := range ds {
		have[d.id] = true
	}
	n := len(ds)
	for id := range s.perID {
		if !have[id] {
			ds = append(ds, decision{id: id})
		}
	}
	if len(ds) > n {
		sort.Slice(ds, func(i, j int) bool { return ds[i].id < ds[j].id })
	}
	return ds
}

// emit loads one entity's documents, reports conflicts and deletion,
// completes the winner (chapters, relationships), notes what it says
// about attachments and hands it to fn.
func (s *scanner) emit(coll string, d *decision, fn func(coll, id string, e Entity) error) error {
	if coll == "sessions" && s.deletedSessions[d.id] {
		return nil // deleted from the chunked store (indexSession): reported there
	}
	if d.win == nil { // an attachment only stored by id
		doc, src := s.perIDDoc(d.id, nil)
		s.noteRaw(coll, d.id, src, doc)
		s.noteFacts(coll, d.id, doc)
		s.imported[coll][d.id] = true
		return fn(coll, d.id, Entity{Doc: doc, Source: src})
	}
	if d.win.big {
		return s.emitText(coll, d, fn)
	}
	for _, c := range d.cs {
		if c.doc == nil && d.loaded(c) && !c.big {
			doc, err := s.load(d.id, c)
			if err != nil {
				return err
			}
			c.doc = doc
		}
	}
	s.recordConflict(coll, d.id, d.win, d.cs)
	if d.del != nil {
		s.rep.Deleted = append(s.rep.Deleted, Dropped{Collection: coll, ID: d.id, Source: d.del.source, Reason: "deleted by a committed WAL transaction"})
		return nil
	}
	doc := d.win.doc
	if coll == "sessions" {
		s.recoverChapters(d, doc)
		s.recoverEnrichment(d, doc)
		s.recoverLost(d, doc)
	}
	if coll == "attachments" && s.perID[d.id] != nil {
		doc, _ = s.perIDDoc(d.id, doc)
	}
	if d.win.v.Kind == SourceRollback {
		for i := range s.rep.RollbackPoints {
			if rp := &s.rep.RollbackPoints[i]; rp.Path == d.win.v.Source {
				rp.Imported = append(rp.Imported, d.id)
			}
		}
	}
	if a := d.win.ld.arr; a != nil && a.recovery != "" {
		s.rep.Restored = append(s.rep.Restored, Restored{Collection: coll, ID: d.id, Source: d.win.v.Source, OlderCopy: d.win.v.Source != a.recovery})
	}
	s.noteRaw(coll, d.id, d.win.v.Source, doc)
	AddLegacyRelationships(coll, doc, s.topicKind)
	s.noteFacts(coll, d.id, doc)
	s.imported[coll][d.id] = true
	for _, c := range d.cs {
		if c != d.win && c.doc != nil {
			s.noteLoserFacts(coll, d.id, c.v.Source, c.doc)
		}
		c.doc = nil
	}
	return fn(coll, d.id, Entity{Doc: doc, Source: d.win.v.Source, Time: d.time})
}

// load reads a candidate's document again and checks it is the one
// indexed.
func (s *scanner) load(id string, c *cand) (map[string]any, error) {
	var doc map[string]any
	var src string
	switch {
	case c.ld.chunk != nil:
		return s.loadSession(id, c)
	case c.ld.pe != nil:
		src = c.ld.pe.rel
		b, err := s.readFile(src)
		if err != nil {
			return nil, changed(src, err)
		}
		p, err := DecodePerEntity(c.ld.pe.dbRel, b)
		if err != nil {
			return nil, changed(src, err)
		}
		doc = p.Doc
	case c.ld.arr != nil:
		src = c.v.Source
		a := c.ld.arr
		var v any
		switch d := a.data.(type) {
		case map[string]any:
			if c.ld.index < 0 {
				v = d
			}
		case []any:
			if c.ld.index >= 0 && c.ld.index < len(d) {
				v = d[c.ld.index]
			}
		case *lazyArray:
			if c.ld.index >= 0 && c.ld.index < d.Len() {
				var err error
				if v, err = d.At(c.ld.index); err != nil {
					return nil, changed(src, err)
				}
			}
		}
		doc, _ = v.(map[string]any)
	}
	if doc == nil || !c.matches(id, doc) {
		return nil, changed(src, nil)
	}
	return doc, nil
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
		if reflect.DeepEqual(c.doc, win.doc) && !c.big {
			continue
		}
		losers = append(losers, c.v)
		if a := c.ld.arr; a != nil && c.doc != nil && c.v.Source == win.v.Source && c.v.Kind == win.v.Kind && c.ld.index >= 0 {
			// Two elements of one file with one id: the one not
			// imported is the only copy of its fields.
			key := fmt.Sprintf("duplicate:%s[%d]", c.v.Source, c.ld.index)
			if _, dup := s.ds.Extras[key]; !dup {
				s.setExtra(key, c.doc, c.v.Source)
				s.rep.DuplicateIDs = append(s.rep.DuplicateIDs, InvalidEntity{Collection: coll, Source: c.v.Source, Index: c.ld.index, Reason: id})
			}
		}
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

// noteRaw lists in the report the values of v whose original text is
// kept in legacyRaw members.
func (s *scanner) noteRaw(coll, id, source string, v any) {
	eachRaw(v, func(path, problem, member string) {
		if member == RawField {
			member = ""
		}
		s.rep.RawValues = append(s.rep.RawValues, RawValue{Collection: coll, ID: id, Path: path, Problem: problem, Source: source, Member: member})
	})
}

// topicKind says what a topicId points to, once topics, companies and
// contacts are emitted.
func (s *scanner) topicKind(id string) string {
	switch {
	case s.imported["companies"][id]:
		return "company"
	case s.imported["contacts"][id]:
		return "contact"
	}
	return "topic"
}
