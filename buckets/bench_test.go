package buckets

import (
	"math/rand/v2"
	"testing"
)

// benchRecord is a session-like record of about 30 KB of JSON, the average
// session of the demo data.
func benchRecord(tb testing.TB) (*Record, []byte) {
	doc := sessionDoc(20)
	r := &Record{Rev: 12345, Size: uint64(JSONSize(doc)), Doc: doc}
	b, err := EncodeRecord(r)
	if err != nil {
		tb.Fatal(err)
	}
	return r, b
}

func reportSizes(b *testing.B, r *Record, sealed []byte) {
	payload, err := Open(nil, nil, sealed)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(r.Size), "json-B")
	b.ReportMetric(float64(len(payload)), "msgpack-B")
	b.ReportMetric(float64(len(sealed)), "stored-B")
	b.ReportMetric(float64(r.Size)/float64(len(sealed)), "json/stored")
}

func BenchmarkEncodeRecord(b *testing.B) {
	r, sealed := benchRecord(b)
	b.SetBytes(int64(r.Size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeRecord(r); err != nil {
			b.Fatal(err)
		}
	}
	reportSizes(b, r, sealed)
}

func BenchmarkDecodeRecord(b *testing.B) {
	r, sealed := benchRecord(b)
	b.SetBytes(int64(r.Size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRecord(nil, nil, sealed, true); err != nil {
			b.Fatal(err)
		}
	}
	reportSizes(b, r, sealed)
}

func BenchmarkDecodeRecord_headerOnly(b *testing.B) {
	r, sealed := benchRecord(b)
	b.SetBytes(int64(r.Size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRecord(nil, nil, sealed, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	_, sealed := benchRecord(b)
	payload, _ := Open(nil, nil, sealed)
	payload = append([]byte(nil), payload...)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		Seal(payload)
	}
	b.ReportMetric(float64(len(payload))/float64(len(sealed)), "msgpack/stored")
}

func BenchmarkOpen(b *testing.B) {
	_, sealed := benchRecord(b)
	payload, _ := Open(nil, nil, sealed)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(nil, nil, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen_uncompressed(b *testing.B) {
	payload := make([]byte, 30<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range payload {
		payload[i] = byte(r.Uint32())
	}
	sealed := Seal(payload)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(nil, nil, sealed); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sealed[1]), "snappy-flag")
}
