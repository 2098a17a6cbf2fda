package gen

// Notes (docs/FORMAT.md §7.3) and tasks (§7.4).

type childHdr struct {
	ms     int64 // creation time
	owner  int   // session it belongs to (see relationship.go), -1 if none
	linked bool  // extracted from its owner session
}

// childHeader holds what other documents need to know about note or task
// j. A linked note is created just after its session ends; others at a
// uniform time in the span.
func (g *Generator) childHeader(c coll, j int) childHdr {
	r := g.rng(c, streamHeader, j)
	p := 0.6
	if c == collTasks {
		p = 0.5
	}
	h := childHdr{owner: g.ownerOf(c, j)}
	h.linked = h.owner >= 0 && r.chance(p)
	if h.linked {
		h.ms = g.sessionHeader(h.owner).end() + r.int64n(30*minute)
	} else {
		h.ms = spanStart + r.int64n(spanEnd-spanStart-hour)
	}
	return h
}

func (g *Generator) noteHeader(j int) childHdr { return g.childHeader(collNotes, j) }
func (g *Generator) taskHeader(j int) childHdr { return g.childHeader(collTasks, j) }

// later returns a time after ms, skewed towards ms, before the span ends.
func (b *builder) later(ms int64) int64 {
	u := b.r.float()
	return ms + int64(u*u*u*float64(spanEnd-ms-1))
}

var noteSourceWeights = [...]float64{0.3, 0.3, 0.3, 0.1}

// Note returns note j: markdown content from a few hundred bytes to a few
// KB (a few percent are long meeting notes of 5–15 KB), summary, tags,
// relationships, and now and then a parent note, updates, metadata and the
// legacy topicId/companyIds fields. It panics if j is out of range.
func (g *Generator) Note(j int) map[string]any {
	g.check(collNotes, j)
	h := g.noteHeader(j)
	b := g.newBuilder(collNotes, streamBody, j)
	r := &b.r
	id := g.idAt(collNotes, j, h.ms)

	paras, bullets := r.between(1, 3), r.intn(7)
	if r.chance(0.04) {
		paras, bullets = r.between(8, 20), r.between(10, 30)
	}
	doc := map[string]any{
		"id":          id,
		"content":     b.markdown(paras, bullets),
		"summary":     b.sentences(r.between(1, 3)),
		"timestamp":   iso(h.ms),
		"lastUpdated": iso(b.later(h.ms)),
		"source":      noteSources[r.weighted(noteSourceWeights[:])],
		"tags":        b.tags(),
	}
	switch u := r.float(); {
	case u < 0.5:
		doc["status"] = "approved"
	case u < 0.6:
		doc["status"] = "draft"
	case u < 0.7:
		doc["status"] = "pending_review"
	}
	if r.chance(0.2) {
		doc["sourceText"] = b.sentences(r.between(2, 4))
	}

	rels := []any{}
	if h.linked {
		rels = append(rels, g.pairRel(collNotes, j, false))
		if r.chance(0.3) {
			doc["sourceSessionId"] = g.id(collSessions, h.owner)
		}
	}
	var topics, companies []int
	rels, topics = b.entityRels(rels, collTopics, "note-topic", "note", id, r.intn(3), h.ms)
	rels, companies = b.entityRels(rels, collCompanies, "note-company", "note", id, r.intn(2), h.ms)
	rels, _ = b.entityRels(rels, collContacts, "note-contact", "note", id, r.intn(3), h.ms)
	if j > 0 && r.chance(0.1) {
		p := j - 1 - r.skewed(min(j, 50))
		pid := g.id(collNotes, p)
		doc["parentNoteId"] = pid
		rels = append(rels, b.rel("note-parent", "note", id, "note", pid, h.ms))
	}
	doc["relationships"] = rels
	if len(topics) > 0 && r.chance(0.15) {
		doc["topicId"] = g.id(collTopics, topics[0])
	}
	if len(companies) > 0 && r.chance(0.2) {
		ids := make([]any, len(companies))
		for k, c := range companies {
			ids[k] = g.id(collCompanies, c)
		}
		doc["companyIds"] = ids
	}
	if r.chance(0.5) {
		doc["relationshipVersion"] = float64(1)
	}

	if r.chance(0.15) {
		ups := make([]any, r.between(1, 3))
		for k := range ups {
			ts := b.later(h.ms)
			ups[k] = map[string]any{
				"id":        b.randID(ts),
				"content":   b.sentences(r.between(1, 3)),
				"timestamp": iso(ts),
				"source":    b.pick(noteSources[:]),
			}
		}
		doc["updates"] = ups
	}
	if r.chance(0.6) {
		meta := map[string]any{
			"sentiment": sentiments[r.intn(3)],
			"keyPoints": b.sentenceList(r.between(2, 4)),
		}
		if n := g.n[collTopics]; n > 0 {
			meta["relatedTopics"] = []any{g.name(collTopics, r.skewed(n))}
		}
		if r.chance(0.3) {
			meta["aiEnrichment"] = map[string]any{
				"enrichedAt":     iso(b.later(h.ms)),
				"model":          "claude-haiku-4-5",
				"autoEnriched":   r.chance(0.7),
				"suggestedTitle": b.title(),
				"suggestedTags":  b.tags(),
				"keyTopics":      b.fragments(r.between(1, 3)),
				"sentiment":      sentiments[r.intn(3)],
			}
		}
		doc["metadata"] = meta
	}
	return doc
}

var taskStatusWeights = [...]float64{0.4, 0.2, 0.35, 0.05}
var priorityWeights = [...]float64{0.25, 0.45, 0.22, 0.08}

// Task returns task j: title, status and done, priority, createdAt, due
// and completion dates, description, subtasks, tags, createdBy,
// relationships, and for AI-created tasks aiContext pointing at an existing
// note. It panics if j is out of range.
func (g *Generator) Task(j int) map[string]any {
	g.check(collTasks, j)
	h := g.taskHeader(j)
	b := g.newBuilder(collTasks, streamBody, j)
	r := &b.r
	id := g.idAt(collTasks, j, h.ms)
	status := taskStatuses[r.weighted(taskStatusWeights[:])]
	ai := r.chance(0.6)
	createdBy := "manual"
	if ai {
		createdBy = "ai"
	}
	doc := map[string]any{
		"id":        id,
		"title":     b.title(),
		"done":      status == "done",
		"priority":  priorities[r.weighted(priorityWeights[:])],
		"status":    status,
		"createdAt": iso(h.ms),
		"tags":      b.tags(),
		"createdBy": createdBy,
	}
	if r.chance(0.6) {
		due := h.ms + int64(r.between(1, 45))*day
		if r.chance(0.4) {
			doc["dueDate"] = iso(due)[:10]
			if r.chance(0.5) {
				b.buf = appendInt(b.buf[:0], int64(r.between(10, 19)))
				b.buf = append(b.buf, ":00"...)
				doc["dueTime"] = b.str()
			}
		} else {
			doc["dueDate"] = iso(due)
		}
	}
	if status == "done" {
		doc["completedAt"] = iso(b.later(h.ms))
	}
	if r.chance(0.7) {
		doc["description"] = b.sentences(r.between(1, 4))
	}
	if r.chance(0.4) {
		subs := make([]any, r.between(1, 5))
		for k := range subs {
			subs[k] = map[string]any{
				"id":        b.randID(h.ms),
				"title":     b.title(),
				"done":      status == "done" || r.chance(0.3),
				"createdAt": iso(h.ms),
			}
		}
		doc["subtasks"] = subs
	}

	rels := []any{}
	if h.linked {
		rels = append(rels, g.pairRel(collTasks, j, false))
		if r.chance(0.3) {
			doc["sourceSessionId"] = g.id(collSessions, h.owner)
		}
	}
	if n := g.n[collNotes]; ai && n > 0 {
		note := int(int64(j) * int64(n) / int64(g.n[collTasks]))
		nid := g.id(collNotes, note)
		rels = append(rels, b.rel("task-note", "task", id, "note", nid, h.ms))
		from := "note"
		if h.linked {
			from = "session"
		}
		doc["aiContext"] = map[string]any{
			"sourceNoteId":  nid,
			"extractedFrom": from,
			"confidence":    b.conf(0.6),
			"reasoning":     b.sentences(1),
		}
		doc["sourceExcerpt"] = b.sentences(1)
		if r.chance(0.2) {
			doc["sourceNoteId"] = nid
		}
	}
	rels, _ = b.entityRels(rels, collTopics, "task-topic", "task", id, r.intn(2), h.ms)
	rels, _ = b.entityRels(rels, collCompanies, "task-company", "task", id, r.intn(2)*r.intn(2), h.ms)
	rels, _ = b.entityRels(rels, collContacts, "task-contact", "task", id, r.intn(2)*r.intn(2), h.ms)
	doc["relationships"] = rels
	if r.chance(0.2) {
		doc["contextForAgent"] = b.sentences(r.between(1, 3))
	}
	return doc
}
