package snapshot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cairnkv/cairn/internal/fsutil"
)

// Policy says which backups rotation keeps (see the package doc, Rotation).
// A zero field means its default; a negative one turns that rule off.
type Policy struct {
	KeepLast int // newest verified backups kept; default 10
	Daily    int // days (UTC, today included) keeping their newest verified backup; default 7
	Weekly   int // ISO weeks (this week included) keeping their newest verified backup; default 4
}

// DefaultPolicy returns the default rotation policy.
func DefaultPolicy() Policy { return Policy{KeepLast: 10, Daily: 7, Weekly: 4} }

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	fill := func(v, def int) int {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	return Policy{KeepLast: fill(p.KeepLast, d.KeepLast), Daily: fill(p.Daily, d.Daily), Weekly: fill(p.Weekly, d.Weekly)}
}

// structureChecked reports whether m's page graph was checked when it was
// taken: its source's pages walked (CheckedPages), its copy read back
// (CheckedCopy), or a manifest from before Checked, whose copy was.
func structureChecked(m Manifest) bool {
	return len(m.Checked) == 0 || slices.Contains(m.Checked, CheckedPages) || slices.Contains(m.Checked, CheckedCopy)
}

// Select splits ms into the backups policy p keeps at time now and those it
// drops, each newest first. It is pure. The rules, from the package doc:
// the newest verified backup, the newest verified one whose structure was
// checked (structureChecked), the newest verified one taken before a
// restore (ReasonPreRestore), the newest p.KeepLast verified ones, the
// newest verified one of each of the last p.Daily UTC days and of each of
// the last p.Weekly ISO weeks, and every unverified backup newer than the
// newest verified one are kept; the rest are dropped. Unverified backups
// never fill a slot. Backups dated after now fill only the KeepLast and
// newest slots.
func Select(ms []Manifest, p Policy, now time.Time) (keep, drop []Manifest) {
	p = p.withDefaults()
	sorted := append([]Manifest(nil), ms...)
	sortNewestFirst(sorted)

	today := unixDay(now)
	thisWeek := isoWeekIndex(today)
	days := map[int64]bool{}
	weeks := map[int64]bool{}
	verified := 0
	sawVerified, sawStructure, sawPreRestore := false, false, false
	for _, m := range sorted {
		if !m.Verified {
			// Kept while no newer verified backup exists: it may hold data
			// no verified backup has.
			if sawVerified {
				drop = append(drop, m)
			} else {
				keep = append(keep, m)
			}
			continue
		}
		k := !sawVerified || verified < p.KeepLast
		if !sawStructure && structureChecked(m) {
			// Backups taken without a walk of their pages may copy a
			// damaged page graph: they never push out the newest one
			// whose structure was checked.
			sawStructure, k = true, true
		}
		if !sawPreRestore && m.Reason == ReasonPreRestore {
			// The only copy of what the last restore replaced: kept
			// until a newer restore, whatever else is taken meanwhile.
			sawPreRestore, k = true, true
		}
		sawVerified = true
		verified++
		d := unixDay(when(m))
		if age := today - d; age >= 0 && age < int64(p.Daily) && !days[d] {
			days[d] = true
			k = true
		}
		w := isoWeekIndex(d)
		if age := thisWeek - w; age >= 0 && age < int64(p.Weekly) && !weeks[w] {
			weeks[w] = true
			k = true
		}
		if k {
			keep = append(keep, m)
		} else {
			drop = append(drop, m)
		}
	}
	return keep, drop
}

// unixDay is the number of whole UTC days from 1970-01-01 to t.
func unixDay(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// isoWeekIndex numbers ISO weeks (Monday to Sunday) consecutively; day 0,
// 1970-01-01, was a Thursday, so its week began on day -3.
func isoWeekIndex(day int64) int64 {
	d := day + 3
	w := d / 7
	if d%7 < 0 {
		w--
	}
	return w
}

// Prune applies Select to the backups in dir and removes those it drops
// (manifest first, so a crash leaves debris rather than a backup without
// data), then removes debris: temporary files of crashed Creates and
// manifest writes, and data files without a manifest. It returns what it
// removed: the dropped backups and, with Problem set, debris data files.
// It never touches a file whose name is not a backup's, nor the backups
// named in keep (a restore's source, for one), nor a backup whose
// manifest is damaged beside a data file that may be whole. Prune must not run
// concurrently with Create on the same dir: it would take the other's
// temporary files for debris.
func Prune(dir string, p Policy, now time.Time, keep ...string) (removed []Manifest, err error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	ms, err := List(dir)
	if err != nil {
		return nil, err
	}
	_, drop := Select(ms, p, now)
	for _, m := range drop {
		if slices.Contains(keep, m.Name) {
			continue
		}
		mp, err := manifestPath(dir, m.Name)
		if err != nil {
			return removed, err
		}
		dp, _ := Path(dir, m.Name)
		if fi, err := os.Lstat(mp); err == nil && !fi.Mode().IsRegular() {
			continue // not a manifest Cairn wrote: left for its owner
		}
		if _, err := ReadManifest(dir, m.Name); err != nil {
			if fi, err := os.Lstat(dp); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
				// Its manifest is damaged, its data file may be whole:
				// whether it is worth keeping is its owner's call (List
				// shows it, Verify says what is wrong), not rotation's.
				continue
			}
		}
		if err := removeIfExists(mp); err != nil {
			return removed, err
		}
		if err := removeIfExists(dp); err != nil {
			return removed, err
		}
		removed = append(removed, m)
	}

	more, debris, err := removeDebris(dir)
	removed = append(removed, more...)
	if err != nil {
		return removed, err
	}
	if len(removed) == 0 && !debris {
		// Nothing changed in dir: no fsync to pay (a backup's own
		// rotation, after the backup's two, usually removes nothing).
		return removed, nil
	}
	if err := fsutil.SyncDir(dir); err != nil {
		return removed, fmt.Errorf("cairn: prune: %w", err)
	}
	return removed, nil
}

// removeDebris removes from dir what interrupted backups left: data files
// without a manifest (listed in removed) and temporary files (debris
// reports whether it removed one). The caller holds the backups lock.
func removeDebris(dir string) (removed []Manifest, debris bool, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return removed, false, fmt.Errorf("cairn: prune %s: %w", dir, err)
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Name()] = true
	}
	for _, e := range entries {
		fn := e.Name()
		if e.IsDir() {
			continue
		}
		if name, ok := strings.CutSuffix(fn, dbExt); ok {
			if _, err := ParseName(name); err == nil && !have[name+manifestExt] {
				if err := removeIfExists(filepath.Join(dir, fn)); err != nil {
					return removed, debris, err
				}
				t, _ := ParseName(name)
				removed = append(removed, Manifest{Name: name, Time: t, Problem: "incomplete backup: data file without manifest"})
			}
			continue
		}
		if isTempName(fn) {
			if err := removeIfExists(filepath.Join(dir, fn)); err != nil {
				return removed, debris, err
			}
			debris = true
		}
	}
	return removed, debris, nil
}

// isTempName reports whether fn is a temporary file that Create
// (".<name>.db.tmp-*") or the manifest write (".<name>.json.tmp-*") leaves
// when interrupted.
func isTempName(fn string) bool {
	rest, ok := strings.CutPrefix(fn, ".")
	if !ok || len(rest) < len(nameLayout) {
		return false
	}
	if _, err := ParseName(rest[:len(nameLayout)]); err != nil {
		return false
	}
	rest = rest[len(nameLayout):]
	return strings.HasPrefix(rest, dbExt+".tmp-") || strings.HasPrefix(rest, manifestExt+".tmp-")
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cairn: remove %s: %w", path, err)
	}
	return nil
}
