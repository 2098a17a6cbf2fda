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
}

func (s *sqliteStore) Name() string { return "sqlite" }

func (s *sqliteStore) Note() string {
	return "modernc.org/sqlite (pure Go): JSON TEXT + indexed columns (status, start_time, session_tags), FTS5 porter, WAL + synchronous=FULL"
}

func sqliteOpen(path string) (*sql.DB, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(60000)"
	return sql.Open("sqlite", dsn)
}

const sqliteSchema = `
CREATE TABLE sessions(id TEXT PRIMARY KEY, name TEXT, status TEXT, start_time TEXT, end_time TEXT,
	tags TEXT, screenshot_count INTEGER, audio_count INTEGER, header TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE session_tags(tag TEXT NOT NULL, session_id TEXT NOT NULL, PRIMARY KEY(tag, session_id)) WITHOUT ROWID;
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
	insT, err := tx.Prepare(`INSERT OR IGNORE INTO session_tags VALUES(?,?)`)
	if err != nil {
		return err
	}
	insD, err := tx.Prepare(`INSERT INTO docs VALUES(?,?,?)`)
	if err != nil {
		return err
	}
	insF, err := tx.Prepare(`INSERT INTO fts(coll, id, name, body, tags) VALUES(?,?,?,?,?)`)
	if err != nil {
		return err
	}
	for _, coll := range gen.Collections {
		if coll == "attachments" {
			continue
		}
		err := g.Each(coll, func(d map[string]any) error {
			id := str(d, "id")
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
				if _, err := insS.Exec(id, str(d, "name"), str(d, "status"), str(d, "startTime"), str(d, "endTime"), string(tags),
					lenOf(d["screenshots"]), lenOf(d["audioSegments"]), string(h), string(doc)); err != nil {
					return err
				}
				for _, t := range tagsOf(d) {
					if _, err := insT.Exec(t, id); err != nil {
						return err
					}
				}
			} else if _, err := insD.Exec(coll, id, string(doc)); err != nil {
				return err
			}
			name, body, tags := searchText(coll, d)
			_, err = insF.Exec(coll, id, name, body, tags)
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
	return nil
}

func (s *sqliteStore) Close() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

func (s *sqliteStore) List() (int, error) {
	rows, err := s.db.Query(`SELECT id, name, status, start_time, end_time, tags, screenshot_count, audio_count FROM sessions ORDER BY id`)
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
func (s *sqliteStore) headers(q string, args ...any) ([]string, error) {
	rows, err := s.db.Query(q, args...)
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
	ids, err := s.headers(`SELECT id, header FROM sessions ORDER BY start_time DESC, id LIMIT ?`, n)
	return len(ids), err
}

func (s *sqliteStore) Complex(w Workload) ([]string, error) {
	return s.headers(`SELECT s.id, s.header FROM session_tags t JOIN sessions s ON s.id = t.session_id
		WHERE t.tag = ? AND s.status = ? AND s.start_time >= ? ORDER BY s.start_time DESC, s.id LIMIT ? OFFSET ?`,
		w.Tag, w.Status, w.Since, w.Limit, w.Offset)
}

func (s *sqliteStore) Month(w Workload) ([]string, error) {
	return s.headers(`SELECT id, header FROM sessions WHERE start_time >= ? AND start_time < ? ORDER BY start_time, id`, w.MonthFrom, w.MonthTo)
}

func (s *sqliteStore) Tag(w Workload) ([]string, error) {
	return s.headers(`SELECT s.id, s.header FROM session_tags t JOIN sessions s ON s.id = t.session_id WHERE t.tag = ? ORDER BY s.id`, w.LookupTag)
}

func (s *sqliteStore) Search(text string) (int, error) {
	var terms []string
	for _, w := range strings.Fields(text) {
		terms = append(terms, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
	}
	rows, err := s.db.Query(`SELECT coll, id, bm25(fts, 2.0, 1.0, 1.5) AS score FROM fts WHERE fts MATCH ? ORDER BY score LIMIT 20`, strings.Join(terms, " AND "))
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
	res, err := s.db.Exec(`UPDATE sessions SET doc = json_patch(doc, ?), header = json_patch(header, ?) WHERE id = ?`, string(p), string(hp), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("sqlite: session %q not found", id)
	}
	return nil
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
