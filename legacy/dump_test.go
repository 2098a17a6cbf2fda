package legacy

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"testing"
)

// TestScan_dump prints what Scan finds in a directory: DUMP=dir go test
// ./legacy -run TestScan_dump -v. It is skipped otherwise.
func TestScan_dump(t *testing.T) {
	dir := os.Getenv("DUMP")
	if dir == "" {
		t.Skip()
	}
	ds, rep, err := Scan(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Collections {
		var ids []string
		for id, e := range ds.Collections[c] {
			ids = append(ids, id+"@"+e.Source)
		}
		sort.Strings(ids)
		if len(ids) > 0 {
			t.Logf("%s: %v", c, ids)
		}
	}
	b, _ := json.MarshalIndent(rep, "", " ")
	t.Logf("report %s", b)
	x, _ := json.Marshal(ds.Settings)
	t.Logf("settings %s ai=%v prefs=%v", x, ds.AISettings, ds.Preferences)
	var ek []string
	for k := range ds.Extras {
		ek = append(ek, k)
	}
	sort.Strings(ek)
	t.Logf("extras %v", ek)
	for _, b := range ds.Blobs {
		t.Logf("blob %+v", struct {
			IDs       []string
			Hash, Src string
			Orphan    bool
			M         string
		}{b.AttachmentIDs, b.Hash, b.Source, b.Orphan, b.MIME})
	}
}
