// Command peerbench runs the Cairn benchmark workload on the peers
// (SQLite, bolthold, the old app's JSON files) and prints their results as
// JSON on stdout. The harness (go run ./bench --peers on) runs it; it can
// also run alone:
//
//	go run ./cmd/peerbench --workload '{"sessions":50,"seed":1,"runs":1,...}'
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/cairnkv/cairn/bench/peers"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == peers.ChildCommand {
		if err := peers.RunChild(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("peerbench", flag.ContinueOnError)
	wl := fs.String("workload", "", "the harness's workload as JSON (required)")
	cache := fs.String("cache", filepath.Join(os.TempDir(), "cairn-bench-peers"), "directory of the built peers, reused")
	work := fs.String("work", "", "scratch directory (default: a new temporary directory)")
	only := fs.String("only", "", "regexp of measurement names")
	list := fs.String("peers", strings.Join(peers.Names, ","), "peers to run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := peers.Config{CacheDir: *cache, WorkDir: *work, Only: *only, Stderr: os.Stderr, Peers: strings.Split(*list, ",")}
	if *wl == "" {
		return fmt.Errorf("--workload is required")
	}
	if err := json.Unmarshal([]byte(*wl), &cfg.Workload); err != nil {
		return fmt.Errorf("--workload: %w", err)
	}
	if cfg.WorkDir == "" {
		d, err := os.MkdirTemp("", "peerbench-")
		if err != nil {
			return err
		}
		cfg.WorkDir = d
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	out, err := peers.Run(ctx, cfg)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
