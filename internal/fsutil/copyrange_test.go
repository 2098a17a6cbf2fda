package fsutil

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// CopyRange copies the range asked for, to the offset asked for, whichever
// way it copies, and a source too short is an error.
func TestCopyRange(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 3<<20+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	srcPath := filepath.Join(dir, "src")
	if err := os.WriteFile(srcPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = src.Close() }()
	for name, copyFn := range map[string]func(dst, src *os.File, dstOff, srcOff, n int64) (int64, error){
		"CopyRange": CopyRange,
		"buffered":  copyRangeBuffered,
	} {
		t.Run(name, func(t *testing.T) {
			dst, err := os.Create(filepath.Join(t.TempDir(), "dst"))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = dst.Close() }()
			if _, err := dst.Write([]byte("head")); err != nil {
				t.Fatal(err)
			}
			n, err := copyFn(dst, src, 4, 1000, int64(len(data)-1000))
			if err != nil || n != int64(len(data)-1000) {
				t.Fatalf("copied %d, %v", n, err)
			}
			got, err := os.ReadFile(dst.Name())
			if err != nil {
				t.Fatal(err)
			}
			if want := append([]byte("head"), data[1000:]...); !bytes.Equal(got, want) {
				t.Errorf("copy of %d bytes differs from the source's range", len(got))
			}
			if pos, _ := src.Seek(0, io.SeekCurrent); pos != 0 {
				t.Errorf("source offset moved to %d", pos)
			}
			_, err = copyFn(dst, src, 0, int64(len(data)-10), 20)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("copy past the source's end: %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}
