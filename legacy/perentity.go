package legacy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strings"
)

// PerEntity is one decoded per-entity file (docs/FORMAT.md §3.3):
// db/<collection>/<singular>-<id>.json or .json.gz, or its WAL-replay junk
// copy under db/db/.
type PerEntity struct {
	Collection string         // "sessions", "notes", ..., "companies"
	FileID     string         // the id in the file name
	Doc        map[string]any // the entity; nil when Junk
	Junk       bool           // an array spread into an object: not an entity
	Spread     map[string]any // when Junk, that object: a collection snapshot
	Text       []byte         // the JSON text (decompressed for .gz), for checksums
}

// DecodePerEntity decodes a per-entity file. name is its path relative to
// db/ (only the last two elements matter); content is the file's bytes,
// gzip for names ending ".gz". Errors wrap ErrCorrupt.
func DecodePerEntity(name string, content []byte) (*PerEntity, error) {
	dir := path.Base(path.Dir(name))
	_, coll, id := NormalizeKey(dir + "/" + path.Base(name))
	if coll == "" {
		return nil, corruptf("%q is not a per-entity file name", name)
	}
	text := content
	if strings.HasSuffix(name, ".gz") {
		var err error
		if text, err = gunzip(content); err != nil {
			return nil, err
		}
	}
	v, err := decodeJSON(text)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, corruptf("per-entity file holds %s, not an object", kindOf(v))
	}
	pe := &PerEntity{Collection: coll, FileID: id, Text: text}
	if isArraySpread(m) {
		pe.Junk, pe.Spread = true, m
		return pe, nil
	}
	pe.Doc = m
	return pe, nil
}

// VerifySHA256 reports whether checksumFile (a lowercase hex SHA-256,
// surrounding space ignored) matches text.
func VerifySHA256(text, checksumFile []byte) bool {
	sum := sha256.Sum256(text)
	return strings.EqualFold(string(bytes.TrimSpace(checksumFile)), hex.EncodeToString(sum[:]))
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any, *lazyArray:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}
