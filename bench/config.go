package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is one run of the harness. The zero value is not usable: start
// from DefaultConfig.
type Config struct {
	// Scale names the dataset size ("tiny", "1k", "10k", "100k" or a
	// number of sessions); Sessions is the number it stands for.
	Scale    string
	Sessions int
	// Seed selects the generated dataset (gen.Config.Seed).
	Seed int64
	// Runs is how many times each measurement runs; medians are over runs.
	Runs int
	// Out, if set, receives results-<scale>.json, bench-<scale>.txt (Go
	// benchmark format), table-<scale>.md and latency.svg.
	Out string
	// Only, if set, is a regexp: measurements whose name it does not match
	// are skipped.
	Only string
	// CacheDir holds the generated store and legacy directory, reused by
	// later runs whose fingerprint matches. Default: the user cache
	// directory, else the temporary directory.
	CacheDir string
	// Peers is "auto" (run the peers module when it builds, else say why),
	// "on" (a failure is an error) or "off".
	Peers string
	// PeersDir is the bench/peers module directory. Default: found from
	// the working directory (bench/peers or peers).
	PeersDir string
	// Exe is the binary re-executed for fresh-process measurements.
	// Default: os.Executable.
	Exe string
	// Stdout gets the table; Stderr gets progress.
	Stdout, Stderr io.Writer
}

// DefaultConfig returns the defaults of go run ./bench: 10k sessions,
// 5 runs, peers when they build.
func DefaultConfig() Config {
	return Config{Scale: "10k", Sessions: 10000, Seed: 1, Runs: 5, Peers: "auto", Stdout: os.Stdout, Stderr: os.Stderr}
}

// ParseScale turns a --scale value into a number of sessions.
func ParseScale(s string) (int, error) {
	switch strings.ToLower(s) {
	case "tiny", "small":
		return 50, nil
	}
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1000, strings.TrimSuffix(t, "k")
	case strings.HasSuffix(t, "m"):
		mult, t = 1000000, strings.TrimSuffix(t, "m")
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("bench: bad --scale %q (want tiny, 1k, 10k, 100k or a number of sessions)", s)
	}
	return n * mult, nil
}

// scaleLabel names n sessions the way --scale does.
func scaleLabel(n int) string {
	switch {
	case n == 50:
		return "tiny"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// withDefaults fills what cfg leaves empty.
func (cfg Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	if cfg.Sessions == 0 {
		if cfg.Scale == "" {
			cfg.Scale = d.Scale
		}
		n, err := ParseScale(cfg.Scale)
		if err != nil {
			return cfg, err
		}
		cfg.Sessions = n
	}
	cfg.Scale = scaleLabel(cfg.Sessions)
	if cfg.Runs <= 0 {
		cfg.Runs = d.Runs
	}
	if cfg.Peers == "" {
		cfg.Peers = d.Peers
	}
	switch cfg.Peers {
	case "auto", "on", "off":
	default:
		return cfg, fmt.Errorf("bench: --peers must be auto, on or off, not %q", cfg.Peers)
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		cfg.CacheDir = filepath.Join(base, "cairn-bench")
	}
	if cfg.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return cfg, err
		}
		cfg.Exe = exe
	}
	if cfg.PeersDir == "" && cfg.Peers != "off" {
		for _, c := range []string{"bench/peers", "peers", "../bench/peers"} {
			if _, err := os.Stat(filepath.Join(c, "go.mod")); err == nil {
				abs, err := filepath.Abs(c)
				if err == nil {
					cfg.PeersDir = abs
					break
				}
			}
		}
	}
	return cfg, nil
}
