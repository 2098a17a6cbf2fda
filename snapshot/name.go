package snapshot

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/cairnkv/cairn/internal/fsutil"
)

// nameLayout is the fixed-width layout of backup names: UTC, nanoseconds,
// so that byte order is time order.
const nameLayout = "20060102T150405.000000000Z"

const (
	dbExt       = ".db"
	manifestExt = ".json"
)

// Name returns the backup name for t: its UTC time with nanoseconds, like
// 20261126T010203.123456789Z. Names sort in time order for years 0 to 9999.
func Name(t time.Time) string {
	return t.UTC().Format(nameLayout)
}

// ParseName returns the time a backup name encodes. It accepts exactly the
// strings Name produces and returns an error wrapping ErrInvalidName for
// anything else.
func ParseName(name string) (time.Time, error) {
	if len(name) != len(nameLayout) {
		return time.Time{}, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	t, err := time.Parse(nameLayout, name)
	if err != nil || Name(t) != name {
		return time.Time{}, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	return t, nil
}

// Path returns the path of backup name's data file (<dir>/<name>.db) after
// validating name with ParseName, so it never points outside dir. It does
// not check that the backup exists.
func Path(dir, name string) (string, error) {
	if _, err := ParseName(name); err != nil {
		return "", err
	}
	p, err := fsutil.Within(dir, name+dbExt)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidName, err)
	}
	return p, nil
}

// manifestPath returns <dir>/<name>.json for a validated name.
func manifestPath(dir, name string) (string, error) {
	if _, err := ParseName(name); err != nil {
		return "", err
	}
	p, err := fsutil.Within(dir, name+manifestExt)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidName, err)
	}
	return p, nil
}

// tmpPrefix is how Create's temporary data file for name begins.
func tmpPrefix(name string) string { return "." + name + dbExt + ".tmp-" }

// base returns the last element of p, for naming files in problems.
func base(p string) string { return filepath.Base(p) }
