package legacy

import (
	"slices"
	"testing"
)

// Regression tests for the fourth black-box report on migrate: each
// builds the old app's directory in t.TempDir().

// TestScan_sessionIndexIsNotTheSessionsFile: db/session-index.json lists
// the chunked sessions of era G only (docs/FORMAT.md §3.4). An E–F
// per-entity session, or one in an export file, is not in it and was not
// deleted: sessions are unioned by id (§11.5), with or without the index.
func TestScan_sessionIndexIsNotTheSessionsFile(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	f.perEntity("db/sessions/session-old1.json", obj{"id": "old1", "name": "E-era", "version": 2, "updatedAt": iso(T0)}, true)
	f.js("taskerino-export-1.json", obj{"version": "1.0.0", "exportedAt": iso(T0), "sessions": arr{obj{"id": "idb1", "name": "from IndexedDB", "updatedAt": iso(T0)}}})
	f.env("db/session-index.json", arr{"g1"}, EncodingGzip, T0+500000, false)
	f.env("db/sessions/g1/metadata.json", metaG("g1", "G1", T0+400000, nil), EncodingGzip, T0+400000, false)
	ds, rep := scanDir(t, f.dir)
	if got := ids(ds)["sessions"]; !slices.Equal(got, []string{"g1", "idb1", "old1"}) {
		t.Errorf("sessions %v, want g1, idb1 and old1", got)
	}
	for _, d := range rep.NotResurrected {
		t.Errorf("reported as deleted: %+v", d)
	}
}
