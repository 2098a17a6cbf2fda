package kv

import (
	"fmt"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/txn"

	"github.com/cairnkv/cairn/buckets"
)

// Validate checks that doc (as returned by ParseJSON or ParseDocuments) can
// be stored in coll, without touching any store: the collection exists, an
// entity is an object with a valid string id, a singleton is an object.
func Validate(coll string, doc any) error {
	c, err := (*schema.Schema)(nil).Lookup(coll)
	if err != nil {
		return err
	}
	if c.Kind == schema.Extras {
		return nil // any JSON value
	}
	_, err = txn.DocumentKey(c, doc)
	return err
}

// Validate checks doc as the package's Validate does and also against this
// store's Options.MaxDocumentBytes (its size as compact JSON), so that a
// bulk write can refuse bad input before it changes anything.
func (db *DB) Validate(coll string, doc any) error {
	if err := Validate(coll, doc); err != nil {
		return err
	}
	if n := int64(buckets.JSONSize(doc)); n > db.opts.MaxDocumentBytes {
		c, _ := db.lookup(coll)
		id, _ := txn.DocumentKey(c, doc)
		return &EntityError{Op: "put", Collection: coll, ID: id,
			Err: fmt.Errorf("%w: the document is %d bytes as JSON, the limit is %d", ErrTooLarge, n, db.opts.MaxDocumentBytes)}
	}
	return nil
}

// MaxDocumentBytes is the store's limit on one document, as compact JSON
// (Options.MaxDocumentBytes): readers of outside input refuse a larger
// document while reading it.
func (db *DB) MaxDocumentBytes() int64 { return db.opts.MaxDocumentBytes }
