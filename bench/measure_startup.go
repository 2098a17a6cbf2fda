package main

import (
	"context"
	"fmt"
)

// startup measures open + list in fresh processes: warm (after a discarded
// warm-up run), cold (page cache dropped before each), without the search
// index, and open + the newest 50; and the resident memory of the warm
// children with the store open after listing.
func (b *bench) startup(ctx context.Context) error {
	runs := b.cfg.Runs
	child := func(mode string, args ...string) (ChildResult, error) {
		r, _, err := runChild(ctx, b.cfg.Exe, append([]string{mode, "--dir", b.st}, args...)...)
		if err == nil && r.Count == 0 {
			err = fmt.Errorf("child %s listed nothing", mode)
		}
		return r, err
	}
	if _, err := child("openlist"); err != nil { // warm-up
		return err
	}
	warm := &Result{Name: "startup/open+list/warm", Title: "open + list all session summaries, fresh process, warm", Unit: "ms",
		Targets: []Target{{Source: "#3", Op: "<", Value: 25}}}
	list := &Result{Name: "startup/list/warm", Title: "list all session summaries (metadata), fresh process, warm", Unit: "ms",
		Targets: []Target{{Source: "plan", Op: "<", Value: 100}}}
	mem := &Result{Name: "memory/rss", Title: "peak RSS of that process (VmHWM), store open after listing", Unit: "MB",
		Targets: []Target{{Source: "plan", Op: "<", Value: 100}, {Source: "#3", Op: "<", Value: 25}}}
	var rss []float64
	var openMs []float64
	for range runs {
		r, err := child("openlist")
		if err != nil {
			return err
		}
		warm.Runs = append(warm.Runs, r.TotalMs)
		list.Runs = append(list.Runs, r.WorkMs)
		openMs = append(openMs, r.OpenMs)
		mem.Runs = append(mem.Runs, mb(r.HWMBytes))
		rss = append(rss, mb(r.RSSBytes))
	}
	om, _, _ := stats(openMs)
	warm.Note = fmt.Sprintf("open %s ms of it; search index opened (the app's startup)", trimFloat(om))
	rm, _, _ := stats(rss)
	mem.Note = fmt.Sprintf("VmRSS %s MB at the end", trimFloat(rm))
	b.add(warm)
	b.add(list)
	b.add(mem)

	cold := &Result{Name: "startup/open+list/cold", Title: "open + list all session summaries, fresh process, cold page cache", Unit: "ms",
		Targets: []Target{{Source: "plan", Op: "<", Value: 1000}, {Source: "#3", Op: "<", Value: 80}}}
	var method string
	for range runs {
		m, err := evict(b.st)
		if err != nil {
			return fmt.Errorf("dropping the page cache: %w", err)
		}
		method = m
		r, err := child("openlist")
		if err != nil {
			return err
		}
		cold.Runs = append(cold.Runs, r.TotalMs)
	}
	cold.Note = "page cache dropped by " + method
	b.add(cold)

	ns := &Result{Name: "startup/open+list/warm-nosearch", Title: "open + list, warm, without the search index (Options.NoSearch)", Unit: "ms",
		Targets: []Target{{Source: "#3", Op: "<", Value: 25}}}
	if b.want(ns.Name) {
		for range runs {
			r, err := child("openlist", "--nosearch")
			if err != nil {
				return err
			}
			ns.Runs = append(ns.Runs, r.TotalMs)
		}
		b.add(ns)
	}

	newest := &Result{Name: "startup/newest50/warm", Title: "open + the newest 50 sessions (headers), fresh process, warm", Unit: "ms",
		Targets: []Target{{Source: "#3", Op: "<", Value: 10}}}
	if b.want(newest.Name) {
		for range runs {
			r, err := child("newest")
			if err != nil {
				return err
			}
			newest.Runs = append(newest.Runs, r.TotalMs)
		}
		newest.Note = "#3 sets this target at 100k"
		b.add(newest)
	}
	return nil
}
