package snapshot

import (
	"errors"
	"hash"
	"io"
)

var errPipeClosed = errors.New("cairn: write after close")

// hashPipe is a buffered writer that hashes what it writes on another
// goroutine: each full buffer goes to the hasher and to the underlying
// writer at the same time, so a backup costs max(copy, hash) rather than
// their sum. Close must be called once, also after an error, to stop the hasher.
type hashPipe struct {
	w      io.Writer
	h      hash.Hash
	buf    []byte      // being filled; nil after Close/Abort
	free   chan []byte // buffers the hasher is done with
	toHash chan []byte
	done   chan struct{} // closed when the hasher has stopped
	n      int64         // bytes written to w
	err    error         // first write error; sticky
}

const (
	pipeBuffers    = 4
	pipeBufferSize = copyBufferSize
)

func newHashPipe(w io.Writer, h hash.Hash) *hashPipe {
	p := &hashPipe{
		w:      w,
		h:      h,
		free:   make(chan []byte, pipeBuffers),
		toHash: make(chan []byte, pipeBuffers),
		done:   make(chan struct{}),
	}
	for i := 0; i < pipeBuffers-1; i++ {
		p.free <- make([]byte, 0, pipeBufferSize)
	}
	p.buf = make([]byte, 0, pipeBufferSize)
	go func() {
		defer close(p.done)
		for b := range p.toHash {
			_, _ = p.h.Write(b) // hash.Hash never fails
			p.free <- b[:0]
		}
	}()
	return p
}

// Write buffers b, passing full buffers on.
func (p *hashPipe) Write(b []byte) (int, error) {
	if p.buf == nil {
		return 0, errPipeClosed
	}
	written := 0
	for len(b) > 0 {
		if p.err != nil {
			return written, p.err
		}
		n := copy(p.buf[len(p.buf):cap(p.buf)], b)
		p.buf = p.buf[:len(p.buf)+n]
		b = b[n:]
		written += n
		if len(p.buf) == cap(p.buf) {
			p.flush()
		}
	}
	return written, p.err
}

// ReadFrom reads r straight into the buffers (io.Copy uses it), saving
// a copy through io.Copy's own buffer.
func (p *hashPipe) ReadFrom(r io.Reader) (int64, error) {
	if p.buf == nil {
		return 0, errPipeClosed
	}
	var total int64
	for p.err == nil {
		n, err := io.ReadFull(r, p.buf[len(p.buf):cap(p.buf)])
		p.buf = p.buf[:len(p.buf)+n]
		total += int64(n)
		if len(p.buf) == cap(p.buf) {
			p.flush()
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return total, p.err
		}
		if err != nil {
			return total, err
		}
	}
	return total, p.err
}

// flush sends the current buffer to the hasher and to w, then takes a
// free buffer.
func (p *hashPipe) flush() {
	if len(p.buf) == 0 || p.err != nil {
		return
	}
	b := p.buf
	p.toHash <- b // the hasher only reads b, as w does
	n, err := p.w.Write(b)
	p.n += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	p.err = err
	p.buf = <-p.free
}

// Close flushes what is buffered, waits for the hasher and returns the
// first write error.
func (p *hashPipe) Close() error {
	if p.buf == nil {
		return errPipeClosed
	}
	p.flush()
	close(p.toHash)
	<-p.done
	p.buf = nil
	return p.err
}
