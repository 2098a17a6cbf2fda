package legacy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// WAL operations (docs/FORMAT.md §5.2).
const (
	OpWrite    = "write"
	OpDelete   = "delete"
	OpTxStart  = "transaction-start"
	OpTxCommit = "transaction-commit"
	OpTxAbort  = "transaction-rollback"
)

// WALEntry is one decoded line of db/wal.log.
type WALEntry struct {
	ID            string
	Timestamp     int64 // epoch ms
	Operation     string
	Collection    string // storage key, per-entity file path, or ""
	Data          any    // present on writes (HasData)
	HasData       bool
	Checksum      string
	TransactionID string
	Line          int // 1-based line number in wal.log (set by ReadWAL)

	loose     []rawValue // values of a non-object Data the decoding changed
	container []rawValue // what decoding changed in the line's object itself
}

// ParseWALLine decodes one WAL line. It requires a JSON object with a
// numeric timestamp and a known operation; errors wrap ErrCorrupt.
func ParseWALLine(line []byte) (WALEntry, error) {
	var e WALEntry
	v, err := decodeJSON(line)
	if err != nil {
		return e, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return e, corruptf("WAL line is not an object")
	}
	// Notes about a data value that is not an object went to the line,
	// and so did those about the line itself (a repeated member name).
	for _, n := range rawNotes(m) {
		p, _ := n["path"].(string)
		if rest, ok := strings.CutPrefix(p, "/data"); ok && (rest == "" || rest[0] == '/') {
			rv := noteValue(n)
			rv.path = rest
			e.loose = append(e.loose, rv)
		}
	}
	e.container = objectNotes(m)
	ts, ok := numInt64(m["timestamp"])
	if !ok {
		return e, corruptf("WAL entry without a numeric timestamp")
	}
	e.Timestamp = ts
	op, _ := m["operation"].(string)
	switch op {
	case OpWrite, OpDelete, OpTxStart, OpTxCommit, OpTxAbort:
	default:
		return e, corruptf("WAL entry with unknown operation %q", op)
	}
	e.Operation = op
	e.ID, _ = m["id"].(string)
	e.Collection, _ = m["collection"].(string)
	e.Checksum, _ = m["checksum"].(string)
	e.TransactionID, _ = m["transactionId"].(string)
	e.Data, e.HasData = m["data"]
	if op == OpWrite && !e.HasData {
		return e, corruptf("WAL write without data")
	}
	if (op == OpWrite || op == OpDelete) && e.Collection == "" {
		return e, corruptf("WAL %s without a collection", op)
	}
	return e, nil
}

// WALLineError is a WAL line that could not be decoded.
type WALLineError struct {
	Line int
	Last bool // the final line: a truncated tail, tolerated
	Err  error
	Text []byte // the line, without surrounding space (walkWAL's: valid until the next line is read)
}

// ReadWAL parses every line of a WAL. Bad lines are returned in bad, not
// as an error, so one damaged line never hides the others; a bad last
// line is the expected trace of a crash mid-rewrite. The error is only
// for read failures of r.
func ReadWAL(r io.Reader) (entries []WALEntry, bad []WALLineError, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	for {
		line, rerr := br.ReadBytes('\n')
		if len(line) > 0 {
			n++
			trimmed, last := splitWALLine(n, line, rerr)
			if len(trimmed) > 0 {
				e, perr := ParseWALLine(trimmed)
				if perr != nil {
					bad = append(bad, WALLineError{Line: n, Last: last, Err: perr})
				} else {
					e.Line = n
					entries = append(entries, e)
				}
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return entries, bad, nil
			}
			return entries, bad, rerr
		}
	}
}

// utf8BOM is the byte order mark an editor may put at the start of a
// file; the old app never wrote one.
const utf8BOM = "\xef\xbb\xbf"

// splitWALLine returns line n of a WAL without surrounding space (and, on the
// first line, without a byte order mark), and whether it is the crash's
// trace: a last line without its newline (rerr set: the end of the
// file came first). A complete line that does not decode is not one.
func splitWALLine(n int, line []byte, rerr error) (trimmed []byte, last bool) {
	if n == 1 {
		line = bytes.TrimPrefix(line, []byte(utf8BOM))
	}
	return bytes.TrimSpace(line), rerr != nil
}

// entityCollections are the array collections that have per-entity files,
// with the singular prefix the old app used (collection minus its last
// character, hence "companie").
var entityCollections = map[string]string{
	"sessions":  "session",
	"notes":     "note",
	"tasks":     "task",
	"topics":    "topic",
	"companies": "companie",
	"contacts":  "contact",
}

// NormalizeKey turns a WAL collection or a file path relative to db/ into
// a storage key: leading "db/" prefixes and a trailing ".json", ".json.gz"
// or replay-junk ".json.json"/".json.gz.json" are stripped. When the key
// names a per-entity file (<collection>/<singular>-<id>) it also returns
// the collection and id.
func NormalizeKey(p string) (key, collection, id string) {
	p = strings.TrimPrefix(p, "./")
	for strings.HasPrefix(p, "db/") {
		p = p[3:]
	}
	for _, suf := range []string{".json.gz.json", ".json.json", ".json.gz", ".json"} {
		if strings.HasSuffix(p, suf) {
			p = p[:len(p)-len(suf)]
			break
		}
	}
	key = p
	c, rest, ok := strings.Cut(p, "/")
	if !ok || strings.Contains(rest, "/") {
		return key, "", ""
	}
	singular, ok := entityCollections[c]
	if !ok || !strings.HasPrefix(rest, singular+"-") || len(rest) == len(singular)+1 {
		return key, "", ""
	}
	return key, c, rest[len(singular)+1:]
}
