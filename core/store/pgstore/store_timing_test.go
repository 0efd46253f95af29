package pgstore_test

import (
	"context"
	"testing"

	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
	"github.com/tokenomics-dev/tokenomics/core/store/storetest"

	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
)

// BenchmarkPGCreate: one token create (one serialized transaction).
func BenchmarkPGCreate(b *testing.B) {
	s := openPGB(b)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := s.Create([]byte(`{"model":"gpt-4o"}`), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPGCreateParallel: creates from many goroutines, as several
// replicas' API handlers make them; they serialize on the revision row.
func BenchmarkPGCreateParallel(b *testing.B) {
	s := openPGB(b)
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.Create([]byte(`{"model":"gpt-4o"}`), nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPGChangesSince: a proxy's incremental pull of the last 10
// changes out of 10,000 tokens.
func BenchmarkPGChangesSince(b *testing.B) {
	s := openPGB(b)
	for range 10_000 {
		if _, _, err := s.Create([]byte(`{"model":"gpt-4o"}`), nil); err != nil {
			b.Fatal(err)
		}
	}
	rev := s.Revision()
	b.ResetTimer()
	for b.Loop() {
		cs, _, err := s.Changes(rev - 10)
		if err != nil || len(cs) != 10 {
			b.Fatal(len(cs), err)
		}
	}
}

func openPGB(b *testing.B) *pgstore.Store {
	b.Helper()
	s, err := pgstore.Open(context.Background(), pgstore.Options{DSN: pgtest.FreshDSN(b), HashKey: storetest.HashKey})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}
