//go:build !unix

package legacy

import (
	"io"
	"os"
)

// mapFile reads a file into memory where mapping is not implemented:
// the bytes are then the process's own.
func mapFile(f *os.File, size int64) (b []byte, release func() error, err error) {
	b = make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}
