package main

import (
	"slices"
	"time"
)

// Summary condenses the latencies of one run.
type Summary struct {
	Count  int           `json:"count"`
	Errors int           `json:"errors"`
	RPS    float64       `json:"rps"`
	Mean   time.Duration `json:"mean_ns"`
	P50    time.Duration `json:"p50_ns"`
	P90    time.Duration `json:"p90_ns"`
	P99    time.Duration `json:"p99_ns"`
	P999   time.Duration `json:"p999_ns"`
	Max    time.Duration `json:"max_ns"`
}

// summarize sorts lat in place and computes the summary of a run that lasted
// elapsed; RPS counts successful requests only.
func summarize(lat []time.Duration, errors int, elapsed time.Duration) Summary {
	slices.Sort(lat)
	s := Summary{Count: len(lat), Errors: errors}
	if elapsed > 0 {
		s.RPS = float64(len(lat)) / elapsed.Seconds()
	}
	if len(lat) == 0 {
		return s
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	s.Mean = sum / time.Duration(len(lat))
	s.P50 = percentile(lat, 50)
	s.P90 = percentile(lat, 90)
	s.P99 = percentile(lat, 99)
	s.P999 = percentile(lat, 99.9)
	s.Max = lat[len(lat)-1]
	return s
}

// percentile is the nearest-rank percentile p (0 < p <= 100) of sorted: the
// smallest value with at least p% of the values at or below it. No
// interpolation, so the answer is always a latency that was measured.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// Integer arithmetic on p*10 avoids 99.9*n/100 rounding up past an
	// exact rank because of float error.
	rank := (int64(p*10+0.5)*int64(n) + 999) / 1000 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	if rank > int64(n) {
		rank = int64(n)
	}
	return sorted[rank-1]
}
