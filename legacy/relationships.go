package legacy

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
)

// relationshipTypes are the old app's RelationshipType values (§7.1); a
// link between two entity types uses the one naming both.
var relationshipTypes = []string{
	"task-note", "task-session", "note-session", "task-topic", "note-topic", "note-company", "note-contact",
	"note-parent", "task-company", "task-contact", "session-company", "session-contact", "session-topic",
	"task-file", "note-file", "session-file", "task-task", "project-task", "project-note", "goal-task",
}

func relationshipType(a, b string) string {
	for _, t := range relationshipTypes {
		if t == a+"-"+b || t == b+"-"+a {
			return t
		}
	}
	return a + "-" + b
}

// legacyLink is one legacy link field: the field, whether it is an array,
// and the entity type it points to ("topic" means "topic, company or
// contact, whichever collection holds the id", for era-A topics).
type legacyLink struct {
	Field, Target string
	Array         bool
	Type          string // explicit relationship type, "" to derive
}

var legacyLinks = map[string][]legacyLink{
	"notes": {
		{Field: "topicId", Target: "topic"}, {Field: "topicIds", Target: "topic", Array: true},
		{Field: "companyIds", Target: "company", Array: true}, {Field: "contactIds", Target: "contact", Array: true},
		{Field: "sourceSessionId", Target: "session"}, {Field: "parentNoteId", Target: "note", Type: "note-parent"},
	},
	"tasks": {
		{Field: "topicId", Target: "topic"}, {Field: "companyIds", Target: "company", Array: true},
		{Field: "contactIds", Target: "contact", Array: true}, {Field: "noteId", Target: "note"},
		{Field: "sourceNoteId", Target: "note"}, {Field: "sourceSessionId", Target: "session"},
		{Field: "aiContext.sourceNoteId", Target: "note"},
	},
	"sessions": {
		{Field: "extractedTaskIds", Target: "task", Array: true}, {Field: "extractedNoteIds", Target: "note", Array: true},
		{Field: "companyIds", Target: "company", Array: true}, {Field: "contactIds", Target: "contact", Array: true},
		{Field: "trackingNoteId", Target: "note"},
	},
}

var entityTypeOf = map[string]string{"notes": "note", "tasks": "task", "sessions": "session"}

// AddLegacyRelationships converts the legacy link fields of a note, task
// or session (docs/FORMAT.md §7.1: topicId, topicIds, companyIds, contactIds,
// noteId, sourceNoteId, sourceSessionId, parentNoteId,
// aiContext.sourceNoteId, extractedTaskIds, extractedNoteIds,
// trackingNoteId) into relationships entries appended to
// doc["relationships"]. The legacy fields are kept. A link already present
// between the same two entities (either direction, any type) is not
// added again. topicKind says what a topicId points to ("topic",
// "company" or "contact", for era-A topics that became companies and
// contacts); nil means "topic". Relationship ids are derived from the
// owner, field and target, so converting twice adds nothing. It returns
// how many entries were added.
func AddLegacyRelationships(collection string, doc map[string]any, topicKind func(id string) string) int {
	owner, ok := entityTypeOf[collection]
	if !ok || doc == nil {
		return 0
	}
	id, _ := doc["id"].(string)
	created := firstString(doc, "createdAt", "timestamp", "startTime")
	if created == "" {
		created = "1970-01-01T00:00:00.000Z"
	}
	existing, _ := doc["relationships"].([]any)
	have := map[string]bool{}
	for _, r := range existing {
		if m, ok := r.(map[string]any); ok {
			have[pairKey(m["sourceType"], m["sourceId"], m["targetType"], m["targetId"])] = true
		}
	}
	var added []any
	for _, l := range legacyLinks[collection] {
		for _, target := range linkValues(doc, l) {
			ttype := l.Target
			if ttype == "topic" && topicKind != nil {
				ttype = topicKind(target)
			}
			pk := pairKey(owner, id, ttype, target)
			if have[pk] {
				continue
			}
			have[pk] = true
			rtype := l.Type
			if rtype == "" {
				rtype = relationshipType(owner, ttype)
			}
			sum := sha256.Sum256([]byte(collection + "\x00" + id + "\x00" + l.Field + "\x00" + target))
			added = append(added, map[string]any{
				"id": "rel-legacy-" + hex.EncodeToString(sum[:8]), "type": rtype,
				"sourceType": owner, "sourceId": id, "targetType": ttype, "targetId": target,
				"metadata":  map[string]any{"source": "migration", "createdAt": created, "extra": map[string]any{"legacyField": l.Field}},
				"canonical": true,
			})
		}
	}
	if len(added) > 0 {
		doc["relationships"] = append(append([]any{}, existing...), added...)
	}
	return len(added)
}

// TopicCollection returns where an era-A topic belongs: "companies" for
// type company, "contacts" for type person, else "topics" (docs/FORMAT.md §7.1).
func TopicCollection(doc map[string]any) string {
	switch doc["type"] {
	case "company":
		return "companies"
	case "person":
		return "contacts"
	}
	return "topics"
}

// pairKey identifies a link regardless of direction and type name.
func pairKey(at, aid, bt, bid any) string {
	a, _ := at.(string)
	ai, _ := aid.(string)
	b, _ := bt.(string)
	bi, _ := bid.(string)
	x, y := a+"\x00"+ai, b+"\x00"+bi
	if x > y {
		x, y = y, x
	}
	return x + "\x01" + y
}

func linkValues(doc map[string]any, l legacyLink) []string {
	var v any = doc[l.Field]
	if l.Field == "aiContext.sourceNoteId" {
		ctx, _ := doc["aiContext"].(map[string]any)
		v = ctx["sourceNoteId"]
	}
	var out []string
	add := func(x any) {
		if s, err := CheckID(x); err == nil {
			out = append(out, s)
		}
	}
	if l.Array {
		arr, _ := v.([]any)
		for _, x := range arr {
			add(x)
		}
	} else {
		add(v)
	}
	sort.Strings(out)
	return out
}

func firstString(doc map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := doc[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}
