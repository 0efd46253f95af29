package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// ms1to is 1ms, 2ms, ... n ms, shuffled so summarize has to sort.
func ms1to(n int) []time.Duration {
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = time.Duration((i*7919)%n+1) * time.Millisecond
	}
	return d
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	sorted := func(n int) []time.Duration {
		d := make([]time.Duration, n)
		for i := range d {
			d[i] = time.Duration(i+1) * time.Millisecond
		}
		return d
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{name: "empty", in: nil, p: 50, want: 0},
		{name: "one value", in: sorted(1), p: 99.9, want: time.Millisecond},
		{name: "median of 100 is the 50th", in: sorted(100), p: 50, want: 50 * time.Millisecond},
		{name: "p99 of 100 is the 99th", in: sorted(100), p: 99, want: 99 * time.Millisecond},
		{name: "p99 of 101 rounds the rank up", in: sorted(101), p: 99, want: 100 * time.Millisecond},
		{name: "p99.9 of 1000 is exact, no float overshoot", in: sorted(1000), p: 99.9, want: 999 * time.Millisecond},
		{name: "p99.9 of 10 is the max", in: sorted(10), p: 99.9, want: 10 * time.Millisecond},
		{name: "p100 is the max", in: sorted(7), p: 100, want: 7 * time.Millisecond},
		{name: "tiny p is the min", in: sorted(7), p: 0.01, want: time.Millisecond},
		{name: "median of 2 is the lower", in: sorted(2), p: 50, want: time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, percentile(tc.in, tc.p))
		})
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		lat     []time.Duration
		errors  int
		elapsed time.Duration
		want    Summary
	}{
		{
			name: "nothing succeeded", errors: 3, elapsed: time.Second,
			want: Summary{Errors: 3},
		},
		{
			name: "thousand requests in two seconds", lat: ms1to(1000), errors: 2, elapsed: 2 * time.Second,
			want: Summary{
				Count: 1000, Errors: 2, RPS: 500,
				Mean: 500500 * time.Microsecond, // (1+1000)/2 ms
				P50:  500 * time.Millisecond, P90: 900 * time.Millisecond, P99: 990 * time.Millisecond,
				P999: 999 * time.Millisecond, Max: 1000 * time.Millisecond,
			},
		},
		{
			name: "zero elapsed gives no rate", lat: []time.Duration{3, 1, 2}, elapsed: 0,
			want: Summary{Count: 3, Mean: 2, P50: 2, P90: 3, P99: 3, P999: 3, Max: 3},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := summarize(tc.lat, tc.errors, tc.elapsed)
			assert.Equal(t, tc.want, got)
			assert.IsNonDecreasing(t, tc.lat, "summarize sorts in place")
		})
	}
}
