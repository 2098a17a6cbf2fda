package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/gen"
	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// plainJSON is v as encoding/json gives it back (numbers float64), so
// that values are compared as JSON, whatever their Go types.
func plainJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWriteLegacyDir is the migration's property on the generator's
// directories: every true latest entity comes through field for field
// (the later edits of the older layouts, the clobbered legacy sessions
// restored from the older copies at their highest version, the
// attachments stored by id with every field of their metadata) and no
// deleted one comes back. The seed is random (printed); CAIRN_SEED
// replays it.
func TestWriteLegacyDir(t *testing.T) {
	seed := rand.Int64()
	if s := os.Getenv("CAIRN_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("seed %d (CAIRN_SEED=%d replays)", seed, seed)
	g := gen.New(gen.Config{Sessions: 60, Attachments: 1000, Seed: seed})
	root := filepath.Join(t.TempDir(), "appdata")
	if err := WriteLegacyDir(context.Background(), root, g); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := legacy.Migrate(context.Background(), db, root, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	edited := map[string]int{}
	for _, coll := range []string{"topics", "companies", "contacts", "notes", "tasks", "sessions", "attachments"} {
		want := 0
		for i := range g.Count(coll) {
			if coll == "attachments" && !perIDAttachment(i) {
				continue
			}
			want++
			truth := legacyTruth(g, coll, i)
			id := truth["id"].(string)
			stored, _, err := db.Get(context.Background(), coll, id)
			if err != nil {
				t.Errorf("%s %s: %v", coll, id, err)
				continue
			}
			if gen, _ := g.Doc(coll, i); !reflect.DeepEqual(truth, gen) {
				edited[coll]++
			}
			got := plainJSON(t, stored).(map[string]any)
			for f, v := range plainJSON(t, truth).(map[string]any) {
				if !reflect.DeepEqual(got[f], v) {
					t.Errorf("%s %s: %s is %v, the truth %v", coll, id, f, got[f], v)
				}
			}
		}
		if n := res.Counts[coll]; n != want {
			t.Errorf("%s: %d migrated, %d true entities", coll, n, want)
		}
	}
	_, _, deleted, _ := legacySessionEdits(g)
	if _, _, err := db.Get(context.Background(), "sessions", deleted["id"].(string)); err == nil {
		t.Errorf("deleted session %s resurrected", deleted["id"])
	}
	if edited["notes"] == 0 || edited["tasks"] == 0 || edited["sessions"] != 2 {
		t.Errorf("edited entities %v: the directory exercises less than it should", edited)
	}
	rep := res.Report
	if rep.Sources["notes"][legacy.SourceWAL] == 0 || rep.Sources["tasks"][legacy.SourcePerEntity] == 0 {
		t.Errorf("sources %v", rep.Sources)
	}
	if len(rep.Fallbacks) != 1 || rep.Fallbacks[0].Key != "sessions" || !strings.Contains(rep.Fallbacks[0].Reason, "clobbered") {
		t.Errorf("fallbacks %+v", rep.Fallbacks)
	}
	older := 0
	for _, r := range rep.Restored {
		if r.OlderCopy {
			older++
		}
	}
	if older != 1 || len(rep.OrphanAttachments) != res.Counts["attachments"] {
		t.Errorf("%d restored from an older copy, %d orphan attachments", older, len(rep.OrphanAttachments))
	}
	if len(rep.Unreadable) != 0 || len(rep.ChecksumMismatches) != 0 || len(rep.WAL.Skipped) != 0 || len(rep.Skipped) != 0 {
		t.Errorf("a clean generated directory reports problems: %+v %+v %+v %+v", rep.Unreadable, rep.ChecksumMismatches, rep.WAL.Skipped, rep.Skipped)
	}
}
