package gen

import "errors"

var (
	// ErrUnknownCollection is returned by Each and Doc for a collection name
	// that is not in Collections.
	ErrUnknownCollection = errors.New("gen: unknown collection")

	// ErrOutOfRange is returned by Doc for an index outside [0, count).
	ErrOutOfRange = errors.New("gen: index out of range")
)
