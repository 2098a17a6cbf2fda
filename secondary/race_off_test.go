//go:build !race

package secondary

const raceEnabled = false
