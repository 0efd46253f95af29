package metrics

import "testing"

func BenchmarkCounterWith(b *testing.B) {
	r := NewRegistry()
	c := r.NewCounter("x", "x", "endpoint", "code")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.With("chat", "200").Inc()
		}
	})
}
