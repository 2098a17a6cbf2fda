package main

import (
	"context"
	"encoding/json"
	"fmt"

	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// PeerStatus says whether the peers ran and, if not, why.
type PeerStatus struct {
	Ran   bool     `json:"ran"`
	Why   string   `json:"why,omitempty"`
	Names []string `json:"names,omitempty"`
	Notes []string `json:"notes,omitempty"`
	Secs  float64  `json:"secs,omitempty"`
}

// PeerOutput is what bench/peers/cmd/peerbench prints: per peer, its
// results by measurement name (the names of Cairn's results).
type PeerOutput struct {
	Peers []struct {
		Name    string                `json:"name"`
		Note    string                `json:"note"`
		Results map[string]PeerResult `json:"results"`
	} `json:"peers"`
}

// peers runs the peers module as a subprocess on the same workload and
// merges its figures into the results.
func (b *bench) peers(ctx context.Context) PeerStatus {
	cfg := b.cfg
	switch {
	case cfg.Peers == "off":
		return PeerStatus{Why: "--peers off"}
	case cfg.PeersDir == "":
		return PeerStatus{Why: "bench/peers not found from the working directory (use --peers-dir)"}
	}
	fail := func(format string, a ...any) PeerStatus {
		why := fmt.Sprintf(format, a...)
		fmt.Fprintf(cfg.Stderr, "peers: %s\n", why)
		return PeerStatus{Why: why}
	}
	wl, err := json.Marshal(b.wl)
	if err != nil {
		return fail("%v", err)
	}
	bin := filepath.Join(b.work, "peerbench")
	t := time.Now()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/peerbench")
	build.Dir = cfg.PeersDir
	if out, err := build.CombinedOutput(); err != nil {
		return fail("the peers module does not build: %v: %s", err, firstLines(string(out), 3))
	}
	fmt.Fprintf(cfg.Stderr, "peers: built in %v; running (this loads each peer) ...\n", time.Since(t).Round(time.Millisecond))
	args := []string{"--workload", string(wl), "--cache", filepath.Join(cfg.CacheDir, "peers"), "--work", filepath.Join(b.work, "peers")}
	if cfg.Only != "" {
		args = append(args, "--only", cfg.Only)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = cfg.PeersDir
	cmd.Stderr = cfg.Stderr
	t = time.Now()
	out, err := cmd.Output()
	if err != nil {
		return fail("peerbench failed: %v", err)
	}
	var po PeerOutput
	if err := json.Unmarshal(out, &po); err != nil {
		return fail("peerbench printed something else than its JSON: %v", err)
	}
	st := PeerStatus{Ran: true, Secs: time.Since(t).Seconds()}
	for _, p := range po.Peers {
		st.Names = append(st.Names, p.Name)
		if p.Note != "" {
			st.Notes = append(st.Notes, p.Name+": "+p.Note)
		}
		for name, pr := range p.Results {
			if len(pr.Runs) > 0 {
				pr.Median, pr.Min, pr.Max = stats(pr.Runs)
			}
			// The peers have no document cache: their figure also stands
			// beside Cairn's cache-off row of the same query.
			for _, r := range []*Result{b.find(name), b.find(name + "/nocache")} {
				if r == nil {
					continue
				}
				pr := pr
				if pr.IDs != "" && r.IDs != "" {
					if pr.IDs == r.IDs {
						pr.Note += ", same answer as Cairn"
					} else {
						pr.Note += ", DIFFERENT ANSWER from Cairn"
					}
				}
				if r.Peers == nil {
					r.Peers = map[string]PeerResult{}
				}
				r.Peers[p.Name] = pr
			}
		}
	}
	return st
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " / ")
}
