package jsonx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// benchDoc is a session-like document: nested objects, arrays of
// objects, numbers, and text with some non-ASCII.
func benchDoc() []byte {
	var b strings.Builder
	b.WriteString(`{"id":"s-1","name":"Planning — Q3 budget","startTime":"2025-10-16T09:00:00.000Z","tags":["a","b","c"],"screenshots":[`)
	for i := 0; i < 200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"shot-%d","timestamp":"2025-10-16T09:%02d:00.000Z","analysis":{"summary":"Editing a spreadsheet with café totals %d","confidence":0.%d,"tags":["work","spreadsheet"]},"size":%d}`, i, i%60, i, i, i*1000)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkDecode(b *testing.B) {
	doc := benchDoc()
	b.Run("jsonx", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			if _, err := NewBytesDecoder(doc, Options{}).Value(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jsonx-stream", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			if _, err := NewDecoder(bytes.NewReader(doc), Options{}).Value(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			d := json.NewDecoder(bytes.NewReader(doc))
			d.UseNumber()
			var v any
			if err := d.Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
