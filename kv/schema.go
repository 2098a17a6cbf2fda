package kv

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	bolt "go.etcd.io/bbolt"
)

// schemaKey holds, in the sys bucket, the indexes declared on user
// collections (JSON: collection → []schema.Index), so that every opener of
// the store, kvtool included, keeps them.
var schemaKey = []byte("schema/user-indexes")

// readSchema returns the schema tx holds: the built-in collections and
// the user indexes recorded under schemaKey.
func readSchema(tx *bolt.Tx) (*schema.Schema, error) {
	var user map[string][]schema.Index
	if b := buckets.Lookup(tx, buckets.SysBucket); b != nil {
		if v := b.Get(schemaKey); v != nil {
			if err := json.Unmarshal(v, &user); err != nil {
				return nil, &buckets.CorruptError{Bucket: string(buckets.SysBucket), Key: string(schemaKey), Detail: fmt.Sprintf("declared indexes: %v", err)}
			}
		}
	}
	s, err := schema.New(user)
	if err != nil {
		return nil, &buckets.CorruptError{Bucket: string(buckets.SysBucket), Key: string(schemaKey), Detail: fmt.Sprintf("declared indexes: %v", err)}
	}
	return s, nil
}

// schema returns the store's current schema.
func (db *DB) schema() *schema.Schema { return db.schemaPtr.Load() }

// lookup returns the declaration of collection coll.
func (db *DB) lookup(coll string) (*schema.Collection, error) { return db.schema().Lookup(coll) }

// Collection declares one collection: kind, parts, summary and derived
// fields, timestamp fields, indexes, search fields, listing columns (see
// package schema).
type Collection = schema.Collection

// Collection kinds.
const (
	KindEntity    = schema.Entity    // documents with a string id
	KindSingleton = schema.Singleton // one document, addressed without an id
	KindExtras    = schema.Extras    // any JSON value under a key
)

// LookupCollection returns the declaration of collection name as a store
// without declared indexes has it: a built-in collection, or a user
// collection for any other valid name ([a-z][a-zA-Z0-9_-]{0,63}); an
// invalid name is ErrUnknownCollection. It touches no store, so callers
// can check a name before opening one. The result must not be modified.
func LookupCollection(name string) (*Collection, error) {
	return (*schema.Schema)(nil).Lookup(name)
}

// LocalPrefix begins the names of the collections that hold one device's
// own bookkeeping rather than the user's data: package replica's sync
// state (replica_state, replica_clocks, replica_outbox,
// replica_conflicts). A copy of them in another store would make it a
// clone of the device, so an export leaves them out and an import ignores
// them.
const LocalPrefix = "replica_"

// IsLocalCollection reports whether collection name holds a device's own
// bookkeeping (its name begins with LocalPrefix).
func IsLocalCollection(name string) bool { return strings.HasPrefix(name, LocalPrefix) }

// BuiltinCollections returns the names of the built-in collections, in the
// order kvtool lists them.
func BuiltinCollections() []string { return schema.BuiltinNames() }

// Collection returns the declaration of collection name in this store,
// with the indexes declared on it. The result must not be modified.
func (db *DB) Collection(name string) (*Collection, error) { return db.lookup(name) }
