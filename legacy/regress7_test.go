package legacy_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/cairnkv/cairn/legacy"
)

// Regression tests of Migrate for the seventh pass over the sixth
// black-box report: each builds the old app's directory in t.TempDir().

// orphanID is the id Migrate gives bytes no attachment id names.
func orphanID(b string) string {
	sum := sha256.Sum256([]byte(b))
	return "legacy-orphan-" + hex.EncodeToString(sum[:])[:16]
}

// TestMigrate_twoFilesOfOneIDKeptApart: attachments/a7.dat and
// attachments/images/a7.png holding different bytes are two contents,
// not two copies of one: the .dat's is a7's (docs/FORMAT.md §7.6 order),
// the .png's is stored as an orphan attachment, and the report lists the
// conflict and the file.
func TestMigrate_twoFilesOfOneIDKeptApart(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"attachments/a7.dat":        base64.StdEncoding.EncodeToString([]byte("AAAA-dat-content")),
		"attachments/images/a7.png": "PNG-file-content",
		"attachments/b1.dat":        base64.StdEncoding.EncodeToString([]byte("same")),
		"attachments/files/b1.txt":  "same",
		"db/notes.json": `[{"id":"n1","content":"c","attachments":[{"id":"a7","type":"image","name":"a7.png","mimeType":"image/png","path":"attachments/images/a7.png"},` +
			`{"id":"b1","type":"file","name":"b1.txt"}]}]`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(attachmentBytes(t, db, "a7")); got != "AAAA-dat-content" {
		t.Errorf("a7 holds %q", got)
	}
	if got := string(attachmentBytes(t, db, orphanID("PNG-file-content"))); got != "PNG-file-content" {
		t.Errorf("the .png's bytes: %q", got)
	}
	if got := string(attachmentBytes(t, db, "b1")); got != "same" {
		t.Errorf("b1 holds %q", got)
	}
	if !slices.ContainsFunc(res.Report.Conflicts, func(c legacy.Conflict) bool { return c.ID == "a7" }) ||
		slices.ContainsFunc(res.Report.Conflicts, func(c legacy.Conflict) bool { return c.ID == "b1" }) {
		t.Errorf("conflicts %+v", res.Report.Conflicts)
	}
	if !slices.Contains(res.Report.OrphanFiles, "attachments/images/a7.png") {
		t.Errorf("orphan files %v", res.Report.OrphanFiles)
	}
}
