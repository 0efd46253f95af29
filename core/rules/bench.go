package rules

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// BenchResult is what one case costs on the host, for `plugin test
// --bench`: wall time per run (one Check, or a whole stream for a stream
// case) and the Go heap allocations per run on the host side (the guest's
// own memory is its linear memory, bounded by the memory limit).
type BenchResult struct {
	Name          string
	Runs          int
	PerRun        time.Duration
	AllocsPerRun  float64
	BytesPerRun   float64
	Skipped       string // why the case was not measured
	StreamPerCall bool   // a stream case: PerRun covers every delta
}

// BenchCases loads wasm as RunCases does and measures every case that
// checks texts, each for about d (default 1s) after a warm-up.
func BenchCases(ctx context.Context, wasm []byte, casesYAML []byte, d time.Duration) ([]BenchResult, error) {
	if d <= 0 {
		d = time.Second
	}
	cases, err := ParseCases(casesYAML)
	if err != nil {
		return nil, err
	}
	ch, err := newCaseHost(ctx, wasm)
	if err != nil {
		return nil, err
	}
	defer ch.h.Close(ctx)
	out := make([]BenchResult, 0, len(cases))
	for _, c := range cases {
		res := BenchResult{Name: c.Name, StreamPerCall: len(c.Stream) > 0}
		rs, run, _ := ch.h.prepareCase(c, ch.fix, ch.source)
		if rs == nil {
			res.Skipped = "configure case"
			out = append(out, res)
			continue
		}
		if err := rs.Wait(ctx); err != nil {
			return nil, fmt.Errorf("case %q: %w", c.Name, err)
		}
		var v Verdict
		once := func() error { _, err := run(ctx, &v); return err }
		for range 16 { // warm the pool, the instance and the caches
			if err := once(); err != nil {
				return nil, fmt.Errorf("case %q: %w", c.Name, err)
			}
		}
		n := 16
		for {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			for range n {
				if err := once(); err != nil {
					return nil, fmt.Errorf("case %q: %w", c.Name, err)
				}
			}
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if took >= d || n >= 1<<24 {
				res.Runs = n
				res.PerRun = took / time.Duration(n)
				res.AllocsPerRun = float64(after.Mallocs-before.Mallocs) / float64(n)
				res.BytesPerRun = float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
				break
			}
			// Aim past d from what this batch took.
			next := n * 2
			if took > 0 {
				next = max(next, int(float64(n)*1.2*float64(d)/float64(took)))
			}
			n = min(next, 1<<24)
		}
		out = append(out, res)
	}
	return out, nil
}
