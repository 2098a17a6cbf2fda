package gen

// Relationships (docs/FORMAT.md §7.1). Links to topics, companies, contacts,
// attachments and parent notes are stored on the linking document only
// (canonical). A note or task extracted from a session is linked both ways:
// the note or task holds the canonical copy, the session the other, with the
// same relationship id and metadata.
//
// Ownership is a pure function of the indexes: note j (likewise task j)
// belongs to session j×S/N, and is linked to it when its header says so, so
// both sides compute the link without building each other.

// entityTypes are the EntityType values of the collections.
var entityTypes = [numColls]string{"topic", "company", "contact", "note", "task", "session", "file"}

var relSources = [...]string{"ai", "manual", "migration", "system"}
var relSourceWeights = [...]float64{0.6, 0.25, 0.1, 0.05}

// rel builds a one-way (canonical) relationship created at ms.
func (b *builder) rel(typ, srcType, srcID, tgtType, tgtID string, ms int64) map[string]any {
	src := relSources[b.r.weighted(relSourceWeights[:])]
	meta := map[string]any{"source": src, "createdAt": iso(ms)}
	switch src {
	case "ai":
		meta["confidence"] = b.conf(0.5)
		if b.r.chance(0.5) {
			meta["reasoning"] = b.sentences(1)
		}
	case "manual":
		meta["createdBy"] = "user"
	}
	return map[string]any{
		"id":         b.randID(ms),
		"type":       typ,
		"sourceType": srcType,
		"sourceId":   srcID,
		"targetType": tgtType,
		"targetId":   tgtID,
		"metadata":   meta,
		"canonical":  true,
	}
}

// ownedRange returns the indexes [lo, hi) of collection c (notes or tasks)
// that belong to session s.
func (g *Generator) ownedRange(c coll, s int) (lo, hi int) {
	n, sn := int64(g.n[c]), int64(g.n[collSessions])
	if sn == 0 {
		return 0, 0
	}
	ceil := func(x int64) int { return int((x + sn - 1) / sn) }
	return ceil(int64(s) * n), ceil(int64(s+1) * n)
}

// ownerOf returns the session that note or task j belongs to, or -1.
func (g *Generator) ownerOf(c coll, j int) int {
	n, sn := int64(g.n[c]), int64(g.n[collSessions])
	if sn == 0 || n == 0 {
		return -1
	}
	return int(int64(j) * sn / n)
}

// linkedChildren returns the indexes of the notes or tasks extracted from
// session s, in index order.
func (g *Generator) linkedChildren(c coll, s int) (idx []int) {
	lo, hi := g.ownedRange(c, s)
	for j := lo; j < hi; j++ {
		if g.childHeader(c, j).linked {
			idx = append(idx, j)
		}
	}
	return idx
}

// pairRel is the relationship between note or task j and the session it
// was extracted from, as stored on the child (onSession false, canonical) or
// on the session.
func (g *Generator) pairRel(c coll, j int, onSession bool) map[string]any {
	h := g.childHeader(c, j)
	b := g.newBuilder(c, streamPair, j)
	childID := g.idAt(c, j, h.ms)
	sessID := g.id(collSessions, h.owner)
	childType, typ := "note", "note-session"
	if c == collTasks {
		childType, typ = "task", "task-session"
	}
	r := map[string]any{
		"id":   b.randID(h.ms),
		"type": typ,
		"metadata": map[string]any{
			"source":     "ai",
			"confidence": b.conf(0.7),
			"reasoning":  b.sentences(1),
			"createdAt":  iso(h.ms),
			"createdBy":  "session-enrichment",
		},
	}
	if onSession {
		r["sourceType"], r["sourceId"], r["targetType"], r["targetId"] = "session", sessID, childType, childID
		r["canonical"] = false
	} else {
		r["sourceType"], r["sourceId"], r["targetType"], r["targetId"] = childType, childID, "session", sessID
		r["canonical"] = true
	}
	return r
}

// entityRels appends up to max relationships of type typ from the document
// (srcType, srcID) to distinct, skew-picked documents of c, and returns the
// target indexes too.
func (b *builder) entityRels(rels []any, c coll, typ, srcType, srcID string, count int, ms int64) ([]any, []int) {
	n := b.g.n[c]
	if n == 0 || count == 0 {
		return rels, nil
	}
	tgtType := entityTypes[c]
	var picked []int
	for range count {
		j := b.r.skewed(n)
		dup := false
		for _, p := range picked {
			dup = dup || p == j
		}
		if dup {
			continue
		}
		picked = append(picked, j)
		rels = append(rels, b.rel(typ, srcType, srcID, tgtType, b.g.id(c, j), ms))
	}
	return rels, picked
}
