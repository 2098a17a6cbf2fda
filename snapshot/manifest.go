package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/cairnkv/cairn/internal/fsutil"
)

// Reasons a backup is taken, recorded in Manifest.Reason.
const (
	ReasonStartup    = "startup"     // on Open
	ReasonShutdown   = "shutdown"    // on Close
	ReasonHourly     = "hourly"      // the periodic schedule
	ReasonManual     = "manual"      // asked for (kvtool backup create, DB.Backup); the default
	ReasonPreImport  = "pre-import"  // before an import
	ReasonPreMigrate = "pre-migrate" // before a legacy migration
	ReasonPreRestore = "pre-restore" // the current state, before a restore replaces it
	ReasonPreCompact = "pre-compact" // before compaction
	ReasonPreReindex = "pre-reindex" // before a reindex that rewrites data
)

// validReason reports whether r is one of the Reason constants.
func validReason(r string) bool {
	switch r {
	case ReasonStartup, ReasonShutdown, ReasonHourly, ReasonManual, ReasonPreImport,
		ReasonPreMigrate, ReasonPreRestore, ReasonPreCompact, ReasonPreReindex:
		return true
	}
	return false
}

// Manifest describes one backup. Create writes it as <name>.json beside
// <name>.db once the data file has been verified; its presence is what makes
// the backup exist.
type Manifest struct {
	Name   string         `json:"name"`   // the backup name, see Name
	Time   time.Time      `json:"time"`   // when it was taken (UTC), the time Name encodes
	Size   int64          `json:"size"`   // bytes of <name>.db
	SHA256 string         `json:"sha256"` // hex SHA-256 of <name>.db
	Counts map[string]int `json:"counts"` // documents per collection, as read in the snapshot's transaction
	Seq    uint64         `json:"seq"`    // the change-log sequence the snapshot contains
	// LastChange is the time of the newest change-log entry the snapshot
	// contains (zero when its log was empty): with Seq, it tells whether a
	// store has changed since this backup, even after a restore to an
	// older state was followed by as many new changes.
	LastChange    time.Time `json:"last_change,omitzero"`
	FormatVersion int       `json:"format_version"` // the Cairn on-disk format version of the data
	Reason        string    `json:"reason"`         // why it was taken, one of the Reason constants
	Blobs         []string  `json:"blobs"`          // attachment hashes it references, sorted
	Verified      bool      `json:"verified"`       // passed verification (see List for what a listing checks)
	VerifiedAt    time.Time `json:"verified_at"`    // when it last passed
	// Checked lists what Create checked before committing the backup, in
	// the words of the Checked constants. Empty in manifests written
	// before it existed, whose Create checked the copy too (CheckedCopy).
	Checked []string `json:"checked,omitempty"`
	// Checksum is the SHA-256 of the manifest itself (its JSON with
	// Checksum and Problem empty), so that no field, the blob list included,
	// can change unnoticed.
	Checksum string `json:"checksum"`

	// Problem is set by List (never stored) when the backup is damaged: why
	// Verified is false.
	Problem string `json:"problem,omitempty"`
}

// ReadManifest reads and validates the manifest of backup name in dir. It
// returns an error wrapping ErrNotFound if there is none, ErrInvalidName for
// a bad name, and a descriptive error if the manifest is damaged. It does not
// look at the data file; Verify does.
func ReadManifest(dir, name string) (Manifest, error) {
	mp, err := manifestPath(dir, name)
	if err != nil {
		return Manifest{}, err
	}
	data, err := os.ReadFile(mp)
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, fmt.Errorf("%w: %s in %s", ErrNotFound, name, dir)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("cairn: read manifest: %w", err)
	}
	m, err := parseManifest(data, name)
	if err != nil {
		return m, fmt.Errorf("cairn: %s: %w", base(mp), err)
	}
	if p := checksumProblem(m); p != "" {
		return m, fmt.Errorf("cairn: %s: %s", base(mp), p)
	}
	return m, nil
}

// parseManifest decodes data and checks it describes backup name.
func parseManifest(data []byte, name string) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("manifest does not parse: %v", err)
	}
	var bad []string
	if m.Name != name {
		bad = append(bad, fmt.Sprintf("names backup %q, not %q", m.Name, name))
	}
	if t, err := ParseName(name); err == nil && !m.Time.Equal(t) {
		bad = append(bad, fmt.Sprintf("time %s does not match the name", m.Time.Format(time.RFC3339Nano)))
	}
	if m.Size <= 0 {
		bad = append(bad, fmt.Sprintf("size %d", m.Size))
	}
	if b, err := hex.DecodeString(m.SHA256); err != nil || len(b) != 32 {
		bad = append(bad, fmt.Sprintf("sha256 %q is not 64 hex digits", m.SHA256))
	}
	if m.FormatVersion < 1 {
		bad = append(bad, fmt.Sprintf("format_version %d", m.FormatVersion))
	}
	m.Problem = ""
	if len(bad) > 0 {
		return m, fmt.Errorf("manifest is invalid: %s", strings.Join(bad, "; "))
	}
	if m.Counts == nil {
		m.Counts = map[string]int{}
	}
	return m, nil
}

// writeManifest durably writes m as <dir>/<m.Name>.json.
func writeManifest(dir string, m Manifest) error {
	mp, err := manifestPath(dir, m.Name)
	if err != nil {
		return err
	}
	m.Problem = ""
	m.Checksum = manifestChecksum(m)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("cairn: encode manifest: %w", err)
	}
	data = append(data, '\n')
	if err := fsutil.WriteFile(mp, data, 0o600); err != nil {
		return fmt.Errorf("cairn: write manifest: %w", err)
	}
	return nil
}

// List returns the backups in dir, newest first. A directory that does not
// exist holds no backups. Only the manifest commits a backup, so data files
// without one (debris of a crashed Create) are not listed.
//
// List makes cheap checks only: a backup whose manifest does not parse or
// does not describe it, whose data file is missing, or whose data file size
// differs from the manifest is listed with Verified false and Problem saying
// why (Time then comes from the name), rather than failing the whole list.
// Verify reads every byte.
func List(dir string) ([]Manifest, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cairn: list %s: %w", dir, err)
	}
	var out []Manifest
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), manifestExt)
		if !ok {
			continue
		}
		t, err := ParseName(n)
		if err != nil {
			continue // not ours
		}
		if !e.Type().IsRegular() {
			// A backup's name, but no manifest file: listed as damaged,
			// never passed over in silence.
			out = append(out, Manifest{Name: n, Time: t, Problem: e.Name() + ": not a regular file"})
			continue
		}
		out = append(out, listOne(dir, n, t))
	}
	sortNewestFirst(out)
	return out, nil
}

// listOne reads one manifest for List, turning damage into Problem.
func listOne(dir, name string, t time.Time) Manifest {
	damaged := func(format string, args ...any) Manifest {
		return Manifest{Name: name, Time: t, Problem: fmt.Sprintf(format, args...)}
	}
	m, err := ReadManifest(dir, name)
	if err != nil {
		return damaged("%v", err)
	}
	dp, _ := Path(dir, name) // name is valid here
	fi, err := os.Stat(dp)
	if err != nil {
		m.Verified = false
		m.Problem = fmt.Sprintf("%s: %v", base(dp), err)
		return m
	}
	if fi.Size() != m.Size {
		m.Verified = false
		m.Problem = fmt.Sprintf("%s: size %d, manifest says %d", base(dp), fi.Size(), m.Size)
		return m
	}
	if !m.Verified {
		m.Problem = "manifest records a failed verification"
	}
	return m
}

// when is the time rotation and ordering use: Time, or the name's time when
// a damaged manifest left Time zero.
func when(m Manifest) time.Time {
	if !m.Time.IsZero() {
		return m.Time
	}
	t, _ := ParseName(m.Name)
	return t
}

// sortNewestFirst orders by time, then name, newest first.
func sortNewestFirst(ms []Manifest) {
	sort.SliceStable(ms, func(i, j int) bool {
		ti, tj := when(ms[i]), when(ms[j])
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return ms[i].Name > ms[j].Name
	})
}

// manifestChecksum is the hex SHA-256 of m's JSON with Checksum and
// Problem empty.
func manifestChecksum(m Manifest) string {
	m.Checksum, m.Problem = "", ""
	b, err := json.Marshal(m)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// checksumProblem says what is wrong with m's own checksum, or "".
func checksumProblem(m Manifest) string {
	if want := manifestChecksum(m); m.Checksum != want {
		return fmt.Sprintf("checksum %q does not match the manifest's contents (%s): edited or damaged", m.Checksum, want)
	}
	return ""
}
