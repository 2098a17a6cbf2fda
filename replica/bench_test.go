package replica_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/gen"
	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
)

// BenchmarkSync_latency measures the time from a commit on one device to
// the change being visible on another, both running Run (continuous sync)
// against an in-process nats-server; it reports the median and p90.
func BenchmarkSync_latency(b *testing.B) {
	s := startServer(b, "", -1)
	a := openDevice(b, s.ClientURL(), "a")
	d := openDevice(b, s.ClientURL(), "b")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait() // before the devices' teardown checks
	defer cancel()
	for _, dev := range []*device{a, d} {
		wg.Go(func() { _ = dev.r.Run(ctx, time.Second, nil) })
	}
	seen := make(chan string, 16)
	go func() {
		last, _ := d.db.LastSeq(context.Background())
		for ch, err := range d.db.Changes(ctx, last) {
			if err != nil {
				return
			}
			if ch.Collection == "notes" {
				seen <- ch.ID
			}
		}
	}()
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprint("lat-", i)
		start := time.Now()
		a.put(b, "notes", kv.Document{"id": id, "title": "t"})
		for got := ""; got != id; {
			select {
			case got = <-seen:
			case <-time.After(30 * time.Second):
				b.Fatalf("%s never arrived", id)
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "p90-ms")
}

// BenchmarkSync_freshDevicePull1k measures a fresh device's first sync of
// a store of 1,000 generated sessions (internal/gen, seed 7) that another
// device pushed.
func BenchmarkSync_freshDevicePull1k(b *testing.B) { freshDevicePull(b, 1000) }

// BenchmarkSync_freshDevicePull10k is the target: a 10k-session
// store to a fresh device in under 60 s (the setup pushes it first, which
// takes as long again; run it alone, -benchtime 1x).
func BenchmarkSync_freshDevicePull10k(b *testing.B) { freshDevicePull(b, 10000) }

func freshDevicePull(b *testing.B, n int) {
	s := startServer(b, "", -1)
	a := openDevice(b, s.ClientURL(), "a")
	g := gen.New(gen.Config{Sessions: n, Seed: 7})
	if err := a.db.Update(context.Background(), func(tx *kv.Tx) error {
		return g.Each("sessions", func(doc map[string]any) error {
			_, err := tx.Put("sessions", doc)
			return err
		})
	}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	start := time.Now()
	push, err := a.r.Sync(ctx)
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("pushed %d messages in %v", push.Pushed, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		d := openDevice(b, s.ClientURL(), fmt.Sprint("fresh", i))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		res, err := d.r.Sync(ctx)
		cancel()
		if err != nil || res.Pulled != n {
			b.Fatalf("pulled %d, want %d (%v)", res.Pulled, n, err)
		}
	}
	_ = replica.Result{}
}
