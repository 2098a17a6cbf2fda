package legacy

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// keyVersion is one candidate content of a storage key.
type keyVersion struct {
	data    any
	kind    string
	source  string
	time    int64
	seq     int
	deleted bool
	file    bool // data was decoded from the envelope file source, and can be again
	dropped bool // data was released, to be read again from source
	loose   []rawValue
	wal     *WALSkip // a WAL write: its line, to report it if superseded
	raw     bool     // a file with no envelope: its time is its mtime, if any
	// appRejected: the old app's loader failed this file's checksum
	// (Envelope.AppRejected).
	appRejected bool
}

// supersede counts a whole-key WAL write that another version of its
// key beat as skipped, with the reason, rather than replayed.
func (s *scanner) supersede(v *keyVersion, reason string) {
	if v == nil || v.wal == nil || v.wal.Reason != "" {
		return
	}
	v.wal.Reason = reason
	s.rep.WAL.Replayed--
	s.rep.WAL.Skipped = append(s.rep.WAL.Skipped, *v.wal)
}

// drop releases a version's data when it can be read again from its file.
// A lazy array is kept: its text is mapped, not in the heap.
func (v *keyVersion) drop() {
	if v == nil || !v.file || v.dropped {
		return
	}
	if _, ok := v.data.(*lazyArray); ok {
		return
	}
	v.data, v.dropped = nil, true
}

// reload returns a version's data, reading its file again if it was
// dropped. The caller checks it is the same.
func (s *scanner) reload(v *keyVersion) (any, error) {
	if !v.dropped {
		return v.data, nil
	}
	env, err := s.rereadEnvelope(v.source)
	if err != nil {
		return nil, changed(v.source, err)
	}
	return env.Data, nil
}

// planReload adds the file reload will read to the read-ahead plan.
func (s *scanner) planReload(v *keyVersion) {
	if v.dropped {
		s.pf.add(v.source, fetchEnvelope)
	}
}

// planKey adds a key's main, tmp and staged files to the read-ahead plan,
// in the order resolveKey reads them.
func (s *scanner) planKey(k string, mode fetchMode) {
	if s.pf == nil {
		return
	}
	kf := s.files(k)
	s.pf.add(kf.main, mode)
	s.pf.add(kf.tmp, mode)
	for _, st := range kf.staged {
		s.pf.add(st.path, mode)
	}
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
// returns nil when the key has no content (or was deleted). Collection
// keys' array payloads are lazy. The choice is remembered, except for
// chunked sessions' files, each resolved once.
//
// For an array collection, a copy holding one entity object instead of
// the array (WAL replay, docs/FORMAT.md §5.3) is not a version of the key but
// of that entity (collected in s.single), and a bad main file is not
// replaced by one backup here: buildCollections recovers the collection
// from all of them (recoverCollection).
func (s *scanner) resolveKey(k string, expected bool) *keyVersion {
	if v, ok := s.resolved[k]; ok {
		return v
	}
	kf := s.files(k)
	lazy := arrayCollections[k]
	var best *keyVersion
	var vs []*keyVersion // every decodable non-backup version
	consider := func(v *keyVersion) {
		if v == nil {
			return
		}
		if lazy && isEntityObject(v.data) {
			s.single[k] = append(s.single[k], v)
			return
		}
		if v.kind != SourceBackup {
			vs = append(vs, v)
		}
		if newerKey(v, best) {
			best = v
		}
	}
	version := func(env *Envelope, kind, source string, t int64) *keyVersion {
		return &keyVersion{data: env.Data, kind: kind, source: source, time: s.plausibleTime(source, t), seq: s.nextSeq(), file: true, loose: env.loose}
	}
	mainBad, reason := false, ""
	if kf.main != "" {
		env, err := s.readEnvelope(kf.main, true, lazy)
		if err != nil {
			mainBad, reason = true, "main file unreadable: "+err.Error()
		} else {
			t := env.Timestamp
			if !env.Wrapped {
				t = s.rawMainTime(kf.main)
			}
			v := version(env, SourceMain, kf.main, t)
			v.raw = !env.Wrapped
			consider(v)
		}
	} else if expected {
		mainBad, reason = true, "main file missing"
	}
	if kf.tmp != "" {
		if env, err := s.readEnvelope(kf.tmp, false, lazy); err == nil {
			consider(version(env, SourceTmp, kf.tmp, env.Timestamp))
		}
	}
	for _, st := range kf.staged {
		if env, err := s.readEnvelope(st.path, false, lazy); err == nil {
			t := env.Timestamp
			if t == 0 {
				t = st.ms
			}
			consider(version(env, SourceStaged, st.path, t))
		}
	}
	for _, w := range s.walKeys[k] {
		consider(w)
	}
	switch {
	case mainBad && lazy:
		s.badMain[k] = reason
	case mainBad:
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
	for _, v := range vs {
		if v != best {
			closeLazy(v.data) // a losing copy's text
		}
	}
	if k == "settings" {
		s.settingsVers = vs
	}
	if best != nil && len(vs) > 1 {
		kc := KeyChoice{Key: k, Winner: Version{Source: best.source, Kind: best.kind, Time: best.time}}
		for _, v := range vs {
			if v != best {
				kc.Losers = append(kc.Losers, Version{Source: v.source, Kind: v.kind, Time: v.time})
			}
		}
		s.rep.KeyChoices = append(s.rep.KeyChoices, kc)
	}
	for _, w := range s.walKeys[k] {
		if w != best && best != nil {
			// The file (or copy) chosen is as new as the write or newer:
			// it already holds it (docs/FORMAT.md §5.4).
			s.supersede(w, fmt.Sprintf("superseded: %s (time %d) is as new or newer (docs/FORMAT.md §5.4)", best.source, best.time))
		}
	}
	if best != nil && best.deleted {
		best = nil
	}
	if !strings.HasPrefix(k, "sessions/") {
		s.resolved[k] = best
	}
	return best
}

// rawMainTime is the time a raw (envelope-less) main file is ordered by
// against the key's .tmp.json, staged copies and WAL writes. Such a file
// is the WAL replay's write (docs/FORMAT.md §2.1, §5.3), and every replay
// is followed by a checkpoint: wal.checkpoint, when there is one, is a
// time recorded in the directory at or after that write. A copy whose
// content is as old or older was written before that replay, or its WAL
// entry was replayed at a later start (and so is in the file), so the
// raw file wins; a later one (or a WAL entry after the checkpoint) was
// written after it and wins. The file's mtime, which a zip, a FAT copy
// or a copy from another time zone may have shifted by hours, is used
// only when there is no checkpoint (fileTime).
func (s *scanner) rawMainTime(rel string) int64 {
	if c := s.rep.WAL.Checkpoint; c > 0 {
		return c
	}
	return s.fileTime(rel)
}

// fallback returns the newest decodable backup copy of k, a key that is
// not an array collection (see recoverCollection for those): the newest
// decodable timestamped backup, the single-slot backup, a
// <key>.compressed.json duplicate, the newest backups/ snapshot holding
// k (top-level keys); whichever is newest.
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
			if env, err := s.readEnvelope(b.path, false, false); err == nil {
				consider(&keyVersion{data: env.Data, kind: SourceBackup, source: b.path, time: max(env.Timestamp, b.ms), seq: s.nextSeq(), file: true, loose: env.loose})
				break
			}
		}
		if kf.single != "" {
			if env, err := s.readEnvelope(kf.single, false, false); err == nil {
				consider(&keyVersion{data: env.Data, kind: SourceBackup, source: kf.single, time: env.Timestamp, seq: s.nextSeq(), file: true, loose: env.loose})
			}
		}
		if kf.compressed != "" {
			// A GZIP_V1 string enveloped again (§3.4): decoding the
			// envelope decoded the string too (unwrapRoundTrip).
			if env, err := s.readEnvelope(kf.compressed, false, false); err == nil && env.RoundTrips > 0 {
				consider(&keyVersion{data: env.Data, kind: SourceBackup, source: kf.compressed, time: env.Timestamp, seq: s.nextSeq(), loose: env.loose})
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

// plausibleTime returns t, the time a copy of a key (read from source)
// records, unless it is later than this scan's clock by more than
// futureSlack: a timestamp the old app cannot have written (a clock set
// far ahead, a damaged digit) would make its copy win every choice, and
// drop what only the others hold. Such a copy counts as the oldest (0),
// and the report says so.
func (s *scanner) plausibleTime(source string, t int64) int64 {
	if t <= time.Now().UnixMilli()+futureSlack {
		return t
	}
	s.rep.note(fmt.Sprintf("%s: its timestamp %d is after this migration's clock (%s): not trusted, the copy counts as the oldest of its key", source, t, time.Now().UTC().Format(time.RFC3339)))
	return 0
}

// futureSlack is how far after this scan's clock a copy's timestamp may
// lie and still be trusted: a year, so that a machine whose clock runs
// behind the old app's does not distrust every copy.
const futureSlack = int64(366 * 24 * time.Hour / time.Millisecond)
