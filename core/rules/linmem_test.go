package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero/experimental"
)

// TestLinearMemories: both backings grow in place up to the limit, keep
// what was written, start zeroed, refuse past the limit and free twice
// safely.
func TestLinearMemories(t *testing.T) {
	t.Parallel()
	const page = 64 << 10
	var g memoryGate
	for _, tc := range []struct {
		name string
		mem  func() experimental.LinearMemory
	}{
		{name: "platform", mem: func() experimental.LinearMemory {
			if a := g.memoryAllocator(); a != nil {
				return a.Allocate(page, 4*page)
			}
			return &heapMemory{}
		}},
		{name: "heap", mem: func() experimental.LinearMemory { return &heapMemory{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := tc.mem()
			b := m.Reallocate(page)
			require.Len(t, b, page)
			assert.Zero(t, b[page-1])
			b[0], b[page-1] = 1, 2
			b = m.Reallocate(3 * page)
			require.Len(t, b, 3*page)
			assert.Equal(t, []byte{1, 2, 0}, []byte{b[0], b[page-1], b[3*page-1]})
			if _, mapped := m.(*mappedMemory); mapped {
				assert.Nil(t, m.Reallocate(5*page), "past the limit")
			}
			m.Free()
			m.Free()
		})
	}
}

// TestLinearMemoryLeakedOnGiveUp: once Close gave up waiting for checks in
// use, freeing leaves the mapping usable (a running call may still touch it).
func TestLinearMemoryLeakedOnGiveUp(t *testing.T) {
	t.Parallel()
	var g memoryGate
	a := g.memoryAllocator()
	if a == nil {
		t.Skip("memories live in the Go heap on this platform")
	}
	m := a.Allocate(64<<10, 64<<10)
	b := m.Reallocate(64 << 10)
	g.leak.Store(true)
	m.Free()
	b[0] = 7 // would fault had it been unmapped
	assert.Equal(t, byte(7), b[0])
}
