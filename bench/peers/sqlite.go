package peers

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cairnkv/cairn/internal/gen"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// sqliteStore keeps each document as JSON text beside extracted, indexed
// columns, the header in its own column, and an FTS5 table for text.
type sqliteStore struct {
	db *sql.DB
	// Prepared once at Open, as an application would.
	list, newest, complex, month, tag, search *sql.Stmt
}

func (s *sqliteStore) Name() string { return "sqlite" }

// SchemaVersion names the built database in the peer cache: a schema
// change rebuilds it.
func (s *sqliteStore) SchemaVersion() int { return 2 }

func (s *sqliteStore) Note() string {
	return "modernc.org/sqlite (pure Go): JSON TEXT + indexed columns (status, start_time, session_tags(tag, start_time, session_id)), FTS5 porter (updated on patch), WAL + synchronous=FULL, cache_size 64 MiB, mmap_size 256 MiB, prepared statements"
}

func sqliteOpen(path string) (*sql.DB, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(60000)" +
		"&_pragma=cache_size(-65536)&_pragma=mmap_size(268435456)"
	return sql.Open("sqlite", dsn)
}

const sqliteSchema = `
CREATE TABLE sessions(id TEXT PRIMARY KEY, name TEXT, status TEXT, start_time TEXT, end_time TEXT,
	tags TEXT, screenshot_count INTEGER, audio_count INTEGER, header TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE session_tags(tag TEXT NOT NULL, start_time TEXT NOT NULL, session_id TEXT NOT NULL, PRIMARY KEY(tag, start_time, session_id)) WITHOUT ROWID;
CREATE TABLE docs(coll TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY(coll, id)) WITHOUT ROWID;
CREATE VIRTUAL TABLE fts USING fts5(coll UNINDEXED, id UNINDEXED, name, body, tags, tokenize='porter');
`

const sqliteIndexes = `
CREATE INDEX sessions_status ON sessions(status);
CREATE INDEX sessions_start ON sessions(start_time);
ANALYZE;
`

func (s *sqliteStore) Build(ctx context.Context, g *gen.Generator, dir string) error {
	db, err := sqliteOpen(filepath.Join(dir, "data.sqlite"))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, sqliteSchema); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insS, err := tx.Prepare(`INSERT INTO sessions VALUES(?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	insT, err := tx.Prepare(`INSERT OR IGNORE INTO session_tags VALUES(?,?,?)`)
	if err != nil {
		return err
	}
	insD, err := tx.Prepare(`INSERT INTO docs VALUES(?,?,?)`)
	if err != nil {
		return err
	}
	// A session's full-text row has the session's rowid, so that a patch
	// can update it; other documents' rows are numbered after otherBase.
	insF, err := tx.Prepare(`INSERT INTO fts(rowid, coll, id, name, body, tags) VALUES(?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	const otherBase = 1 << 40
	other := int64(otherBase)
	for _, coll := range gen.Collections {
		if coll == "attachments" {
			continue
		}
		err := g.Each(coll, func(d map[string]any) error {
			id := str(d, "id")
			var rowid int64
			doc, err := json.Marshal(d)
			if err != nil {
				return err
			}
			if coll == "sessions" {
				h, err := json.Marshal(header(d))
				if err != nil {
					return err
				}
				tags, _ := json.Marshal(d["tags"])
				res, err := insS.Exec(id, str(d, "name"), str(d, "status"), str(d, "startTime"), str(d, "endTime"), string(tags),
					lenOf(d["screenshots"]), lenOf(d["audioSegments"]), string(h), string(doc))
				if err != nil {
					return err
				}
				if rowid, err = res.LastInsertId(); err != nil {
					return err
				}
				for _, t := range tagsOf(d) {
					if _, err := insT.Exec(t, str(d, "startTime"), id); err != nil {
						return err
					}
				}
			} else {
				if _, err := insD.Exec(coll, id, string(doc)); err != nil {
					return err
				}
				other++
				rowid = other
			}
			name, body, tags := searchText(coll, d)
			_, err = insF.Exec(rowid, coll, id, name, body, tags)
			return err
		})
		if err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, sqliteIndexes); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

func (s *sqliteStore) Open(dir string, forList bool) error {
	db, err := sqliteOpen(filepath.Join(dir, "data.sqlite"))
	if err != nil {
		return err
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return err
	}
	s.db = db
	for _, p := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&s.list, `SELECT id, name, status, start_time, end_time, tags, screenshot_count, audio_count FROM sessions ORDER BY id`},
		{&s.newest, `SELECT id, header FROM sessions ORDER BY start_time DESC, id LIMIT ?`},
		{&s.complex, `SELECT s.id, s.header FROM session_tags t JOIN sessions s ON s.id = t.session_id
		WHERE t.tag = ? AND t.start_time >= ? AND s.status = ? ORDER BY t.start_time DESC, t.session_id LIMIT ? OFFSET ?`},
		{&s.month, `SELECT id, header FROM sessions WHERE start_time >= ? AND start_time < ? ORDER BY start_time, id`},
		{&s.tag, `SELECT s.id, s.header FROM session_tags t JOIN sessions s ON s.id = t.session_id WHERE t.tag = ? ORDER BY s.id`},
		{&s.search, `SELECT coll, id, bm25(fts, 2.0, 1.0, 1.5) AS score FROM fts WHERE fts MATCH ? ORDER BY score LIMIT 20`},
	} {
		st, err := db.Prepare(p.q)
		if err != nil {
			s.Close()
			return fmt.Errorf("sqlite: prepare %q: %w", p.q, err)
		}
		*p.st = st
	}
	return nil
}

func (s *sqliteStore) Close() error {
	if s.db == nil {
		return nil
	}
	for _, st := range []*sql.Stmt{s.list, s.newest, s.complex, s.month, s.tag, s.search} {
		if st != nil {
			st.Close()
		}
	}
	err := s.db.Close()
	s.db = nil
	return err
}

func (s *sqliteStore) List() (int, error) {
	rows, err := s.list.Query()
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	var last map[string]any
	for rows.Next() {
		var id, name, status, st, et, tags string
		var sc, ac int
		if err := rows.Scan(&id, &name, &status, &st, &et, &tags, &sc, &ac); err != nil {
			return n, err
		}
		var tv []any
		if err := json.Unmarshal([]byte(tags), &tv); err != nil {
			return n, err
		}
		last = map[string]any{"id": id, "name": name, "status": status, "startTime": st, "endTime": et, "tags": tv,
			"screenshotCount": sc, "audioSegmentCount": ac}
		n++
	}
	if n > 0 && last["id"] == "" {
		return n, fmt.Errorf("sqlite: a session without id")
	}
	return n, rows.Err()
}

// headers runs a query selecting (id, header) and decodes every header.
func (s *sqliteStore) headers(q *sql.Stmt, args ...any) ([]string, error) {
	rows, err := q.Query(args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id, h string
		if err := rows.Scan(&id, &h); err != nil {
			return nil, err
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(h), &doc); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (s *sqliteStore) Newest(n int) (int, error) {
	ids, err := s.headers(s.newest, n)
	return len(ids), err
}

func (s *sqliteStore) Complex(w Workload) ([]string, error) {
	return s.headers(s.complex, w.Tag, w.Since, w.Status, w.Limit, w.Offset)
}

func (s *sqliteStore) Month(w Workload) ([]string, error) {
	return s.headers(s.month, w.MonthFrom, w.MonthTo)
}

func (s *sqliteStore) Tag(w Workload) ([]string, error) {
	return s.headers(s.tag, w.LookupTag)
}

func (s *sqliteStore) Search(text string) (int, error) {
	var terms []string
	for _, w := range strings.Fields(text) {
		terms = append(terms, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
	}
	rows, err := s.search.Query(strings.Join(terms, " AND "))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var coll, id string
		var score float64
		if err := rows.Scan(&coll, &id, &score); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

func (s *sqliteStore) Patch(id string, patch map[string]any) error {
	p, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	hp, err := json.Marshal(header(patch))
	if err != nil {
		return err
	}
	// The document, its header and its full-text row, in one durable
	// transaction, as Cairn's patch (whose index follows the change log).
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var rowid int64
	var doc string
	err = tx.QueryRow(`UPDATE sessions SET doc = json_patch(doc, ?), header = json_patch(header, ?) WHERE id = ? RETURNING rowid, doc`,
		string(p), string(hp), id).Scan(&rowid, &doc)
	if err == sql.ErrNoRows {
		return fmt.Errorf("sqlite: session %q not found", id)
	}
	if err != nil {
		return err
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return err
	}
	name, body, tags := searchText("sessions", d)
	if _, err := tx.Exec(`UPDATE fts SET name = ?, body = ?, tags = ? WHERE rowid = ?`, name, body, tags, rowid); err != nil {
		return err
	}
	return tx.Commit()
}

type sqliteWriter struct{ db *sql.DB }

func (s *sqliteStore) NewWriter(dir, src string) (writer, error) {
	db, err := sqliteOpen(filepath.Join(dir, "data.sqlite"))
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(`CREATE TABLE notes(id TEXT PRIMARY KEY, timestamp TEXT, doc TEXT NOT NULL); CREATE INDEX notes_ts ON notes(timestamp);`); err != nil {
		db.Close()
		return nil, err
	}
	// One connection: the writers queue in database/sql instead of
	// spinning on SQLITE_BUSY (SQLite has one writer at a time anyway).
	db.SetMaxOpenConns(1)
	return &sqliteWriter{db}, nil
}

func (w *sqliteWriter) Put(id string, doc map[string]any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = w.db.Exec(`INSERT OR REPLACE INTO notes VALUES(?,?,?)`, id, str(doc, "timestamp"), string(b))
	return err
}

func (w *sqliteWriter) Close() error { return w.db.Close() }
