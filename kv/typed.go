package kv

import (
	"context"
	"encoding/json"
	"fmt"
)

// GetAs reads a document into a typed value: any type encoding/json
// decodes an object into, such as the entities of package kv/entity
// (entity.Session, entity.Note, ...), whose Extra keeps the fields the
// type does not declare and writes them back (PutAs, ModifyAs).
func GetAs[T any](ctx context.Context, db *DB, coll, id string) (T, uint64, error) {
	var out T
	doc, rev, err := db.Get(ctx, coll, id)
	if err != nil {
		return out, 0, err
	}
	if err := fromDocument(doc, &out); err != nil {
		return out, 0, &EntityError{Op: "get", Collection: coll, ID: id, Err: err}
	}
	return out, rev, nil
}

// PutAs stores a typed entity.
func PutAs[T any](ctx context.Context, db *DB, coll string, v T, opts ...Option) (uint64, error) {
	return db.Put(ctx, coll, v, opts...)
}

// ModifyAs runs a typed read-modify-write of one document atomically:
// fn gets the stored entity and changes it in place.
func ModifyAs[T any](ctx context.Context, db *DB, coll, id string, fn func(v *T) error) (uint64, error) {
	var rev uint64
	err := db.Update(ctx, func(tx *Tx) error {
		var err error
		rev, err = tx.Modify(coll, id, func(doc Document) error {
			var v T
			if err := fromDocument(doc, &v); err != nil {
				return err
			}
			if err := fn(&v); err != nil {
				return err
			}
			n, err := normalizeDoc(coll, v)
			if err != nil {
				return err
			}
			m, ok := n.(map[string]any)
			if !ok {
				return fmt.Errorf("%w: typed value is not an object", ErrInvalid)
			}
			for k := range doc {
				delete(doc, k)
			}
			for k, x := range m {
				doc[k] = x
			}
			return nil
		})
		return err
	})
	return rev, err
}

func fromDocument(doc Document, out any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}
