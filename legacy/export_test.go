package legacy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

func TestReadExport(t *testing.T) {
	tests := []struct {
		name, in string
		wantErr  string // exact error text, "" for success
	}{
		{"1.0.0", `{"topics":[{"id":"t"}],"companies":[],"contacts":[],"notes":[],"tasks":[],"sessions":[{"id":"s","n":1.50}],"aiSettings":{},"preferences":{},"exportedAt":"2025-10-16T00:00:00.000Z","version":"1.0.0","appVersion":"0.5.1"}`, ""},
		{"old shape", `{"topics":[],"notes":[{"id":"n"}],"tasks":[],"aiSettings":{"systemInstructions":""},"preferences":{},"exportedAt":"2025-10-16T00:00:00.000Z"}`, ""},
		{"extra keys and null arrays", `{"notes":null,"custom":{"a":1},"settings":{"ui":{}},"extras":{"k":1},"attachments":[{"id":"a"}],"version":"1.0.0","exportedAt":"x"}`, ""},
		{"missing id", `{"sessions":[{"id":"a"},{"id":"b"},{"id":"c"},{"name":"x"}],"version":"1.0.0","exportedAt":"x"}`,
			`legacy: export: sessions[3].id: missing (byte 46)`},
		{"bad id", `{"notes":[{"id":""}]}`, `legacy: export: notes[0].id: legacy: bad entity id: empty (byte 10)`},
		{"not an object element", `{"tasks":[1]}`, `legacy: export: tasks[0]: a number, want an object (byte 10)`},
		{"not an array", `{"tasks":{}}`, `legacy: export: tasks: not an array (byte 9)`},
		{"wrong version", `{"version":"2.0.0","exportedAt":"x"}`, `legacy: export: version: unsupported version "2.0.0", want "1.0.0" (byte 11)`},
		{"version without exportedAt", `{"version":"1.0.0"}`, `legacy: export: exportedAt: missing (byte 19)`},
		{"truncated", `{"notes":[{"id":"n1"},{"id":`, `legacy: export: notes[1].id: unexpected end of input (truncated?) where a value should be (byte 28)`},
		{"top-level array", `[]`, `legacy: export: not a JSON object (byte 0)`},
		{"trailing data", `{} {}`, `legacy: export: data after the top-level object (byte 3)`},
		{"settings not object", `{"settings":[1]}`, `legacy: export: settings: an array, want an object (byte 12)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := ReadExport(strings.NewReader(tt.in))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if x == nil {
					t.Fatal("nil export")
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", x)
			}
			if !errors.Is(err, ErrInvalidExport) || err.Error() != tt.wantErr {
				t.Fatalf("err = %q, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadExport_syntaxError(t *testing.T) {
	_, err := ReadExport(strings.NewReader(`{"notes":[{"id":"n1"} x]}`))
	var ee *ExportError
	if !errors.As(err, &ee) || ee.Path != "notes" || ee.Offset != 22 {
		t.Fatalf("err = %v", err)
	}
}

func TestReadExport_keepsExtras(t *testing.T) {
	x, err := ReadExport(strings.NewReader(`{"notes":[{"id":"n","zz":{"deep":[1,2.0]}}],"custom":{"a":1},"appVersion":"0.5.1","version":"1.0.0","exportedAt":"2025-10-16T00:00:00.000Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !equalJSON(x.Unknown, map[string]any{"custom": map[string]any{"a": json.Number("1")}}) {
		t.Errorf("unknown %v", x.Unknown)
	}
	if x.Collections["notes"][0]["zz"].(map[string]any)["deep"].([]any)[1] != json.Number("2.0") {
		t.Error("number text not preserved")
	}
}

func TestWriteExport_format(t *testing.T) {
	at := time.Date(2025, 10, 16, 0, 0, 0, 0, time.UTC)
	src := ExportSource{
		Notes:      SliceDocs([]map[string]any{{"id": "n1", "tags": []any{}, "html": "<b>&</b>"}}),
		AISettings: map[string]any{"autoMergeNotes": true}, ExportedAt: at,
	}
	var b bytes.Buffer
	if err := WriteExport(&b, src); err != nil {
		t.Fatal(err)
	}
	want := `{
  "topics": [],
  "companies": [],
  "contacts": [],
  "notes": [
    {
      "html": "<b>&</b>",
      "id": "n1",
      "tags": []
    }
  ],
  "tasks": [],
  "sessions": [],
  "aiSettings": {
    "autoMergeNotes": true
  },
  "preferences": null,
  "exportedAt": "2025-10-16T00:00:00.000Z",
  "version": "1.0.0",
  "appVersion": "0.5.1"
}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	src.Compact = true
	src.Notes = SliceDocs([]map[string]any{{"id": "n1"}})
	src.Settings = map[string]any{"ui": map[string]any{}}
	b.Reset()
	if err := WriteExport(&b, src); err != nil {
		t.Fatal(err)
	}
	want = `{"topics":[],"companies":[],"contacts":[],"notes":[{"id":"n1"}],"tasks":[],"sessions":[],"aiSettings":{"autoMergeNotes":true},"preferences":null,"exportedAt":"2025-10-16T00:00:00.000Z","version":"1.0.0","appVersion":"0.5.1","settings":{"ui":{}}}`
	if b.String() != want {
		t.Errorf("compact got\n%s", b.String())
	}
}

func TestWriteExport_errors(t *testing.T) {
	err := WriteExport(&bytes.Buffer{}, ExportSource{Tasks: SliceDocs([]map[string]any{{"title": "no id"}})})
	if !errors.Is(err, ErrBadID) {
		t.Errorf("missing id: %v", err)
	}
	stop := errors.New("stop")
	err = WriteExport(&bytes.Buffer{}, ExportSource{Sessions: func(yield func(map[string]any) error) error { return stop }})
	if !errors.Is(err, stop) {
		t.Errorf("iterator error: %v", err)
	}
}

// randomValue builds a random JSON value with json.Number numbers.
func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(8); {
	case depth > 3 || k == 0:
		return fmt.Sprintf("s%d\u00e9\"<%d>", r.IntN(100), r.IntN(10))
	case k == 1:
		return json.Number(fmt.Sprint(r.Int64() - r.Int64()))
	case k == 2:
		return json.Number(fmt.Sprintf("%g", r.NormFloat64()*1e10))
	case k == 3:
		return r.IntN(2) == 0
	case k == 4:
		return nil
	case k == 5:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = randomValue(r, depth+1)
		}
		return a
	default:
		m := map[string]any{}
		for i := r.IntN(4); i > 0; i-- {
			m[fmt.Sprintf("k%d", r.IntN(50))] = randomValue(r, depth+1)
		}
		return m
	}
}

func randomDocs(r *rand.Rand, n int) []map[string]any {
	docs := make([]map[string]any, n)
	for i := range docs {
		d, ok := randomValue(r, 1).(map[string]any)
		if !ok {
			d = map[string]any{}
		}
		d["id"] = fmt.Sprintf("%d-%x", i, r.Uint32())
		docs[i] = d
	}
	return docs
}

// TestExport_roundTrip is a property test: random documents written by
// WriteExport read back equal with ReadExport, pretty and compact.
func TestExport_roundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		x := &Export{Collections: map[string][]map[string]any{}, Version: ExportVersion, ExportedAt: "2025-10-16T00:00:00.000Z"}
		for _, c := range append(exportCollections, "attachments") {
			x.Collections[c] = randomDocs(r, r.IntN(5))
		}
		x.AISettings = randomValue(r, 2)
		x.Preferences = randomValue(r, 2)
		x.Settings = map[string]any{"ui": randomValue(r, 2)}
		x.Extras = map[string]any{"capture-draft-text": randomValue(r, 2)}
		x.Unknown = map[string]any{"zz-custom": randomValue(r, 2)}
		src := x.Source()
		src.Compact = i%2 == 1
		var b bytes.Buffer
		if err := WriteExport(&b, src); err != nil {
			t.Fatal(err)
		}
		y, err := ReadExport(&b)
		if err != nil {
			t.Fatalf("iteration %d: %v", i, err)
		}
		for _, c := range append(exportCollections, "attachments") {
			if !equalJSON(x.Collections[c], y.Collections[c]) {
				t.Fatalf("iteration %d: %s differs", i, c)
			}
		}
		if !equalJSON(x.AISettings, y.AISettings) || !equalJSON(x.Preferences, y.Preferences) ||
			!equalJSON(x.Settings, y.Settings) || !equalJSON(x.Extras, y.Extras) || !equalJSON(x.Unknown, y.Unknown) || y.ExportedAt != x.ExportedAt ||
			y.Version != ExportVersion || y.AppVersion != ExportAppVersion {
			t.Fatalf("iteration %d: top-level values differ", i)
		}
	}
}

// TestExport_scanRoundTrip exports a scanned fixture and reads it back.
func TestExport_scanRoundTrip(t *testing.T) {
	ds, _ := scanFixture(t, "eras/era-g")
	var b bytes.Buffer
	if err := WriteExport(&b, DatasetSource(ds)); err != nil {
		t.Fatal(err)
	}
	x, err := ReadExport(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Collections["sessions"]) != 3 || !equalJSON(x.Collections["sessions"][0], ds.Collections["sessions"]["g1"].Doc) {
		t.Error("sessions differ after export")
	}
	if !equalJSON(x.Settings, ds.Settings) || !equalJSON(x.Extras, ds.Extras) {
		t.Error("settings or extras differ after export")
	}
}

// TestReadExport_valueLimit: a document holding more values than kv allows
// is refused before it is decoded, naming its JSON path.
func TestReadExport_valueLimit(t *testing.T) {
	huge := `{"id":"n1","a":[` + strings.Repeat("0,", kv.MaxValues) + `0]}`
	for _, tc := range []struct{ in, path string }{
		{`{"version":"1.0.0","exportedAt":"2025-01-01T00:00:00.000Z","notes":[{"id":"n0"},` + huge + `]}`, "notes[1]"},
		{`{"settings":{"x":[` + strings.Repeat("0,", kv.MaxValues) + `0]}}`, "settings"},
	} {
		_, err := ReadExport(strings.NewReader(tc.in))
		var ee *ExportError
		if !errors.As(err, &ee) || !strings.HasPrefix(ee.Path, tc.path) || !strings.Contains(err.Error(), "values") || !errors.Is(err, kv.ErrTooLarge) {
			t.Fatalf("ReadExport: %v, want an error at %s about values", err, tc.path)
		}
	}
}

// TestBatcher_bytes: a batch is flushed once its documents reach
// batchBytes, not only after migrateBatch of them, so that an import of
// large documents holds few at a time.
func TestBatcher_bytes(t *testing.T) {
	var batches []int
	b := &batcher{ctx: t.Context(), dry: true, res: &ImportResult{}, run: func(fn func(tx *kv.Tx) error) error {
		batches = append(batches, -1) // counted by add below
		return nil
	}}
	sizes := []int{10 << 20, 10 << 20, 10 << 20, 10 << 20, 1, 40 << 20, 1}
	for i, n := range sizes {
		before := len(batches)
		if err := b.addSized(docWrite{coll: "notes", id: fmt.Sprint(i)}, n); err != nil {
			t.Fatal(err)
		}
		if len(batches) > before {
			batches[len(batches)-1] = i
		}
	}
	// Flushed after the 4th document (40 MiB) and the 6th (40 MiB alone).
	if fmt.Sprint(batches) != "[3 5]" || len(b.pending) != 1 {
		t.Fatalf("flushed after documents %v, %d pending", batches, len(b.pending))
	}
}
