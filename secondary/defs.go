package secondary

import (
	"strings"

	"github.com/cairnkv/cairn/schema"
)

// LinksField is the virtual query field served by the "links" index: the
// union of the ids a document links to, from relationships[].targetId and
// from the legacy link fields of its collection (docs/FORMAT.md §7.1). A filter
// such as Filter{Field: "@links", Op: "=", Value: "company-1"} finds every
// document that links to company-1, whichever field holds the link.
const LinksField = schema.LinksField

// Index kinds, part of an index's fingerprint.
const (
	kindValue  = "value"  // each scalar value, typed by its JSON type (instants on timestamp fields)
	kindFolded = "folded" // strings case-folded (Unicode simple folding); usable for = and in only
)

// IndexDef declares one secondary index of a collection (see
// schema.Index): the built-in collections' in package schema, a user
// collection's as the application declares them.
type IndexDef = schema.Index

// fingerprint identifies the derivation of index d of c: change anything
// that changes its keys and the fingerprint changes, so Sync backfills it.
func fingerprint(c *schema.Collection, d *IndexDef) string {
	kind := kindValue
	if d.Folded {
		kind = kindFolded
	}
	ts := make([]string, 0, len(d.Paths))
	for _, p := range d.Paths {
		if c.IsTimestamp(p) {
			ts = append(ts, p)
		}
	}
	stats := ""
	if d.Stats {
		stats = ";stats"
	}
	typ := ""
	if d.Type != schema.TypeAny {
		typ = ";type=" + string(d.Type)
	}
	if d.Compound() {
		kind = "compound"
	}
	return "v2;" + kind + ";paths=" + strings.Join(d.Paths, ",") + ";time=" + strings.Join(ts, ",") + stats + typ
}

// ordered reports whether the order of index d is the query order of its
// field (so it can serve a sort).
func ordered(d *IndexDef) bool { return !d.Folded && len(d.Paths) == 1 && d.Field == d.Paths[0] }

// metaVersion identifies the Summary derivation; Sync rebuilds metadata
// when it changes.
const metaVersion = "meta-v1"
