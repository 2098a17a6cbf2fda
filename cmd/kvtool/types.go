package main

import (
	"fmt"

	"github.com/cairnkv/cairn/kv"
)

type problem = kv.Problem

// writableCollection looks coll up for put and patch: the collections
// whose names begin with kv.LocalPrefix hold a device's sync state, which
// only sync writes and an export leaves out, so a document put there
// would not leave the store with its data. (delete still takes them: it
// is the way back from a damaged one.)
func writableCollection(coll string) (*kv.Collection, error) {
	c, err := kv.LookupCollection(coll)
	if err != nil {
		return nil, err
	}
	if kv.IsLocalCollection(coll) {
		return nil, fmt.Errorf("collection %q: names beginning with %q hold this device's sync state, which only kvtool sync writes (and export leaves out); give the collection another name", coll, kv.LocalPrefix)
	}
	return c, nil
}
