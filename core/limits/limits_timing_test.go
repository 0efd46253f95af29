package limits

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// benchRequest is a seed-policy shaped request: a token and an entry budget,
// a request and a token window, max_parallel.
func benchRequest(subject string) *Request {
	return &Request{
		Subject: subject,
		Budgets: []Budget{{"", 1 << 50}, {"openai/0", 1 << 50}},
		Windows: []Window{
			{Requests: true, Limit: 1 << 40, Window: time.Minute},
			{Limit: 1 << 50, Window: time.Hour},
		},
		MaxParallel: 1 << 20,
		Reserve:     1000,
	}
}

func benchAcquireSettle(b *testing.B, lim Limiter, req *Request) {
	ctx := context.Background()
	l, err := lim.Acquire(ctx, req)
	if err != nil {
		b.Fatal(err)
	}
	if err := lim.Settle(ctx, l, 700); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkMemoryAcquireSettle(b *testing.B) {
	m, err := NewMemory(MemoryOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	req := benchRequest("s")
	b.ReportAllocs()
	for b.Loop() {
		benchAcquireSettle(b, m, req)
	}
}

// BenchmarkMemoryAcquireSettleParallel: every goroutine its own subject
// (the shards spread them), and all goroutines on one subject (worst case).
func BenchmarkMemoryAcquireSettleParallel(b *testing.B) {
	for _, shared := range []bool{false, true} {
		name := "subjects=many"
		if shared {
			name = "subjects=one"
		}
		b.Run(name, func(b *testing.B) {
			m, err := NewMemory(MemoryOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			var n atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				subject := "s"
				if !shared {
					subject = "s" + strconv.FormatInt(n.Add(1), 10)
				}
				req := benchRequest(subject)
				for pb.Next() {
					benchAcquireSettle(b, m, req)
				}
			})
		})
	}
}

func BenchmarkRedisAcquireSettle(b *testing.B) {
	addr := needRedis(b)
	r := newTestRedis(b, addr, time.Second)
	req := benchRequest(uniqueSubject(b))
	b.ReportAllocs()
	for b.Loop() {
		benchAcquireSettle(b, r, req)
	}
}

func BenchmarkRedisAcquireSettleParallel(b *testing.B) {
	addr := needRedis(b)
	r := newTestRedis(b, addr, time.Second)
	var n atomic.Int64
	prefix := uniqueSubject(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := benchRequest(prefix + strconv.FormatInt(n.Add(1), 10))
		for pb.Next() {
			benchAcquireSettle(b, r, req)
		}
	})
}
