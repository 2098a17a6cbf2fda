package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == childCommand {
		if err := RunChild(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if err == flag.ErrHelp {
			return
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// parseFlags turns the command line into a Config.
func parseFlags(args []string) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./bench [--scale 10k|100k|tiny] [--runs N] [--out DIR] [--only REGEXP] [--peers auto|on|off]\n\n")
		fs.PrintDefaults()
	}
	small := fs.Bool("small", false, "a seconds-long smoke run: --scale tiny --runs 1 --peers off")
	fs.StringVar(&cfg.Scale, "scale", cfg.Scale, "dataset size: tiny (50 sessions), 1k, 10k, 100k or a number of sessions")
	fs.IntVar(&cfg.Runs, "runs", cfg.Runs, "runs of each measurement (medians are over runs)")
	fs.StringVar(&cfg.Out, "out", "", "directory for results-<scale>.json, bench-<scale>.txt (benchstat), table-<scale>.md and latency.svg")
	fs.StringVar(&cfg.Only, "only", "", "regexp: run only the measurements whose name matches")
	fs.StringVar(&cfg.CacheDir, "cache", "", "dataset cache directory (default: the user cache dir, cairn-bench)")
	fs.StringVar(&cfg.Peers, "peers", cfg.Peers, "peers (bolthold, SQLite, JSON files): auto (when the peers module builds), on or off")
	fs.StringVar(&cfg.PeersDir, "peers-dir", "", "the bench/peers module directory (default: found from the working directory)")
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "dataset seed")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	if *small {
		cfg.Scale, cfg.Peers = "tiny", "off"
		if !flagSet(fs, "runs") {
			cfg.Runs = 1
		}
	}
	n, err := ParseScale(cfg.Scale)
	if err != nil {
		return cfg, err
	}
	cfg.Sessions = n
	return cfg, nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}
