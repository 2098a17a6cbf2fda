package legacy

import (
	"sort"
	"strings"
)

// keyVersion is one candidate content of a storage key.
type keyVersion struct {
	data    any
	kind    string
	source  string
	time    int64
	seq     int
	deleted bool
}

func (s *scanner) nextSeq() int { s.seq++; return s.seq }

func newerKey(a, b *keyVersion) bool {
	if b == nil {
		return true
	}
	if a.time != b.time {
		return a.time > b.time
	}
	if sourceRank[a.kind] != sourceRank[b.kind] {
		return sourceRank[a.kind] > sourceRank[b.kind]
	}
	return a.seq > b.seq
}

// resolveKey picks the newest content of a storage key among its main
// file, .tmp.json, staged copies and WAL writes. Backups are consulted
// only when the main file is unreadable, or missing while expected. It
// returns nil when the key has no content (or was deleted).
func (s *scanner) resolveKey(k string, expected bool) *keyVersion {
	if v, ok := s.resolved[k]; ok {
		return v
	}
	kf := s.keys[k]
	if kf == nil {
		kf = &keyFiles{}
	}
	var best *keyVersion
	consider := func(v *keyVersion) {
		if v == nil {
			return
		}
		if v.kind != SourceBackup {
			s.versions[k] = append(s.versions[k], v)
		}
		if newerKey(v, best) {
			best = v
		}
	}
	mainBad, reason := false, ""
	if kf.main != "" {
		env, err := s.readEnvelope(kf.main, true)
		if err != nil {
			mainBad, reason = true, "main file unreadable: "+err.Error()
		} else {
			t := env.Timestamp
			if !env.Wrapped {
				t = s.fileTime(kf.main)
			}
			consider(&keyVersion{data: env.Data, kind: SourceMain, source: kf.main, time: t, seq: s.nextSeq()})
		}
	} else if expected {
		mainBad, reason = true, "main file missing"
	}
	if kf.tmp != "" {
		if env, err := s.readEnvelope(kf.tmp, false); err == nil {
			consider(&keyVersion{data: env.Data, kind: SourceTmp, source: kf.tmp, time: env.Timestamp, seq: s.nextSeq()})
		}
	}
	for _, st := range kf.staged {
		if env, err := s.readEnvelope(st.path, false); err == nil {
			t := env.Timestamp
			if t == 0 {
				t = st.ms
			}
			consider(&keyVersion{data: env.Data, kind: SourceStaged, source: st.path, time: t, seq: s.nextSeq()})
		}
	}
	for _, w := range s.walKeys[k] {
		consider(w)
	}
	if mainBad {
		fb := s.fallback(k)
		used := ""
		if fb != nil {
			used = fb.source
			consider(fb)
		}
		if best != nil && best != fb {
			used = best.source
		}
		s.rep.Fallbacks = append(s.rep.Fallbacks, Fallback{Key: k, Reason: reason, Used: used})
	}
	if vs := s.versions[k]; best != nil && len(vs) > 1 {
		kc := KeyChoice{Key: k, Winner: Version{Source: best.source, Kind: best.kind, Time: best.time}}
		for _, v := range vs {
			if v != best {
				kc.Losers = append(kc.Losers, Version{Source: v.source, Kind: v.kind, Time: v.time})
			}
		}
		s.rep.KeyChoices = append(s.rep.KeyChoices, kc)
	}
	if best != nil && best.deleted {
		best = nil
	}
	s.resolved[k] = best
	return best
}

// fallback returns the newest decodable backup copy of k: the newest
// decodable timestamped backup, the single-slot backup, the newest
// backups/ snapshot holding k (top-level keys), and for "sessions" the
// rollback points; whichever is newest.
func (s *scanner) fallback(k string) *keyVersion {
	var best *keyVersion
	consider := func(v *keyVersion) {
		if v != nil && newerKey(v, best) {
			best = v
		}
	}
	kf := s.keys[k]
	if kf != nil {
		bs := append([]backupRef(nil), kf.backups...)
		sort.Slice(bs, func(i, j int) bool { return bs[i].ms > bs[j].ms })
		for _, b := range bs {
			if env, err := s.readEnvelope(b.path, false); err == nil {
				consider(&keyVersion{data: env.Data, kind: SourceBackup, source: b.path, time: max(env.Timestamp, b.ms), seq: s.nextSeq()})
				break
			}
		}
		if kf.single != "" {
			if env, err := s.readEnvelope(kf.single, false); err == nil {
				consider(&keyVersion{data: env.Data, kind: SourceBackup, source: kf.single, time: env.Timestamp, seq: s.nextSeq()})
			}
		}
		if kf.compressed != "" {
			if env, err := s.readEnvelope(kf.compressed, false); err == nil {
				if str, ok := env.Data.(string); ok && strings.HasPrefix(str, gzipPrefix) {
					if text, err := gunzipBase64(str[len(gzipPrefix):]); err == nil {
						if v, err := decodeJSON(text); err == nil {
							consider(&keyVersion{data: v, kind: SourceBackup, source: kf.compressed, time: env.Timestamp, seq: s.nextSeq()})
						}
					}
				}
			}
		}
	}
	if !strings.Contains(k, "/") {
		for _, snap := range s.sortedSnapshots() {
			v, ok, err := s.snapshotKey(snap.path, k)
			if err != nil {
				s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{Path: snap.path, Error: err.Error()})
				continue
			}
			if ok {
				consider(&keyVersion{data: v, kind: SourceBackup, source: snap.path, time: snap.ms, seq: s.nextSeq()})
				break
			}
		}
	}
	if k == "sessions" {
		for _, rb := range s.rollbacks {
			if env, err := s.readEnvelope(rb, false); err == nil {
				consider(&keyVersion{data: env.Data, kind: SourceBackup, source: rb, time: env.Timestamp, seq: s.nextSeq()})
			}
		}
	}
	return best
}

func (s *scanner) sortedSnapshots() []backupRef {
	out := append([]backupRef(nil), s.snapshots...)
	sort.Slice(out, func(i, j int) bool { return out[i].ms > out[j].ms })
	return out
}

// sortedBackups lists a key's timestamped backups, newest first.
func (s *scanner) sortedBackups(k string) []backupRef {
	kf := s.keys[k]
	if kf == nil {
		return nil
	}
	out := append([]backupRef(nil), kf.backups...)
	sort.Slice(out, func(i, j int) bool { return out[i].ms > out[j].ms })
	return out
}
