//go:build !race

// The race detector allocates on its own, so allocation counts are only
// checked without it.

package sse_test

import (
	"testing"

	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

func TestParserSteadyStateAllocs(t *testing.T) {
	stream := chatStream(4 << 10)
	var p sse.Parser
	run := func() {
		p.Reset()
		for rest := stream; len(rest) > 0; {
			n := min(100, len(rest))
			p.Feed(rest[:n])
			rest = rest[n:]
			for {
				_, ok, err := p.Next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
			}
		}
	}
	run() // grow the buffers
	if allocs := testing.AllocsPerRun(20, run); allocs != 0 {
		t.Fatalf("%v allocations per stream in steady state, want 0", allocs)
	}
}
