//go:build race

package secondary

// raceEnabled is true under the race detector, which slows the 10,000-session
// benchmark store beyond the package's time budget.
const raceEnabled = true
