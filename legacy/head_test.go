package legacy

import (
	"bytes"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestHeadOfText: the head read from an element's text is the head of
// its decoding, for chosen and random documents (CAIRN_SEED replays).
func TestHeadOfText(t *testing.T) {
	docs := []string{
		`{}`, `[]`, `"s"`, `12`, `null`, `{"id":"a"}`, `{"id":5}`, `{"id":"a","id":"b"}`, `{"id":"\ud800x"}`,
		`{"id":"a","version":3,"updatedAt":"2025-10-16T00:00:00.000Z","lastUpdated":"2024-01-01"}`,
		`{"id":"a","lastUpdated":"2025-10-16T00:00:00Z","type":"company"}`, `{"0":{"id":"x"},"id":"x"}`,
		`{"id":"s","video":{"id":"v","chapters":[{"id":"c"}]}}`, `{"id":"s","video":{"chapters":[]}}`, `{"id":"s","video":1}`,
		`{"big":[1,2,{"deep":["x"]}],"id":"z","type":"person","version":"7"}`,
	}
	seed := uint64(rand.Int64())
	if s := os.Getenv("CAIRN_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (CAIRN_SEED=%d replays)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 17))
	for range 500 {
		var w bytes.Buffer
		w.WriteString(`{"id":`)
		randJSON(r, &w, 2)
		for _, k := range []string{"version", "updatedAt", "type", "video", "7", "x"} {
			if r.IntN(2) == 0 {
				w.WriteString(`,"` + k + `":`)
				randJSON(r, &w, 2)
			}
		}
		w.WriteString("}")
		docs = append(docs, w.String())
	}
	for _, d := range docs {
		v, err := decodeJSON([]byte(d))
		if err != nil {
			continue // not JSON: indexArray never hands such an element over
		}
		got, err := headOfText([]byte(d))
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if want := headOf(v); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", d, got, want)
		}
	}
}

// TestDecodedSize: the size computed from the text is the store's
// measure of the decoded document: its compact JSON, as marshalCompact
// (encoding/json without HTML escaping, as kv) writes it.
func TestDecodedSize(t *testing.T) {
	docs := []string{`{}`, `{"a":[1,2.50,-3e5,true,false,null]}`, `"\u00e9\ud83d\ude00\n\t\"\\\/\u0001\u2028x"`,
		`{"k":"caf` + "\xe9" + `","s":"\ud800"}`, "{\"e\":\"\u2028é€\"}", ` [ { "a" : "b" } ] `}
	r := rand.New(rand.NewPCG(5, 5))
	for range 300 {
		var w bytes.Buffer
		randJSON(r, &w, 0)
		if !bytes.Contains(w.Bytes(), []byte(`"dup"`)) {
			docs = append(docs, w.String())
		}
	}
	for _, d := range docs {
		v, err := decodeJSON([]byte(d))
		dup := false
		eachRaw(v, func(_, problem, _ string) { dup = dup || strings.Contains(problem, ProblemDuplicate) })
		if err != nil || dup {
			continue // a repeated name is counted each time (documented)
		}
		b, err := marshalCompact(stripRaw(v))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := decodedSize([]byte(d)), int64(len(b)); got != want {
			t.Errorf("%s: %d, the store measures %d", d, got, want)
		}
	}
}
