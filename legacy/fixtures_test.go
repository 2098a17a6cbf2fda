package legacy

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// go test ./legacy -run TestGenerateFixtures -update regenerates
// testdata/eras, testdata/risks and testdata/fuzz. The generated files are
// committed; the other tests only read them.
var update = flag.Bool("update", false, "regenerate testdata fixtures")

// T0 is the base time of every fixture: 2025-10-16.
const T0 = int64(1760600000000)

func iso(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z") }

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

var (
	blobJPEG = []byte("\xff\xd8\xff\xe0 fake jpeg screenshot bytes \x00\x01\x02")
	blobPDF  = []byte("%PDF-1.4 fake pdf attachment")
	blobTXT  = []byte("hello attachment\n")
	blobPNG  = []byte("\x89PNG\r\n\x1a\n fake png")
	blobMP4  = []byte("\x00\x00\x00\x18ftypmp42 fake video")
	blobSS   = []byte("stripped screenshot bytes")
	blobInl  = []byte("inline base64 bytes")
)

type fx struct {
	t   *testing.T
	dir string
}

func (f *fx) write(rel string, b []byte) {
	f.t.Helper()
	p := filepath.Join(f.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// env writes an envelope. enc: EncodingPlain/Gzip/JSONString; pretty
// selects the B–F checksum form.
func (f *fx) env(rel string, v any, enc string, ts int64, pretty bool) []byte {
	f.t.Helper()
	b, err := EncodeEnvelope(v, enc, ts, pretty)
	if err != nil {
		f.t.Fatal(err)
	}
	f.write(rel, b)
	return b
}

func (f *fx) js(rel string, v any) []byte {
	f.t.Helper()
	b, err := marshalCompact(v)
	if err != nil {
		f.t.Fatal(err)
	}
	f.write(rel, b)
	return b
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// perEntity writes a per-entity file and its SHA-256 checksum file.
func (f *fx) perEntity(rel string, v any, goodChecksum bool) {
	b := f.js(rel, v)
	sum := sha(b)
	if !goodChecksum {
		sum = strings.Repeat("0", 64)
	}
	f.write(rel+".checksum", []byte(sum))
}

func walLine(e map[string]any) string {
	b, _ := marshalCompact(e)
	return string(b) + "\n"
}

type obj = map[string]any
type arr = []any

func TestGenerateFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata")
	}
	for _, d := range []string{"testdata/eras", "testdata/risks", "testdata/fuzz", "testdata/expected"} {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
	for name, gen := range fixtureGenerators {
		gen(&fx{t: t, dir: filepath.Join("testdata", name)})
	}
	genFuzzCorpus(t)
}

var fixtureGenerators = map[string]func(f *fx){
	"eras/era-a":  genEraA,
	"eras/era-b":  genEraB,
	"eras/era-c":  genEraC,
	"eras/era-d":  genEraD,
	"eras/era-ef": genEraEF,
	"eras/era-g":  genEraG,
	"eras/era-h":  genEraH,

	"risks/stale-backup":            genStaleBackup,
	"risks/checksum-false-positive": genChecksumFalsePositive,
	"risks/wal-clobber":             genWALClobber,
	"risks/per-entity":              genPerEntity,
	"risks/split-sessions":          genSplitSessions,
	"risks/chunks":                  genChunks,
	"risks/base64-stripped":         genBase64Stripped,
	"risks/chapters":                genChapters,
	"risks/dedup-path":              genDedupPath,
	"risks/settings-loss":           genSettingsLoss,
	"risks/deleted":                 genDeleted,
	"risks/truncated":               genTruncated,
	"risks/clobbered-sessions":      genClobberedSessions,
	"risks/per-id-meta":             genPerIDMeta,
	"risks/raw-text":                genRawText,
}

// expected is what a fixture must migrate to, written beside the
// fixtures by the generator that writes the fixture (testdata/expected/
// <name>.json): the entities by collection and id, field for field, and
// the ids that must not come back.
type expected struct {
	Entities       map[string]map[string]obj `json:"entities"`
	NotResurrected []string                  `json:"notResurrected"` // collection/id
	Extras         map[string]any            `json:"extras"`         // values that must be in Extras, by key
	NoContent      []string                  `json:"noContent"`      // attachments no file holds the bytes of
	RawValues      []RawValue                `json:"rawValues"`      // Report.RawValues, sources aside
}

func (f *fx) expect(e expected) {
	f.t.Helper()
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		f.t.Fatal(err)
	}
	name := filepath.Base(f.dir)
	p := filepath.Join("testdata", "expected", name+".json")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func genEraA(f *fx) {
	f.js("taskerino-v3-state.json", obj{
		"topics": arr{
			obj{"id": "t1", "name": "Ideas", "type": "other", "lastUpdated": iso(T0)},
			obj{"id": "c1", "name": "Acme", "type": "company", "lastUpdated": iso(T0)},
			obj{"id": "p1", "name": "Ann", "type": "person", "lastUpdated": iso(T0)},
		},
		"notes": arr{obj{"id": "n1", "content": "era A note", "topicId": "p1", "timestamp": iso(T0), "lastUpdated": iso(T0)}},
		"tasks": arr{obj{"id": "k1", "title": "era A task", "done": false, "createdAt": iso(T0),
			"attachments": arr{obj{"id": "img-a", "type": "image", "path": "attachments/images/img-a.png"}}}},
		"aiSettings":  obj{"systemInstructions": "be brief"},
		"preferences": obj{"theme": "light"},
	})
	f.write("attachments/images/img-a.png", blobPNG)
}

func genEraB(f *fx) {
	f.env("db/topics.json", arr{
		obj{"id": "t1", "name": "Work", "type": "other", "lastUpdated": iso(T0)},
		obj{"id": "c1", "name": "Acme", "type": "company", "lastUpdated": iso(T0)},
		obj{"id": "p1", "name": "Ann", "type": "person", "lastUpdated": iso(T0)},
	}, EncodingPlain, T0+1000, true)
	notes := arr{
		obj{"id": "n1", "content": "hello", "topicId": "c1", "timestamp": iso(T0), "lastUpdated": iso(T0 + 500),
			"attachments": arr{obj{"id": "att-1", "type": "file", "name": "a.txt", "mimeType": "text/plain", "path": "attachments/att-1.dat"}}},
		obj{"id": "n2", "content": "numbers", "count": json.Number("12345678901234567890"), "ratio": json.Number("0.1"), "lastUpdated": iso(T0)},
	}
	f.env("db/notes.json", notes, EncodingPlain, T0+2000, true)
	f.env("db/notes.backup.json", append(arr{obj{"id": "n-deleted", "content": "gone"}}, notes...), EncodingPlain, T0+100, true)
	f.env("db/tasks.json", arr{
		obj{"id": "k1", "title": "Do", "noteId": "n1", "createdAt": iso(T0),
			"attachments": arr{obj{"id": "img-1", "type": "image", "path": "attachments/images/img-1.png"}}},
		obj{"title": "no id"},
	}, EncodingPlain, T0+2000, true)
	f.env("db/settings.json", obj{"aiSettings": obj{"systemInstructions": "x"}, "userProfile": obj{"name": "A"}}, EncodingPlain, T0+2000, true)
	// A snapshot older than notes.json (a newer one would make it the
	// loader's stale restore, docs/FORMAT.md §11.1): n-snap, only there,
	// was deleted since.
	f.write("backups/backup-"+fmt.Sprint(T0+1000)+".json", []byte(`{"version":1,"timestamp":`+fmt.Sprint(T0+1000)+`,"collections":{"notes":[{"id":"n-snap"}]}}`))
	b64 := base64.StdEncoding.EncodeToString(blobTXT)
	f.write("attachments/att-1.dat", []byte(b64[:8]+"\n"+b64[8:]))
	f.js("attachments/att-1.meta.json", obj{"id": "att-1", "type": "file", "name": "a.txt", "mimeType": "text/plain"})
	f.write("attachments/images/img-1.png", blobPNG)
	f.write("attachments/orphan-9.dat", []byte(base64.StdEncoding.EncodeToString([]byte("orphan"))))
}

func genEraC(f *fx) {
	f.env("db/notes.json", arr{obj{"id": "n1", "content": "main", "lastUpdated": iso(T0 + 4000)}}, EncodingGzip, T0+5000, true)
	f.env("db/notes.tmp.json", arr{obj{"id": "n1", "content": "newer from tmp", "lastUpdated": iso(T0 + 5500)}, obj{"id": "n3", "content": "new"}}, EncodingGzip, T0+6000, true)
	f.env("db/sessions.json", arr{obj{"id": "s1", "name": "S1", "startTime": iso(T0), "screenshots": arr{},
		"video": obj{"id": "v1", "sessionId": "s1", "path": "/Users/x/Library/Application Support/com.taskerino.desktop/videos/session-s1-1.mp4",
			"chapters": arr{obj{"id": "ch1", "title": "Intro", "startTime": 0, "endTime": 5}}}}}, EncodingJSONString, T0+5000, true)
	f.env("db/settings.json", obj{"userProfile": obj{"name": "C"}}, EncodingGzip, T0+5000, true)
	f.write("videos/session-s1-1.mp4", blobMP4)
}

func genEraD(f *fx) {
	good := f.env("db/topics.1760600006000.backup.json", arr{obj{"id": "t1", "name": "One"}, obj{"id": "t2", "name": "Two"}}, EncodingGzip, T0+6000, true)
	f.write("db/topics.json", good[:len(good)/2])
	f.write("db/topics.1760600007000.backup.json", []byte("\x00\x01 not json"))
	f.env("db/topics.backup.json", arr{obj{"id": "t1", "name": "One"}, obj{"id": "t-old", "name": "Ancient"}}, EncodingPlain, T0+100, true)
	f.env("db/tasks.json", arr{obj{"id": "k1", "title": "old"}}, EncodingGzip, T0+8000, true)
	f.env("db/.tx-1760600009000/tasks.json", arr{obj{"id": "k1", "title": "staged"}, obj{"id": "k2", "title": "two"}}, EncodingGzip, T0+9000, true)
	f.env("db/notes.json", arr{obj{"id": "n1", "content": "kept"}}, EncodingGzip, T0+8000, true)
	f.env("db/notes.1760600007500.backup.json", arr{obj{"id": "n1", "content": "kept"}, obj{"id": "n-del", "content": "deleted"}}, EncodingGzip, T0+7500, true)
}

func genEraEF(f *fx) {
	f.write("db/wal.checkpoint", []byte(fmt.Sprint(T0+10000)))
	f.env("db/sessions.json", arr{
		obj{"id": "s1", "name": "S1", "version": 1, "startTime": iso(T0)},
		obj{"id": "s2", "name": "S2", "startTime": iso(T0)},
	}, EncodingGzip, T0+11000, true)
	s1 := obj{"id": "s1", "name": "S1", "version": 3, "startTime": iso(T0), "summary": obj{"narrative": "enriched"}}
	f.perEntity("db/sessions/session-s1.json", s1, true)
	b, _ := marshalCompact(s1)
	f.write("db/sessions/session-s1.json.gz", gz(b))
	f.write("db/sessions/session-s1.json.gz.checksum", []byte(sha(b)))
	f.js("db/sessions/index.json", arr{obj{"id": "s1"}})
	f.perEntity("db/notes/note-n1.json", obj{"id": "n1", "content": "stale", "lastUpdated": iso(T0 + 1000)}, false)
	f.env("db/notes.json", arr{obj{"id": "n1", "content": "fresh", "lastUpdated": iso(T0 + 10500)}}, EncodingGzip, T0+11000, true)
	f.perEntity("db/companies/companie-co1.json", obj{"id": "co1", "name": "Co", "lastUpdated": iso(T0 + 12000)}, true)
	f.js("db/db/notes/note-n4.json.json", obj{"id": "n4", "content": "replay junk copy", "lastUpdated": iso(T0 + 13000)})
	f.env("db/__migration_per_entity_complete.json", true, EncodingGzip, T0+10000, true)
	var w strings.Builder
	w.WriteString(walLine(obj{"id": "a", "timestamp": T0 + 9000, "operation": "write", "collection": "notes", "data": arr{obj{"id": "n-pre"}}}))
	w.WriteString(walLine(obj{"id": "b", "timestamp": T0 + 12000, "operation": "transaction-start", "collection": "", "transactionId": "tx-a"}))
	w.WriteString(walLine(obj{"id": "c", "timestamp": T0 + 12001, "operation": "write", "collection": "tasks", "transactionId": "tx-a", "data": arr{obj{"id": "k1", "title": "committed"}}}))
	w.WriteString(walLine(obj{"id": "d", "timestamp": T0 + 12002, "operation": "transaction-commit", "collection": "", "transactionId": "tx-a"}))
	w.WriteString(walLine(obj{"id": "e", "timestamp": T0 + 12003, "operation": "transaction-start", "collection": "", "transactionId": "tx-b"}))
	w.WriteString(walLine(obj{"id": "f", "timestamp": T0 + 12003, "operation": "write", "collection": "tasks", "transactionId": "tx-b", "data": arr{obj{"id": "k9"}}}))
	w.WriteString(walLine(obj{"id": "g", "timestamp": T0 + 12004, "operation": "transaction-rollback", "collection": "", "transactionId": "tx-b"}))
	w.WriteString(walLine(obj{"id": "h", "timestamp": T0 + 12004, "operation": "write", "collection": "tasks", "transactionId": "tx-c", "data": arr{obj{"id": "k8"}}}))
	w.WriteString(walLine(obj{"id": "i", "timestamp": T0 + 12005, "operation": "write", "collection": "db/sessions/session-s2.json", "data": obj{"id": "s2", "name": "S2 enriched", "version": 2}, "checksum": "x"}))
	w.WriteString(walLine(obj{"id": "j", "timestamp": T0 + 12006, "operation": "write", "collection": "sessions", "data": obj{"id": "s3", "name": "S3"}}))
	w.WriteString(walLine(obj{"id": "k", "timestamp": T0 + 12007, "operation": "write", "collection": "settings", "data": obj{"userProfile": obj{"name": "EF"}}}))
	w.WriteString(`{"id":"l","timestamp":1760600012008,"operation":"write","collection":"notes","data":[{"id":"n`)
	f.write("db/wal.log", []byte(w.String()))
}

func metaG(id, name string, ts int64, extra obj) obj {
	m := obj{"id": id, "name": name, "status": "completed", "startTime": iso(ts), "createdAt": iso(ts), "updatedAt": iso(ts),
		"storageVersion": 1, "hasSummary": false, "hasTranscription": false, "hasAudioInsights": false, "hasCanvasSpec": false,
		"chunks": obj{"screenshots": obj{"count": 0, "chunkCount": 0, "chunkSize": 20},
			"audioSegments": obj{"count": 0, "chunkCount": 0, "chunkSize": 100},
			"videoChunks":   obj{"count": 0, "chunkCount": 0, "chunkSize": 100}}}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func screenshots(sid string, from, n int, withHash map[int]string) arr {
	var out arr
	for i := from; i < from+n; i++ {
		s := obj{"id": fmt.Sprintf("ss-%d", i), "sessionId": sid, "timestamp": iso(T0), "attachmentId": fmt.Sprintf("att-ss-%d", i), "analysisStatus": "complete"}
		if h, ok := withHash[i]; ok {
			s["hash"] = h
		}
		out = append(out, s)
	}
	return out
}

func genEraG(f *fx) {
	T1 := T0 + 100000
	h1, h2 := sha(blobJPEG), sha(blobPDF)
	f.env("db/session-index.json", arr{"g1", "g2"}, EncodingGzip, T1, false)
	f.env("db/sessions/g1/metadata.json", metaG("g1", "G1", T1, obj{
		"hasSummary": true, "hasTranscription": true, "extractedTaskIds": arr{"k1"},
		"chunks": obj{"screenshots": obj{"count": 25, "chunkCount": 2, "chunkSize": 20},
			"audioSegments": obj{"count": 2, "chunkCount": 1, "chunkSize": 100},
			"videoChunks":   obj{"count": 0, "chunkCount": 0, "chunkSize": 100}},
		"relationships": arr{obj{"id": "r1", "type": "task-session", "sourceType": "session", "sourceId": "g1", "targetType": "task", "targetId": "k1",
			"metadata": obj{"source": "ai", "createdAt": iso(T1)}, "canonical": true}},
	}), EncodingGzip, T1, false)
	f.env("db/sessions/g1/summary.json", obj{"narrative": "did stuff"}, EncodingGzip, T1, false)
	f.env("db/sessions/g1/transcription.json", "hello world", EncodingJSONString, T1, false)
	f.env("db/sessions/g1/screenshots/chunk-000.json", obj{"sessionId": "g1", "chunkIndex": 0, "screenshots": screenshots("g1", 0, 20, map[int]string{0: h1})}, EncodingGzip, T1, false)
	f.env("db/sessions/g1/screenshots/chunk-001.json", obj{"sessionId": "g1", "chunkIndex": 1, "screenshots": screenshots("g1", 20, 5, nil)}, EncodingGzip, T1, false)
	f.env("db/sessions/g1/audio-segments/chunk-000.json", obj{"sessionId": "g1", "chunkIndex": 0, "segments": arr{
		obj{"id": "a0", "sessionId": "g1", "duration": 10, "transcription": "one"}, obj{"id": "a1", "sessionId": "g1", "duration": 10, "transcription": "two"}}}, EncodingGzip, T1, false)
	f.env("db/sessions/g2/metadata.json", metaG("g2", "G2", T1, nil), EncodingGzip, T1, false)
	f.env("db/tx-temp-1760600100500/sessions/g2/metadata.json", metaG("g2", "G2 staged", T1, nil), EncodingGzip, T1+500, false)
	f.env("db/attachments-ca/"+h1[:2]+"/"+h1+"/data.json", "data:image/jpeg;base64,"+base64.StdEncoding.EncodeToString(blobJPEG), EncodingGzip, T1, false)
	f.env("db/attachments-ca/"+h1[:2]+"/"+h1+"/metadata.json", obj{"hash": h1, "mimeType": "image/jpeg", "size": len(blobJPEG), "type": "screenshot",
		"references": arr{obj{"sessionId": "g1", "attachmentId": "att-ss-0", "addedAt": T1}}, "refCount": 1}, EncodingGzip, T1, false)
	f.env("db/ca-attachment-index.json", arr{h1}, EncodingGzip, T1, false)
	f.write("attachments/"+h2[:2]+"/"+h2+".dat", []byte(base64.StdEncoding.EncodeToString(blobPDF)))
	f.js("attachments/"+h2[:2]+"/"+h2+".meta.json", obj{"hash": h2, "mimeType": "application/pdf", "size": len(blobPDF), "createdAt": T1})
	f.env("db/attachments.json", arr{obj{"id": "att-doc", "type": "file", "name": "x.pdf", "mimeType": "application/pdf",
		"path": "attachments/" + h2[:2] + "/" + h2 + ".pdf", "hash": h2}}, EncodingGzip, T1, false)
	f.env("db/attachment_refs.json", arr{obj{"hash": h2, "physicalPath": "attachments/" + h2[:2] + "/" + h2 + ".pdf", "refCount": 1, "attachmentIds": arr{"att-doc"}}}, EncodingGzip, T1, false)
	f.env("db/capture-review-jobs.json", arr{obj{"id": "job1", "status": "pending"}}, EncodingGzip, T1, false)
	f.env("db/capture-draft-text.json", "draft text", EncodingJSONString, T1, false)
	f.env("db/settings.json", obj{"aiSettings": obj{"systemInstructions": "new"}, "learningSettings": obj{"enabled": true}}, EncodingJSONString, T1+50, false)
	f.env("db/settings.1760600100010.backup.json", obj{"aiSettings": obj{"systemInstructions": "old"},
		"ui": obj{"preferences": obj{"theme": "dark"}}, "searchHistory": arr{obj{"id": "q1", "query": "acme"}}}, EncodingGzip, T1+10, false)
	f.env("db/sessions.json", arr{obj{"id": "old1", "name": "Legacy only", "startTime": iso(T0)}}, EncodingJSONString, T0+50000, false)
	f.env("db/tasks.json", arr{obj{"id": "k1", "title": "task", "createdAt": iso(T0)}}, EncodingGzip, T1, false)
}

func genEraH(f *fx) {
	T2 := T0 + 200000
	f.env("db/session-index.json", arr{"h1"}, EncodingGzip, T2, false)
	for i := 0; i < 12; i++ {
		f.env(fmt.Sprintf("db/sessions/h1/metadata.%d.backup.json", T2-int64(1000*(i+1))), metaG("h1", fmt.Sprintf("H1 v%d", i), T2, nil), EncodingGzip, T2, false)
	}
	f.env("db/sessions/h1/metadata.json", metaG("h1", "H1", T2, nil), EncodingGzip, T2, false)
	f.env(fmt.Sprintf("db/sessions/hdel/metadata.%d.backup.json", T2-5000), metaG("hdel", "deleted", T2-5000, nil), EncodingGzip, T2-5000, false)
	f.env("db/tasks.json", arr{obj{"id": "k1", "title": "t1"}, obj{"id": "k2", "title": "t2"}}, EncodingGzip, T2, false)
	f.js("db/tasks/task-k1.json", obj{"0": obj{"id": "k1"}, "1": obj{"id": "k2"}, "id": "k1"})
	f.env("db/notes.json", arr{obj{"id": "n1", "content": "h"}}, EncodingGzip, T2, false)
	for i := 0; i < 15; i++ {
		f.env(fmt.Sprintf("db/notes.%d.backup.json", T2-int64(100*(i+1))), arr{obj{"id": "n1"}, obj{"id": fmt.Sprintf("n-old-%d", i)}}, EncodingGzip, T2, false)
	}
}

func genStaleBackup(f *fx) {
	T2 := T0 + 300000
	good := f.env("db/notes.json.orig", arr{obj{"id": "n1"}}, EncodingGzip, T2, false)
	os.Remove(filepath.Join(f.dir, "db/notes.json.orig"))
	f.write("db/notes.json", good[:40])
	f.env("db/notes.backup.json", arr{obj{"id": "n-ancient", "content": "months old"}}, EncodingPlain, T0, true)
	f.env(fmt.Sprintf("db/notes.%d.backup.json", T2-100), arr{obj{"id": "n1", "content": "recent"}, obj{"id": "n2", "content": "recent"}}, EncodingGzip, T2-100, false)
}

func genChecksumFalsePositive(f *fx) {
	f.env("db/notes.json", arr{obj{"id": "n1", "content": "compact-hashed, stored uncompressed"}}, EncodingJSONString, T0, false)
	b := f.env("db/tasks.json", arr{obj{"id": "k1", "title": "x"}}, EncodingPlain, T0, false)
	bad := bytes.Replace(b, []byte(`"checksum": "`), []byte(`"checksum": "zz`), 1)
	f.write("db/tasks.json", bad)
}

func genWALClobber(f *fx) {
	f.js("db/sessions.json", obj{"id": "s9", "name": "the one WAL replay wrote", "version": 4})
	f.env(fmt.Sprintf("db/sessions.%d.backup.json", T0+1000), arr{obj{"id": "s1", "name": "one"}, obj{"id": "s2", "name": "two"}, obj{"id": "s9", "name": "old nine", "version": 3}}, EncodingGzip, T0+1000, true)
}

func genPerEntity(f *fx) {
	f.env("db/notes.json", arr{obj{"id": "n1", "content": "main", "lastUpdated": iso(T0 + 5000)}}, EncodingGzip, T0+6000, true)
	f.perEntity("db/notes/note-n1.json", obj{"id": "n1", "content": "stale", "lastUpdated": iso(T0 + 1000)}, true)
	f.perEntity("db/notes/note-n2.json", obj{"id": "n2", "content": "deleted later", "lastUpdated": iso(T0 + 2000)}, true)
	f.perEntity("db/notes/note-n3.json", obj{"id": "n3", "content": "only here, newer", "lastUpdated": iso(T0 + 7000)}, true)
	f.js("db/tasks/task-k1.json", obj{"0": obj{"id": "k1"}, "id": "k1"})
	f.perEntity("db/companies/companie-c1.json", obj{"id": "c1", "name": "Co"}, true)
	f.perEntity("db/contacts/contact-x.json", obj{"name": "no id"}, true)
}

func genSplitSessions(f *fx) {
	T1 := T0 + 100000
	f.env("db/sessions.json", arr{obj{"id": "a", "name": "legacy a", "updatedAt": iso(T0)}, obj{"id": "b", "name": "legacy b"}}, EncodingGzip, T0+50000, true)
	f.env("db/session-index.json", arr{"a", "c"}, EncodingGzip, T1, false)
	f.env("db/sessions/a/metadata.json", metaG("a", "chunked a", T1, nil), EncodingGzip, T1, false)
	f.env("db/sessions/c/metadata.json", metaG("c", "chunked c", T1, nil), EncodingGzip, T1, false)
	f.perEntity("db/sessions/session-d.json", obj{"id": "d", "name": "per-entity d"}, true)
}

func genChunks(f *fx) {
	T1 := T0 + 100000
	f.env("db/session-index.json", arr{"m1", "m2"}, EncodingGzip, T1, false)
	f.env("db/sessions/m1/metadata.json", metaG("m1", "M1", T1, obj{"chunks": obj{"screenshots": obj{"count": 45, "chunkCount": 3, "chunkSize": 20}}}), EncodingGzip, T1, false)
	f.env("db/sessions/m1/screenshots/chunk-000.json", obj{"sessionId": "m1", "chunkIndex": 0, "screenshots": screenshots("m1", 0, 20, nil)}, EncodingGzip, T1, false)
	f.env("db/sessions/m1/screenshots/chunk-002.json", obj{"sessionId": "m1", "chunkIndex": 2, "screenshots": screenshots("m1", 40, 5, nil)}, EncodingGzip, T1, false)
	f.env("db/sessions/m1/screenshots/chunk-003.json", obj{"sessionId": "m1", "chunkIndex": 3, "screenshots": screenshots("m1", 60, 1, nil)}, EncodingGzip, T1, false)
	f.env("db/sessions/m1/screenshots/chunk-005.json", obj{"sessionId": "m1", "chunkIndex": 5, "screenshots": screenshots("m1", 100, 1, nil)}, EncodingGzip, T1, false)
	f.env(fmt.Sprintf("db/sessions/m2/metadata.%d.backup.json", T1-10), metaG("m2", "M2 from backup", T1, nil), EncodingGzip, T1-10, false)
	f.env("db/sessions/m3/metadata.json", metaG("m3", "M3 not indexed", T1, nil), EncodingGzip, T1, false)
}

func genBase64Stripped(f *fx) {
	T1 := T0 + 100000
	f.env("db/session-index.json", arr{"b1"}, EncodingGzip, T1, false)
	f.env("db/sessions/b1/metadata.json", metaG("b1", "B1", T1, obj{"chunks": obj{"screenshots": obj{"count": 1, "chunkCount": 1, "chunkSize": 20}}}), EncodingGzip, T1, false)
	f.env("db/sessions/b1/screenshots/chunk-000.json", obj{"sessionId": "b1", "chunkIndex": 0, "screenshots": arr{
		obj{"id": "ss-a", "sessionId": "b1", "attachmentId": "att-a", "timestamp": iso(T1)}}}, EncodingGzip, T1, false)
	f.write("attachments/att-a.dat", []byte("data:image/jpeg;base64,"+base64.StdEncoding.EncodeToString(blobSS)))
	f.env("db/notes.json", arr{obj{"id": "n1", "attachments": arr{obj{"id": "att-inline", "type": "image", "mimeType": "image/png",
		"base64": "data:image/png;base64," + base64.StdEncoding.EncodeToString(blobInl)}}}}, EncodingGzip, T1, false)
}

func genChapters(f *fx) {
	T1 := T0 + 100000
	f.env("db/session-index.json", arr{"v1", "v2"}, EncodingGzip, T1, false)
	f.env("db/sessions/v1/metadata.json", metaG("v1", "V1", T1, obj{"video": obj{"id": "vid1", "sessionId": "v1", "duration": 60}}), EncodingGzip, T1, false)
	f.env("db/sessions/v2/metadata.json", metaG("v2", "V2", T1, obj{"video": obj{"id": "vid2", "sessionId": "v2", "duration": 60}}), EncodingGzip, T1, false)
	f.env("db/sessions.json", arr{obj{"id": "v1", "name": "V1 legacy", "video": obj{"id": "vid1", "chapters": arr{obj{"id": "c1", "title": "Start"}}}}}, EncodingGzip, T0+50000, true)
	f.env(fmt.Sprintf("db/sessions.%d.backup.json", T0+40000), arr{obj{"id": "v2", "name": "V2 old", "video": obj{"id": "vid2", "chapters": arr{obj{"id": "c2", "title": "Middle"}}}}}, EncodingGzip, T0+40000, true)
}

func genDedupPath(f *fx) {
	h := sha(blobPDF)
	f.write("attachments/"+h[:2]+"/"+h+".dat", []byte(base64.StdEncoding.EncodeToString(blobPDF)))
	f.js("attachments/"+h[:2]+"/"+h+".meta.json", obj{"hash": h, "mimeType": "application/pdf", "size": len(blobPDF)})
	f.env("db/attachments.json", arr{obj{"id": "att-1", "type": "file", "name": "doc.pdf", "mimeType": "application/pdf", "path": "attachments/" + h[:2] + "/" + h + ".pdf"}}, EncodingGzip, T0, false)
	f.env("db/notes.json", arr{obj{"id": "n1", "attachments": arr{obj{"id": "att-1"}}}}, EncodingGzip, T0, false)
	hOrphan := sha([]byte("deleted attachment"))
	f.write("attachments/"+hOrphan[:2]+"/"+hOrphan+".dat", []byte(base64.StdEncoding.EncodeToString([]byte("deleted attachment"))))
}

func genSettingsLoss(f *fx) {
	f.env("db/settings.json", obj{"aiSettings": obj{"systemInstructions": "newest"}, "nedSettings": obj{"chattiness": "concise"}}, EncodingGzip, T0+3000, false)
	f.env(fmt.Sprintf("db/settings.%d.backup.json", T0+2000), obj{"aiSettings": obj{"systemInstructions": "older"}, "activeSessionId": "s1"}, EncodingGzip, T0+2000, false)
	f.env(fmt.Sprintf("db/settings.%d.backup.json", T0+1000), obj{"aiSettings": obj{"systemInstructions": "oldest"}, "ui": obj{"pinnedNotes": arr{"n1"}}, "searchHistory": arr{}, "activeSessionId": "s0"}, EncodingGzip, T0+1000, false)
}

func genDeleted(f *fx) {
	f.env("db/notes.json", arr{obj{"id": "n1"}}, EncodingGzip, T0+5000, false)
	f.env(fmt.Sprintf("db/notes.%d.backup.json", T0+4000), arr{obj{"id": "n1"}, obj{"id": "n-gone"}}, EncodingGzip, T0+4000, false)
	f.env("db/session-index.json", arr{}, EncodingGzip, T0+5000, false)
	f.env(fmt.Sprintf("db/sessions/gone1/metadata.%d.backup.json", T0+4000), metaG("gone1", "deleted session", T0, nil), EncodingGzip, T0+4000, false)
	f.env(fmt.Sprintf("db/capture-draft-text.%d.backup.json", T0+4000), "old draft", EncodingGzip, T0+4000, false)
	f.env("db/tasks.json", arr{obj{"id": "k1"}, obj{"id": "k2"}}, EncodingGzip, T0+5000, false)
	var w strings.Builder
	w.WriteString(walLine(obj{"id": "a", "timestamp": T0 + 6000, "operation": "transaction-start", "collection": "", "transactionId": "tx-d"}))
	w.WriteString(walLine(obj{"id": "b", "timestamp": T0 + 6001, "operation": "delete", "collection": "db/tasks/task-k2.json", "transactionId": "tx-d"}))
	w.WriteString(walLine(obj{"id": "c", "timestamp": T0 + 6002, "operation": "transaction-commit", "collection": "", "transactionId": "tx-d"}))
	f.write("db/wal.log", []byte(w.String()))
}

func genTruncated(f *fx) {
	full := f.env("db/tasks.tmp.json", arr{obj{"id": "k1", "title": "from tmp"}}, EncodingGzip, T0+2000, false)
	f.write("db/tasks.json", full[:len(full)-7])
	b, _ := marshalCompact(obj{"id": "n1", "content": "note"})
	z := gz(b)
	f.write("db/notes/note-n1.json.gz", z[:len(z)/2])
	f.env("db/session-index.json", arr{"x1"}, EncodingGzip, T0+2000, false)
	f.env("db/sessions/x1/metadata.json", metaG("x1", "X1", T0+2000, obj{"hasSummary": true, "hasTranscription": true}), EncodingGzip, T0+2000, false)
	tr := f.env("db/sessions/x1/transcription.json", "full transcript", EncodingGzip, T0+2000, false)
	f.write("db/sessions/x1/transcription.json", tr[:20])
	f.env("db/sessions/x1/transcription.compressed.json", gzipPrefix+base64.StdEncoding.EncodeToString(gz([]byte(`"full transcript"`))), EncodingGzip, T0+2000, false)
	sum := f.env("db/sessions/x1/summary.1760600001500.backup.json", obj{"narrative": "from backup"}, EncodingGzip, T0+1500, false)
	f.write("db/sessions/x1/summary.json", sum[:len(sum)/3])
	var w strings.Builder
	w.WriteString(walLine(obj{"id": "a", "timestamp": T0 + 3000, "operation": "write", "collection": "notes", "data": arr{obj{"id": "n2", "content": "from wal"}}}))
	w.WriteString(`{"id":"b","timestamp":`)
	f.write("db/wal.log", []byte(w.String()))
}

// genClobberedSessions: db/sessions.json holds the one session the WAL
// replay wrote over the array (docs/FORMAT.md §5.3); the rest survives in
// timestamped backups, a backups/ snapshot and the single-slot backup,
// each session at some version, with sessions deleted along the way. The
// same happened to notes.json. Expected: the newest copy's sessions at
// their highest version (the clobbering one, an E–F per-entity
// enrichment), none of the deleted ones.
func genClobberedSessions(f *fx) {
	sess := func(id string, ver int, extra obj) obj {
		m := obj{"id": id, "name": "session " + id + " v" + fmt.Sprint(ver), "version": ver, "status": "completed",
			"startTime": iso(T0), "screenshots": arr{obj{"id": "ss-" + id, "sessionId": id, "timestamp": iso(T0), "attachmentId": "att-" + id}},
			"audioSegments": arr{obj{"id": "au-" + id, "sessionId": id, "duration": 10, "transcription": "said " + id}}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	note := func(id string, at int64, content string) obj {
		return obj{"id": id, "content": content, "lastUpdated": iso(at), "timestamp": iso(T0)}
	}
	s0, s1v1, s1, s2, s3v1, s3v3, s4v1, s4, s5v1, s6 := sess("s0", 1, nil), sess("s1", 1, nil), sess("s1", 2, nil), sess("s2", 1, nil),
		sess("s3", 1, nil), sess("s3", 3, nil), sess("s4", 1, nil), sess("s4", 2, obj{"tags": arr{"edited"}}), sess("s5", 1, nil), sess("s6", 1, nil)
	s3 := sess("s3", 5, obj{"summary": obj{"narrative": "enriched by the WAL entry that clobbered the file"}})
	s5 := sess("s5", 3, obj{"audioInsights": obj{"narrative": "enrichment only the per-entity file holds"}})
	f.env("db/sessions.backup.json", arr{s0, s1v1}, EncodingPlain, T0+100, true)
	f.env(fmt.Sprintf("db/sessions.%d.backup.json", T0+1000), arr{s0, s1v1, s2, s4v1}, EncodingGzip, T0+900, true)
	f.env(fmt.Sprintf("db/sessions.%d.backup.json", T0+2000), arr{s1, s2, s3v1, s4v1}, EncodingGzip, T0+1900, true)
	f.env(fmt.Sprintf("db/sessions.%d.backup.json", T0+3000), arr{s1, s3v3, s4v1, s5v1}, EncodingGzip, T0+2900, true)
	n1, n2old, n2, n3 := note("n1", T0+1000, "one"), note("n2", T0+2000, "two"), note("n2", T0+3700, "two, edited"), note("n3", T0+3400, "three")
	f.env(fmt.Sprintf("db/notes.%d.backup.json", T0+3000), arr{n1, n2old, note("n-gone", T0+1500, "deleted before the snapshot")}, EncodingGzip, T0+2900, true)
	snap, _ := marshalCompact(obj{"version": 1, "timestamp": T0 + 3500, "collections": obj{
		"sessions": arr{s1, s3v3, s4, s5v1, s6}, "notes": arr{n1, n2old, n3}}})
	f.write(fmt.Sprintf("backups/backup-%d.json", T0+3500), snap)
	// The WAL replay's raw writes (no envelope), after the snapshot.
	f.js("db/sessions.json", s3)
	f.js("db/notes.json", n2)
	f.perEntity("db/sessions/session-s5.json", s5, true)
	f.perEntity("db/sessions/session-s2.json", s2, true) // a stale copy of a deleted session
	f.write("db/wal.checkpoint", []byte(fmt.Sprint(T0+3600)))
	f.expect(expected{
		Entities: map[string]map[string]obj{
			"sessions": {"s1": s1, "s3": s3, "s4": s4, "s5": s5, "s6": s6},
			"notes":    {"n1": n1, "n2": n2, "n3": n3},
		},
		NotResurrected: []string{"notes/n-gone", "sessions/s0", "sessions/s2"},
	})
}

// genPerIDMeta: attachments stored by id (docs/FORMAT.md §3.7.1–2) with their
// <id>.meta.json (every field, unknown ones too), referenced or not, with
// or without bytes; one also in the attachments collection; dedup and CAS
// metadata with fields of their own.
func genPerIDMeta(f *fx) {
	T1 := T0 + 100000
	b64 := base64.StdEncoding.EncodeToString
	hTXT, hJPEG := sha(blobTXT), sha(blobJPEG)
	metaA := obj{"id": "att-a", "type": "image", "name": "shot.png", "mimeType": "image/png", "size": len(blobPNG), "createdAt": iso(T1),
		"thumbnail": "data:image/jpeg;base64,/9j/4AAQ", "path": "attachments/att-a.dat", "duration": nil,
		"dimensions": obj{"width": 640, "height": 480}, "futureField": obj{"nested": arr{1, 2}}}
	metaB := obj{"id": "att-b", "type": "file", "name": "report.pdf", "mimeType": "application/pdf", "size": len(blobPDF), "createdAt": iso(T1), "unknownKey": true}
	metaC := obj{"id": "att-c", "type": "audio", "name": "memo.mp3", "mimeType": "audio/mpeg", "duration": 12.5, "createdAt": iso(T1)}
	metaE := obj{"id": "att-e", "name": "another name", "extra": 1}
	f.write("attachments/att-a.dat", []byte(b64(blobPNG)))
	f.js("attachments/att-a.meta.json", metaA)
	f.write("attachments/att-b.dat", []byte(b64(blobPDF)))
	f.js("attachments/att-b.meta.json", metaB)
	f.js("attachments/att-c.meta.json", metaC)
	f.write("attachments/att-d.dat", []byte(b64(blobInl)))
	f.write("attachments/images/att-sub.png", blobPNG)
	f.js("attachments/att-e.meta.json", metaE)
	f.write("attachments/"+hTXT[:2]+"/"+hTXT+".dat", []byte(b64(blobTXT)))
	dedupMeta := obj{"hash": hTXT, "mimeType": "text/plain", "size": len(blobTXT), "createdAt": T1, "dedupExtra": "kept"}
	f.js("attachments/"+hTXT[:2]+"/"+hTXT+".meta.json", dedupMeta)
	casMeta := obj{"hash": hJPEG, "mimeType": "image/jpeg", "size": len(blobJPEG), "type": "screenshot", "createdAt": T1, "lastAccessedAt": T1 + 5,
		"references": arr{obj{"sessionId": "s1", "attachmentId": "att-ss", "addedAt": T1}}, "refCount": 1, "casExtra": "kept"}
	f.env("db/attachments-ca/"+hJPEG[:2]+"/"+hJPEG+"/data.json", b64(blobJPEG), EncodingGzip, T1, false)
	f.env("db/attachments-ca/"+hJPEG[:2]+"/"+hJPEG+"/metadata.json", casMeta, EncodingGzip, T1, false)
	n1 := obj{"id": "n1", "content": "see the screenshot", "attachments": arr{obj{"id": "att-a", "type": "image", "name": "shot.png"}}}
	n2 := obj{"id": "n2", "content": "no attachment"}
	k1 := obj{"id": "k1", "title": "upload", "attachments": arr{obj{"id": "att-sub"}}}
	s1 := obj{"id": "s1", "name": "S1", "startTime": iso(T1), "screenshots": arr{obj{"id": "ss1", "sessionId": "s1", "attachmentId": "att-ss", "hash": hJPEG}}}
	e := obj{"id": "att-e", "type": "file", "name": "from the collection", "mimeType": "text/plain", "hash": hTXT,
		"path": "attachments/" + hTXT[:2] + "/" + hTXT + ".txt"}
	f.env("db/notes.json", arr{n1, n2}, EncodingGzip, T1, false)
	f.env("db/tasks.json", arr{k1}, EncodingGzip, T1, false)
	f.env("db/sessions.json", arr{s1}, EncodingGzip, T1, false)
	f.env("db/attachments.json", arr{e}, EncodingGzip, T1, false)
	with := func(m obj, kv ...any) obj {
		out := obj{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	f.expect(expected{
		Entities: map[string]map[string]obj{
			"notes": {"n1": n1, "n2": n2}, "tasks": {"k1": k1}, "sessions": {"s1": s1},
			"attachments": {
				"att-a":   metaA,
				"att-b":   with(metaB, "orphan", true),
				"att-c":   with(metaC, "orphan", true),
				"att-d":   {"id": "att-d", "name": "att-d", "legacySource": "attachments/att-d.dat", "orphan": true},
				"att-e":   with(e, "extra", 1, "legacyMeta", metaE),
				"att-sub": {"id": "att-sub", "name": "att-sub", "legacySource": "attachments/images/att-sub.png"},
			},
		},
		NoContent: []string{"att-c"},
		Extras:    map[string]any{"attachments/" + hTXT[:2] + "/" + hTXT + ".meta.json": dedupMeta, "attachments-ca/" + hJPEG[:2] + "/" + hJPEG + "/metadata": casMeta},
	})
}

// envText writes an envelope whose GZIP_V1 payload is the JSON text
// given as it is (EncodeEnvelope can only write valid Unicode).
func (f *fx) envText(rel, text string, ts int64) {
	f.t.Helper()
	head := fmt.Sprintf(`{"version":1,"checksum":%q,"timestamp":%d,"compressed":true,"data":"%s%s"}`,
		LegacyChecksum(text), ts, gzipPrefix, base64.StdEncoding.EncodeToString(gz([]byte(text))))
	f.write(rel, []byte(head))
}

// rawNote is the legacyRaw entry a fixture expects.
func rawNote(path, problem, text string) obj {
	m := obj{"path": path, "problem": problem}
	if !utf8.ValidString(text) {
		m["base64"] = base64.StdEncoding.EncodeToString([]byte(text))
	} else {
		m["text"] = text
	}
	return m
}

// genRawText: texts the old app could write but a JSON document cannot
// hold as they are (docs/FORMAT.md keeps JavaScript strings: lone surrogates;
// files may hold raw invalid UTF-8; objects may repeat a name), in a
// collection file, a per-entity file, a WAL entry, a chunked session's
// transcription, the settings and an unknown key. Expected: each value
// decoded as encoding/json would (U+FFFD, the last duplicate), with its
// exact original text in the legacyRaw member of the object holding it,
// and listed in Report.RawValues.
func genRawText(f *fx) {
	T1 := T0 + 100000
	n1Text := `{"id":"n1","content":"caf` + "\xe9" + ` au lait","title":"smile \ud83d only half","lastUpdated":"` + iso(T1) + `"}`
	n2Text := `{"id":"n2","content":"first","content":"second","lastUpdated":"` + iso(T1) + `"}`
	f.envText("db/notes.json", "["+n1Text+","+n2Text+`,{"id":"n3","content":"clean"}]`, T1)
	n5Text := `{"id":"n5","content":"a","content":"b","lastUpdated":"` + iso(T1+5000) + `"}`
	f.write("db/notes/note-n5.json", []byte(n5Text))
	f.write("db/notes/note-n5.json.checksum", []byte(sha([]byte(n5Text))))
	f.write("db/wal.checkpoint", []byte(fmt.Sprint(T1)))
	f.write("db/wal.log", []byte(`{"id":"w1","timestamp":`+fmt.Sprint(T1+6000)+`,"operation":"write","collection":"db/notes/note-n4.json","data":{"id":"n4","content":"wal \ud800x","lastUpdated":"`+iso(T1+6000)+`"}}`+"\n"))
	f.env("db/session-index.json", arr{"x1"}, EncodingGzip, T1, false)
	meta := metaG("x1", "X1", T1, obj{"hasTranscription": true})
	f.env("db/sessions/x1/metadata.json", meta, EncodingGzip, T1, false)
	f.envText("db/sessions/x1/transcription.json", `"said caf`+"\xe9"+`"`, T1)
	f.envText("db/settings.json", `{"userProfile":{"name":"Jos`+"\xe9"+`"}}`, T1)
	f.write("db/capture-draft-text.json", []byte(`{"version":1,"timestamp":`+fmt.Sprint(T1)+`,"compressed":false,"data":"\"draft \\ud800\""}`))
	x1 := obj{}
	for k, v := range meta {
		x1[k] = v
	}
	x1["fullTranscription"] = "said caf\ufffd"
	x1["screenshots"], x1["audioSegments"] = arr{}, arr{}
	x1[RawField] = arr{rawNote("/fullTranscription", ProblemInvalidUTF8, `"said caf`+"\xe9"+`"`)}
	f.expect(expected{
		Entities: map[string]map[string]obj{
			"notes": {
				"n1": {"id": "n1", "content": "caf\ufffd au lait", "title": "smile \ufffd only half", "lastUpdated": iso(T1), RawField: arr{
					rawNote("/content", ProblemInvalidUTF8, `"caf`+"\xe9"+` au lait"`), rawNote("/title", ProblemSurrogate, `"smile \ud83d only half"`)}},
				"n2": {"id": "n2", "content": "second", "lastUpdated": iso(T1), RawField: arr{rawNote("", ProblemDuplicate+` "content"`, n2Text)}},
				"n3": {"id": "n3", "content": "clean"},
				"n4": {"id": "n4", "content": "wal \ufffdx", "lastUpdated": iso(T1 + 6000), RawField: arr{rawNote("/content", ProblemSurrogate, `"wal \ud800x"`)}},
				"n5": {"id": "n5", "content": "b", "lastUpdated": iso(T1 + 5000), RawField: arr{rawNote("", ProblemDuplicate+` "content"`, n5Text)}},
			},
			"sessions": {"x1": x1},
		},
		Extras: map[string]any{"capture-draft-text": "draft \ufffd", RawField + ":capture-draft-text": arr{rawNote("", ProblemSurrogate, `"draft \ud800"`)}},
		RawValues: []RawValue{
			{Collection: "notes", ID: "n1", Path: "/content", Problem: ProblemInvalidUTF8},
			{Collection: "notes", ID: "n1", Path: "/title", Problem: ProblemSurrogate},
			{Collection: "notes", ID: "n2", Path: "", Problem: ProblemDuplicate + ` "content"`},
			{Collection: "notes", ID: "n4", Path: "/content", Problem: ProblemSurrogate},
			{Collection: "notes", ID: "n5", Path: "", Problem: ProblemDuplicate + ` "content"`},
			{Collection: "sessions", ID: "x1", Path: "/fullTranscription", Problem: ProblemInvalidUTF8},
			{Collection: "extras", ID: "capture-draft-text", Path: "", Problem: ProblemSurrogate},
			{Collection: "settings", ID: "settings", Path: "/userProfile/name", Problem: ProblemInvalidUTF8},
		},
	})
}
