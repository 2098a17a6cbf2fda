package snapshot

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/fsutil"
)

func mk(t time.Time, verified bool) Manifest {
	return Manifest{Name: Name(t), Time: t.UTC(), Verified: verified}
}

// unwalked is a verified backup taken without a walk of its pages (an
// automatic one).
func unwalked(t time.Time) Manifest {
	m := mk(t, true)
	m.Checked = []string{CheckedSource, CheckedSHA256}
	return m
}

// preRestore is a backup taken before a restore.
func preRestore(t time.Time, verified bool) Manifest {
	m := mk(t, verified)
	m.Reason = ReasonPreRestore
	return m
}

func names(ms []Manifest) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func TestSelect(t *testing.T) {
	now := time.Date(2027, 1, 3, 12, 0, 0, 0, time.UTC) // a Sunday, ISO week 2026-W53
	h := func(hoursAgo float64) time.Time { return now.Add(-time.Duration(hoursAgo * float64(time.Hour))) }
	only := func(keep, daily, weekly int) Policy { return Policy{KeepLast: keep, Daily: daily, Weekly: weekly} }
	tests := []struct {
		name string
		ms   []Manifest
		p    Policy
		keep []int // indexes into ms
	}{
		{"empty", nil, Policy{}, nil},
		{"all unverified are kept", []Manifest{mk(h(1), false), mk(h(500), false)}, Policy{}, []int{0, 1}},
		{"keep last counts verified only", []Manifest{
			mk(h(1), false), mk(h(2), true), mk(h(3), false), mk(h(4), true), mk(h(5), true), mk(h(6), true),
		}, only(2, -1, -1), []int{0, 1, 3}},
		{"the newest pre-restore backup outlives KeepLast, an older one does not", []Manifest{
			mk(h(1), true), mk(h(2), true), mk(h(3), true), mk(h(4), true),
			preRestore(h(5), true), preRestore(h(6), true), mk(h(7), true),
		}, only(2, -1, -1), []int{0, 1, 4}},
		{"an unverified pre-restore backup takes no slot", []Manifest{
			mk(h(1), true), mk(h(2), true), preRestore(h(3), false), preRestore(h(4), true),
		}, only(1, -1, -1), []int{0, 3}},
		{"newest verified kept with every rule off", []Manifest{
			mk(h(1), false), mk(h(2), true), mk(h(3), true),
		}, only(-1, -1, -1), []int{0, 1}},
		{"the only good copy survives many failed later backups", []Manifest{
			mk(h(24*40), true), mk(h(24*30), false), mk(h(24*20), false), mk(h(24*10), false), mk(h(1), false),
		}, Policy{}, []int{0, 1, 2, 3, 4}},
		{"daily keeps the newest of each day", []Manifest{
			mk(h(1), true), mk(h(2), true), // today (Sunday) from 00:00
			mk(h(13), true), mk(h(20), true), // Saturday
			mk(h(37), true), mk(h(44), true), // Friday
			mk(h(61), true), // Thursday: outside 3 days
		}, only(1, 3, -1), []int{0, 2, 4}},
		{"weekly crosses the year boundary", []Manifest{
			mk(time.Date(2027, 1, 3, 9, 0, 0, 0, time.UTC), true),    // Sun, 2026-W53
			mk(time.Date(2026, 12, 29, 10, 0, 0, 0, time.UTC), true), // Tue, 2026-W53
			mk(time.Date(2026, 12, 28, 10, 0, 0, 0, time.UTC), true), // Mon, 2026-W53
			mk(time.Date(2026, 12, 27, 23, 0, 0, 0, time.UTC), true), // Sun, 2026-W52
			mk(time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC), true),  // Mon, 2026-W52
			mk(time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC), true),  // W51: outside 2 weeks
		}, only(-1, -1, 2), []int{0, 3}},
		{"a future backup fills only keep-last", []Manifest{
			mk(now.Add(48*time.Hour), true), mk(h(1), true), mk(h(2), true),
		}, only(1, 1, -1), []int{0, 1}},
		{"backups without a page walk never push out the newest one with it", []Manifest{
			unwalked(h(1)), unwalked(h(2)), unwalked(h(3)), mk(h(4), true), mk(h(5), true),
		}, only(2, -1, -1), []int{0, 1, 3}},
		{"unverified older than the newest verified is dropped", []Manifest{
			mk(h(1), true), mk(h(2), false), mk(h(3), true),
		}, Policy{}, []int{0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.ms)
			rand.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
			keep, drop := Select(in, tt.p, now)
			var want []Manifest
			for _, i := range tt.keep {
				want = append(want, tt.ms[i])
			}
			sortNewestFirst(want)
			if !slices.Equal(names(keep), names(want)) {
				t.Errorf("keep %v, want %v", names(keep), names(want))
			}
			if len(keep)+len(drop) != len(in) {
				t.Errorf("keep %d + drop %d != %d", len(keep), len(drop), len(in))
			}
			for _, l := range [][]Manifest{keep, drop} {
				if !sort.SliceIsSorted(l, func(i, j int) bool { return l[i].Time.After(l[j].Time) }) {
					t.Errorf("not newest first: %v", names(l))
				}
			}
		})
	}
}

// model is the rotation rule written the slow, obvious way: calendar
// windows from time.Date, weeks from Weekday, full scans.
func model(ms []Manifest, p Policy, now time.Time) map[string]bool {
	p = p.withDefaults()
	newer := func(a, b Manifest) bool { // a newer than b
		return a.Time.After(b.Time) || a.Time.Equal(b.Time) && a.Name > b.Name
	}
	var verified []Manifest
	for _, m := range ms {
		if m.Verified {
			verified = append(verified, m)
		}
	}
	sort.Slice(verified, func(i, j int) bool { return newer(verified[i], verified[j]) })
	keep := map[string]bool{}
	newestIn := func(start, end time.Time) {
		for _, m := range verified { // newest first
			if !m.Time.Before(start) && m.Time.Before(end) {
				keep[m.Name] = true
				return
			}
		}
	}
	if len(verified) > 0 {
		keep[verified[0].Name] = true
	}
	for i := 0; i < p.KeepLast && i < len(verified); i++ {
		keep[verified[i].Name] = true
	}
	now = now.UTC()
	y, mo, d := now.Date()
	for i := 0; i < p.Daily; i++ {
		start := time.Date(y, mo, d-i, 0, 0, 0, 0, time.UTC)
		newestIn(start, start.AddDate(0, 0, 1))
	}
	monday := time.Date(y, mo, d-(int(now.Weekday())+6)%7, 0, 0, 0, 0, time.UTC)
	for i := 0; i < p.Weekly; i++ {
		start := monday.AddDate(0, 0, -7*i)
		newestIn(start, start.AddDate(0, 0, 7))
	}
	for _, m := range ms {
		if m.Verified {
			continue
		}
		hasNewer := false
		for _, v := range verified {
			if newer(v, m) {
				hasNewer = true
			}
		}
		if !hasNewer {
			keep[m.Name] = true
		}
	}
	return keep
}

func checkAgainstModel(t *testing.T, ms, keep, drop []Manifest, p Policy, now time.Time) {
	t.Helper()
	want := model(ms, p, now)
	got := map[string]bool{}
	for _, m := range keep {
		got[m.Name] = true
	}
	for _, m := range drop {
		if got[m.Name] {
			t.Fatalf("%s both kept and dropped", m.Name)
		}
	}
	if len(keep)+len(drop) != len(ms) || len(got) != len(keep) {
		t.Fatalf("keep %d drop %d of %d", len(keep), len(drop), len(ms))
	}
	for n := range want {
		if !got[n] {
			t.Fatalf("policy %+v now %s: %s should be kept", p, now, n)
		}
	}
	for n := range got {
		if !want[n] {
			t.Fatalf("policy %+v now %s: %s should be dropped", p, now, n)
		}
	}
}

// Rotation property: random creates over simulated months, pruned after
// each create as Cairn does, keep exactly what the policy says of every
// backup ever created; and Select always agrees with the model.
func TestSelect_property(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	pick := func(vals ...int) int { return vals[r.IntN(len(vals))] }
	for trial := 0; trial < 150; trial++ {
		p := Policy{
			KeepLast: pick(-1, 0, 1, 2, 3, 5, 10, 12),
			Daily:    pick(-1, 0, 1, 2, 7, 10),
			Weekly:   pick(-1, 0, 1, 4, 6),
		}
		now := time.Date(2026, time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), 0, r.IntN(1e9), time.UTC)
		verifiedRate := []float64{1, 0.9, 0.5, 0.1}[r.IntN(4)]
		var all, existing []Manifest
		for step := 0; step < 300; step++ {
			var gap time.Duration
			switch r.IntN(4) {
			case 0: // bursts: manual and pre-operation backups
				gap = time.Duration(1 + r.Int64N(int64(10*time.Minute)))
			case 1: // the hourly schedule
				gap = time.Hour + time.Duration(r.Int64N(int64(time.Minute)))
			case 2:
				gap = time.Duration(r.Int64N(int64(30 * time.Hour)))
			default: // the app was not running for days
				gap = time.Duration(r.Int64N(int64(9 * 24 * time.Hour)))
			}
			now = now.Add(gap + time.Nanosecond)
			m := mk(now, r.Float64() < verifiedRate)
			all = append(all, m)
			existing = append(existing, m)
			keep, drop := Select(existing, p, now)
			checkAgainstModel(t, existing, keep, drop, p, now)
			existing = keep
		}
		want := model(all, p, now)
		if len(want) != len(existing) {
			t.Fatalf("trial %d policy %+v: %d retained, the policy over all %d creates keeps %d", trial, p, len(existing), len(all), len(want))
		}
		for _, m := range existing {
			if !want[m.Name] {
				t.Fatalf("trial %d: %s retained but not in the policy", trial, m.Name)
			}
		}
	}
}

func TestPrune(t *testing.T) {
	db := openStore(t, testCounts, 50)
	dir := t.TempDir()
	now := testNow
	var made []Manifest
	for i := 0; i < 6; i++ {
		made = append(made, create(t, db, dir, testOptions(now.Add(time.Duration(i)*time.Hour))))
	}
	now = now.Add(6 * time.Hour)
	// Damage the newest: it stays (nothing verified is newer) and does not
	// take a slot.
	newest := made[5]
	if err := os.WriteFile(filepath.Join(dir, newest.Name+".json"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Damage an old one's manifest too: its data file may be whole, so
	// rotation leaves it to its owner (round 8, damage8 #3: backup create
	// deleted it without a word).
	if err := os.Truncate(filepath.Join(dir, made[1].Name+".json"), 50); err != nil {
		t.Fatal(err)
	}
	// Debris: a data file without manifest, Create's and the manifest
	// writer's temporary files; and files that are not ours.
	debris := []string{
		Name(now.Add(-time.Minute)) + ".db",
		"." + Name(now) + ".db.tmp-123",
		"." + Name(now) + ".json.tmp-456",
	}
	foreign := []string{"README", "x.db", ".hidden", Name(now) + ".txt", ".tmp-1"}
	for _, f := range append(slices.Clone(debris), foreign...) {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := Prune(dir, Policy{KeepLast: 2, Daily: -1, Weekly: -1}, now)
	if err != nil {
		t.Fatal(err)
	}
	wantRemoved := []string{made[2].Name, made[0].Name, Name(now.Add(-time.Minute))}
	if got := names(removed); !slices.Equal(got, wantRemoved) {
		t.Errorf("removed %v, want %v", got, wantRemoved)
	}
	want := []string{made[1].Name + ".db", made[1].Name + ".json"}
	for _, m := range made[3:] {
		want = append(want, m.Name+".db", m.Name+".json")
	}
	want = append(want, foreign...)
	sort.Strings(want)
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("files %v\nwant %v", got, want)
	}
	list, err := List(dir)
	if err != nil || len(list) != 4 || list[0].Name != newest.Name || list[0].Verified || list[0].Problem == "" {
		t.Errorf("List after prune: %+v %v", list, err)
	}
	// Pruning a directory that does not exist is not an error.
	if removed, err := Prune(filepath.Join(dir, "none"), Policy{}, now); err != nil || len(removed) != 0 {
		t.Errorf("Prune(missing) = %v, %v", removed, err)
	}
}

func TestList(t *testing.T) {
	db := openStore(t, testCounts, 50)
	dir := t.TempDir()
	var made []Manifest
	for i := 0; i < 4; i++ {
		made = append(made, create(t, db, dir, testOptions(testNow.Add(time.Duration(i)*time.Minute))))
	}
	if err := os.WriteFile(filepath.Join(dir, made[1].Name+".json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, made[2].Name+".db")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, Name(testNow.Add(time.Hour))+".db"), []byte("debris"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, Name(testNow.Add(2*time.Hour))+".json"), 0o700); err != nil {
		t.Fatal(err)
	}
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(names(list))
	// The directory in a manifest's place is listed, as damaged.
	if want := fmt.Sprint([]string{Name(testNow.Add(2 * time.Hour)), made[3].Name, made[2].Name, made[1].Name, made[0].Name}); got != want {
		t.Fatalf("List %s, want %s", got, want)
	}
	for i, wantOK := range []bool{false, true, false, false, true} {
		m := list[i]
		if m.Verified != wantOK || (m.Problem == "") != wantOK {
			t.Errorf("%s: verified %v problem %q", m.Name, m.Verified, m.Problem)
		}
		if m.Time.IsZero() {
			t.Errorf("%s: no time", m.Name)
		}
	}
	if ms, err := List(filepath.Join(dir, "missing")); err != nil || ms != nil {
		t.Errorf("List(missing) = %v, %v", ms, err)
	}
}

// Prune makes its removals durable with a directory fsync, and pays none
// when it removed nothing.
func TestPrune_syncsOnlyWhatChanged(t *testing.T) {
	db := openStore(t, testCounts, 50)
	dir := t.TempDir()
	for i := range 3 {
		create(t, db, dir, testOptions(testNow.Add(time.Duration(i)*time.Hour)))
	}
	var syncs atomic.Int32
	t.Cleanup(fsutil.SetFault(func(op, path string) error {
		if op == "syncdir" {
			syncs.Add(1)
		}
		return nil
	}))
	now := testNow.Add(3 * time.Hour)
	for _, tt := range []struct {
		name      string
		keep      int
		debris    string
		wantSyncs int32
	}{
		{"nothing to remove", 3, "", 0},
		{"a temporary file", 3, "." + Name(now) + ".db.tmp-1", 1},
		{"a backup", 2, "", 1},
	} {
		if tt.debris != "" {
			if err := os.WriteFile(filepath.Join(dir, tt.debris), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		syncs.Store(0)
		if _, err := Prune(dir, Policy{KeepLast: tt.keep, Daily: -1, Weekly: -1}, now); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := syncs.Load(); got != tt.wantSyncs {
			t.Errorf("%s: %d directory fsyncs, want %d", tt.name, got, tt.wantSyncs)
		}
	}
}

// TestRemoveDebris: a killed backup's temporary copy, and a data file a
// killed backup renamed but gave no manifest, piled up until the next
// rotation; RemoveDebris removes them when no one holds the backups lock,
// and leaves them while someone does (a backup in progress).
func TestRemoveDebris(t *testing.T) {
	dir := t.TempDir()
	if n, err := RemoveDebris(filepath.Join(dir, "none")); n != 0 || err != nil {
		t.Fatalf("no backups directory: %d %v", n, err)
	}
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	name := Name(time.Now())
	tmp := filepath.Join(dir, "."+name+".db.tmp-123")
	orphan := filepath.Join(dir, Name(time.Now().Add(-time.Hour))+".db")
	for _, p := range []string{tmp, orphan} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := RemoveDebris(dir); n != 0 || err != nil {
		t.Fatalf("while the lock is held: %d %v", n, err)
	}
	unlock()
	if n, err := RemoveDebris(dir); n != 2 || err != nil {
		t.Fatalf("removed %d, %v; want 2", n, err)
	}
	for _, p := range []string{tmp, orphan} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is left: %v", p, err)
		}
	}
}

// TestList_manifestNotAFile: a directory in a backup manifest's place was
// left out of the listing without a word, and Verify failed with an I/O
// error (exit 1). It is listed as damaged, Verify reports it as a problem,
// and rotation leaves it alone.
func TestList_manifestNotAFile(t *testing.T) {
	dir := t.TempDir()
	name := Name(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err := os.Mkdir(filepath.Join(dir, name+manifestExt), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+dbExt), []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	ms, err := List(dir)
	if err != nil || len(ms) != 1 || ms[0].Verified || !strings.Contains(ms[0].Problem, "not a regular file") {
		t.Fatalf("List: %+v %v", ms, err)
	}
	m, problems, err := Verify(t.Context(), dir, name, nil)
	if err != nil || len(problems) == 0 || m.Verified || !strings.Contains(problems[0].Detail, "not a regular file") {
		t.Fatalf("Verify: %+v %v %v", m, problems, err)
	}
	if _, err := Prune(dir, Policy{}, time.Now()); err != nil {
		t.Fatalf("Prune: %v", err)
	}
}
