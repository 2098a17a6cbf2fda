package blobstore_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairnkv/cairn/internal/blobstore"
)

func ExampleStore() {
	dir, err := os.MkdirTemp("", "cairn-blobs-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := blobstore.Open(filepath.Join(dir, "blobs"), nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// Put streams: the content need not fit in memory.
	hash, size, err := s.Put(ctx, strings.NewReader("hello, attachment"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(hash, size)

	// Identical content is stored once, under the same name.
	again, _, err := s.PutBytes(ctx, []byte("hello, attachment"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again == hash)

	// Reading verifies: reading to the end returns io.EOF only if the
	// contents hash to their name (otherwise an error wrapping
	// buckets.ErrCorrupt).
	r, err := s.Open(hash)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))

	// Output:
	// b2a63a328ebcd02d39d053c91496a2c642e62e2aca6e27b952c077917182cc4e 17
	// true
	// hello, attachment
}
