package legacy

// Export of a Cairn store as the app's export file (format 1.0.0), whole
// or salvaged past damaged documents.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cairnkv/cairn/kv"
)

// singletons are the store's singleton collections an export or a
// migration may carry.
var singletons = []string{"settings", "aiSettings", "preferences"}

// ExportFrom writes the store as the app's export file, format 1.0.0 (docs/FORMAT.md
// §8), plus Cairn's extra keys (settings, attachments metadata, extras),
// from one consistent read transaction, streaming: documents are read one
// at a time. A store holding a damaged document (its value or a part fails
// its checksum) makes it fail, before anything is written, with an error
// wrapping kv.ErrCorrupt that names the damaged documents; SalvageExport
// writes the rest.
func ExportFrom(ctx context.Context, db *kv.DB, w io.Writer, compact bool) error {
	_, err := exportFrom(ctx, db, w, compact, false)
	return err
}

// SalvageExport writes what ExportFrom writes, from a store that may be
// damaged: every document that can be read is written, and those that
// cannot (a value or a part that fails its checksum, a singleton included)
// are left out and returned as "corrupt" problems naming collection and
// id. A document whole under a damaged key (kv.Tx.Misfiled) is written
// under its own id and returned as a "misfiled" problem naming the key.
// The file is a valid export file, which import reads back.
func SalvageExport(ctx context.Context, db *kv.DB, w io.Writer, compact bool) (damaged []kv.Problem, err error) {
	return exportFrom(ctx, db, w, compact, true)
}

// maxNamedDamage bounds the damaged documents an ExportFrom error names.
const maxNamedDamage = 10

func exportFrom(ctx context.Context, db *kv.DB, w io.Writer, compact, salvage bool) (damaged []kv.Problem, err error) {
	err = db.View(ctx, func(tx *kv.Tx) error {
		if !salvage {
			if ps := tx.Damaged(); len(ps) > 0 {
				names := make([]string, 0, maxNamedDamage)
				for _, p := range ps[:min(len(ps), maxNamedDamage)] {
					names = append(names, fmt.Sprintf("%s %q", p.Collection, p.ID))
				}
				more := ""
				if len(ps) > maxNamedDamage {
					more = fmt.Sprintf(" and %d more", len(ps)-maxNamedDamage)
				}
				return fmt.Errorf("%w: %d damaged document(s) (%s%s); nothing was written (kvtool export --salvage writes every readable document)", kv.ErrCorrupt, len(ps), strings.Join(names, ", "), more)
			}
		}
		skip := func(coll string) func(id string, err error) error {
			return func(id string, err error) error {
				damaged = append(damaged, kv.Problem{Kind: "corrupt", Collection: coll, ID: id, Detail: err.Error()})
				return nil
			}
		}
		if !salvage {
			skip = func(string) func(string, error) error {
				return func(_ string, err error) error { return err }
			}
		}
		// What the salvage wrote or named, per collection: the summaries
		// name the rest, documents on pages that could not be read.
		accounted := map[string]map[string]bool{}
		account := func(coll, id string) {
			if accounted[coll] == nil {
				accounted[coll] = map[string]bool{}
			}
			accounted[coll][id] = true
		}
		iter := func(coll string) DocIter {
			return func(yield func(doc map[string]any) error) error {
				if salvage {
					inner := yield
					yield = func(doc map[string]any) error {
						if id, ok := doc["id"].(string); ok {
							account(coll, id)
						}
						return inner(doc)
					}
				}
				left := skip(coll)
				if salvage {
					// A document whole under a damaged key is written under
					// its own id, and still named.
					left = func(key string, err error) error {
						if key == "" {
							return skip(coll)(key, err)
						}
						id, doc, ok := tx.Misfiled(coll, key)
						m, isMap := doc.(map[string]any)
						if !ok || !isMap {
							return skip(coll)(key, err)
						}
						damaged = append(damaged, kv.Problem{Kind: "misfiled", Collection: coll, ID: key, Detail: fmt.Sprintf("%v; written under its own id %q", err, id)})
						return yield(m)
					}
				}
				return tx.EachReadable(coll, func(_ string, doc any) error {
					if err := ctx.Err(); err != nil {
						return err
					}
					m, ok := doc.(map[string]any)
					if !ok {
						return nil
					}
					return yield(m)
				}, left)
			}
		}
		src := ExportSource{
			Topics: iter("topics"), Companies: iter("companies"), Contacts: iter("contacts"),
			Notes: iter("notes"), Tasks: iter("tasks"), Sessions: iter("sessions"),
			Attachments: iter("attachments"), Compact: compact,
		}
		for _, name := range tx.Collections() {
			if isUserCollection(name) {
				if src.Collections == nil {
					src.Collections = map[string]DocIter{}
				}
				src.Collections[name] = iter(name)
			}
		}
		for _, coll := range singletons {
			v, _, err := tx.GetValue(coll, "")
			switch {
			case err == nil:
				switch coll {
				case "aiSettings":
					src.AISettings = v
				case "preferences":
					src.Preferences = v
				case "settings":
					src.Settings, _ = v.(map[string]any)
				}
			case errors.Is(err, kv.ErrCorrupt):
				if err := skip(coll)(coll, err); err != nil {
					return err
				}
			case !errors.Is(err, kv.ErrNotFound):
				return err
			}
		}
		extras := map[string]any{}
		err := tx.EachReadable("extras", func(id string, doc any) error {
			extras[id] = doc
			return nil
		}, skip("extras"))
		if err != nil {
			return err
		}
		if len(extras) > 0 {
			src.Extras = extras
		}
		if err := WriteExport(w, src); err != nil || !salvage {
			return err
		}
		for _, p := range damaged {
			account(p.Collection, p.ID)
		}
		colls := append(append([]string{}, exportCollections...), "attachments")
		for _, name := range tx.Collections() {
			if isUserCollection(name) {
				colls = append(colls, name)
			}
		}
		for _, coll := range colls {
			err := tx.SummaryIDs(coll, func(id string) error {
				if !accounted[coll][id] {
					damaged = append(damaged, kv.Problem{Kind: "missing", Collection: coll, ID: id, Detail: "its summary is stored, but its document was on a page that cannot be read: it is not in the export (a backup may hold it)"})
				}
				return nil
			})
			if err != nil && !errors.Is(err, kv.ErrCorrupt) {
				return err
			}
		}
		return nil
	})
	return damaged, err
}
