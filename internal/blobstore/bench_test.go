package blobstore

import (
	"bytes"
	"context"
	"testing"
)

// BenchmarkPut measures Put throughput of 256 KiB blobs (MB/s from
// SetBytes), each with fsync of the file and directories, for new contents
// and for contents already stored (the dedup path: write, sync and drop the
// temporary copy). PutBytes on a duplicate skips the write entirely.
func BenchmarkPut(b *testing.B) {
	const size = 256 << 10
	ctx := context.Background()
	b.Run("unique", func(b *testing.B) {
		s := rawStore(b, nil)
		data := randBytes(1, size)
		b.SetBytes(size)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			// Change the first bytes so every blob is new.
			data[0], data[1], data[2], data[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
			if _, _, err := s.Put(ctx, bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("duplicate", func(b *testing.B) {
		s := rawStore(b, nil)
		data := randBytes(2, size)
		mustPutBytes(b, s, data)
		b.SetBytes(size)
		b.ResetTimer()
		for b.Loop() {
			if _, _, err := s.Put(ctx, bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("duplicate-bytes", func(b *testing.B) {
		s := rawStore(b, nil)
		data := randBytes(3, size)
		mustPutBytes(b, s, data)
		b.SetBytes(size)
		b.ResetTimer()
		for b.Loop() {
			if _, _, err := s.PutBytes(ctx, data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerify measures reading and hashing a 256 KiB blob.
func BenchmarkVerify(b *testing.B) {
	const size = 256 << 10
	s := rawStore(b, nil)
	h := mustPutBytes(b, s, randBytes(4, size))
	ctx := context.Background()
	b.SetBytes(size)
	for b.Loop() {
		if err := s.Verify(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
}
