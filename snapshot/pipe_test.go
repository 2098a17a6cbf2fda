package snapshot

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
)

func TestHashPipe(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, size := range []int{0, 1, pipeBufferSize - 1, pipeBufferSize, pipeBufferSize + 1, 5*pipeBufferSize + 12345} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		var out bytes.Buffer
		h := sha256.New()
		p := newHashPipe(&out, h)
		// Mixed Write calls and a ReadFrom, as bbolt's WriteTo does.
		head := min(size, 8192)
		for i := 0; i < head; {
			n := min(1+r.IntN(3000), head-i)
			if w, err := p.Write(data[i : i+n]); err != nil || w != n {
				t.Fatalf("Write: %d %v", w, err)
			}
			i += n
		}
		if n, err := io.Copy(p, bytes.NewReader(data[head:])); err != nil || n != int64(size-head) {
			t.Fatalf("io.Copy: %d %v", n, err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(data)
		if !bytes.Equal(out.Bytes(), data) || !bytes.Equal(h.Sum(nil), want[:]) || p.n != int64(size) {
			t.Fatalf("size %d: output or hash differs", size)
		}
	}
}

func TestHashPipe_writeError(t *testing.T) {
	var out bytes.Buffer
	p := newHashPipe(&failAfter{w: &out, n: pipeBufferSize + 10}, sha256.New())
	_, err := io.Copy(p, bytes.NewReader(make([]byte, 4*pipeBufferSize)))
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err %v", err)
	}
	if _, err := p.Write([]byte("x")); err == nil {
		t.Error("write after failure succeeded")
	}
}

func TestHashPipe_closed(t *testing.T) {
	p := newHashPipe(io.Discard, sha256.New())
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, errPipeClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if _, err := p.ReadFrom(bytes.NewReader([]byte("x"))); !errors.Is(err, errPipeClosed) {
		t.Errorf("ReadFrom after Close: %v", err)
	}
	if err := p.Close(); !errors.Is(err, errPipeClosed) {
		t.Errorf("second Close: %v", err)
	}
}
