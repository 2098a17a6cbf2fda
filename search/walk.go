package search

import (
	"fmt"
	"strconv"
)

// Walk calls fn for every indexed document with the revision stored for it,
// in no particular order, from one consistent snapshot of the index. It is
// meant for drift checks against the primary store. Walk stops at the first
// error fn returns and returns it unchanged.
//
// fn must not call Apply, Reset or Close on the same Index (deadlock); it
// may call Search, MatchIDs and Count.
func (ix *Index) Walk(fn func(collection, id string, rev uint64) error) (err error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.mu.bi == nil {
		return ErrClosed
	}
	defer guard("walk", &err)

	adv, err := ix.mu.bi.Advanced()
	if err != nil {
		return fmt.Errorf("cairn: walk: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return fmt.Errorf("cairn: walk: %w", err)
	}
	defer func() {
		if cerr := r.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("cairn: walk: close reader: %w", cerr)
		}
	}()
	all, err := r.DocIDReaderAll()
	if err != nil {
		return fmt.Errorf("cairn: walk: %w", err)
	}
	defer func() {
		if cerr := all.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("cairn: walk: close doc reader: %w", cerr)
		}
	}()
	dvr, err := r.DocValueReader([]string{fieldRev})
	if err != nil {
		return fmt.Errorf("cairn: walk: %w", err)
	}

	for {
		iid, err := all.Next()
		if err != nil {
			return fmt.Errorf("cairn: walk: %w", err)
		}
		if iid == nil {
			return nil
		}
		ext, err := r.ExternalID(iid)
		if err != nil {
			return fmt.Errorf("cairn: walk: %w", err)
		}
		var revText string
		err = dvr.VisitDocValues(iid, func(field string, term []byte) {
			if field == fieldRev {
				revText = string(term)
			}
		})
		if err != nil {
			return fmt.Errorf("cairn: walk %q: %w", ext, err)
		}
		rev, perr := strconv.ParseUint(revText, 10, 64)
		if perr != nil {
			return fmt.Errorf("cairn: walk %q: rev %q: %v: %w", ext, revText, perr, ErrCorrupt)
		}
		c, id := splitDocID(ext)
		if err := fn(c, id, rev); err != nil {
			return err
		}
	}
}
