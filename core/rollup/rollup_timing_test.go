package rollup

import (
	"testing"
	"time"
)

// BenchmarkAggregatorRecord is what usage rollups add to a request: one
// locked map update (the proxy handler itself takes ~100 µs).
func BenchmarkAggregatorRecord(b *testing.B) {
	a := NewAggregator()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		a.Record("0123456789abcdef0123456789abcdef", "gpt-4o", "openai", now, Usage{Input: 100, Output: 20, CostMicros: 450})
	}
}

// BenchmarkAggregatorRecordParallel is the same under contention from
// every core.
func BenchmarkAggregatorRecordParallel(b *testing.B) {
	a := NewAggregator()
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a.Record("0123456789abcdef0123456789abcdef", "gpt-4o", "openai", now, Usage{Input: 100, Output: 20})
		}
	})
}
