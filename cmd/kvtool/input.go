package main

import (
	"fmt"
	"io"
	"os"
)

// maxInput bounds what kvtool reads from one input file or stdin.
const maxInput = 256 << 20

// readInput reads FILE, or stdin for "" and "-", refusing more than
// maxInput bytes. The error names the file.
func readInput(g *globals, path string) ([]byte, string, error) {
	name := path
	var r io.Reader
	if path == "" || path == "-" {
		name = "stdin"
		r = g.stdin
	} else {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, name, fmt.Errorf("read %s: %w", path, err)
		}
		if fi.IsDir() {
			return nil, name, fmt.Errorf("read %s: is a directory", path)
		}
		if fi.Size() > maxInput {
			return nil, name, fmt.Errorf("read %s: %d bytes is over the %d MiB input limit", path, fi.Size(), maxInput>>20)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, name, fmt.Errorf("read %s: %w", path, err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, name, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxInput {
		return nil, name, fmt.Errorf("read %s: input is over the %d MiB limit", name, maxInput>>20)
	}
	return data, name, nil
}
