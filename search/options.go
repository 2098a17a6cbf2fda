package search

import "fmt"

// Options tune an Index. A nil *Options or a zero field means the documented
// default.
type Options struct {
	// BatchSize is the most documents put in one Bleve batch by Apply.
	// Default 1000.
	BatchSize int

	// BatchBytes is the most extracted text (bytes) put in one Bleve batch
	// by Apply; a batch is cut when either bound is reached. Default 32 MiB.
	BatchBytes int
}

// defaultOptions returns a fresh Options holding every default.
func defaultOptions() Options {
	return Options{BatchSize: 1000, BatchBytes: 32 << 20}
}

// withDefaults validates o and fills its zero fields.
func (o *Options) withDefaults() (Options, error) {
	d := defaultOptions()
	if o == nil {
		return d, nil
	}
	r := *o
	if r.BatchSize < 0 || r.BatchBytes < 0 {
		return r, fmt.Errorf("cairn: negative batch bound in options (BatchSize %d, BatchBytes %d)", r.BatchSize, r.BatchBytes)
	}
	if r.BatchSize == 0 {
		r.BatchSize = d.BatchSize
	}
	if r.BatchBytes == 0 {
		r.BatchBytes = d.BatchBytes
	}
	return r, nil
}
