package rules

import "sync/atomic"

// Guest linear memories live outside the Go heap where the platform allows
// (linmem_linux.go): a Go-built guest holds about 3.5 MiB, which in the Go
// heap would also raise the heap goal by as much again (GOGC), and a trimmed
// instance's memory would reach the OS only after a GC and the scavenger.
// An anonymous mapping costs only the pages the guest touched and goes back
// to the OS when the instance closes.

// memoryGate keeps a mapping alive while a guest may still use it: wazero
// frees a module's memory when the module closes, and Host.Close closes
// modules; it waits for checked-out instances first, and when that wait
// gives up (leak is set) mappings are left in place rather than unmapped
// under a running call.
type memoryGate struct {
	leak atomic.Bool
}

// heapMemory is a linear memory in the Go heap, the fallback when no
// mapping can be made.
type heapMemory struct{ buf []byte }

func (m *heapMemory) Reallocate(size uint64) []byte {
	if size > uint64(cap(m.buf)) {
		next := make([]byte, size)
		copy(next, m.buf)
		m.buf = next
	}
	m.buf = m.buf[:size]
	return m.buf
}

func (m *heapMemory) Free() { m.buf = nil }
