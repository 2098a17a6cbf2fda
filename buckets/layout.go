package buckets

import "sort"

// Regions of the page layout a compaction writes, in file order. See
// "Page layout" in the package doc.
const (
	RegionSys     = iota // sys: read on every open
	RegionMeta           // m/<coll>: listing summaries
	RegionPrimary        // c/<coll>: records (headers, small documents)
	RegionIndex          // x/<coll>/<index>: secondary indexes
	RegionRefs           // refs: blob reference counts
	RegionLog            // log: the change log
	RegionParts          // p/<coll>: document parts, the bulk of the file
	RegionOther          // any bucket Cairn does not write
)

// Region returns the region of the page layout that bucket name belongs
// to, and the page fill a compaction uses for it: 1.0 where keys only
// arrive at the end (the change log, whose keys are sequences) or where
// values are mostly larger than a page (parts), 0.9 where later writes
// land between existing keys, so that the first update of a compacted
// page does not have to split it.
func Region(name []byte) (region int, fill float64) {
	kind, _, _, _ := ParseBucket(name)
	switch kind {
	case BucketSys:
		return RegionSys, 0.9
	case BucketMeta:
		return RegionMeta, 0.9
	case BucketPrimary:
		return RegionPrimary, 0.9
	case BucketIndex:
		return RegionIndex, 0.9
	case BucketRefs:
		return RegionRefs, 0.9
	case BucketLog:
		return RegionLog, 1.0
	case BucketParts:
		return RegionParts, 1.0
	}
	return RegionOther, 0.5
}

// LayoutOrder sorts bucket names into the order a compaction writes them:
// by Region, then by name.
func LayoutOrder(names [][]byte) {
	sort.SliceStable(names, func(i, j int) bool {
		ri, _ := Region(names[i])
		rj, _ := Region(names[j])
		if ri != rj {
			return ri < rj
		}
		return string(names[i]) < string(names[j])
	})
}
