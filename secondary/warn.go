package secondary

import (
	"fmt"
	"slices"

	"github.com/cairnkv/cairn/buckets"
)

// warnings returns one warning per filter or sort field that no document
// of the collection has (a likely typo), checked cheaply where an index
// or the metadata answers, else by reading documents until one has the
// field (only a field that nobody has costs a pass over the collection).
// An empty collection gets none.
func (e *engine) warnings() ([]string, error) {
	if e.docs == 0 {
		return nil, nil
	}
	var fields []string
	var leaves []*cfilter
	for _, f := range e.filters {
		leaves = f.leaves(leaves)
	}
	for _, f := range leaves {
		if f.Field != LinksField && !slices.Contains(fields, f.Field) {
			fields = append(fields, f.Field)
		}
	}
	if e.sort != nil && e.sort.name != LinksField && !slices.Contains(fields, e.sort.name) {
		fields = append(fields, e.sort.name)
	}
	for _, f := range e.q.WarnFields {
		if f != "" && !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	var out []string
	for _, field := range fields {
		has, err := e.someDocHas(field)
		if err != nil {
			return nil, err
		}
		if !has {
			out = append(out, fmt.Sprintf("no document of %s has the field %q", e.coll.Name, field))
		}
	}
	return out, nil
}

// someDocHas reports whether any document of the collection has field
// (null counts: the field is there).
func (e *engine) someDocHas(field string) (bool, error) {
	if d := e.coll.IndexFor(field); d != nil {
		if b := buckets.Lookup(e.tx, buckets.IndexBucket(e.coll.Name, d.Name)); b != nil {
			if k, _ := b.Cursor().First(); k != nil {
				return true, nil
			}
		}
	}
	ref := newFieldRef(e.coll, field)
	has := func(doc any) bool {
		found := false
		for _, p := range ref.paths {
			walk(doc, p, func(any) { found = true })
		}
		return found
	}
	level := fieldLevel(e.coll, field)
	if level == levelMeta && e.meta != nil {
		name := buckets.MetaBucket(e.coll.Name)
		c := e.meta.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			doc, err := buckets.DecodeValue(name, k, v)
			if err != nil {
				return false, err
			}
			if has(doc) {
				return true, nil
			}
		}
		return false, nil
	}
	if e.primary == nil {
		return false, nil
	}
	name := buckets.PrimaryBucket(e.coll.Name)
	c := e.primary.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			continue
		}
		var doc any
		if level == levelFull && e.l != nil {
			d, err := e.l.Full(string(k))
			if err != nil {
				return false, err
			}
			if d != nil {
				doc = d
			}
		} else {
			rec, err := buckets.DecodeRecord(name, k, v, true)
			if err != nil {
				return false, err
			}
			doc = rec.Doc
		}
		if has(doc) {
			return true, nil
		}
	}
	return false, nil
}
