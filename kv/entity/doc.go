// Package entity holds typed Go views of the old app's entities: Session,
// Note, Task, Topic, Company, Contact, Attachment and Settings, with the
// nested types they share. Each keeps, in its Extra, every field its
// struct does not declare, exactly as stored (and a declared number the
// Go field cannot hold exactly), so that a typed read followed by a typed
// write drops nothing and changes nothing (docs/DESIGN.md invariant 3). Use
// them with kv.GetAs, kv.PutAs and kv.ModifyAs:
//
//	s, rev, err := kv.GetAs[entity.Session](ctx, db, "sessions", "s1")
//
// The store itself is schemaless: any struct encoding/json maps to an
// object works with those functions; these are a convenience.
package entity
