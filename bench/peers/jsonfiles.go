package peers

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cairnkv/cairn/internal/gen"
)

// jsonStore is the old app's approach: one JSON array per collection,
// loaded whole at startup, queried in memory, and rewritten whole on
// every save.
type jsonStore struct {
	dir      string
	sessions []map[string]any
	byID     map[string]map[string]any
	text     []searchDoc // lowercased text of every document, built at load
}

type searchDoc struct {
	coll, id, text string
}

func (s *jsonStore) Name() string { return "jsonfiles" }

func (s *jsonStore) Note() string {
	return "the old app's approach: one JSON array per collection, loaded whole, filtered in memory, rewritten whole (fsync'd) on every save"
}

func (s *jsonStore) Build(ctx context.Context, g *gen.Generator, dir string) error {
	for _, coll := range gen.Collections {
		if coll == "attachments" {
			continue
		}
		var arr []map[string]any
		if err := g.Each(coll, func(d map[string]any) error { arr = append(arr, d); return nil }); err != nil {
			return err
		}
		b, err := json.Marshal(arr)
		if err != nil {
			return err
		}
		if err := writeFileDurable(filepath.Join(dir, coll+".json"), b); err != nil {
			return err
		}
	}
	return nil
}

func loadArray(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var arr []map[string]any
	return arr, json.Unmarshal(b, &arr)
}

// Open loads sessions.json (the listing needs nothing else); a full open
// also loads the other collections for search and builds the lowercased
// text the in-memory search scans.
func (s *jsonStore) Open(dir string, forList bool) error {
	s.dir = dir
	var err error
	if s.sessions, err = loadArray(filepath.Join(dir, "sessions.json")); err != nil {
		return err
	}
	s.byID = make(map[string]map[string]any, len(s.sessions))
	for _, d := range s.sessions {
		s.byID[str(d, "id")] = d
	}
	if forList {
		return nil
	}
	s.text = nil
	for _, coll := range searchColls {
		docs := s.sessions
		if coll != "sessions" {
			if docs, err = loadArray(filepath.Join(dir, coll+".json")); err != nil {
				return err
			}
		}
		for _, d := range docs {
			name, body, tags := searchText(coll, d)
			s.text = append(s.text, searchDoc{coll, str(d, "id"), strings.ToLower(name + "\n" + body + "\n" + tags)})
		}
	}
	return nil
}

func (s *jsonStore) Close() error {
	s.sessions, s.byID, s.text = nil, nil, nil
	return nil
}

func (s *jsonStore) List() (int, error) {
	n := 0
	for _, d := range s.sessions {
		_ = summary(d)
		n++
	}
	return n, nil
}

func ids(docs []map[string]any) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		_ = header(d)
		out[i] = str(d, "id")
	}
	return out
}

func (s *jsonStore) Newest(n int) (int, error) {
	return len(ids(memQuery(s.sessions, func(map[string]any) bool { return true }, "startTime", true, 0, n))), nil
}

func (s *jsonStore) Complex(w Workload) ([]string, error) {
	return ids(memQuery(s.sessions, func(d map[string]any) bool {
		return str(d, "status") == w.Status && hasTag(d, w.Tag) && str(d, "startTime") >= w.Since
	}, "startTime", true, w.Offset, w.Limit)), nil
}

func (s *jsonStore) Month(w Workload) ([]string, error) {
	return ids(memQuery(s.sessions, func(d map[string]any) bool {
		t := str(d, "startTime")
		return t >= w.MonthFrom && t < w.MonthTo
	}, "startTime", false, 0, 0)), nil
}

func (s *jsonStore) Tag(w Workload) ([]string, error) {
	return ids(memQuery(s.sessions, func(d map[string]any) bool { return hasTag(d, w.LookupTag) }, "", false, 0, 0)), nil
}

// Search scans the lowercased text of every document for every word
// (substring match, no stemming, no ranking: the first 20 in load order).
func (s *jsonStore) Search(text string) (int, error) {
	words := strings.Fields(strings.ToLower(text))
	n := 0
	for _, d := range s.text {
		ok := true
		for _, w := range words {
			if !strings.Contains(d.text, w) {
				ok = false
				break
			}
		}
		if ok {
			n++
		}
	}
	return min(n, 20), nil
}

// Patch changes the session in memory and rewrites sessions.json.
func (s *jsonStore) Patch(id string, patch map[string]any) error {
	d, ok := s.byID[id]
	if !ok {
		return os.ErrNotExist
	}
	mergePatch(d, patch)
	b, err := json.Marshal(s.sessions)
	if err != nil {
		return err
	}
	return writeFileDurable(filepath.Join(s.dir, "sessions.json"), b)
}

// jsonWriter holds notes.json in memory; each Put rewrites it whole.
type jsonWriter struct {
	mu    sync.Mutex
	path  string
	notes []map[string]any
}

func (s *jsonStore) NewWriter(dir, src string) (writer, error) {
	notes, err := loadArray(filepath.Join(src, "notes.json"))
	if err != nil {
		return nil, err
	}
	return &jsonWriter{path: filepath.Join(dir, "notes.json"), notes: notes}, nil
}

func (w *jsonWriter) Put(id string, doc map[string]any) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.notes = append(w.notes, doc)
	b, err := json.Marshal(w.notes)
	if err != nil {
		return err
	}
	return writeFileDurable(w.path, b)
}

func (w *jsonWriter) Close() error { return nil }
