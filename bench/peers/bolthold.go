package peers

import (
	"context"
	"encoding/json"
	"path/filepath"

	"github.com/cairnkv/cairn/internal/gen"
	"github.com/timshannon/bolthold"
	bolt "go.etcd.io/bbolt"
)

// bhSession is how a bolthold user stores a session: the fields queried,
// indexed with bolthold's struct tags, and the whole document.
type bhSession struct {
	ID                string
	Name              string
	Status            string `boltholdIndex:"Status"`
	StartTime         string `boltholdIndex:"StartTime"`
	EndTime           string
	Tags              []string `boltholdSliceIndex:"Tags"`
	ScreenshotCount   int
	AudioSegmentCount int
	Doc               map[string]any
}

// bhDoc is any other document.
type bhDoc struct {
	ID  string
	Doc map[string]any
}

type boltholdStore struct {
	st *bolthold.Store
}

func (s *boltholdStore) Name() string { return "bolthold" }

func (s *boltholdStore) Note() string {
	return "timshannon/bolthold on bbolt: whole document per record (JSON encoder), indexes on Status and StartTime, slice index on Tags; no full-text search"
}

func bhOpen(path string) (*bolthold.Store, error) {
	return bolthold.Open(path, 0o600, &bolthold.Options{Encoder: json.Marshal, Decoder: json.Unmarshal, Options: &bolt.Options{}})
}

func newBHSession(d map[string]any) *bhSession {
	return &bhSession{ID: str(d, "id"), Name: str(d, "name"), Status: str(d, "status"), StartTime: str(d, "startTime"),
		EndTime: str(d, "endTime"), Tags: tagsOf(d), ScreenshotCount: lenOf(d["screenshots"]), AudioSegmentCount: lenOf(d["audioSegments"]), Doc: d}
}

func (s *boltholdStore) Build(ctx context.Context, g *gen.Generator, dir string) error {
	st, err := bhOpen(filepath.Join(dir, "data.bolthold"))
	if err != nil {
		return err
	}
	defer st.Close()
	for _, coll := range gen.Collections {
		if coll == "attachments" {
			continue
		}
		n := g.Count(coll)
		const batch = 200
		for lo := 0; lo < n; lo += batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			err := st.Bolt().Update(func(tx *bolt.Tx) error {
				for i := lo; i < min(lo+batch, n); i++ {
					d, err := g.Doc(coll, i)
					if err != nil {
						return err
					}
					if coll == "sessions" {
						err = st.TxInsert(tx, str(d, "id"), newBHSession(d))
					} else {
						// One bolthold type per collection would be the
						// usual way; a collection-prefixed key keeps them
						// apart in one type here.
						err = st.TxInsert(tx, coll+"/"+str(d, "id"), &bhDoc{ID: str(d, "id"), Doc: d})
					}
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *boltholdStore) Open(dir string, forList bool) error {
	st, err := bhOpen(filepath.Join(dir, "data.bolthold"))
	if err != nil {
		return err
	}
	s.st = st
	return nil
}

func (s *boltholdStore) Close() error {
	if s.st == nil {
		return nil
	}
	err := s.st.Close()
	s.st = nil
	return err
}

// List reads every session record (bolthold decodes whole records; it has
// no projection) and builds its summary.
func (s *boltholdStore) List() (int, error) {
	n := 0
	err := s.st.ForEach(nil, func(r *bhSession) error {
		_ = summary(r.Doc)
		n++
		return nil
	})
	return n, err
}

func (s *boltholdStore) find(q *bolthold.Query) ([]string, error) {
	var res []bhSession
	if err := s.st.Find(&res, q); err != nil {
		return nil, err
	}
	ids := make([]string, len(res))
	for i, r := range res {
		_ = header(r.Doc)
		ids[i] = r.ID
	}
	return ids, nil
}

func (s *boltholdStore) Newest(n int) (int, error) {
	ids, err := s.find(bolthold.Where("StartTime").Ge("").Index("StartTime").SortBy("StartTime", "ID").Reverse().Limit(n))
	return len(ids), err
}

func (s *boltholdStore) Complex(w Workload) ([]string, error) {
	return s.find(bolthold.Where("Tags").Contains(w.Tag).Index("Tags").And("Status").Eq(w.Status).And("StartTime").Ge(w.Since).
		SortBy("StartTime").Reverse().Skip(w.Offset).Limit(w.Limit))
}

func (s *boltholdStore) Month(w Workload) ([]string, error) {
	return s.find(bolthold.Where("StartTime").Ge(w.MonthFrom).Index("StartTime").And("StartTime").Lt(w.MonthTo).SortBy("StartTime", "ID"))
}

func (s *boltholdStore) Tag(w Workload) ([]string, error) {
	return s.find(bolthold.Where("Tags").Contains(w.LookupTag).Index("Tags").SortBy("ID"))
}

func (s *boltholdStore) Search(string) (int, error) {
	return 0, errNA("bolthold has no full-text search")
}

func (s *boltholdStore) Patch(id string, patch map[string]any) error {
	var r bhSession
	if err := s.st.Get(id, &r); err != nil {
		return err
	}
	mergePatch(r.Doc, patch)
	return s.st.Update(id, newBHSession(r.Doc))
}

type bhWriter struct{ st *bolthold.Store }

func (s *boltholdStore) NewWriter(dir, src string) (writer, error) {
	st, err := bhOpen(filepath.Join(dir, "data.bolthold"))
	if err != nil {
		return nil, err
	}
	return &bhWriter{st}, nil
}

// Put inserts one note in its own bbolt transaction (one fsync'd commit).
func (w *bhWriter) Put(id string, doc map[string]any) error {
	return w.st.Upsert("notes/"+id, &bhDoc{ID: id, Doc: doc})
}

func (w *bhWriter) Close() error { return w.st.Close() }
