package legacy

import (
	"fmt"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"
)

// perIDFiles are the files of one attachment stored under its id
// (docs/FORMAT.md §3.7.1–2): attachmentStorage's <id>.dat and <id>.meta.json,
// fileStorageService's <subdir>/<id>.<ext>.
type perIDFiles struct {
	dat    string   // attachments/<id>.dat
	meta   string   // attachments/<id>.meta.json
	subdir []string // attachments/<subdir>/<id>.<ext>
	mime   string   // the meta's mimeType, once read
}

// badNameFile is an attachment file whose name is no usable id, and
// whether its text is base64 (attachments/<id>.dat).
type badNameFile struct {
	rel    string
	base64 bool
}

// dedupFiles are the dedup store's files of one content hash (§3.7.3).
type dedupFiles struct{ dat, meta string }

var fileStorageDirs = []string{"images", "videos", "files", "screenshots"}

// classifyAttachments sorts the files of attachments/ (and of
// db/attachments-ca/ and videos/) by layout before any entity is read:
// what entities say about attachments is then kept only when it concerns
// one of them (blobKeys).
func (s *scanner) classifyAttachments() error {
	s.perID, s.dedupFiles = map[string]*perIDFiles{}, map[string]*dedupFiles{}
	k := &blobKeys{ids: map[string]bool{}, hashes: map[recordedHash]bool{}, videos: map[string]bool{}}
	s.blobKeys = k
	perID := func(id, rel string) *perIDFiles {
		if _, err := CheckID(id); err != nil {
			s.rep.InvalidIDs = append(s.rep.InvalidIDs, InvalidEntity{Collection: "attachments", Source: rel, Index: -1, Reason: err.Error() + "; its bytes are kept as an orphan attachment"})
			// blobsFromBadNames keeps their bytes; a .dat beside the
			// others holds them base64-encoded.
			s.badNameFiles = append(s.badNameFiles, badNameFile{rel, path.Base(path.Dir(rel)) == "attachments" && strings.HasSuffix(rel, ".dat")})
			return nil
		}
		pf := s.perID[id]
		if pf == nil {
			pf = &perIDFiles{}
			s.perID[id] = pf
			k.ids[id] = true
		}
		return pf
	}
	for _, rel := range s.attachFiles {
		_, a, _ := strings.Cut(rel, "attachments/")
		parts := strings.Split(a, "/")
		name := parts[len(parts)-1]
		stem, isMeta := strings.CutSuffix(name, ".meta.json")
		if !isMeta {
			stem = strings.TrimSuffix(name, ".dat")
		}
		isDat := !isMeta && stem != name
		switch {
		case len(parts) == 2 && (isDat || isMeta) && isHexHash(stem) && parts[0] == stem[:2]:
			df := s.dedupFiles[stem]
			if df == nil {
				df = &dedupFiles{}
				s.dedupFiles[stem] = df
				h, _ := shaOf(stem)
				k.hashes[h] = true
			}
			if isMeta {
				df.meta = rel
			} else {
				df.dat = rel
			}
		case len(parts) == 1 && (isDat || isMeta):
			if pf := perID(stem, rel); pf != nil {
				if isMeta {
					pf.meta = rel
				} else {
					pf.dat = rel
				}
			}
		case len(parts) == 2 && slices.Contains(fileStorageDirs, parts[0]):
			if pf := perID(strings.TrimSuffix(name, path.Ext(name)), rel); pf != nil {
				pf.subdir = append(pf.subdir, rel)
			}
		default:
			s.skip(rel, "not a file of a known attachment layout (docs/FORMAT.md §3.7)")
		}
	}
	for _, rel := range s.casFiles {
		parts := strings.Split(strings.TrimPrefix(rel, s.dbRel), "/")
		if len(parts) == 4 && isHexHash(parts[2]) && parts[1] == parts[2][:2] {
			h, _ := shaOf(parts[2])
			k.hashes[h] = true
		}
	}
	for _, rel := range s.videoFiles {
		k.videos[path.Base(rel)] = true
	}
	return nil
}

// readMeta reads an attachment metadata file (plain JSON, no envelope);
// an unreadable one is reported and its bytes kept in Extras.
func (s *scanner) readMeta(rel string) map[string]any {
	b, err := s.readFile(rel)
	if err != nil {
		s.unreadable(rel, nil, err, false)
		return nil
	}
	v, err := decodeJSON(b)
	if err == nil {
		if m, ok := v.(map[string]any); ok {
			return m
		}
		err = corruptf("attachment metadata is %s, not an object", kindOf(v))
	}
	s.unreadable(rel, b, err, true)
	return nil
}

// referencedAttachment reports whether an entity emitted so far (every
// collection but attachments) refers to attachment id.
func (s *scanner) referencedAttachment(id string) bool {
	for _, c := range factColls {
		if f := s.facts[c]; f != nil && c != "attachments" && f.refIDs[id] {
			return true
		}
	}
	return false
}

// perIDDoc completes the attachments collection with what attachments
// stored by id say (docs/FORMAT.md §3.7): doc is the collection's document of
// id, or nil when it has none. Every field of <id>.meta.json is kept: it
// fills the fields doc lacks, and when it says otherwise about one the
// whole file is kept under legacyMeta. Without a document, the meta file
// is the document (or, without one, a stub naming the bytes' file), with
// orphan: true when nothing refers to it.
func (s *scanner) perIDDoc(id string, doc map[string]any) (map[string]any, string) {
	pf := s.perID[id]
	var meta map[string]any
	if pf.meta != "" {
		meta = s.readMeta(pf.meta)
		if mt, ok := meta["mimeType"].(string); ok {
			pf.mime = mt
		}
	}
	source := pf.meta
	if source == "" {
		source = pf.dat
		if source == "" {
			source = pf.subdir[0]
		}
	}
	if doc != nil {
		if meta != nil && !mergeMeta(doc, meta) {
			s.ds.Extras[pf.meta] = meta
		}
		return doc, source
	}
	if meta != nil {
		doc = cloneDoc(meta)
		if doc["id"] != id { // the file name is what the bytes and references go by
			doc["id"] = id
			mergeMeta(doc, meta)
		}
	} else {
		doc = map[string]any{"id": id, "name": id, "legacySource": source}
	}
	if !s.referencedAttachment(id) {
		// A member orphan of the old app's own is kept as it is
		// (Migrate's markers do the same).
		mark := freeMarker(ownOf(doc), "orphan")
		if mark != "orphan" {
			s.rep.note(fmt.Sprintf("attachment %q: the old app's document has a member %q of its own, kept as it is; Migrate's orphan marker is %q instead", id, "orphan", mark))
		}
		doc[mark] = true
		s.rep.OrphanAttachments = append(s.rep.OrphanAttachments, id)
	}
	return doc, source
}

// ownOf is the set of doc's member names.
func ownOf(doc map[string]any) map[string]bool {
	own := make(map[string]bool, len(doc))
	for k := range doc {
		own[k] = true
	}
	return own
}

// mergeMeta adds meta's fields that doc lacks; when meta says otherwise
// about a field doc has, the whole of meta is kept under legacyMeta. It
// reports false when that was not possible (doc has a legacyMeta of its
// own).
func mergeMeta(doc, meta map[string]any) bool {
	differs := false
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		cur, ok := doc[k]
		if !ok {
			doc[k] = cloneValue(meta[k])
		} else if !reflect.DeepEqual(cur, meta[k]) {
			differs = true
		}
	}
	if !differs {
		return true
	}
	if _, taken := doc["legacyMeta"]; taken {
		return false
	}
	doc["legacyMeta"] = cloneValue(meta)
	return true
}
