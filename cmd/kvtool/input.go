package main

import (
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/cairnkv/cairn/kv"
)

// maxInput bounds what kvtool put reads from one input file or stdin: a
// put is one transaction, held in memory until it commits.
const maxInput = 256 << 20

// maxDocument is the limit of one document read by put and patch, before
// the store is opened: the store's default (kvtool opens stores with it).
var maxDocument = kv.DefaultOptions().MaxDocumentBytes

// input is what put and patch read: FILE, or stdin for "" and "-". It
// can be read more than once: stdin, or a FILE that is not a regular file
// (a FIFO, /dev/stdin, a process substitution), is copied to a temporary
// file as it is first read (unlinkedTemp: nothing of it outlives the
// process, however it ends; not with once), and every
// read is checksummed so that a change between two reads is noticed.
type input struct {
	g       *globals
	name    string    // for messages: the path, or "stdin"
	path    string    // "" until a stream has been copied
	first   io.Reader // the stream to copy: stdin or the opened FILE
	file    *os.File  // FILE, when it is a stream
	tmp     *os.File  // the copy of a stream, open until Close
	tmpPath string    // where the copy reopens (see unlinkedTemp)
	drop    func()    // removes the copy's name, if it still has one
	once    bool      // read only once: a stream is not copied
	read    int       // reads so far
}

func openInput(g *globals, path string) (*input, error) {
	if path == "" || path == "-" {
		return &input{g: g, name: "stdin", first: g.stdin}, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("read %s: is a directory", path)
	}
	if fi.Mode().IsRegular() {
		if fi.Size() > maxInput {
			return nil, fmt.Errorf("read %s: %d bytes is over the %d MiB input limit", path, fi.Size(), maxInput>>20)
		}
		return &input{g: g, name: path, path: path}, nil
	}
	f, err := os.Open(path) // a stream: read once, like stdin
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &input{g: g, name: path, first: f, file: f}, nil
}

// each runs fn over a fresh reader of the whole input and returns the
// CRC-32C of what fn read. Past maxInput bytes the reader fails.
func (in *input) each(fn func(r io.Reader) error) (uint32, error) {
	in.read++
	var src io.Reader
	switch {
	case in.path != "":
		f, err := os.Open(in.path)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", in.name, err)
		}
		defer f.Close() // read only: nothing to lose
		src = f
	case in.read > 1:
		return 0, fmt.Errorf("%s read twice without a copy", in.name) // a bug, not input
	case in.once:
		src = in.first
	default:
		tmp, path, drop, err := unlinkedTemp("kvtool-stdin-*")
		if err != nil {
			return 0, fmt.Errorf("copy %s to a temporary file: %w", in.name, err)
		}
		in.tmp, in.tmpPath, in.drop = tmp, path, drop
		src = io.TeeReader(in.first, tmp)
	}
	cr := &limitedCRC{r: src, name: in.name}
	err := fn(cr)
	if err != nil && cr.err != nil {
		err = cr.err // the limit, or the reader's own error
	}
	if err == nil && in.tmp != nil && in.path == "" {
		in.path = in.tmpPath // reopened there; the copy stays open until Close
	}
	return cr.sum, err
}

// Close removes the copy of the stream, if any.
func (in *input) Close() {
	if in.file != nil {
		_ = in.file.Close() // read only
	}
	if in.tmp != nil {
		_ = in.tmp.Close() // a temporary copy: only its removal matters
		in.drop()
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// limitedCRC checksums what it reads and fails past maxInput bytes.
type limitedCRC struct {
	r    io.Reader
	name string
	n    int64
	sum  uint32
	err  error
}

func (c *limitedCRC) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.sum = crc32.Update(c.sum, castagnoli, p[:n])
	if c.n > maxInput {
		c.err = fmt.Errorf("read %s: input is over the %d MiB limit", c.name, maxInput>>20)
		return n, c.err
	}
	if err != nil && err != io.EOF {
		c.err = fmt.Errorf("read %s: %w", c.name, err)
		return n, c.err
	}
	return n, err
}
