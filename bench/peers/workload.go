package peers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Workload mirrors the harness's workload (bench/workload.go): the same
// JSON, so the harness passes it through --workload.
type Workload struct {
	Sessions  int    `json:"sessions"`
	Seed      int64  `json:"seed"`
	Runs      int    `json:"runs"`
	Status    string `json:"status"`
	Tag       string `json:"tag"`
	Since     string `json:"since"`
	Offset    int    `json:"offset"`
	Limit     int    `json:"limit"`
	MonthFrom string `json:"month_from"`
	MonthTo   string `json:"month_to"`
	LookupTag string `json:"lookup_tag"`
	Word1     string `json:"word1"`
	Words2    string `json:"words2"`
}

// Result is one measurement of one peer (the harness's PeerResult).
type Result struct {
	Runs []float64 `json:"runs,omitempty"`
	NA   string    `json:"na,omitempty"`
	Note string    `json:"note,omitempty"`
	IDs  string    `json:"ids,omitempty"` // hash of a query's answer (the harness compares it with Cairn's)
}

// idsHash identifies a query's answer as the harness does.
func idsHash(ids []string) string {
	h := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return hex.EncodeToString(h[:6])
}

// PeerOutput is one peer's results by measurement name.
type PeerOutput struct {
	Name    string            `json:"name"`
	Note    string            `json:"note,omitempty"`
	Results map[string]Result `json:"results"`
}

// Output is what Run returns and peerbench prints.
type Output struct {
	Peers []PeerOutput `json:"peers"`
}

// sessionParts are the session fields stored as parts by Cairn and left
// out of a header.
var sessionParts = []string{"screenshots", "audioSegments", "contextItems", "summary", "audioInsights", "canvasSpec", "fullTranscription", "audioKeyMoments"}

// header returns doc without its large parts (a shallow copy).
func header(doc map[string]any) map[string]any {
	h := make(map[string]any, len(doc))
	for k, v := range doc {
		h[k] = v
	}
	for _, p := range sessionParts {
		delete(h, p)
	}
	return h
}

// summary is the listing entry of a session (Cairn's metadata summary).
func summary(doc map[string]any) map[string]any {
	s := map[string]any{}
	for _, k := range []string{"id", "name", "status", "startTime", "endTime", "tags"} {
		if v, ok := doc[k]; ok {
			s[k] = v
		}
	}
	s["screenshotCount"] = lenOf(doc["screenshots"])
	s["audioSegmentCount"] = lenOf(doc["audioSegments"])
	return s
}

func lenOf(v any) int { a, _ := v.([]any); return len(a) }

func str(doc map[string]any, f string) string { s, _ := doc[f].(string); return s }

func tagsOf(doc map[string]any) []string {
	var out []string
	if a, ok := doc["tags"].([]any); ok {
		for _, t := range a {
			if s, ok := t.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func hasTag(doc map[string]any, tag string) bool { return slices.Contains(tagsOf(doc), tag) }

// mergePatch applies an RFC 7396 merge patch to doc in place.
func mergePatch(doc, patch map[string]any) {
	for k, v := range patch {
		if v == nil {
			delete(doc, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			if dm, ok := doc[k].(map[string]any); ok {
				mergePatch(dm, pm)
				continue
			}
			nm := map[string]any{}
			mergePatch(nm, pm)
			doc[k] = nm
			continue
		}
		doc[k] = v
	}
}

// enrichmentPatch is the patch the harness applies to sessions.
func enrichmentPatch(i int) map[string]any {
	return map[string]any{
		"summary": map[string]any{"narrative": fmt.Sprintf("Enriched narrative %d: planning review of the budget and the roadmap.", i),
			"achievements": []any{"shipped the migration"}, "blockers": []any{}},
		"enrichmentStatus": map[string]any{"status": "completed", "stage": "summary", "progress": 100, "completedAt": "2025-12-31T12:00:00.000Z"},
	}
}

// memQuery answers a workload query over documents in memory: filter,
// sort (ties by id), page.
func memQuery(docs []map[string]any, match func(map[string]any) bool, sortField string, desc bool, offset, limit int) []map[string]any {
	var hits []map[string]any
	for _, d := range docs {
		if match(d) {
			hits = append(hits, d)
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if sortField != "" {
			if c := strings.Compare(str(a, sortField), str(b, sortField)); c != 0 {
				return (c < 0) != desc
			}
		}
		return str(a, "id") < str(b, "id")
	})
	if offset >= len(hits) {
		return nil
	}
	hits = hits[offset:]
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

// perOp runs fn in a loop for at least d per run (at least once), after
// one warm-up call, and returns each run's mean milliseconds per call.
func perOp(runs int, d time.Duration, fn func() error) ([]float64, error) {
	if err := fn(); err != nil {
		return nil, err
	}
	out := make([]float64, 0, runs)
	for range runs {
		n := 0
		start := time.Now()
		for n == 0 || time.Since(start) < d {
			if err := fn(); err != nil {
				return nil, err
			}
			n++
		}
		out = append(out, msOf(time.Since(start))/float64(n))
	}
	return out, nil
}

func msOf(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func jsonSize(v any) int64 {
	b, _ := json.Marshal(v)
	return int64(len(b))
}
