package legacy

import (
	"fmt"
	"strconv"
	"strings"
)

// Chunk kinds of a chunked session (docs/FORMAT.md §3.4): the directory name,
// the array field inside the chunk, and the Session field they fill.
var chunkKinds = []struct {
	Dir, Field, SessionField, Manifest string
	Size                               int
}{
	{"screenshots", "screenshots", "screenshots", "screenshots", 20},
	{"audio-segments", "segments", "audioSegments", "audioSegments", 100},
	{"video-chunks", "chunks", "videoChunks", "videoChunks", 100},
}

// Chunk is one decoded chunk file of a chunked session.
type Chunk struct {
	Kind       string // "screenshots", "audio-segments" or "video-chunks"
	SessionID  string // as stored in the chunk ("" if absent)
	ChunkIndex int    // as stored in the chunk (-1 if absent)
	Items      []any  // the screenshots, segments or video chunks
}

// DecodeChunk decodes a chunk file (an envelope whose payload is
// {sessionId, chunkIndex, screenshots|segments|chunks: [...]}). Errors wrap
// ErrCorrupt.
func DecodeChunk(b []byte) (*Chunk, error) {
	env, err := DecodeEnvelope(b)
	if err != nil {
		return nil, err
	}
	return chunkFromValue(env.Data)
}

func chunkFromValue(v any) (*Chunk, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, corruptf("chunk payload is %s, not an object", kindOf(v))
	}
	c := &Chunk{ChunkIndex: -1}
	c.SessionID, _ = m["sessionId"].(string)
	if n, ok := numInt64(m["chunkIndex"]); ok {
		c.ChunkIndex = int(n)
	}
	for _, k := range chunkKinds {
		if raw, ok := m[k.Field]; ok {
			items, ok := raw.([]any)
			if !ok {
				return nil, corruptf("chunk field %q is %s, not an array", k.Field, kindOf(raw))
			}
			c.Kind, c.Items = k.Dir, items
			return c, nil
		}
	}
	return nil, corruptf("chunk without screenshots, segments or chunks array")
}

// chunkName is the 0-based, zero-padded chunk key element: chunk-000.
func chunkName(i int) string { return fmt.Sprintf("chunk-%03d", i) }

// parseChunkName parses "chunk-NNN" into its index.
func parseChunkName(s string) (int, bool) {
	d, ok := strings.CutPrefix(s, "chunk-")
	if !ok || d == "" {
		return 0, false
	}
	n, err := strconv.Atoi(d)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
