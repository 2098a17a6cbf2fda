package legacy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

type walUpsert struct {
	coll, id string
	doc      map[string]any
	ts       int64
	source   string
}

// arrayCollections are keys whose payload is an array of entities.
var arrayCollections = map[string]bool{
	"sessions": true, "notes": true, "tasks": true, "topics": true,
	"companies": true, "contacts": true, "attachments": true,
}

// walkWAL calls fn for every decodable line and bad for the others.
func walkWAL(r io.Reader, fn func(WALEntry), bad func(WALLineError)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	for {
		line, rerr := br.ReadBytes('\n')
		if len(line) > 0 {
			n++
			if trimmed, last := splitWALLine(n, line, rerr); len(trimmed) > 0 {
				e, err := ParseWALLine(trimmed)
				if err != nil {
					bad(WALLineError{Line: n, Last: last, Err: err, Text: trimmed})
				} else {
					e.Line = n
					fn(e)
				}
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return nil
			}
			return rerr
		}
	}
}

// readWAL replays db/wal.log by the rules of docs/FORMAT.md §5.4. Pass one
// learns which transactions committed; pass two keeps, per key, only the
// newest whole-key write, plus entity upserts and deletes, so memory is
// bounded by one version per key.
func (s *scanner) readWAL() error {
	w := &s.rep.WAL
	if s.ckptPath != "" {
		b, err := s.readFile(s.ckptPath)
		s.noteDenied(s.ckptPath, err)
		if err == nil {
			if ms, perr := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); perr == nil {
				w.Checkpoint = ms
				s.seen(ms)
			} else {
				s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: s.ckptPath, Error: "not a decimal timestamp"})
			}
		}
	}
	if s.walPath == "" {
		return nil
	}
	w.Present = true
	committed, rolledBack := map[string]bool{}, map[string]bool{}
	pass := func(fn func(WALEntry), bad func(WALLineError)) error {
		f, err := os.Open(s.abs(s.walPath))
		if err != nil {
			return err
		}
		defer f.Close()
		return walkWAL(f, fn, bad)
	}
	err := pass(func(e WALEntry) {
		w.Entries++
		s.keepContainerRaw(fmt.Sprintf("%s#L%d", s.walPath, e.Line), e.container)
		switch e.Operation {
		case OpTxCommit:
			committed[e.TransactionID] = true
		case OpTxAbort:
			rolledBack[e.TransactionID] = true
		}
	}, func(le WALLineError) {
		reason := "undecodable line: " + le.Err.Error()
		if le.Last {
			reason = "truncated last line (tolerated): " + le.Err.Error()
		}
		// Whatever the line holds is kept: a write the app made in a
		// shape this reader refuses is still the user's data.
		key := fmt.Sprintf("wal-skipped:%s#L%d", s.walPath, le.Line)
		s.keepBytes(key, map[string]any{"path": s.walPath, "line": le.Line, "reason": reason}, le.Text)
		w.Skipped = append(w.Skipped, WALSkip{Line: le.Line, Reason: reason + "; the line is kept in extras " + key})
	})
	if err != nil {
		s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: s.walPath, Error: err.Error()})
		return nil
	}
	err = pass(func(e WALEntry) {
		if e.Operation != OpWrite && e.Operation != OpDelete {
			return
		}
		s.seen(e.Timestamp)
		skip := func(reason string) {
			w.Skipped = append(w.Skipped, WALSkip{Line: e.Line, ID: e.ID, TransactionID: e.TransactionID, Reason: reason})
		}
		switch {
		case w.Checkpoint > 0 && e.Timestamp <= w.Checkpoint:
			skip("at or before checkpoint")
			return
		case e.TransactionID != "" && rolledBack[e.TransactionID]:
			skip("transaction rolled back")
			return
		case e.TransactionID != "" && !committed[e.TransactionID]:
			skip("transaction never committed")
			return
		}
		if reason := s.applyWAL(e); reason != "" {
			skip(reason)
			return
		}
		w.Replayed++
	}, func(WALLineError) {})
	if err != nil {
		s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: s.walPath, Error: err.Error()})
	}
	return nil
}

// applyWAL turns one committed entry into candidates. It returns a skip
// reason, or "".
func (s *scanner) applyWAL(e WALEntry) string {
	source := fmt.Sprintf("%s#L%d", s.walPath, e.Line)
	key, coll, fileID := NormalizeKey(e.Collection)
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains("/"+key+"/", "/../") {
		return "unusable collection " + strconvQuote(e.Collection)
	}
	if coll != "" {
		if e.Operation == OpDelete {
			if s.walDeletes[coll] == nil {
				s.walDeletes[coll] = map[string][]walUpsert{}
			}
			s.walDeletes[coll][fileID] = append(s.walDeletes[coll][fileID], walUpsert{coll: coll, id: fileID, ts: e.Timestamp, source: source})
			return ""
		}
		return s.walEntity(coll, e, source)
	}
	if arrayCollections[key] && e.Operation == OpWrite {
		if m, ok := e.Data.(map[string]any); ok {
			if isArraySpread(m) {
				return s.walSpread(key, m, e, source)
			}
			if _, has := m["id"]; has {
				return s.walEntity(key, e, source)
			}
			return "object without id written to array collection " + key
		}
		if _, ok := e.Data.([]any); !ok {
			return "payload of " + key + " is " + kindOf(e.Data) + ", not an array"
		}
	}
	v := &keyVersion{data: e.Data, kind: SourceWAL, source: source, time: s.plausibleTime(source, e.Timestamp), seq: s.nextSeq(), deleted: e.Operation == OpDelete, loose: e.loose,
		wal: &WALSkip{Line: e.Line, ID: e.ID, TransactionID: e.TransactionID}}
	old := s.walKeys[key]
	switch {
	case len(old) == 0:
		s.walKeys[key] = []*keyVersion{v}
	case newerKey(v, old[0]):
		s.walKeys[key] = []*keyVersion{v}
		s.supersede(old[0], fmt.Sprintf("superseded by line %d, a later write of the same key", e.Line))
	default:
		return fmt.Sprintf("superseded by line %d, a later write of the same key", old[0].wal.Line)
	}
	s.noteSessionFile(key)
	return ""
}

func (s *scanner) walEntity(coll string, e WALEntry, source string) string {
	m, ok := e.Data.(map[string]any)
	if !ok {
		return "entity payload is " + kindOf(e.Data)
	}
	if isArraySpread(m) {
		return s.walSpread(coll, m, e, source)
	}
	id, err := CheckID(m["id"])
	if err != nil {
		s.rep.InvalidIDs = append(s.rep.InvalidIDs, InvalidEntity{Collection: coll, Source: source, Index: -1, Reason: err.Error()})
		return "entity without usable id"
	}
	s.walUpserts = append(s.walUpserts, walUpsert{coll: coll, id: id, doc: m, ts: e.Timestamp, source: source})
	return ""
}

// walSpread replays a write of an array spread into an object (the G+
// relationshipManager's junk, docs/FORMAT.md §3.3): not one entity but a
// snapshot of the whole collection coll, so each of its entities is an
// upsert of the entry's time (§5.4), as an entity write is.
func (s *scanner) walSpread(coll string, m map[string]any, e WALEntry, source string) string {
	s.rep.JunkSkipped = append(s.rep.JunkSkipped, source)
	_, docs := spreadEntities(m)
	n := 0
	for _, d := range docs {
		id, err := CheckID(d["id"])
		if err != nil || isArraySpread(d) {
			continue
		}
		s.walUpserts = append(s.walUpserts, walUpsert{coll: coll, id: id, doc: d, ts: e.Timestamp, source: source})
		n++
	}
	if n == 0 {
		return "array spread into an object (junk) holding no entity"
	}
	return ""
}

func strconvQuote(s string) string { return strconv.Quote(s) }
