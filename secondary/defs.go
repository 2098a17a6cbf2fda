package secondary

import (
	"sort"
	"strings"

	"github.com/cairnkv/cairn/buckets"
)

// LinksField is the virtual query field served by the "links" index: the
// union of the ids a document links to, from relationships[].targetId and
// from the legacy link fields of its collection (FORMAT.md §7.1). A filter
// such as Filter{Field: "@links", Op: "=", Value: "company-1"} finds every
// document that links to company-1, whichever field holds the link.
const LinksField = "@links"

// Index kinds.
const (
	kindValue  = "value"  // each scalar value, typed by its JSON type (instants on timestamp fields)
	kindFolded = "folded" // strings case-folded (Unicode simple folding); usable for = and in only
)

// IndexDef declares one secondary index of a collection.
type IndexDef struct {
	// Name is the index name, part of its bucket name
	// (buckets.IndexBucket(coll, Name)).
	Name string
	// Field is the query field the index serves: a document path, or
	// LinksField for the links index.
	Field string
	// Paths are the document paths whose values are indexed (one path for
	// an ordinary index, several for the links index). Arrays contribute
	// one key per scalar element.
	Paths []string
	// Folded indexes store strings case-folded; they answer = and in only,
	// and never serve a sort.
	Folded bool
	// Stats indexes keep a histogram of their values in the sys bucket
	// (see statPrefix), maintained exactly with the keys, so the planner
	// estimates a range without reading it. Indexes of mostly distinct
	// values (ids, hashes, names) have none: the planner counts their keys
	// with a cap instead, which is cheap when the answer is small.
	Stats bool
}

// fingerprint identifies the derivation of an index: change anything that
// changes its keys and the fingerprint changes, so Sync backfills it.
func (d *IndexDef) fingerprint(coll string) string {
	kind := kindValue
	if d.Folded {
		kind = kindFolded
	}
	ts := make([]string, 0, len(d.Paths))
	for _, p := range d.Paths {
		if isTimestamp(coll, p) {
			ts = append(ts, p)
		}
	}
	stats := ""
	if d.Stats {
		stats = ";stats"
	}
	instants := ""
	if len(ts) > 0 {
		instants = ";" + instantsVersion
	}
	return "v1;" + kind + ";paths=" + strings.Join(d.Paths, ",") + ";time=" + strings.Join(ts, ",") + instants + stats
}

// instantsVersion names the reading of instants (buckets.ParseInstant)
// that keys on timestamp fields were derived with. Version 2 added numeric
// strings, more zone forms and exact decimals; a change here rebuilds
// every index with a timestamp path.
const instantsVersion = "instants=2"

// ordered reports whether the index order is the query order of its field
// (so it can serve a sort).
func (d *IndexDef) ordered() bool { return !d.Folded && len(d.Paths) == 1 && d.Field == d.Paths[0] }

func single(name string) IndexDef { return IndexDef{Name: name, Field: name, Paths: []string{name}} }

func stats(name string) IndexDef {
	d := single(name)
	d.Stats = true
	return d
}

func links(legacy ...string) IndexDef {
	return IndexDef{Name: "links", Field: LinksField, Paths: append([]string{"relationships.targetId"}, legacy...)}
}

// declared holds the index declarations per collection (issue 3).
var declared = map[string][]IndexDef{
	"sessions": {
		stats("startTime"), stats("endTime"), stats("status"), stats("tags"), stats("category"),
		links("extractedTaskIds", "extractedNoteIds", "companyIds", "contactIds", "topicIds", "trackingNoteId"),
	},
	"notes": {
		stats("timestamp"), stats("lastUpdated"), stats("source"), stats("status"), stats("tags"), single("parentNoteId"),
		links("topicId", "companyIds", "contactIds", "topicIds", "sourceSessionId"),
	},
	"tasks": {
		stats("status"), stats("priority"), stats("done"), stats("dueDate"), stats("createdAt"), stats("tags"),
		links("topicId", "companyIds", "contactIds", "noteId", "sourceNoteId", "sourceSessionId", "aiContext.sourceNoteId"),
	},
	"topics":      {{Name: "name", Field: "name", Paths: []string{"name"}, Folded: true}, stats("lastUpdated")},
	"companies":   {{Name: "name", Field: "name", Paths: []string{"name"}, Folded: true}, stats("lastUpdated")},
	"contacts":    {{Name: "name", Field: "name", Paths: []string{"name"}, Folded: true}, stats("lastUpdated")},
	"attachments": {stats("type"), single("hash"), stats("createdAt")},
}

// Indexes returns the indexes declared for coll (nil for a collection
// without indexes).
func Indexes(coll string) []IndexDef {
	d := declared[coll]
	out := make([]IndexDef, len(d))
	for i, x := range d {
		x.Paths = append([]string(nil), x.Paths...)
		out[i] = x
	}
	return out
}

// indexFor returns the declared index serving field in coll, or nil.
func indexFor(coll, field string) *IndexDef {
	defs := declared[coll]
	for i := range defs {
		if defs[i].Field == field {
			return &defs[i]
		}
	}
	return nil
}

// timestampFields lists the declared instants per collection. Paths through
// arrays ("updates.timestamp") apply to every element.
var timestampFields = map[string][]string{
	"sessions": {"startTime", "endTime", "lastScreenshotTime", "pausedAt", "createdAt", "updatedAt",
		"enrichmentStatus.startedAt", "enrichmentStatus.completedAt",
		"enrichmentStatus.audio.startedAt", "enrichmentStatus.audio.completedAt",
		"enrichmentStatus.video.startedAt", "enrichmentStatus.video.completedAt",
		"enrichmentLock.lockedAt", "enrichmentLock.expiresAt", "video.processedAt",
		"relationships.metadata.createdAt",
		"screenshots.timestamp", "audioSegments.timestamp", "contextItems.timestamp",
		"summary.lastUpdated", "audioInsights.processedAt"},
	"notes": {"timestamp", "lastUpdated", "createdAt", "updatedAt", "updates.timestamp",
		"metadata.aiEnrichment.enrichedAt", "relationships.metadata.createdAt"},
	"tasks": {"dueDate", "createdAt", "completedAt", "updatedAt", "lastUpdated",
		"subtasks.createdAt", "relationships.metadata.createdAt"},
	"topics":      {"createdAt", "lastUpdated", "updatedAt"},
	"companies":   {"createdAt", "lastUpdated", "updatedAt"},
	"contacts":    {"createdAt", "lastUpdated", "updatedAt"},
	"attachments": {"createdAt", "lastUpdated", "updatedAt"},
}

var timestampSet = func() map[string]map[string]bool {
	m := map[string]map[string]bool{}
	for c, fs := range timestampFields {
		m[c] = map[string]bool{}
		for _, f := range fs {
			m[c][f] = true
		}
	}
	return m
}()

// TimestampFields returns the fields coll declares as instants, sorted.
// Their values compare as instants: ISO 8601 strings and epoch
// milliseconds alike (see the package documentation).
func TimestampFields(coll string) []string {
	out := append([]string(nil), timestampFields[coll]...)
	sort.Strings(out)
	return out
}

func isTimestamp(coll, path string) bool { return timestampSet[coll][path] }

// metaFields lists, per collection, the document fields copied verbatim
// into the metadata summary: a filter or sort touching only these fields
// can be answered from the metadata bucket. (Derived summary fields such as
// a note's title or a session's screenshotCount are not document fields.)
var metaFields = map[string][]string{
	"sessions":    {"name", "status", "startTime", "endTime", "tags"},
	"notes":       {"timestamp", "lastUpdated", "tags"},
	"tasks":       {"title", "status", "priority", "done", "dueDate"},
	"topics":      {"name", "lastUpdated"},
	"companies":   {"name", "lastUpdated"},
	"contacts":    {"name", "lastUpdated"},
	"attachments": {"name", "lastUpdated", "type", "mimeType", "hash"},
}

func isMetaField(coll, field string) bool {
	for _, f := range metaFields[coll] {
		if f == field {
			return true
		}
	}
	return false
}

// hasMeta reports whether Apply keeps a metadata bucket for coll (entity
// collections and extras).
func hasMeta(c *buckets.Collection) bool {
	return c.Kind == buckets.KindEntity || c.Kind == buckets.KindExtras
}

// metaVersion identifies the Summary derivation; Sync rebuilds metadata
// when it changes.
const metaVersion = "meta-v1"
