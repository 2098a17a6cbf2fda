package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/secondary"
	bolt "go.etcd.io/bbolt"
)

// IndexType says what values a declared index holds and how they compare.
type IndexType = schema.IndexType

// Index types of DeclareIndex. Every type indexes each scalar value of the
// field (an array contributes each element) and answers exactly what a
// scan does; IndexTime also makes the field an instant (ISO 8601 strings
// and epoch milliseconds compare, filter and sort as times).
const (
	IndexString = schema.TypeString
	IndexNumber = schema.TypeNumber
	IndexTime   = schema.TypeTime
)

// IndexSpec declares an index on a user collection (Options.Indexes).
type IndexSpec struct {
	Collection string
	// Field is the document path indexed ("priority", "due.date").
	Field string
	// Type is IndexString, IndexNumber or IndexTime.
	Type IndexType
	// Fields, with two or more paths instead of Field, declares a
	// compound index (DeclareCompoundIndex); Type is then ignored.
	Fields []string
}

// IndexInfo describes one secondary index of a store.
type IndexInfo struct {
	Collection string    `json:"collection"`
	Field      string    `json:"field"`
	Type       IndexType `json:"type,omitempty"` // "" for a built-in index of any value
	Name       string    `json:"name"`
	BuiltIn    bool      `json:"builtin"`
	Entries    int       `json:"entries"` // keys in the index's bucket
}

// DeclareIndex declares an index on field of user collection coll and
// builds it from the documents already there, in one transaction: when it
// returns nil the index is complete, persisted in the store (every opener,
// kvtool included, keeps it) and kept exact by every later write, and the
// query planner uses it. Declaring the same index again changes nothing.
// Built-in collections keep their fixed indexes (ErrInvalidIndex). Every
// other reader and writer waits while the index is built.
func (db *DB) DeclareIndex(ctx context.Context, coll, field string, typ IndexType) (IndexInfo, error) {
	switch typ {
	case IndexString, IndexNumber, IndexTime:
	default:
		return IndexInfo{}, &EntityError{Op: "declare index", Collection: coll, Field: field,
			Err: fmt.Errorf("%w: type %q (string, number or time)", ErrInvalidIndex, typ)}
	}
	declared := false
	if c, err := db.lookup(coll); err == nil && !c.BuiltIn {
		if ix := c.IndexFor(field); ix != nil && ix.Type == typ && ix.Name == field {
			declared = true // already there: no write (Options.Indexes runs at every Open)
		}
	}
	if !declared {
		err := db.changeSchema(ctx, "declare index", coll, field, func(s *schema.Schema) (*schema.Schema, error) {
			return s.WithIndex(coll, schema.Index{Field: field, Type: typ})
		})
		if err != nil {
			return IndexInfo{}, err
		}
	}
	ixs, err := db.Indexes(ctx, coll)
	if err != nil {
		return IndexInfo{}, err
	}
	for _, ix := range ixs {
		if ix.Field == field {
			return ix, nil
		}
	}
	return IndexInfo{}, fmt.Errorf("cairn: declare index %s/%s: not found after its declaration", coll, field)
}

// DeclareCompoundIndex declares a compound index over fields (two to
// eight document paths) of user collection coll and builds it, like
// DeclareIndex. Its name and field are the fields joined by "+"
// ("status+startTime"). A query with equality on a prefix of the fields
// and optionally a range or sort on the next one scans one range of it;
// the planner uses it when its estimated keys are fewer than the other
// plans'. A document lacking any of the fields is not in it, so it serves
// only queries that filter every one of its fields (=, in, contains, <,
// <=, >, >=). Its values are compared as a single-field index of any type
// compares them (declare a field's type with DeclareIndex). Drop it with
// DropIndex(ctx, coll, "status+startTime").
func (db *DB) DeclareCompoundIndex(ctx context.Context, coll string, fields []string) (IndexInfo, error) {
	name := schema.CompoundField(fields)
	if len(fields) < 2 {
		return IndexInfo{}, &EntityError{Op: "declare index", Collection: coll, Field: name,
			Err: fmt.Errorf("%w: a compound index needs two or more fields, got %d", ErrInvalidIndex, len(fields))}
	}
	declared := false
	if c, err := db.lookup(coll); err == nil && !c.BuiltIn {
		for _, ix := range c.Indexes {
			if ix.Name == name && slices.Equal(ix.Fields, fields) {
				declared = true
			}
		}
	}
	if !declared {
		err := db.changeSchema(ctx, "declare index", coll, name, func(s *schema.Schema) (*schema.Schema, error) {
			return s.WithIndex(coll, schema.Index{Fields: slices.Clone(fields)})
		})
		if err != nil {
			return IndexInfo{}, err
		}
	}
	ixs, err := db.Indexes(ctx, coll)
	if err != nil {
		return IndexInfo{}, err
	}
	for _, ix := range ixs {
		if ix.Name == name {
			return ix, nil
		}
	}
	return IndexInfo{}, fmt.Errorf("cairn: declare index %s/%s: not found after its declaration", coll, name)
}

// DropIndex drops the index declared on field of user collection coll and
// its bucket; field "a+b" names the compound index over a and b. The
// built-in indexes cannot be dropped (ErrInvalidIndex).
func (db *DB) DropIndex(ctx context.Context, coll, field string) error {
	return db.changeSchema(ctx, "drop index", coll, field, func(s *schema.Schema) (*schema.Schema, error) {
		c, err := s.Lookup(coll)
		if err != nil {
			return nil, err
		}
		ix := c.IndexFor(field)
		for i := range c.Indexes {
			if ix == nil && c.Indexes[i].Compound() && c.Indexes[i].Field == field {
				ix = &c.Indexes[i]
			}
		}
		if ix == nil {
			if c.BuiltIn {
				return nil, fmt.Errorf("%w: %s is a built-in collection; its indexes cannot be dropped", ErrInvalidIndex, coll)
			}
			return nil, fmt.Errorf("%w: %s has no index on %s", ErrNotFound, coll, field)
		}
		return s.WithoutIndex(coll, ix.Name)
	})
}

// Indexes lists the secondary indexes of coll, or of every collection
// that has one when coll is "", built-in ones included, with the number
// of entries each holds, ordered by collection and index name.
func (db *DB) Indexes(ctx context.Context, coll string) ([]IndexInfo, error) {
	var colls []*schema.Collection
	s := db.schema()
	if coll != "" {
		c, err := s.Lookup(coll)
		if err != nil {
			return nil, err
		}
		colls = append(colls, c)
	} else {
		for _, n := range schema.BuiltinNames() {
			c, _ := s.Lookup(n)
			colls = append(colls, c)
		}
		user := s.UserIndexes()
		names := make([]string, 0, len(user))
		for n := range user {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			c, _ := s.Lookup(n)
			colls = append(colls, c)
		}
	}
	out := []IndexInfo{}
	err := db.View(ctx, func(t *Tx) error {
		for _, c := range colls {
			ixs := slices.Clone(c.Indexes)
			sort.Slice(ixs, func(i, j int) bool { return ixs[i].Name < ixs[j].Name })
			for _, ix := range ixs {
				out = append(out, indexInfo(t.tx, c, ix))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Collection < out[j].Collection })
	return out, nil
}

func indexInfo(tx *bolt.Tx, c *schema.Collection, ix schema.Index) IndexInfo {
	info := IndexInfo{Collection: c.Name, Field: ix.Field, Type: ix.Type, Name: ix.Name, BuiltIn: ix.BuiltIn || c.BuiltIn}
	if b := buckets.Lookup(tx, buckets.IndexBucket(c.Name, ix.Name)); b != nil {
		info.Entries = b.Stats().KeyN
	}
	return info
}

// changeSchema applies change to the store's schema and makes the store
// match it (backfill or drop, secondary.Sync) in one write transaction
// taken while every other reader and writer waits.
func (db *DB) changeSchema(ctx context.Context, op, coll, field string, change func(*schema.Schema) (*schema.Schema, error)) error {
	wrap := func(err error) error {
		var ee *EntityError
		if err == nil || errors.As(err, &ee) || errors.Is(err, ctx.Err()) && ctx.Err() != nil {
			return err
		}
		return &EntityError{Op: op, Collection: coll, Field: field, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	if _, err := db.lookup(coll); err != nil {
		return wrap(err)
	}
	if err := schema.CheckPath(field); err != nil {
		return wrap(fmt.Errorf("%w: field: %v", ErrInvalidIndex, err))
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return ErrClosed
	}
	db.commit.drain()
	var next *schema.Schema
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return guard(func() error {
			cur, err := readSchema(tx)
			if err != nil {
				return err
			}
			if next, err = change(cur); err != nil {
				return err
			}
			raw, err := json.Marshal(next.UserIndexes())
			if err != nil {
				return err
			}
			sys, err := buckets.Ensure(tx, buckets.SysBucket)
			if err != nil {
				return err
			}
			if err := sys.Put(schemaKey, raw); err != nil {
				return err
			}
			var progress func(coll, index string, done, total int)
			if db.opts.Progress != nil {
				progress = func(coll, index string, done, total int) {
					db.opts.Progress("backfill "+coll+"/"+index, done, total)
				}
			}
			if _, err := secondary.Sync(tx, next, progress); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err // roll the whole change back
			}
			return nil
		})
	})
	if err != nil {
		return wrap(err)
	}
	db.schemaPtr.Store(next)
	db.log.Info(op, "collection", coll, "field", field)
	return nil
}

// declareIndexes declares Options.Indexes at Open.
func (db *DB) declareIndexes(specs []IndexSpec) error {
	for _, sp := range specs {
		var err error
		if len(sp.Fields) > 0 {
			_, err = db.DeclareCompoundIndex(context.Background(), sp.Collection, sp.Fields)
		} else {
			_, err = db.DeclareIndex(context.Background(), sp.Collection, sp.Field, sp.Type)
		}
		if err != nil {
			return fmt.Errorf("cairn: Options.Indexes: %w", err)
		}
	}
	return nil
}
