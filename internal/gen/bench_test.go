package gen

import (
	"encoding/json"
	"testing"
)

// BenchmarkGenerator_Session builds one session of the default dataset.
func BenchmarkGenerator_Session(b *testing.B) {
	g := New(Config{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = g.Session(i % DefaultSessions)
		i++
	}
}

// BenchmarkGenerator_Sessions10k builds all 10,000 sessions of the default
// dataset through Each, once per iteration (run with -benchtime=1x).
func BenchmarkGenerator_Sessions10k(b *testing.B) {
	g := New(Config{})
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := g.Each("sessions", func(map[string]any) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerator_Sessions10kJSON also marshals each session, and reports
// the JSON volume.
func BenchmarkGenerator_Sessions10kJSON(b *testing.B) {
	g := New(Config{})
	b.ReportAllocs()
	total := 0
	for b.Loop() {
		total = 0
		if err := g.Each("sessions", func(doc map[string]any) error {
			data, err := json.Marshal(doc)
			total += len(data)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)/DefaultSessions, "B/session")
	b.ReportMetric(float64(total)/1e6, "MB/dataset")
}

// BenchmarkGenerator_Dataset builds every collection of the default dataset.
func BenchmarkGenerator_Dataset(b *testing.B) {
	g := New(Config{})
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range Collections {
			if err := g.Each(c, func(map[string]any) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	}
}
