package secondary

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnkv/cairn/buckets"
	bolt "go.etcd.io/bbolt"
)

// benchSessions is the number of sessions of the benchmark store.
const benchSessions = 10_000

var benchTags = []string{"work", "deep-work", "meeting", "email", "planning", "review", "research", "writing", "coding",
	"design", "admin", "learning", "reading", "calls", "support", "ops", "hiring", "sales", "marketing", "finance",
	"personal", "health", "travel", "family", "side-project", "oss", "infra", "security", "data", "ml"}

var benchCategories = []string{"Development", "Communication", "Research", "Design", "Admin", "Learning", "Writing", "Meetings"}

// benchSession makes a session header of about 2-3 KB of JSON, shaped like
// docs/FORMAT.md §7.2 (without its parts), starting within two years of 2024-01-01.
func benchSession(r *rand.Rand, i int) map[string]any {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(730 * 24 * time.Hour))))
	end := start.Add(time.Duration(20+r.IntN(120)) * time.Minute)
	status := "completed"
	switch x := r.IntN(100); {
	case x < 5:
		status = "active"
	case x < 15:
		status = "paused"
	case x < 30:
		status = "interrupted"
	}
	var tags []any
	for range 1 + r.IntN(4) {
		tags = append(tags, benchTags[int(float64(len(benchTags))*r.Float64()*r.Float64())])
	}
	var rels []any
	var taskIDs []any
	for j := range r.IntN(4) {
		tid := fmt.Sprintf("task-%d-%d", i, j)
		taskIDs = append(taskIDs, tid)
		rels = append(rels, map[string]any{
			"id": fmt.Sprintf("rel-%d-%d", i, j), "type": "task-session", "sourceType": "task", "sourceId": tid,
			"targetType": "session", "targetId": fmt.Sprintf("session-%06d", i), "canonical": true,
			"metadata": map[string]any{"source": "ai", "confidence": 0.8, "createdAt": end.Format(time.RFC3339Nano)},
		})
	}
	return map[string]any{
		"id": fmt.Sprintf("session-%06d", i), "name": fmt.Sprintf("Session %d: %s", i, benchCategories[i%len(benchCategories)]),
		"description": strings.Repeat("Worked on the quarterly roadmap and reviewed pull requests. ", 1+r.IntN(6)),
		"status":      status, "startTime": start.Format("2006-01-02T15:04:05.000Z"), "endTime": end.Format("2006-01-02T15:04:05.000Z"),
		"screenshotInterval": int64(2), "autoAnalysis": true, "enableScreenshots": true, "audioRecording": r.IntN(2) == 0,
		"audioMode": "transcription", "audioReviewCompleted": r.IntN(2) == 0, "tags": tags,
		"category": benchCategories[r.IntN(len(benchCategories))], "subCategory": "General", "activityType": "focus",
		"totalDuration": int64(end.Sub(start).Minutes()), "relationships": rels, "extractedTaskIds": taskIDs,
		"extractedNoteIds": []any{}, "relationshipVersion": int64(1), "version": int64(1 + r.IntN(20)),
		"enrichmentStatus": map[string]any{"status": "completed", "progress": int64(100), "currentStage": "complete",
			"audio": map[string]any{"status": "completed", "cost": 0.12}, "video": map[string]any{"status": "skipped"},
			"summary": map[string]any{"status": "completed"}, "totalCost": 0.31, "errors": []any{}, "warnings": []any{}, "canResume": false},
		"enrichmentConfig": map[string]any{"includeAudioReview": true, "includeVideoChapters": false, "autoEnrichOnComplete": true},
		"audioConfig":      map[string]any{"sourceType": "both", "balance": int64(50), "micVolume": int64(80), "systemVolume": int64(70)},
	}
}

var bench struct {
	once sync.Once
	dir  string
	db   *bolt.DB
	err  error
}

// benchDB builds the benchmark store once per test binary.
func benchDB(tb testing.TB) *bolt.DB {
	bench.once.Do(func() {
		bench.dir, bench.err = os.MkdirTemp("", "cairn-secondary-bench")
		if bench.err != nil {
			return
		}
		bench.db, bench.err = bolt.Open(filepath.Join(bench.dir, "data.db"), 0o600, &bolt.Options{NoSync: true})
		if bench.err != nil {
			return
		}
		s := &testStore{tb: tb, db: bench.db}
		r := rand.New(rand.NewPCG(1, 2))
		bench.err = bench.db.Update(func(tx *bolt.Tx) error {
			_, err := Sync(tx, nil, nil)
			return err
		})
		for i := 0; i < benchSessions && bench.err == nil; i += 1000 {
			bench.err = bench.db.Update(func(tx *bolt.Tx) error {
				for j := i; j < i+1000 && j < benchSessions; j++ {
					doc, err := buckets.Normalize(benchSession(r, j))
					if err != nil {
						return err
					}
					if err := s.putTx(tx, "sessions", fmt.Sprintf("session-%06d", j), doc); err != nil {
						return err
					}
				}
				return nil
			})
		}
	})
	if bench.err != nil {
		tb.Fatal(bench.err)
	}
	return bench.db
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.db != nil {
		bench.db.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

var benchQueries = []struct {
	name string
	q    Query
}{
	{"complex", Query{Collection: "sessions", Filters: []Filter{
		{Field: "status", Op: OpEq, Value: "completed"},
		{Field: "tags", Op: OpEq, Value: "review"},
		{Field: "startTime", Op: OpGe, Value: "2025-01-01"},
		{Field: "startTime", Op: OpLt, Value: "2025-07-01"},
	}, Sort: "startTime", Desc: true, Limit: 20, Offset: 20}},
	{"month", Query{Collection: "sessions", Filters: []Filter{
		{Field: "startTime", Op: OpGe, Value: "2025-03-01"},
		{Field: "startTime", Op: OpLt, Value: "2025-04-01"},
	}}},
	{"tag", Query{Collection: "sessions", Filters: []Filter{{Field: "tags", Op: OpEq, Value: "design"}}}},
	{"newest50", Query{Collection: "sessions", Sort: "startTime", Desc: true, Limit: 50}},
	{"in", Query{Collection: "sessions", Filters: []Filter{{Field: "status", Op: OpIn, Values: []any{"active", "paused"}}}}},
	{"or", Query{Collection: "sessions", Filters: []Filter{{Op: OpOr, Or: []Filter{
		{Field: "status", Op: OpEq, Value: "active"},
		{Field: "tags", Op: OpEq, Value: "security"},
	}}}}},
	{"or-range", Query{Collection: "sessions", Filters: []Filter{{Op: OpOr, Or: []Filter{
		{Field: "tags", Op: OpEq, Value: "oss"},
		{Field: "startTime", Op: OpGe, Value: "2025-12-01"},
	}}}, Sort: "startTime", Desc: true, Limit: 20}},
	// Served by the compound index status+startTime ("no-compound":
	// the single-field indexes intersected or walked instead).
	{"status-time-sorted", Query{Collection: "sessions", Filters: []Filter{
		{Field: "status", Op: OpEq, Value: "completed"},
		{Field: "startTime", Op: OpGe, Value: "2025-03-01"},
		{Field: "startTime", Op: OpLt, Value: "2025-05-01"},
	}, Sort: "startTime", Desc: true}},
	{"exists", Query{Collection: "sessions", Filters: []Filter{
		{Field: "tags", Op: OpEq, Value: "design"},
		{Field: "endTime", Op: OpExists},
	}}},
}

// BenchmarkQuery runs each query with the planner's choice and with the
// full-scan plan (every session header decoded) at 10,000 sessions.
func BenchmarkQuery(b *testing.B) {
	db := benchDB(b)
	for _, bq := range benchQueries {
		forces := []string{"", "full-scan"}
		if bq.name == "status-time-sorted" || bq.name == "complex" {
			forces = append(forces, forceNoCompound)
		}
		for _, force := range forces {
			name := bq.name + "/planned"
			if force != "" {
				name = bq.name + "/" + force
			}
			b.Run(name, func(b *testing.B) {
				var ex Explain
				var n int
				cpu0 := cpuTime()
				for b.Loop() {
					if err := db.View(func(tx *bolt.Tx) error {
						ids, _, e, err := run(tx, nil, bq.q, nil, force)
						ex, n = e, len(ids)
						return err
					}); err != nil {
						b.Fatal(err)
					}
				}
				if cpu := cpuTime() - cpu0; cpu > 0 {
					b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
				}
				b.ReportMetric(float64(n), "ids")
				b.ReportMetric(float64(ex.Scanned), "keys")
				b.ReportMetric(float64(ex.DocsRead), "docs")
				if force == "" && testing.Verbose() {
					b.Logf("%s: %+v", bq.name, ex)
				}
			})
		}
	}
}

// TestBenchQueries_equivalent checks on the benchmark's data that each
// benchmark query returns the same ids planned and fully scanned (skipped
// with -short).
func TestBenchQueries_equivalent(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("builds a 10,000-session store (skipped with -short and -race)")
	}
	db := benchDB(t)
	for _, bq := range benchQueries {
		if err := db.View(func(tx *bolt.Tx) error {
			a, _, ex, err := run(tx, nil, bq.q, nil, "")
			if err != nil {
				return err
			}
			want, _, _, err := run(tx, nil, bq.q, nil, "full-scan")
			if err != nil {
				return err
			}
			if fmt.Sprint(a) != fmt.Sprint(want) || len(a) == 0 {
				t.Errorf("%s: planned %v (%+v), full scan %v", bq.name, a, ex, want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkApply measures Apply for an update of a session header that
// changes its status, one tag and its end time (inside one transaction per
// iteration, without commit).
func BenchmarkApply(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "data.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(5, 6))
	docs := make([]any, 64)
	for i := range docs {
		docs[i], _ = buckets.Normalize(benchSession(r, i))
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		if _, err := Sync(tx, nil, nil); err != nil {
			return err
		}
		for i, d := range docs {
			if err := Apply(tx, mustLookup("sessions"), fmt.Sprintf("s%d", i), nil, &DocState{Doc: d, Rev: 1, Size: 2000}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	tx, err := db.Begin(true)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	i := 0
	for b.Loop() {
		j := i % len(docs)
		old := &DocState{Doc: docs[j], Rev: 1, Size: 2000}
		next := docs[(j+1)%len(docs)]
		if err := Apply(tx, mustLookup("sessions"), fmt.Sprintf("s%d", j), old, &DocState{Doc: next, Rev: 2, Size: 2000}); err != nil {
			b.Fatal(err)
		}
		docs[j] = next
		i++
	}
}
