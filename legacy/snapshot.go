package legacy

import "bytes"

// snapshotKey reads one collection of a backups/backup-<ms>.json snapshot
// ({version, timestamp, collections:{name: payload}}): an array payload
// as a lazy array over the mapped file (released when the walk ends, or
// when its group is emitted), anything else decoded. The other
// collections are skipped, not decoded.
func (s *scanner) snapshotKey(rel, key string) (any, bool, error) {
	b, _, release, err := loadFile(s.abs(rel))
	if err != nil {
		return nil, false, err
	}
	b = bytes.TrimPrefix(b, []byte(utf8BOM)) // as decodeJSON does
	span, ok, err := memberPath(b, "collections", key)
	if err != nil || !ok {
		_ = release() // read-only mapping
		return nil, false, err
	}
	if a, ok := indexArray(span); ok {
		a.release = release
		s.lazies = append(s.lazies, a)
		return a, true, nil
	}
	v, err := decodeJSON(span)
	_ = release()
	return v, err == nil, err
}

// memberPath finds the text of top[outer][inner] in the JSON object b,
// skipping (checking, not decoding) the members before it.
func memberPath(b []byte, outer, inner string) ([]byte, bool, error) {
	d := jdec{b: b}
	for _, name := range []string{outer, inner} {
		d.skipSpace()
		if d.i >= len(b) || b[d.i] != '{' {
			return nil, false, d.badChar("looking for an object")
		}
		d.i++
		d.skipSpace()
		found := false
		for !found {
			if d.i < len(b) && b[d.i] == '}' {
				return nil, false, nil
			}
			if d.i >= len(b) || b[d.i] != '"' {
				return nil, false, d.badChar("looking for beginning of object key string")
			}
			k, _, err := d.str()
			if err != nil {
				return nil, false, err
			}
			d.skipSpace()
			if d.i >= len(b) || b[d.i] != ':' {
				return nil, false, d.badChar("after object key")
			}
			d.i++
			d.skipSpace()
			if found = k == name; found {
				break
			}
			if err := d.skip(1); err != nil {
				return nil, false, err
			}
			d.skipSpace()
			if d.i < len(b) && b[d.i] == ',' {
				d.i++
				d.skipSpace()
			}
		}
	}
	start := d.i
	if err := d.skip(2); err != nil {
		return nil, false, err
	}
	return b[start:d.i], true, nil
}

// snapshotCollections calls fn with every array collection of a
// backups/backup-<ms>.json snapshot that want accepts, as a lazy array
// over the file's text, in one pass over the file (a snapshot holds every
// top-level collection: reading it once per collection would read it
// several times). The text is released when it returns: fn must not keep
// the array.
func (s *scanner) snapshotCollections(rel string, want func(name string) bool, fn func(name string, data any) error) error {
	b, _, release, err := loadFile(s.abs(rel))
	if err != nil {
		return err
	}
	b = bytes.TrimPrefix(b, []byte(utf8BOM)) // as decodeJSON does
	defer func() { _ = release() }()         // read-only mapping
	return eachMemberOf(b, "collections", func(name string, span []byte) error {
		if !want(name) {
			return nil
		}
		a, ok := indexArray(span)
		if !ok {
			return nil
		}
		return fn(name, a)
	})
}

// eachMemberOf calls fn with the name and text of every member of
// top[outer] in the JSON object b, checking (not decoding) the rest.
func eachMemberOf(b []byte, outer string, fn func(name string, span []byte) error) error {
	span, ok, err := memberPath1(b, outer)
	if err != nil || !ok {
		return err
	}
	d := jdec{b: span}
	d.skipSpace()
	if d.i >= len(span) || span[d.i] != '{' {
		return d.badChar("looking for an object")
	}
	d.i++
	d.skipSpace()
	for d.i < len(span) && span[d.i] != '}' {
		if span[d.i] != '"' {
			return d.badChar("looking for beginning of object key string")
		}
		k, _, err := d.str()
		if err != nil {
			return err
		}
		d.skipSpace()
		if d.i >= len(span) || span[d.i] != ':' {
			return d.badChar("after object key")
		}
		d.i++
		d.skipSpace()
		start := d.i
		if err := d.skip(2); err != nil {
			return err
		}
		if err := fn(k, span[start:d.i]); err != nil {
			return err
		}
		d.skipSpace()
		if d.i < len(span) && span[d.i] == ',' {
			d.i++
			d.skipSpace()
		}
	}
	return nil
}

// memberPath1 finds top[name] in the JSON object b: the text from the
// start of its value to the end of b.
func memberPath1(b []byte, name string) ([]byte, bool, error) {
	d := jdec{b: b}
	d.skipSpace()
	if d.i >= len(b) || b[d.i] != '{' {
		return nil, false, d.badChar("looking for an object")
	}
	d.i++
	d.skipSpace()
	for {
		if d.i < len(b) && b[d.i] == '}' {
			return nil, false, nil
		}
		if d.i >= len(b) || b[d.i] != '"' {
			return nil, false, d.badChar("looking for beginning of object key string")
		}
		k, _, err := d.str()
		if err != nil {
			return nil, false, err
		}
		d.skipSpace()
		if d.i >= len(b) || b[d.i] != ':' {
			return nil, false, d.badChar("after object key")
		}
		d.i++
		d.skipSpace()
		if k == name {
			return b[d.i:], true, nil
		}
		if err := d.skip(1); err != nil {
			return nil, false, err
		}
		d.skipSpace()
		if d.i < len(b) && b[d.i] == ',' {
			d.i++
			d.skipSpace()
		}
	}
}
