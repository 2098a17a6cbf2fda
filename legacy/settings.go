package legacy

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// derivedKeys are storage keys that hold rebuildable or technical data
// (docs/FORMAT.md §6) and are not imported.
var derivedKeys = map[string]bool{
	"session-indexes": true, "note-indexes": true, "task-indexes": true, "cache": true,
	"migration-status": true, "ca-attachment-index": true,
	"session-index": true,
}

func isDerivedKey(k string) bool {
	if derivedKeys[k] || strings.HasPrefix(k, "__migration") || strings.HasPrefix(k, "enrichment/") {
		return true
	}
	first, rest, _ := strings.Cut(k, "/")
	if entityCollections[first] != "" && (rest == "index" || strings.HasPrefix(rest, "indexes/")) {
		return true // per-entity summary rows and search indexes (§3.3)
	}
	switch first {
	case "sessions":
		return isChunkedSessionKey(rest)
	case "attachments-ca":
		return isCASKey(rest)
	}
	return false
}

// isChunkedSessionKey reports whether rest (a key after "sessions/") is
// one of a chunked session's keys (docs/FORMAT.md §3.4), which the
// session's assembly reads: <id>/metadata, a part, or a chunk. Any other
// key under sessions/ is kept in Extras, as unknown keys are.
func isChunkedSessionKey(rest string) bool {
	_, sub, ok := strings.Cut(rest, "/")
	if !ok {
		return false
	}
	if sub == "metadata" {
		return true
	}
	for _, p := range sessionParts {
		if sub == p.Name {
			return true
		}
	}
	dir, name, _ := strings.Cut(sub, "/")
	for _, k := range chunkKinds {
		if dir == k.Dir {
			i, ok := parseChunkName(name)
			return ok && chunkName(i) == name
		}
	}
	return false
}

// isCASKey reports whether rest (a key after "attachments-ca/") is a
// content-addressed entry's data or metadata, <hh>/<hash>/data|metadata
// (docs/FORMAT.md §3.5), which the attachments are built from.
func isCASKey(rest string) bool {
	parts := strings.Split(rest, "/")
	return len(parts) == 3 && isHexHash(parts[1]) && parts[0] == parts[1][:2] && (parts[2] == "data" || parts[2] == "metadata")
}

// keepChecksumLostSettings keeps whole, in extras, each timestamped backup
// of the settings the old app's checksum check refused (docs/FORMAT.md
// §2.3) whose members differ from the settings merged: the app then
// loaded no settings and saved its defaults over them (§11.2), which are
// newer and win the merge, so that the user's own values (a prompt, a
// profile, learned rules) would otherwise be nowhere. Which to keep is the
// user's to decide: the copy is kept under "checksumLost:<file>" and a
// note says so.
func (s *scanner) keepChecksumLostSettings(main *keyVersion, vs []*keyVersion, merged map[string]any) {
	for _, v := range vs {
		m, ok := v.data.(map[string]any)
		if !ok || !v.appRejected || v.kind != SourceBackup || v == main {
			continue
		}
		differs := false
		for k, val := range m {
			if !reflect.DeepEqual(merged[k], val) {
				differs = true
				break
			}
		}
		if !differs {
			continue
		}
		key := "checksumLost:" + v.source
		s.setExtra(key, v.data, v.source)
		s.rep.note(fmt.Sprintf("settings: %s would have failed the old app's own checksum check (compressed:false, hashed over compact JSON, docs/FORMAT.md §2.3), so the app loaded no settings and its next save wrote its defaults over them (§11.2); the newer settings were imported, and that copy is kept whole in extras as %q (kvtool get extras %q)", v.source, key, key))
	}
}

// buildSettingsAndExtras merges settings newest-per-top-level-key across
// the main file, .tmp/staged/WAL copies and the newest timestamped
// backups (docs/FORMAT.md §7.7), then fills AISettings, Preferences and Extras.
func (s *scanner) buildSettingsAndExtras() error {
	if main := s.resolveKey("settings", false); main != nil {
		vs := append([]*keyVersion(nil), s.settingsVers...)
		if main.kind == SourceBackup {
			vs = append(vs, main)
		}
		if s.opts.SettingsBackups > 0 {
			for i, b := range s.sortedBackups("settings") {
				if i >= s.opts.SettingsBackups {
					break
				}
				if env, err := s.readEnvelope(b.path, false, false); err == nil {
					vs = append(vs, &keyVersion{data: env.Data, kind: SourceBackup, source: b.path, time: max(env.Timestamp, b.ms), seq: s.nextSeq(), appRejected: env.AppRejected})
				}
			}
			if kf := s.keys["settings"]; kf != nil && kf.single != "" {
				if env, err := s.readEnvelope(kf.single, false, false); err == nil {
					vs = append(vs, &keyVersion{data: env.Data, kind: SourceBackup, source: kf.single, time: env.Timestamp, seq: s.nextSeq()})
				}
			}
		}
		sort.SliceStable(vs, func(i, j int) bool { return newerKey(vs[i], vs[j]) })
		merged := map[string]any{}
		from := map[string]string{}
		// The winner's keys always come from the winner, then each missing
		// key from the newest older copy that has it.
		ordered := append([]*keyVersion{main}, vs...)
		var notes []any // legacyRaw notes of the keys taken from each copy
		kept := map[string]bool{}
		for _, v := range ordered {
			m, ok := v.data.(map[string]any)
			if !ok {
				// Settings are an object: a copy of another shape is
				// kept whole in extras, as a collection file of the
				// wrong shape is.
				if v.data != nil && !kept[v.source] {
					kept[v.source] = true
					why := "payload is " + kindOf(v.data) + ", not an object"
					s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: v.source, Error: why})
					s.setExtra("unreadable:"+v.source, map[string]any{"path": v.source, "error": why, "value": v.data}, v.source)
				}
				continue
			}
			ours := rawNotes(m)
			took := false
			for k, val := range m {
				if _, done := merged[k]; done || k == rawMember(m) && ours != nil {
					continue
				}
				merged[k], from[k], took = val, v.source, true
				for _, n := range ours {
					if p, _ := n["path"].(string); strings.HasPrefix(p+"/", "/"+pointerEscape(k)+"/") {
						notes = append(notes, n)
					}
				}
			}
			for _, n := range ours {
				if p, _ := n["path"].(string); p == "" && took {
					notes = append(notes, n) // about the copy as a whole
				}
			}
		}
		if len(notes) > 0 {
			merged[freeRawMember(merged)] = notes
		}
		s.keepChecksumLostSettings(main, vs, merged)
		if _, ok := main.data.(map[string]any); ok || len(merged) > 0 {
			s.ds.Settings = merged
			s.rep.SettingsKeys = from
		}
	} else if v, ok := s.stateVals["settings"].(map[string]any); ok {
		s.ds.Settings = v
	}
	if v := s.resolveKey("aiSettings", false); v != nil {
		s.ds.AISettings = v.data
	} else if x, ok := s.ds.Settings["aiSettings"]; ok {
		s.ds.AISettings = x
	} else if x, ok := s.stateVals["aiSettings"]; ok {
		s.ds.AISettings = x
	}
	if v := s.resolveKey("preferences", false); v != nil {
		s.ds.Preferences = v.data
	} else if ui, ok := s.ds.Settings["ui"].(map[string]any); ok && ui["preferences"] != nil {
		s.ds.Preferences = ui["preferences"]
	} else if x, ok := s.stateVals["preferences"]; ok {
		s.ds.Preferences = x
	}
	if s.ds.Settings != nil {
		s.noteRaw("settings", "settings", "settings", s.ds.Settings)
	}
	keys := make([]string, 0, len(s.keys))
	for k := range s.keys {
		keys = append(keys, k)
	}
	for k := range s.walKeys {
		if _, ok := s.keys[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	rollback := map[string]bool{}
	for _, rb := range s.rollbacks {
		// A rollback point's sessions snapshot is user data (§6): kept
		// whole, besides its sessions being candidates.
		k := strings.TrimSuffix(strings.TrimPrefix(rb, s.dbRel), ".json")
		rollback[k] = true
		if env, err := s.rereadEnvelope(rb); err == nil {
			s.noteRaw("extras", s.setExtra(k, env.Data, rb), rb, env.Data)
		}
	}
	for _, k := range keys {
		if rollback[k] {
			continue
		}
		if arrayCollections[k] || k == "settings" || k == "aiSettings" || k == "preferences" || isDerivedKey(k) {
			continue
		}
		if _, _, id := NormalizeKey(k); id != "" {
			continue
		}
		kf := s.keys[k]
		if kf != nil && kf.main == "" && kf.tmp == "" && len(kf.staged) == 0 && len(s.walKeys[k]) == 0 {
			if !strings.Contains(k, "/") {
				s.rep.NotResurrected = append(s.rep.NotResurrected, Dropped{Source: s.dbRel + k + ".json", ID: k, Reason: "key has only backups (deleted); not imported"})
			}
			continue
		}
		if v := s.resolveKey(k, false); v != nil {
			as := s.setExtra(k, v.data, v.source)
			s.noteRaw("extras", as, v.source, v.data)
			if len(v.loose) > 0 {
				// The value is not an object: its notes are kept beside it.
				list := make([]any, len(v.loose))
				for i, n := range v.loose {
					list[i] = n.entry()
					s.rep.RawValues = append(s.rep.RawValues, RawValue{Collection: "extras", ID: as, Path: n.path, Problem: n.problem, Source: v.source})
				}
				s.setExtra(RawField+":"+as, list, v.source)
			}
		}
	}
	return nil
}
