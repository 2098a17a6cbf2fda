package search

import (
	zapv16 "github.com/blevesearch/zapx/v16"
	zapv17 "github.com/blevesearch/zapx/v17"
)

// zap sizes the buffer of each new segment from the previous one's bytes
// per document times this batch's documents: after one large document (a
// long transcript, a note with an embedded image), a following batch of
// a thousand small ones asked for tens of gigabytes at once, and the
// process died out of memory, on every later open too, since catch-up
// indexes the same batch again. Without the estimate the buffer grows as
// it is written, to the size the segment needs.
func init() {
	zapv16.NewSegmentBufferAvgBytesPerDocFactor = 0
	zapv17.NewSegmentBufferAvgBytesPerDocFactor = 0
}
