package legacy

// lazyArray is a JSON array payload kept as its text: the array was
// checked when the file was read, and its elements are decoded one at a
// time when asked for. A decoded collection takes several times the
// memory of its text, so a collection file is never decoded whole; its
// text is the file's own bytes or a spill file's (see spill), mapped.
type lazyArray struct {
	text    []byte
	offs    []int // start and end of each element in text; nil when text is not an array
	release func() error
}

// indexArray indexes text when it is exactly one JSON array (what
// decodeJSON would accept): ok is false otherwise, and the caller then
// decodes the text whole, which gives the same value or the same error.
func indexArray(text []byte) (*lazyArray, bool) {
	d := jdec{b: text}
	d.skipSpace()
	if d.i >= len(text) || text[d.i] != '[' {
		return nil, false
	}
	d.i++
	offs := []int{}
	d.skipSpace()
	if d.i < len(text) && text[d.i] == ']' {
		d.i++
	} else {
		for {
			start := d.i
			if d.skip(1) != nil {
				return nil, false
			}
			offs = append(offs, start, d.i)
			d.skipSpace()
			if d.i >= len(text) {
				return nil, false
			}
			if text[d.i] == ']' {
				d.i++
				break
			}
			if text[d.i] != ',' {
				return nil, false
			}
			d.i++
			d.skipSpace()
		}
	}
	d.skipSpace()
	if d.i != len(text) {
		return nil, false
	}
	return &lazyArray{text: text, offs: offs}, true
}

func (a *lazyArray) Len() int { return len(a.offs) / 2 }

// At decodes element i (nested in the array, for the depth limit).
func (a *lazyArray) At(i int) (any, error) {
	d := jdec{b: a.text[a.offs[2*i]:a.offs[2*i+1]]}
	v, _, err := d.whole(1)
	return v, err
}

// close releases the text's mapping, once; the array is empty after.
func (a *lazyArray) close() {
	if a == nil {
		return
	}
	if a.release != nil {
		_ = a.release() // unmapping a read-only mapping fails only on a bad address
		a.release = nil
	}
	a.text, a.offs = nil, nil
}

// closeLazy releases v when it is a lazy array.
func closeLazy(v any) {
	if a, ok := v.(*lazyArray); ok {
		a.close()
	}
}

// eachElem calls fn with every element of an array payload ([]any or
// *lazyArray), decoding lazy elements one at a time. It reports whether
// data is an array at all.
func eachElem(data any, fn func(i int, e any) error) (bool, error) {
	switch d := data.(type) {
	case []any:
		for i, e := range d {
			if err := fn(i, e); err != nil {
				return true, err
			}
		}
		return true, nil
	case *lazyArray:
		for i := 0; i < d.Len(); i++ {
			e, err := d.At(i)
			if err != nil {
				return true, err
			}
			if err := fn(i, e); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	return false, nil
}

// isArrayData reports whether a payload is an array, lazy or not.
func isArrayData(v any) bool {
	switch v.(type) {
	case []any, *lazyArray:
		return true
	}
	return false
}
