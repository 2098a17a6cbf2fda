package gen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// small is a dataset small enough for every test to walk it whole; tiny
// one for the tests that marshal every document more than once.
var (
	small = Config{Sessions: 200, Seed: 42, LargeEvery: 150, AttachmentSize: 512}
	tiny  = Config{Sessions: 60, Seed: 42, LargeEvery: 50, AttachmentSize: 256}
)

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// all returns every document of every collection of cfg.
func all(t testing.TB, g *Generator) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, c := range Collections {
		if err := g.Each(c, func(doc map[string]any) error {
			out[c] = append(out[c], doc)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestGenerator_deterministic(t *testing.T) {
	a, b := New(tiny), New(tiny)
	for _, c := range Collections {
		var i int
		err := a.Each(c, func(doc map[string]any) error {
			other, err := b.Doc(c, i)
			if err != nil {
				return err
			}
			if x, y := mustJSON(t, doc), mustJSON(t, other); !bytes.Equal(x, y) {
				return fmt.Errorf("%s %d: Each and Doc differ", c, i)
			}
			i++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if x, y := mustJSON(t, a.Settings()), mustJSON(t, b.Settings()); !bytes.Equal(x, y) {
		t.Fatal("Settings differ")
	}
	if !bytes.Equal(a.AttachmentContent(7), b.AttachmentContent(7)) {
		t.Fatal("AttachmentContent differs")
	}

	other := tiny
	other.Seed++
	c := New(other)
	for _, coll := range Collections {
		x, _ := a.Doc(coll, 0)
		y, _ := c.Doc(coll, 0)
		if bytes.Equal(mustJSON(t, x), mustJSON(t, y)) {
			t.Errorf("%s 0: same document for seeds %d and %d", coll, tiny.Seed, other.Seed)
		}
	}
}

func TestGenerator_concurrent(t *testing.T) {
	g := New(small)
	want := make([][]byte, 40)
	for i := range want {
		want[i] = mustJSON(t, g.Session(i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for k := range want {
				i := (k + w*10) % len(want)
				got, err := json.Marshal(g.Session(i))
				if err != nil || !bytes.Equal(got, want[i]) {
					errs <- fmt.Errorf("session %d differs when built concurrently", i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestGenerator_idsAndRoundTrip(t *testing.T) {
	g := New(tiny)
	for c, list := range all(t, g) {
		for i, doc := range list {
			id, ok := doc["id"].(string)
			if !ok || len(id) < 1 || len(id) > 256 {
				t.Fatalf("%s %d: bad id %#v", c, i, doc["id"])
			}
			if g.ID(c, i) != id {
				t.Fatalf("%s %d: ID() = %s, doc id %s", c, i, g.ID(c, i), id)
			}
			var back map[string]any
			if err := json.Unmarshal(mustJSON(t, doc), &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, doc) {
				t.Fatalf("%s %d: not equal after a JSON round trip (a non-JSON value type?)", c, i)
			}
		}
	}
	var back map[string]any
	s := g.Settings()
	if err := json.Unmarshal(mustJSON(t, s), &back); err != nil || !reflect.DeepEqual(back, s) {
		t.Fatal("Settings not equal after a JSON round trip")
	}
	if g.ID("nope", 0) != "" || g.ID("sessions", -1) != "" || g.ID("sessions", tiny.Sessions) != "" {
		t.Fatal("ID out of range should be empty")
	}
}

// Ids are unique within each collection of the default dataset.
func TestGenerator_uniqueIDs(t *testing.T) {
	g := New(Config{})
	for _, c := range Collections {
		n := g.Count(c)
		seen := make(map[string]struct{}, n)
		for i := range n {
			id := g.ID(c, i)
			if _, dup := seen[id]; dup || len(id) == 0 || len(id) > 256 {
				t.Fatalf("%s %d: id %q duplicate or bad", c, i, id)
			}
			seen[id] = struct{}{}
		}
	}
}

// The suffix permutation must never collide, well past the default sizes.
func TestPermute46_bijective(t *testing.T) {
	seen := make(map[uint64]struct{}, 1<<18)
	for i := range uint64(1 << 18) {
		v := permute46(i, 0x1234567)
		if v > mask46 {
			t.Fatalf("permute46(%d) = %d out of range", i, v)
		}
		if _, dup := seen[v]; dup {
			t.Fatalf("permute46 collision at %d", i)
		}
		seen[v] = struct{}{}
	}
}

var typeColl = map[string]string{
	"topic": "topics", "company": "companies", "contact": "contacts", "note": "notes",
	"task": "tasks", "session": "sessions", "file": "attachments",
}

func TestGenerator_referentialIntegrity(t *testing.T) {
	g := New(small)
	docs := all(t, g)
	ids := map[string]map[string]map[string]any{}
	for c, list := range docs {
		ids[c] = map[string]map[string]any{}
		for _, d := range list {
			ids[c][d["id"].(string)] = d
		}
	}
	ref := func(where, coll string, v any) {
		t.Helper()
		id, ok := v.(string)
		if !ok || ids[coll][id] == nil {
			t.Errorf("%s: %v is not a %s id", where, v, coll)
		}
	}
	relCount := 0
	for c, list := range docs {
		for _, d := range list {
			id := d["id"].(string)
			where := c + " " + id
			rels, _ := d["relationships"].([]any)
			for _, x := range rels {
				relCount++
				r := x.(map[string]any)
				if r["sourceId"] != id || typeColl[r["sourceType"].(string)] != c {
					t.Errorf("%s: relationship source %v/%v is not the document", where, r["sourceType"], r["sourceId"])
				}
				ref(where+" relationship", typeColl[r["targetType"].(string)], r["targetId"])
				// A two-sided link must be stored on both sides with one id.
				if r["type"] == "note-session" || r["type"] == "task-session" {
					other := ids[typeColl[r["targetType"].(string)]][r["targetId"].(string)]
					found := false
					for _, y := range other["relationships"].([]any) {
						o := y.(map[string]any)
						found = found || (o["id"] == r["id"] && o["targetId"] == id && o["canonical"] != r["canonical"])
					}
					if !found {
						t.Errorf("%s: %s relationship %v has no mirror on %v", where, r["type"], r["id"], r["targetId"])
					}
				}
			}
			for key, coll := range map[string]string{
				"parentNoteId": "notes", "trackingNoteId": "notes", "sourceNoteId": "notes",
				"sourceSessionId": "sessions", "topicId": "topics",
			} {
				if v, ok := d[key]; ok {
					ref(where+" "+key, coll, v)
				}
			}
			for key, coll := range map[string]string{
				"extractedNoteIds": "notes", "extractedTaskIds": "tasks", "companyIds": "companies",
			} {
				list, _ := d[key].([]any)
				for _, v := range list {
					ref(where+" "+key, coll, v)
				}
			}
			if ai, ok := d["aiContext"].(map[string]any); ok {
				ref(where+" aiContext", "notes", ai["sourceNoteId"])
			}
			if p, ok := d["profile"].(map[string]any); ok && p["companyId"] != nil {
				ref(where+" profile.companyId", "companies", p["companyId"])
			}
		}
	}
	if relCount < len(docs["sessions"]) {
		t.Fatalf("only %d relationships", relCount)
	}
	s := g.Settings()
	for _, v := range s["ui"].(map[string]any)["pinnedNotes"].([]any) {
		ref("settings pinnedNotes", "notes", v)
	}
	if v, ok := s["activeSessionId"]; ok {
		ref("settings activeSessionId", "sessions", v)
		if ids["sessions"][v.(string)]["status"] != "active" {
			t.Error("activeSessionId names a session that is not active")
		}
	}
}

// walk calls fn for every string in v with the key it is stored under.
func walk(v any, key string, fn func(key, s string)) {
	switch x := v.(type) {
	case string:
		fn(key, x)
	case map[string]any:
		for k, y := range x {
			walk(y, k, fn)
		}
	case []any:
		for _, y := range x {
			walk(y, key, fn)
		}
	}
}

var timeKeys = map[string]bool{
	"startTime": true, "endTime": true, "timestamp": true, "createdAt": true, "lastUpdated": true,
	"completedAt": true, "startedAt": true, "processedAt": true, "lastScreenshotTime": true,
	"pausedAt": true, "enrichedAt": true, "dueDate": true, "grantedAt": true, "lastReinforced": true,
	"lastActiveDate": true, "start": true, "end": true,
}

func TestGenerator_timestamps(t *testing.T) {
	g := New(small)
	lo, hi := TimeSpan()
	n := 0
	check := func(where string, doc map[string]any) {
		walk(doc, "", func(key, s string) {
			if !timeKeys[key] {
				return
			}
			n++
			if key == "dueDate" && len(s) == 10 {
				if _, err := time.Parse(time.DateOnly, s); err != nil {
					t.Errorf("%s %s: %v", where, key, err)
				}
				return
			}
			ts, err := time.Parse(time.RFC3339, s)
			if err != nil || len(s) != len(isoLayout) || !strings.HasSuffix(s, "Z") {
				t.Errorf("%s %s: %q is not an ISO-8601 UTC time with ms: %v", where, key, s, err)
				return
			}
			if key != "dueDate" && (ts.Before(lo) || !ts.Before(hi)) {
				t.Errorf("%s %s: %s outside %s..%s", where, key, s, lo, hi)
			}
		})
	}
	for c, list := range all(t, g) {
		for i, d := range list {
			check(fmt.Sprintf("%s %d", c, i), d)
		}
	}
	check("settings", g.Settings())
	if n < 10000 {
		t.Fatalf("only %d timestamps checked", n)
	}
}

func TestGenerator_sessionSizes(t *testing.T) {
	g := New(Config{}) // the default 10,000-session dataset
	total := 0
	const n = 200
	for i := range n {
		total += len(mustJSON(t, g.Session(i)))
	}
	avg := total / n
	t.Logf("average session JSON over %d sessions: %d bytes", n, avg)
	if avg < 20_000 || avg > 40_000 {
		t.Errorf("average session is %d bytes of JSON, want 20-40 KB", avg)
	}
	large := g.Session(DefaultLargeEvery - 1)
	size := len(mustJSON(t, large))
	t.Logf("large session %d: %d bytes", DefaultLargeEvery-1, size)
	if size < 1_000_000 || size > 2_000_000 {
		t.Errorf("large session is %d bytes of JSON, want 1-2 MB", size)
	}
	if got := len(large["screenshots"].([]any)); got != 120 {
		t.Errorf("large session has %d screenshots, want 120", got)
	}
	if got := len(large["audioSegments"].([]any)); got != 40 {
		t.Errorf("large session has %d audio segments, want 40", got)
	}
	if !g.isLarge(2*DefaultLargeEvery-1) || g.isLarge(DefaultLargeEvery) {
		t.Error("wrong sessions are large")
	}
}

func TestCounts(t *testing.T) {
	if got, want := Counts(Config{}), map[string]int{
		"sessions": 10000, "notes": 20000, "tasks": 20000, "topics": 200,
		"companies": 250, "contacts": 500, "attachments": 30000,
	}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Counts(Config{}) = %v, want %v", got, want)
	}
	for _, cfg := range []Config{
		{Sessions: 3},
		{Sessions: 7, Notes: -1, Tasks: 5, Topics: -1, Companies: -1, Contacts: -1, Attachments: 2},
		{Sessions: -1, Notes: 4},
		{Sessions: 60, LargeEvery: -1},
	} {
		g := New(cfg)
		for c, want := range Counts(cfg) {
			got := 0
			if err := g.Each(c, func(map[string]any) error { got++; return nil }); err != nil {
				t.Fatal(err)
			}
			if got != want || g.Count(c) != want {
				t.Errorf("%+v %s: Each gave %d, Count %d, Counts %d", cfg, c, got, g.Count(c), want)
			}
		}
		_ = g.Settings()
	}
	if c := (Config{}).WithDefaults(); c != c.WithDefaults() {
		t.Fatal("WithDefaults is not idempotent")
	}
	if c := (Config{Notes: -1}).WithDefaults(); c != c.WithDefaults() {
		t.Fatal("WithDefaults is not idempotent for negative counts")
	}
}

func TestGenerator_errors(t *testing.T) {
	g := New(Config{Sessions: 10})
	stop := errors.New("stop")
	n := 0
	if err := g.Each("notes", func(map[string]any) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("Each did not stop: err %v after %d docs", err, n)
	}
	if err := g.Each("widgets", nil); !errors.Is(err, ErrUnknownCollection) {
		t.Fatalf("Each(widgets) = %v", err)
	}
	if _, err := g.Doc("widgets", 0); !errors.Is(err, ErrUnknownCollection) {
		t.Fatalf("Doc(widgets) = %v", err)
	}
	if _, err := g.Doc("sessions", 10); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("Doc(sessions, 10) = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Session(-1) did not panic")
		}
	}()
	g.Session(-1)
}

func TestTagSelectivity(t *testing.T) {
	sum := 0.0
	for _, tag := range Tags {
		sum += TagSelectivity(tag)
	}
	extras := 0.0
	for k, w := range tagCountWeights {
		extras += float64(k+1) * w
	}
	if math.Abs(sum-extras) > 1e-9 {
		t.Fatalf("selectivities sum to %v, want the mean tag count %v", sum, extras)
	}
	if TagSelectivity("no-such-tag") != 0 {
		t.Fatal("unknown tag has selectivity")
	}
	for k := 1; k < len(Tags); k++ {
		if TagSelectivity(Tags[k]) > TagSelectivity(Tags[k-1]) {
			t.Fatalf("Tags not ordered by frequency at %d", k)
		}
	}

	// Empirical frequencies over many draws match the formula.
	g := New(small)
	b := g.newBuilder(collNotes, streamBody, 0)
	const draws = 200_000
	counts := map[string]int{}
	for range draws {
		tags := b.tags()
		if len(tags) < 1 || len(tags) > 4 {
			t.Fatalf("%d tags", len(tags))
		}
		seen := map[any]bool{}
		for _, x := range tags {
			if seen[x] {
				t.Fatalf("duplicate tag in %v", tags)
			}
			seen[x] = true
			counts[x.(string)]++
		}
	}
	for _, tag := range Tags {
		want := TagSelectivity(tag)
		got := float64(counts[tag]) / draws
		if tol := 5*math.Sqrt(want*(1-want)/draws) + 1e-4; math.Abs(got-want) > tol {
			t.Errorf("tag %s: frequency %.4f, TagSelectivity %.4f", tag, got, want)
		}
	}

	// And the documents carry them.
	for _, c := range []string{"sessions", "notes", "tasks"} {
		d, _ := g.Doc(c, 3)
		tags, ok := d["tags"].([]any)
		if !ok || len(tags) == 0 || TagSelectivity(tags[0].(string)) == 0 {
			t.Errorf("%s 3: tags %v", c, d["tags"])
		}
	}
}

func TestGenerator_attachments(t *testing.T) {
	cfg := Config{Sessions: 400, AttachmentSize: 256}
	g := New(cfg)
	n := g.Count("attachments")
	dups := 0
	byOrigin := map[int]string{}
	for i := range n {
		doc := g.Attachment(i)
		data := g.AttachmentContent(i)
		sum := sha256.Sum256(data)
		if doc["hash"] != hex.EncodeToString(sum[:]) {
			t.Fatalf("attachment %d: hash is not sha256 of the content", i)
		}
		if doc["size"] != float64(len(data)) {
			t.Fatalf("attachment %d: size %v, content %d bytes", i, doc["size"], len(data))
		}
		if len(data) < 128 || len(data) >= 384 {
			t.Fatalf("attachment %d: %d bytes, want [128, 384)", i, len(data))
		}
		o := g.AttachmentOrigin(i)
		if o > i {
			t.Fatalf("attachment %d: origin %d is later", i, o)
		}
		if o != i {
			dups++
		}
		if h, ok := byOrigin[o]; ok && h != doc["hash"] {
			t.Fatalf("attachment %d: same origin, different content", i)
		}
		byOrigin[o] = doc["hash"].(string)
	}
	hashes := map[string]bool{}
	for _, h := range byOrigin {
		if hashes[h] {
			t.Fatal("two origins with the same content")
		}
		hashes[h] = true
	}
	frac := float64(dups) / float64(n)
	t.Logf("%d of %d attachments are duplicates (%.1f%%)", dups, n, 100*frac)
	if frac < 0.3 || frac > 0.5 {
		t.Errorf("duplicate fraction %.2f, want 0.3-0.5", frac)
	}
}

func TestGenerator_searchWords(t *testing.T) {
	g := New(small)
	words := map[string]bool{}
	add := func(doc map[string]any) error {
		walk(doc, "", func(_, s string) {
			for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') }) {
				words[strings.ToLower(w)] = true
			}
		})
		return nil
	}
	for _, c := range []string{"notes", "tasks", "sessions"} {
		if err := g.Each(c, add); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range SearchWords {
		if !words[w] {
			t.Errorf("search word %q never occurs", w)
		}
	}
	if len(words) < 200 {
		t.Errorf("only %d distinct words", len(words))
	}
}

func TestGenerator_vocabularyCopies(t *testing.T) {
	g := New(small)
	before := mustJSON(t, g.Session(1))
	saved := Tags[0]
	Tags[0] = "mutated"
	defer func() { Tags[0] = saved }()
	if !bytes.Equal(before, mustJSON(t, g.Session(1))) {
		t.Fatal("changing the exported Tags changed the output")
	}
}
