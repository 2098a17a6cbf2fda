package kv

import (
	"fmt"

	"github.com/cairnkv/cairn/buckets"
)

// Validate checks that doc (as returned by ParseJSON or ParseDocuments) can
// be stored in coll, without touching any store: the collection exists, an
// entity is an object with a valid string id, a singleton is an object.
func Validate(coll string, doc any) error {
	c, err := buckets.Lookup(coll)
	if err != nil {
		return err
	}
	if c.Kind == buckets.KindSingleton {
		if _, ok := doc.(map[string]any); !ok {
			return &EntityError{Op: "put", Collection: coll, Err: fmt.Errorf("%w: a document must be a JSON object, not %s", ErrInvalid, jsonType(doc))}
		}
		return nil
	}
	_, err = docID(coll, doc)
	return err
}
