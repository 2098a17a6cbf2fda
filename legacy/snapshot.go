package legacy

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
)

// snapshotKey streams a backups/backup-<ms>.json snapshot
// ({version, timestamp, collections:{name: payload}}) and returns the
// payload of one collection without holding the others in memory.
func (s *scanner) snapshotKey(rel, key string) (any, bool, error) {
	f, err := os.Open(s.abs(rel))
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	return streamObjectPath(bufio.NewReaderSize(f, 64<<10), "collections", key)
}

// streamObjectPath finds top[outer][inner] in a JSON object stream.
func streamObjectPath(r io.Reader, outer, inner string) (any, bool, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return nil, false, err
	}
	for dec.More() {
		k, err := objectKey(dec)
		if err != nil {
			return nil, false, err
		}
		if k != outer {
			if err := skipValue(dec); err != nil {
				return nil, false, err
			}
			continue
		}
		if err := expectDelim(dec, '{'); err != nil {
			return nil, false, err
		}
		for dec.More() {
			k2, err := objectKey(dec)
			if err != nil {
				return nil, false, err
			}
			if k2 == inner {
				var v any
				if err := dec.Decode(&v); err != nil {
					return nil, false, corruptf("%v", err)
				}
				return v, true, nil
			}
			if err := skipValue(dec); err != nil {
				return nil, false, err
			}
		}
		return nil, false, nil
	}
	return nil, false, nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return corruptf("%v", tokenErr(err))
	}
	if t != d {
		return corruptf("expected %v at byte %d", d, dec.InputOffset())
	}
	return nil
}

func objectKey(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", corruptf("%v", tokenErr(err))
	}
	k, ok := t.(string)
	if !ok {
		return "", corruptf("expected object key at byte %d", dec.InputOffset())
	}
	return k, nil
}

// skipValue consumes one JSON value token by token (bounded memory).
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return corruptf("%v", tokenErr(err))
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func tokenErr(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
