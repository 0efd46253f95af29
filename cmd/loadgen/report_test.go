package main

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cell is a run with the figures the ratio table reads.
func cell(target string, stream bool, clients int, rps float64, p50, p99 time.Duration, rss int64) Run {
	r := Run{Name: runName(target, stream, clients), Target: target, Stream: stream, Clients: clients,
		Total: Summary{RPS: rps, P50: p50, P99: p99}, PeakRSS: rss}
	if stream {
		r.TTFB = &Summary{P50: p50 / 2}
	}
	return r
}

func TestRatios(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	runs := []Run{
		cell(targetDirect, false, 32, 10000, 2*ms, 5*ms, 0),
		cell(targetPlain, false, 32, 4500, 3*ms, 9*ms, 30<<20),
		cell(targetContractor, false, 32, 2000, 4*ms, 12*ms, 150<<20),
		cell(targetDirect, true, 32, 8000, 4*ms, 8*ms, 0),
		cell(targetContractor, true, 32, 2640, 6*ms, 10*ms, 60<<20),
		cell(targetContractor, false, 128, 3000, 40*ms, 90*ms, 70<<20), // no direct c128: no ratio
		cell(targetDirect, false, 1, 3000, ms/2, ms, 0),
		cell(targetContractor, false, 1, 1000, ms, 2*ms, 50<<20),
	}
	got := ratios(runs)
	want := []Ratio{
		{Run: "proxy-norules-c32", Target: targetPlain, Clients: 32, RPS: 4500, DirectRPS: 10000, OfDirect: 0.45,
			AddedP50: ms, AddedP99: 4 * ms, PeakRSS: 30 << 20},
		{Run: "proxy-contractor-c32", Target: targetContractor, Clients: 32, RPS: 2000, DirectRPS: 10000, OfDirect: 0.2,
			AddedP50: 2 * ms, AddedP99: 7 * ms, PeakRSS: 150 << 20},
		{Run: "proxy-contractor-stream-c32", Target: targetContractor, Stream: true, Clients: 32, RPS: 2640, DirectRPS: 8000,
			OfDirect: 0.33, AddedP50: 2 * ms, AddedP99: 2 * ms, AddedTTFBP50: ms, PeakRSS: 60 << 20},
		{Run: "proxy-contractor-c1", Target: targetContractor, Clients: 1, RPS: 1000, DirectRPS: 3000, OfDirect: 1.0 / 3,
			AddedP50: ms / 2, AddedP99: ms, PeakRSS: 50 << 20},
	}
	require.Len(t, got, len(want))
	for i := range want {
		assert.InDelta(t, want[i].OfDirect, got[i].OfDirect, 1e-9, want[i].Run)
		got[i].OfDirect = want[i].OfDirect
		assert.Equal(t, want[i], got[i])
	}

	// The targets: the c1 run is left out of throughput, the added median
	// is checked at the first client count only, peak RSS is the worst
	// contractor run.
	verdicts := map[string]bool{}
	for _, tg := range targets(got, []int{32, 128}, 10_000) {
		verdicts[tg.Name] = tg.Pass
	}
	assert.Equal(t, map[string]bool{
		"throughput proxy-norules-c32 >= 0.45 of direct":                   true,
		"throughput proxy-contractor-c32 >= 0.33 of direct":                false,
		"throughput proxy-contractor-stream-c32 >= 0.33 of direct":         true,
		"added p50 latency, 32 clients, contractor policy < 1ms":           false,
		"serve peak RSS, contractor policy, 10000 tokens loaded <= 64 MiB": false,
	}, verdicts)

	var out bytes.Buffer
	rep := &Report{Clients: []int{32, 128}, Runs: runs}
	rep.compare()
	rep.printTables(&out)
	assert.Contains(t, out.String(), "proxy-contractor-stream-c32")
	assert.Contains(t, out.String(), "0.330")
	assert.Contains(t, out.String(), "150.0 MiB")
	assert.Contains(t, out.String(), "MISS  throughput proxy-contractor-c32 >= 0.33 of direct: 2000 req/s vs direct 10000 req/s: ratio 0.200, short by 1300 req/s")
}

// TestStartupTargets: the warm target reads the median of the starts, so
// one slow start on a busy machine does not decide it; cold has one start.
func TestStartupTargets(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	cases := []struct {
		name       string
		st         Startup
		cold, warm bool
	}{
		{"both met", Startup{ColdReady: 2 * time.Second, WarmReady: []time.Duration{90 * ms, 300 * ms, 2 * time.Second}}, true, true},
		{"cold missed", Startup{ColdReady: 2*time.Second + ms, WarmReady: []time.Duration{90 * ms}}, false, true},
		{"warm median missed", Startup{ColdReady: ms, WarmReady: []time.Duration{90 * ms, 301 * ms, 400 * ms}}, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := startupTargets(tc.st)
			require.Len(t, got, 2)
			assert.Equal(t, tc.cold, got[0].Pass, got[0].Detail)
			assert.Equal(t, tc.warm, got[1].Pass, got[1].Detail)
		})
	}
	assert.Empty(t, startupTargets(Startup{}), "no starts measured, no verdict")
}

func TestTargets(t *testing.T) {
	t.Parallel()
	q := func(rps, direct float64) Ratio {
		r := Ratio{Run: "proxy-contractor-c32", RPS: rps, DirectRPS: direct}
		if direct > 0 {
			r.OfDirect = rps / direct
		}
		return r
	}
	tests := []struct {
		name   string
		target Target
		pass   bool
	}{
		{name: "0.33 of direct passes", target: throughputTarget(q(990, 3000), 0.33), pass: true},
		{name: "under 0.33 misses", target: throughputTarget(q(989, 3000), 0.33), pass: false},
		{name: "no direct run misses", target: throughputTarget(q(1000, 0), 0.33), pass: false},
		{name: "added p50 under 1ms passes", target: addedP50Target(999*time.Microsecond, 32), pass: true},
		{name: "added p50 of 1ms misses", target: addedP50Target(time.Millisecond, 32), pass: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.pass, tc.target.Pass, tc.target.Detail)
		})
	}
}

// Each round's proxied run is compared with its own round's direct run, and
// the targets read the median over rounds: one slow direct minute does not
// decide the verdict.
func TestRoundsMedian(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	round := func(n int, direct, contractor float64, p50 time.Duration, rss int64) []Run {
		d := cell(targetDirect, false, 32, direct, 2*ms, 5*ms, 0)
		c := cell(targetContractor, false, 32, contractor, 2*ms+p50, 9*ms, rss)
		d.Round, c.Round = n, n
		return []Run{d, c}
	}
	tests := []struct {
		name     string
		runs     []Run
		ofDirect float64
		addedP50 time.Duration
		peak     int64
	}{
		{"one round", round(1, 10000, 3000, 3*ms, 60<<20), 0.3, 3 * ms, 60 << 20},
		{"three rounds: the middle ratio", slices.Concat(
			round(1, 20000, 4000, 5*ms, 60<<20), // 0.20: a slow proxied minute
			round(2, 10000, 3400, 3*ms, 61<<20), // 0.34
			round(3, 12000, 4200, 2*ms, 59<<20), // 0.35
		), 0.34, 3 * ms, 61 << 20},
		{"two rounds: the mean of both", slices.Concat(
			round(1, 10000, 3000, 2*ms, 50<<20),
			round(2, 10000, 3600, 4*ms, 70<<20),
		), 0.33, 3 * ms, 70 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := &Report{Runs: tc.runs, Clients: []int{32}, Tokens: 10_000}
			rep.compare()
			require.Len(t, rep.Ratios, 1)
			q := rep.Ratios[0]
			assert.InDelta(t, tc.ofDirect, q.OfDirect, 1e-9)
			assert.Equal(t, tc.addedP50, q.AddedP50)
			assert.Equal(t, tc.peak, q.PeakRSS)
			assert.Len(t, rep.RoundRatios, len(tc.runs)/2, "a ratio per round")
			for _, rq := range rep.RoundRatios {
				assert.NotZero(t, rq.DirectRPS, "paired with its own round's direct run")
			}
			var buf bytes.Buffer
			rep.printTables(&buf)
			assert.Contains(t, buf.String(), "proxy-contractor-c32")
		})
	}
}
