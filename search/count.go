package search

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search/query"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// termPlan is a query made only of terms, in the shape buildQuery gives a
// count: every group of musts matched (a group: any of its terms), none of
// mustNot. Such a query is answered from the segments' postings bitmaps:
// an intersection of a few bitmaps instead of a walk over every match,
// which is what a two-word search over a large index spends its time on
// (344,684 matches at 100,000 sessions).
type termPlan struct {
	musts   [][]fieldTerm
	mustNot []fieldTerm
}

type fieldTerm struct{ field, term string }

// planOf returns the termPlan of q, or false when q holds anything else
// than terms, conjunctions, disjunctions of terms (any one) and a boolean
// query's must and must-not clauses.
func planOf(q query.Query) (termPlan, bool) {
	var p termPlan
	if !p.addMust(q) {
		return termPlan{}, false
	}
	return p, len(p.musts) > 0
}

func (p *termPlan) addMust(q query.Query) bool {
	switch q := q.(type) {
	case *query.TermQuery:
		p.musts = append(p.musts, []fieldTerm{{q.FieldVal, q.Term}})
		return true
	case *query.ConjunctionQuery:
		for _, c := range q.Conjuncts {
			if !p.addMust(c) {
				return false
			}
		}
		return true
	case *query.DisjunctionQuery:
		terms, ok := disjunctTerms(q)
		if !ok {
			return false
		}
		p.musts = append(p.musts, terms)
		return true
	case *query.BooleanQuery:
		if q.Should != nil || q.Filter != nil || q.Must == nil {
			return false
		}
		if q.MustNot != nil {
			switch n := q.MustNot.(type) {
			case *query.TermQuery:
				p.mustNot = append(p.mustNot, fieldTerm{n.FieldVal, n.Term})
			case *query.DisjunctionQuery:
				terms, ok := disjunctTerms(n)
				if !ok {
					return false
				}
				p.mustNot = append(p.mustNot, terms...)
			default:
				return false
			}
		}
		return p.addMust(q.Must)
	}
	return false
}

// disjunctTerms returns the terms of a disjunction that any one of them
// satisfies.
func disjunctTerms(q *query.DisjunctionQuery) ([]fieldTerm, bool) {
	if q.Min > 1 || len(q.Disjuncts) == 0 {
		return nil, false
	}
	terms := make([]fieldTerm, 0, len(q.Disjuncts))
	for _, d := range q.Disjuncts {
		t, ok := d.(*query.TermQuery)
		if !ok {
			return nil, false
		}
		terms = append(terms, fieldTerm{t.FieldVal, t.Term})
	}
	return terms, true
}

// countPlan returns how many live documents of bi match p, from one
// snapshot of the index: per segment, the intersection of the musts'
// postings bitmaps less the must-nots' and the segment's deleted
// documents. ok is false, and nothing is counted, when the index or one
// of its segments is not of a kind whose bitmaps it can read (the caller
// then asks Bleve).
func countPlan(bi bleve.Index, p termPlan) (n uint64, ok bool, err error) {
	adv, err := bi.Advanced()
	if err != nil {
		return 0, false, err
	}
	r, err := adv.Reader()
	if err != nil {
		return 0, false, err
	}
	defer func() {
		if cerr := r.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close reader: %w", cerr)
		}
	}()
	snap, isSnap := r.(*scorch.IndexSnapshot)
	if !isSnap {
		return 0, false, nil
	}
	for _, ss := range snap.Segments() {
		m, ok, err := countSegment(ss.Segment(), ss.Deleted(), p)
		if err != nil || !ok {
			return 0, ok, err
		}
		n += m
	}
	return n, true, nil
}

// countSegment counts the live documents of one segment that match p.
// The postings bitmaps are the segment's own: only copies are changed.
func countSegment(seg segment.Segment, deleted *roaring.Bitmap, p termPlan) (n uint64, ok bool, err error) {
	dicts := map[string]segment.TermDictionary{}
	postings := func(ft fieldTerm) (*roaring.Bitmap, bool, error) {
		d, seen := dicts[ft.field]
		if !seen {
			var err error
			if d, err = seg.Dictionary(ft.field); err != nil {
				return nil, false, err
			}
			dicts[ft.field] = d
		}
		pl, err := d.PostingsList([]byte(ft.term), nil, nil)
		if err != nil {
			return nil, false, err
		}
		it := pl.Iterator(false, false, false, nil)
		o, ok := it.(segment.OptimizablePostingsIterator)
		if !ok {
			return nil, false, nil
		}
		if bm := o.ActualBitmap(); bm != nil {
			return bm, true, nil
		}
		if doc, one := o.DocNum1Hit(); one {
			return roaring.BitmapOf(uint32(doc)), true, nil
		}
		return roaring.New(), true, nil // no posting
	}
	var acc *roaring.Bitmap // a copy, from the first group on
	for _, group := range p.musts {
		bms := make([]*roaring.Bitmap, len(group))
		for i, ft := range group {
			if bms[i], ok, err = postings(ft); err != nil || !ok {
				return 0, ok, err
			}
		}
		switch {
		case len(bms) > 1:
			union := roaring.FastOr(bms...) // a new bitmap
			if acc == nil {
				acc = union
			} else {
				acc.And(union)
			}
		case acc == nil:
			acc = bms[0].Clone()
		default:
			acc.And(bms[0])
		}
		if acc.IsEmpty() {
			return 0, true, nil
		}
	}
	for _, ft := range p.mustNot {
		bm, ok, err := postings(ft)
		if err != nil || !ok {
			return 0, ok, err
		}
		acc.AndNot(bm)
	}
	if deleted != nil {
		acc.AndNot(deleted)
	}
	return acc.GetCardinality(), true, nil
}
