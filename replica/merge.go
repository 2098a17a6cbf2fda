package replica

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"

	"github.com/cairnkv/cairn/kv"
)

// valueField is the single field an extras value is synced as.
const valueField = "value"

// readDoc returns the document's top-level fields as sync sees them (an
// entity's without its id; an extras value as the one field "value"), or
// nil when it does not exist.
func readDoc(tx *kv.Tx, coll, id string) (map[string]any, error) {
	c, err := kv.LookupCollection(coll)
	if err != nil {
		return nil, err
	}
	if c.Kind.String() == "extras" {
		v, _, err := tx.GetValue(coll, id)
		if errors.Is(err, kv.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return map[string]any{valueField: v}, nil
	}
	doc, _, err := tx.Get(coll, id)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.Kind.String() == "entity" {
		delete(doc, "id")
	}
	return doc, nil
}

// writeDoc stores the fields as the document (nil: deletes it).
func writeDoc(tx *kv.Tx, coll, id string, fields map[string]any) error {
	c, err := kv.LookupCollection(coll)
	if err != nil {
		return err
	}
	if fields == nil {
		_, err := tx.Delete(coll, id)
		return err
	}
	switch c.Kind.String() {
	case "extras":
		_, err = tx.PutValue(coll, id, fields[valueField])
		return err
	case "entity":
		doc := make(kv.Document, len(fields)+1)
		for k, v := range fields {
			doc[k] = v
		}
		doc["id"] = id
		_, err = tx.Put(coll, doc)
		return err
	}
	_, err = tx.Put(coll, kv.Document(fields))
	return err
}

// capture compares the document with its recorded clocks and, when it
// changed since, gives the changed fields new clocks and queues a message
// in the outbox. It returns the (updated) clock record. The clocks are
// taken at editMs, the wall time of the document's last change when the
// change log tells it (0: now), so that the later edit wins, not the
// later push.
func (r *Replica) capture(tx *kv.Tx, st *state, coll, id string, editMs int64) (*clocks, error) {
	rec, err := loadClocks(tx, coll, id)
	if err != nil {
		return nil, err
	}
	doc, err := readDoc(tx, coll, id)
	if err != nil {
		return nil, err
	}
	ms := editMs
	if now := r.now().UnixMilli(); ms <= 0 || ms > now {
		ms = now
	}
	m := &message{Device: st.Device, Inc: st.Inc, Coll: coll, ID: id}
	switch {
	case doc == nil:
		if rec.Del != nil || !rec.found {
			return rec, nil // never seen, or already a tombstone
		}
		c := tick(&st.HLC, ms, st.Device)
		rec.Del, m.Del, m.Epoch = &c, &c, rec.Epoch
		for f, lf := range rec.Fields {
			if !lf.Gone {
				if m.Seen == nil {
					m.Seen = map[string]Clock{}
				}
				m.Seen[f] = lf.C
			}
		}
	default:
		// A document sync has not seen yet (or saw deleted) is created by
		// the message, even when it has no field to carry.
		m.Create = !rec.found || rec.Del != nil
		if rec.Del != nil {
			// Created again here after a delete: a new incarnation.
			rec.Epoch, rec.Del = rec.Del, nil
			rec.Fields = map[string]field{}
		}
		m.Epoch = rec.Epoch
		names := make([]string, 0, len(doc))
		for f := range doc {
			names = append(names, f)
		}
		sort.Strings(names)
		for _, f := range names {
			v := doc[f]
			h := hashValue(v)
			old, had := rec.Fields[f]
			if had && !old.Gone && old.Hash == h {
				continue
			}
			c := tick(&st.HLC, ms, st.Device)
			if m.Fields == nil {
				m.Fields = map[string]fieldMsg{}
			}
			m.Fields[f] = fieldMsg{V: v, C: c, Base: old.C}
			rec.Fields[f] = field{C: c, Hash: h}
		}
		for f, old := range rec.Fields {
			if _, ok := doc[f]; ok || old.Gone {
				continue
			}
			c := tick(&st.HLC, ms, st.Device)
			if m.Fields == nil {
				m.Fields = map[string]fieldMsg{}
			}
			m.Fields[f] = fieldMsg{Gone: true, C: c, Base: old.C}
			rec.Fields[f] = field{C: c, Gone: true}
		}
		if m.Fields == nil && !m.Create {
			return rec, nil
		}
		if coll == "attachments" {
			if fm, ok := m.Fields["hash"]; ok {
				m.Blob, _ = fm.V.(string)
			}
		}
	}
	st.OutN++
	m.N = st.OutN
	if err := putJSON(tx, outboxColl, outboxID(m.N), m); err != nil {
		return nil, err
	}
	return rec, saveClocks(tx, rec)
}

func outboxID(n uint64) string { return fmt.Sprintf("%020d", n) }

func clockOf(c *Clock) Clock {
	if c == nil {
		return Clock{}
	}
	return *c
}

// apply merges a message from another device into the store. It returns
// the number of conflicts it recorded.
//
// A document lives in incarnations: the first, and one more each time a
// device that has seen a delete creates the id again; an incarnation is
// named by the tombstone it follows (its epoch), and every message carries
// the epoch of the incarnation it changes. The state of a document is that
// of the latest incarnation any message named: messages of an older one
// are dropped (kept as conflicts), a message of a newer one replaces the
// local document. Within an incarnation, fields merge by last writer, and
// a tombstone ends it. None of this depends on the order messages arrive
// in, so every device ends in the same state.
func (r *Replica) apply(tx *kv.Tx, st *state, m *message) (int, error) {
	// A local edit not captured yet gets its clocks first, so that it
	// takes part in the merge instead of being overwritten.
	rec, err := r.capture(tx, st, m.Coll, m.ID, 0)
	if err != nil {
		return 0, err
	}
	for _, f := range m.Fields {
		observe(&st.HLC, f.C)
	}
	if m.Del != nil {
		observe(&st.HLC, *m.Del)
	}
	doc, err := readDoc(tx, m.Coll, m.ID)
	if err != nil {
		return 0, err
	}
	conflicts := 0
	record := func(c Conflict) error {
		c.Collection, c.ID, c.RecordedBy = m.Coll, m.ID, st.Device
		sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d\x00%s\x00%d\x00%s", m.Coll, m.ID, c.Field, c.KeptClock.T, c.KeptClock.D, c.LostClock.T, c.LostClock.D))
		c.Key = "c-" + hex.EncodeToString(sum[:12])
		conflicts++
		return putJSON(tx, conflictColl, c.Key, c)
	}

	me, le := clockOf(m.Epoch), clockOf(rec.Epoch)
	switch {
	case me.Less(le):
		// A change of an incarnation that a delete ended, and that was
		// created again since: dropped, kept as a conflict.
		for f, fm := range m.Fields {
			if err := record(Conflict{Field: f, Deleted: true, KeptClock: le, Lost: fm.V, LostGone: fm.Gone, LostClock: fm.C}); err != nil {
				return 0, err
			}
		}
		return conflicts, nil
	case le.Less(me):
		// A newer incarnation: the local one was deleted elsewhere.
		for f, lf := range rec.Fields {
			if doc != nil && !lf.Gone && rec.Del == nil {
				if err := record(Conflict{Field: f, Deleted: true, KeptClock: me, Lost: doc[f], LostClock: lf.C}); err != nil {
					return 0, err
				}
			}
		}
		rec.Epoch, rec.Del = m.Epoch, nil
		rec.Fields = map[string]field{}
		if doc != nil {
			if err := writeDoc(tx, m.Coll, m.ID, nil); err != nil {
				return 0, err
			}
			doc = nil
		}
	}

	if m.Del != nil {
		if rec.Del != nil && !rec.Del.Less(*m.Del) {
			return conflicts, saveClocks(tx, rec) // already deleted, by this or a later tombstone
		}
		// The delete wins over every edit of its incarnation it had not
		// seen: keep the lost values of fields edited after it.
		for f, lf := range rec.Fields {
			// Not seen by the delete: later than the field's clock the
			// deleting device had (or, from a device that does not say,
			// than the delete).
			unseen := m.Del.Less(lf.C)
			if m.Seen != nil {
				sc, ok := m.Seen[f]
				unseen = !ok || sc.Less(lf.C)
			}
			if lf.Gone || !unseen || doc == nil {
				continue
			}
			if err := record(Conflict{Field: f, Deleted: true, KeptClock: *m.Del, Lost: doc[f], LostClock: lf.C}); err != nil {
				return 0, err
			}
		}
		rec.Del = m.Del
		if doc != nil {
			if err := writeDoc(tx, m.Coll, m.ID, nil); err != nil {
				return 0, err
			}
		}
		return conflicts, saveClocks(tx, rec)
	}

	if rec.Del != nil {
		// An edit of an incarnation a delete ended, made before its
		// device saw the delete: the tombstone wins, the edit is kept as
		// a conflict.
		for f, fm := range m.Fields {
			if err := record(Conflict{Field: f, Deleted: true, KeptClock: *rec.Del, Lost: fm.V, LostGone: fm.Gone, LostClock: fm.C}); err != nil {
				return 0, err
			}
		}
		return conflicts, saveClocks(tx, rec)
	}
	out := map[string]any{}
	for k, v := range doc {
		out[k] = v
	}
	changed := doc == nil
	names := make([]string, 0, len(m.Fields))
	for f := range m.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		fm := m.Fields[f]
		lf, had := rec.Fields[f]
		h := ""
		if !fm.Gone {
			h = hashValue(fm.V)
		}
		same := lf.Gone == fm.Gone && lf.Hash == h
		switch {
		case had && lf.C == fm.C:
			// Seen already.
		case !had || lf.C.Less(fm.C):
			if had && lf.C != fm.Base && !same {
				if err := record(Conflict{Field: f, Kept: fm.V, KeptClock: fm.C, Lost: out[f], LostGone: lf.Gone, LostClock: lf.C}); err != nil {
					return 0, err
				}
			}
			if fm.Gone {
				delete(out, f)
			} else {
				out[f] = fm.V
			}
			rec.Fields[f] = field{C: fm.C, Hash: h, Gone: fm.Gone}
			changed = changed || !same
		default:
			// The local value is later. A value published again for a
			// new stream says nothing of what replaced it: if it was a
			// concurrent edit, its own device keeps it as a conflict
			// when this later value reaches it.
			if fm.Base != lf.C && !same && !m.Resent {
				if err := record(Conflict{Field: f, Kept: out[f], KeptClock: lf.C, Lost: fm.V, LostGone: fm.Gone, LostClock: fm.C}); err != nil {
					return 0, err
				}
			}
		}
	}
	if changed {
		if err := writeDoc(tx, m.Coll, m.ID, out); err != nil {
			return 0, err
		}
	}
	return conflicts, saveClocks(tx, rec)
}
